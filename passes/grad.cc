// The derivative passes: each adds a function derived from the entry
// function (passes/autodiff.h) and leaves the entry as it is.
//   grad      @f_grad: f's result, then d/d every float input and param
//   jacobian  @f_jacobian: d result / d input `input`
//   hessian   @f_hessian: d^2 result / d input^2
//   hvp       @f_hvp(inputs..., v): the Hessian-vector product
#include "ir/strings.h"
#include "passes/autodiff.h"
#include "passes/pass.h"

namespace nyx::passes {
namespace {

using Derive = absl::StatusOr<ir::Function *> (*)(ir::Module &,
                                                  const ir::Function &, int,
                                                  const std::string &);

absl::Status derive(ir::Module &m, const Options &o, Derive fn,
                    std::string_view suffix) {
  auto f = entryFunction(m, o);
  if (!f.ok())
    return f.status();
  auto input = o.intArg("input", 0);
  if (!input.ok())
    return input.status();
  auto made =
      fn(m, **f, static_cast<int>(*input), strCat((*f)->name, "_", suffix));
  return made.status();
}

} // namespace

absl::Status runGrad(ir::Module &m, const Options &o) {
  auto f = entryFunction(m, o);
  if (!f.ok())
    return f.status();
  return addGradFunction(m, **f, {}, (*f)->name + "_grad").status();
}

absl::Status runJacobian(ir::Module &m, const Options &o) {
  return derive(m, o, addJacobianFunction, "jacobian");
}

absl::Status runHessian(ir::Module &m, const Options &o) {
  return derive(m, o, addHessianFunction, "hessian");
}

absl::Status runHvp(ir::Module &m, const Options &o) {
  return derive(m, o, addHvpFunction, "hvp");
}

} // namespace nyx::passes
