#include "compiler/gradcheck.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <random>
#include <sstream>

#include "ir/builder.h"
#include "ir/interpreter.h"
#include "ir/rewrite.h"
#include "ir/strings.h"
#include "ir/verifier.h"
#include "passes/autodiff.h"
#include "passes/pass.h"

namespace nyx::compiler {
namespace {

ir::DType promoted(ir::DType t) { return ir::isFloat(t) ? ir::DType::F64 : t; }

ir::Tensor promote(const ir::Tensor &t) {
  ir::TensorType type{promoted(t.type().dtype), t.type().shape};
  if (type.dtype == t.type().dtype)
    return t;
  ir::Tensor out(type);
  for (int64_t i = 0; i < t.numElements(); ++i)
    out.setDouble(i, t.getDouble(i));
  return out;
}

// `entry` (calls inlined) in a new module where every float is f64.
absl::StatusOr<std::unique_ptr<ir::Module>>
promotedCopy(const ir::Module &module, const ir::Function &entry) {
  auto m = std::make_unique<ir::Module>();
  m->name = module.name;
  m->filename = module.filename;
  for (const ir::Param &p : module.params)
    m->params.push_back(
        {p.name, {promoted(p.type.dtype), p.type.shape}, p.loc});
  ir::Function *fn = m->addFunction("main");
  fn->loc = entry.loc;
  fn->returnLoc = entry.returnLoc;
  std::map<const ir::Value *, ir::Value *> mapped;
  for (const ir::Value *p : entry.params)
    mapped[p] = fn->addParam(p->name, {promoted(p->type.dtype), p->type.shape});
  auto returns = ir::cloneBody(module, entry, *fn, std::move(mapped));
  if (!returns.ok())
    return returns.status();
  fn->returns = *returns;
  fn->resultTypes.resize(fn->returns.size());
  ir::retypeFloats(*fn, 0, promoted);
  if (absl::Status s = passes::runShapeInfer(*m, {}); !s.ok())
    return s;
  return m;
}

// The elements of a tensor of `n` elements to check.
std::vector<int64_t> sampled(int64_t n, int64_t max) {
  std::vector<int64_t> out;
  if (max <= 0 || n <= max) {
    for (int64_t i = 0; i < n; ++i)
      out.push_back(i);
    return out;
  }
  for (int64_t k = 0; k < max; ++k)
    out.push_back(k * n / max);
  return out;
}

} // namespace

bool GradCheckResult::ok() const {
  return std::all_of(tensors.begin(), tensors.end(),
                     [](const Tensor &t) { return t.ok; });
}

absl::StatusOr<GradCheckResult> gradCheck(const ir::Module &module,
                                          const ir::Function &entry,
                                          const GradCheckOptions &o) {
  auto copy = promotedCopy(module, entry);
  if (!copy.ok())
    return copy.status();
  ir::Module &m = **copy;
  ir::Function &f = *m.functions[0];
  if (f.returns.empty() || !ir::isFloat(f.returns[0]->type.dtype))
    return absl::InvalidArgumentError(
        strCat("@", entry.name, " has no float result to check"));

  std::mt19937_64 rng(o.seed);
  // L = sum(result * r).
  ir::Value *y = f.returns[0];
  ir::Builder b(m, f);
  b.setLoc(f.returnLoc);
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

  auto randomTensor = [&](const ir::TensorType &type, std::string_view name) {
    ir::Tensor t(type);
    bool isInt = !ir::isFloat(type.dtype);
    auto it = o.ranges.find(name);
    auto [lo, hi] = it != o.ranges.end() ? it->second
                                         : (isInt ? std::make_pair(0.0, 2.0)
                                                  : std::make_pair(o.lo, o.hi));
    std::uniform_real_distribution<double> u(lo, hi);
    for (int64_t i = 0; i < type.numElements(); ++i) {
      double v = u(rng);
      t.setDouble(i, isInt ? std::floor(v) : v);
    }
    return t;
  };
  std::vector<ir::Tensor> args;
  for (const ir::Value *p : f.params)
    args.push_back(randomTensor(p->type, p->name));
  ir::WeightMap weights;
  for (const ir::Param &p : m.params) {
    auto given =
        o.weights ? o.weights->find(p.name) : ir::WeightMap::const_iterator();
    if (o.weights && given != o.weights->end())
      weights.emplace(p.name, promote(given->second));
    else
      weights.emplace(p.name, randomTensor(p.type, p.name));
  }

  ir::Interpreter interp(m, &weights);
  auto analytic = interp.run(**gradFn, args);
  if (!analytic.ok())
    return analytic.status();
  auto lossNow = [&]() -> absl::StatusOr<double> {
    ir::Interpreter i(m, &weights);
    auto out = i.run(f, args);
    if (!out.ok())
      return out.status();
    return (*out)[0].getDouble(0);
  };

  GradCheckResult result;
  auto check = [&](std::string name, ir::Tensor &slot,
                   const ir::Tensor &grad) -> absl::Status {
    GradCheckResult::Tensor t{std::move(name)};
    double worstExcess = -1;
    for (int64_t i : sampled(slot.numElements(), o.maxElements)) {
      double x0 = slot.getDouble(i);
      slot.setDouble(i, x0 + o.step);
      auto plus = lossNow();
      slot.setDouble(i, x0 - o.step);
      auto minus = lossNow();
      slot.setDouble(i, x0);
      if (!plus.ok())
        return plus.status();
      if (!minus.ok())
        return minus.status();
      double numeric = (*plus - *minus) / (2 * o.step);
      double got = grad.getDouble(i);
      double error = std::abs(got - numeric);
      double allowed =
          o.atol + o.rtol * std::max(std::abs(numeric), std::abs(got));
      ++t.checked;
      t.maxAbsError = std::max(t.maxAbsError, error);
      if (!(error <= allowed))
        t.ok = false;
      double excess = std::isnan(error) ? INFINITY : error - allowed;
      if (excess > worstExcess) {
        worstExcess = excess;
        t.worst = i;
        t.analytic = got;
        t.numeric = numeric;
      }
    }
    result.tensors.push_back(std::move(t));
    return absl::OkStatus();
  };

  size_t k = 1; // (*analytic)[0] is the loss
  for (size_t i = 0; i < f.params.size(); ++i)
    if (ir::isFloat(f.params[i]->type.dtype))
      if (auto s =
              check(strCat("%", f.params[i]->name), args[i], (*analytic)[k++]);
          !s.ok())
        return s;
  // addGradFunction puts the params in the order of their first use.
  std::vector<std::string> used;
  for (const auto &op : f.ops)
    if (op->name() == "param") {
      std::string name = *op->getSymbol("name");
      if (std::find(used.begin(), used.end(), name) == used.end() &&
          ir::isFloat(op->result()->type.dtype))
        used.push_back(name);
    }
  for (const std::string &name : used)
    if (auto s = check(strCat("@", name), weights.find(name)->second,
                       (*analytic)[k++]);
        !s.ok())
      return s;
  return result;
}

std::string formatGradCheck(const GradCheckResult &result) {
  std::ostringstream os;
  os << std::left << std::setw(32) << "tensor" << std::right << std::setw(9)
     << "checked" << std::setw(14) << "max abs err"
     << "  worst element (gradient vs finite difference)\n";
  for (const GradCheckResult::Tensor &t : result.tensors)
    os << std::left << std::setw(32) << t.name << std::right << std::setw(9)
       << t.checked << std::setw(14) << std::setprecision(3) << t.maxAbsError
       << "  [" << t.worst << "] " << std::setprecision(9) << t.analytic
       << " vs " << t.numeric << (t.ok ? "" : "  FAILED") << "\n";
  os << (result.ok() ? "gradcheck: ok" : "gradcheck: FAILED") << "\n";
  return os.str();
}

} // namespace nyx::compiler
