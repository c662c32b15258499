// Gradient checking in tests: `gradCheck(source)` parses a module whose
// @main returns a float tensor and compares the gradient of
// sum(main(...) * r) with central finite differences in f64, for every
// float input and param element (compiler/gradcheck.h). OkStatus, or a
// message naming the tensor, the element and both values.
#pragma once

#include <cmath>
#include <functional>
#include <memory>
#include <random>
#include <vector>

#include "compiler/gradcheck.h"
#include "ir/builder.h"
#include "ir/interpreter.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/strings.h"
#include "ir/verifier.h"
#include "passes/autodiff.h"

namespace nyx::test {

using GradCheckOptions = compiler::GradCheckOptions;

inline absl::Status gradCheck(std::string_view source,
                              const GradCheckOptions &o = {}) {
  auto parsed = ir::parseModule(source, "gradcheck.nyx");
  if (!parsed.ok())
    return parsed.status();
  auto entry = (*parsed)->entry();
  if (!entry.ok())
    return entry.status();
  auto result = compiler::gradCheck(**parsed, **entry, o);
  if (!result.ok())
    return result.status();
  for (const auto &t : result->tensors)
    if (!t.ok)
      return absl::InternalError(
          strCat("d/d", t.name, "[", t.worst, "]: the gradient is ", t.analytic,
                 ", finite differences give ", t.numeric));
  return absl::OkStatus();
}

// A module whose @main is what `build` makes (the inputs it adds, the value
// it returns), for the checks below.
using BuildFn = std::function<ir::Value *(ir::Builder &)>;

inline absl::StatusOr<std::unique_ptr<ir::Module>>
buildMain(const BuildFn &build, bool sumOfSquares) {
  ir::Builder b("m");
  ir::Value *y = build(b);
  if (sumOfSquares && y)
    y = b.op("reduce_sum", {b.op("mul", {y, y})});
  b.ret({y});
  return b.finish();
}

// gradCheck of the function `build` makes.
inline absl::Status gradCheck(const BuildFn &build,
                              const GradCheckOptions &o = {}) {
  auto m = buildMain(build, false);
  if (!m.ok())
    return m.status();
  return gradCheck(ir::printModule(**m), o);
}

// Second derivatives: the Hessian-vector product of @main's scalar result
// with respect to its first input, against central differences of its
// gradient along a random v. Differentiates the gradient rules' own ops.
inline absl::Status hvpCheck(ir::Module &m) {
  auto entry = m.entry();
  if (!entry.ok())
    return entry.status();
  ir::Function &f = **entry;
  passes::Wrt first{.inputs = {0}, .params = {}, .all = false};
  auto grad = passes::addGradFunction(m, f, first, "main_grad");
  if (!grad.ok())
    return grad.status();
  auto hvp = passes::addHvpFunction(m, f, 0, "main_hvp");
  if (!hvp.ok())
    return hvp.status();
  if (absl::Status s = ir::verifyModule(m); !s.ok())
    return s;
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(-1, 1);
  auto random = [&](const ir::TensorType &t) {
    ir::Tensor r(t);
    for (int64_t i = 0; i < t.numElements(); ++i)
      r.setDouble(i, u(rng));
    return r;
  };
  std::vector<ir::Tensor> args;
  for (const ir::Value *p : f.params)
    args.push_back(random(p->type));
  ir::Tensor v = random(f.params[0]->type);
  ir::Interpreter interp(m, nullptr);
  std::vector<ir::Tensor> hvpArgs = args;
  hvpArgs.push_back(v);
  auto hv = interp.run(**hvp, hvpArgs);
  if (!hv.ok())
    return hv.status();
  const double h = 1e-5;
  auto gradAt = [&](double sign) -> absl::StatusOr<ir::Tensor> {
    std::vector<ir::Tensor> a = args;
    for (int64_t i = 0; i < v.numElements(); ++i)
      a[0].setDouble(i, a[0].getDouble(i) + sign * h * v.getDouble(i));
    auto out = interp.run(**grad, a);
    if (!out.ok())
      return out.status();
    return (*out)[1];
  };
  auto plus = gradAt(1), minus = gradAt(-1);
  if (!plus.ok())
    return plus.status();
  if (!minus.ok())
    return minus.status();
  for (int64_t i = 0; i < v.numElements(); ++i) {
    double numeric = (plus->getDouble(i) - minus->getDouble(i)) / (2 * h);
    double got = (*hv)[0].getDouble(i);
    if (!(std::abs(got - numeric) <= 1e-6 + 1e-5 * std::abs(numeric)))
      return absl::InternalError(strCat("(H v)[", i, "] is ", got,
                                        ", finite differences give ", numeric));
  }
  return absl::OkStatus();
}

// hvpCheck of sum(y^2), y what `build` makes.
inline absl::Status hvpCheck(const BuildFn &build) {
  auto m = buildMain(build, true);
  if (!m.ok())
    return m.status();
  return hvpCheck(**m);
}

} // namespace nyx::test
