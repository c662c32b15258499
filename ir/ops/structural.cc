// constant, param and call: ops whose results come from the module (a
// literal tensor, a named weight, another function) rather than arithmetic.
#include "ir/op_registry.h"
#include "ir/ops/op_helpers.h"
#include "ir/strings.h"

namespace nyx::ir {
namespace {

using namespace ops;

void registerConstant(OpRegistry &r) {
  OpDef def;
  def.name = "constant";
  def.minOperands = def.maxOperands = 0;
  def.inferTypes =
      [](const Op &op,
         const Module &) -> absl::StatusOr<std::vector<TensorType>> {
    NYX_RETURN_IF_ERROR(checkOpBasics(op, {"value"}));
    NYX_ASSIGN_OR_RETURN(std::shared_ptr<const Tensor> value,
                         op.getTensor("value"));
    if (!value)
      return opError(op, "attribute 'value' is empty; expected a tensor");
    return std::vector<TensorType>{value->type()};
  };
  def.interpret = [](const Op &op, std::span<const Tensor *const>,
                     std::span<Tensor> out,
                     const InterpContext &) -> absl::Status {
    NYX_ASSIGN_OR_RETURN(std::shared_ptr<const Tensor> value,
                         op.getTensor("value"));
    out[0] = *value;
    return absl::OkStatus();
  };
  r.add(std::move(def));
}

absl::StatusOr<const Param *> paramOf(const Op &op, const Module &m) {
  NYX_ASSIGN_OR_RETURN(std::string name, op.getSymbol("name"));
  const Param *p = m.lookupParam(name);
  if (!p)
    return opError(op, strCat("names @", name,
                              ", which the module does not declare; expected "
                              "a declared `param @",
                              name, " : TYPE`"));
  return p;
}

void registerParam(OpRegistry &r) {
  OpDef def;
  def.name = "param";
  def.minOperands = def.maxOperands = 0;
  def.inferTypes =
      [](const Op &op,
         const Module &m) -> absl::StatusOr<std::vector<TensorType>> {
    NYX_RETURN_IF_ERROR(checkOpBasics(op, {"name"}));
    NYX_ASSIGN_OR_RETURN(const Param *p, paramOf(op, m));
    return std::vector<TensorType>{p->type};
  };
  def.interpret = [](const Op &op, std::span<const Tensor *const>,
                     std::span<Tensor> out,
                     const InterpContext &ctx) -> absl::Status {
    NYX_ASSIGN_OR_RETURN(std::string name, op.getSymbol("name"));
    const Tensor *w = nullptr;
    if (ctx.weights) {
      auto it = ctx.weights->find(name);
      if (it != ctx.weights->end())
        w = &it->second;
    }
    if (!w)
      return absl::NotFoundError(
          strCat("no weight was given for parameter @", name));
    if (w->type() != out[0].type())
      return absl::InvalidArgumentError(strCat("weight @", name, " has type ",
                                               w->type().str(), "; expected ",
                                               out[0].type().str()));
    out[0] = *w;
    return absl::OkStatus();
  };
  r.add(std::move(def));
}

absl::StatusOr<const Function *> calleeOf(const Op &op, const Module &m) {
  NYX_ASSIGN_OR_RETURN(std::string name, op.getSymbol("callee"));
  const Function *f = m.lookupFunction(name);
  if (!f)
    return opError(
        op, strCat("callee @", name, " is not a function of this module"));
  return f;
}

// `call` runs a function; `fusion` runs a kernel function (one fused
// kernel). Both mean exactly "the callee's results on these arguments".
void registerCallLike(OpRegistry &r, std::string name, bool kernel) {
  OpDef def;
  def.name = name;
  def.minOperands = 0;
  def.maxOperands = -1;
  def.inferTypes =
      [kernel](const Op &op,
               const Module &m) -> absl::StatusOr<std::vector<TensorType>> {
    NYX_RETURN_IF_ERROR(checkOpBasics(op, {"callee"}));
    NYX_ASSIGN_OR_RETURN(const Function *f, calleeOf(op, m));
    if (f->isKernel != kernel)
      return opError(op, strCat("callee @", f->name, " is ",
                                f->isKernel ? "a kernel" : "not a kernel",
                                "; expected ",
                                kernel ? "a kernel function (use 'call' for "
                                         "ordinary functions)"
                                       : "an ordinary function (kernels are "
                                         "run by 'fusion')"));
    if (static_cast<size_t>(op.numOperands()) != f->params.size())
      return opError(op, strCat("passes ", op.numOperands(), " arguments to @",
                                f->name, "; expected ", f->params.size()));
    for (int i = 0; i < op.numOperands(); ++i) {
      const TensorType &got = op.operand(i)->type;
      const TensorType &want = f->params[i]->type;
      if (got != want)
        return opError(op, strCat("argument ", i, " has type ", got.str(),
                                  "; @", f->name, " expects ", want.str()));
    }
    return f->resultTypes;
  };
  def.interpret = [](const Op &op, std::span<const Tensor *const> in,
                     std::span<Tensor> out,
                     const InterpContext &ctx) -> absl::Status {
    if (!ctx.module || !ctx.callFunction)
      return absl::FailedPreconditionError(
          "'call' needs a module and a way to run functions");
    NYX_ASSIGN_OR_RETURN(const Function *f, calleeOf(op, *ctx.module));
    std::vector<Tensor> args;
    args.reserve(in.size());
    for (const Tensor *t : in)
      args.push_back(*t);
    NYX_ASSIGN_OR_RETURN(std::vector<Tensor> results,
                         ctx.callFunction(*f, std::move(args)));
    if (results.size() != out.size())
      return absl::InternalError(strCat("@", f->name, " returned ",
                                        results.size(), " values; expected ",
                                        out.size()));
    for (size_t i = 0; i < out.size(); ++i)
      out[i] = std::move(results[i]);
    return absl::OkStatus();
  };
  r.add(std::move(def));
}

} // namespace

void registerStructuralOps(OpRegistry &r) {
  registerConstant(r);
  registerParam(r);
  registerCallLike(r, "call", /*kernel=*/false);
  registerCallLike(r, "fusion", /*kernel=*/true);
  r.setFusionKind({"constant", "param", "call", "fusion"}, FusionKind::Opaque);
}

} // namespace nyx::ir
