// Gradient checking: the gradient the autodiff builds (from the registry's
// rules) against central finite differences, everything in f64.
//
// `gradCheck(source)` parses a module whose @main returns one float tensor
// of any shape, reduces it to the scalar sum(main(...) * r) with a fixed
// random r (so every result element's gradient is exercised), draws random
// inputs and params, and compares d/d(every float input and param element)
// with (L(x + h) - L(x - h)) / 2h. The message on failure names the input,
// the element and both values.
#pragma once

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "ir/builder.h"
#include "ir/interpreter.h"
#include "ir/parser.h"
#include "ir/strings.h"
#include "ir/verifier.h"
#include "passes/autodiff.h"

namespace nyx::test {

struct GradCheckOptions {
  // Random float inputs and params are drawn from [lo, hi] unless `ranges`
  // names them (by input name or param name); integer inputs from
  // [lo, hi) as integers when named in `ranges`, else [0, 2).
  double lo = -1, hi = 1;
  std::map<std::string, std::pair<double, double>, std::less<>> ranges;
  double step = 1e-6;
  double rtol = 1e-5, atol = 1e-8;
  uint64_t seed = 1;
};

inline absl::Status gradCheck(std::string_view source,
                              const GradCheckOptions &o = {}) {
  auto parsed = ir::parseModule(source, "gradcheck.nyx");
  if (!parsed.ok())
    return parsed.status();
  ir::Module &m = **parsed;
  auto entry = m.entry();
  if (!entry.ok())
    return entry.status();
  ir::Function &f = **entry;
  if (f.returns.size() != 1 || !ir::isFloat(f.returns[0]->type.dtype))
    return absl::InvalidArgumentError("@main must return one float tensor");

  std::mt19937_64 rng(o.seed);
  auto range = [&](std::string_view name, bool isInt) {
    auto it = o.ranges.find(name);
    if (it != o.ranges.end())
      return it->second;
    return isInt ? std::make_pair(0.0, 2.0) : std::make_pair(o.lo, o.hi);
  };
  auto randomTensor = [&](const ir::TensorType &type, std::string_view name) {
    ir::Tensor t(type);
    bool isInt = !ir::isFloat(type.dtype);
    auto [lo, hi] = range(name, isInt);
    std::uniform_real_distribution<double> u(lo, hi);
    for (int64_t i = 0; i < type.numElements(); ++i) {
      double v = u(rng);
      t.setDouble(i, isInt ? std::floor(v) : v);
    }
    return t;
  };

  // L = sum(main(...) * r), r random in [0.5, 1.5] (no cancellation).
  ir::Value *y = f.returns[0];
  ir::Builder b(m, f);
  ir::Tensor r(y->type);
  std::uniform_real_distribution<double> ur(0.5, 1.5);
  for (int64_t i = 0; i < y->type.numElements(); ++i)
    r.setDouble(i, ur(rng));
  ir::Value *loss =
      b.op("reduce_sum", {b.op("mul", {y, b.constant(std::move(r))})});
  if (!b.ok())
    return b.status();
  f.returns = {loss};
  f.resultTypes = {loss->type};

  auto gradFn = passes::addGradFunction(m, f, {}, "main_grad");
  if (!gradFn.ok())
    return gradFn.status();
  if (absl::Status s = ir::verifyModule(m); !s.ok())
    return s;

  std::vector<ir::Tensor> args;
  for (const ir::Value *p : f.params)
    args.push_back(randomTensor(p->type, p->name));
  ir::WeightMap weights;
  for (const ir::Param &p : m.params)
    weights.emplace(p.name, randomTensor(p.type, p.name));

  ir::Interpreter interp(m, &weights);
  auto analytic = interp.run(**gradFn, args);
  if (!analytic.ok())
    return analytic.status();

  auto lossAt = [&](const std::vector<ir::Tensor> &a,
                    const ir::WeightMap &w) -> absl::StatusOr<double> {
    ir::Interpreter i(m, &w);
    auto out = i.run(f, a);
    if (!out.ok())
      return out.status();
    return (*out)[0].getDouble(0);
  };
  auto compare = [&](std::string_view what, ir::Tensor &slot,
                     const ir::Tensor &grad, auto evaluate) -> absl::Status {
    for (int64_t i = 0; i < slot.type().numElements(); ++i) {
      double x0 = slot.getDouble(i);
      slot.setDouble(i, x0 + o.step);
      auto plus = evaluate();
      slot.setDouble(i, x0 - o.step);
      auto minus = evaluate();
      slot.setDouble(i, x0);
      if (!plus.ok())
        return plus.status();
      if (!minus.ok())
        return minus.status();
      double numeric = (*plus - *minus) / (2 * o.step);
      double got = grad.getDouble(i);
      if (!(std::abs(got - numeric) <=
            o.atol + o.rtol * std::max(std::abs(numeric), std::abs(got))))
        return absl::InternalError(
            strCat("d/d", what, "[", i, "]: the gradient is ", got,
                   ", finite differences give ", numeric));
    }
    return absl::OkStatus();
  };

  size_t k = 1; // analytic[0] is the loss
  for (size_t i = 0; i < f.params.size(); ++i) {
    if (!ir::isFloat(f.params[i]->type.dtype))
      continue;
    absl::Status s =
        compare(strCat("%", f.params[i]->name), args[i], (*analytic)[k++],
                [&] { return lossAt(args, weights); });
    if (!s.ok())
      return s;
  }
  // Params come in order of first use in @main.
  std::vector<std::string> used;
  for (const auto &op : f.ops)
    if (op->name() == "param") {
      std::string name = *op->getSymbol("name");
      if (std::find(used.begin(), used.end(), name) == used.end() &&
          ir::isFloat(op->result()->type.dtype))
        used.push_back(name);
    }
  for (const std::string &name : used) {
    absl::Status s =
        compare(strCat("@", name), weights.find(name)->second, (*analytic)[k++],
                [&] { return lossAt(args, weights); });
    if (!s.ok())
      return s;
  }
  return absl::OkStatus();
}

} // namespace nyx::test
