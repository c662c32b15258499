// Reductions over a set of axes (reduce_sum, reduce_mean, reduce_max,
// reduce_min) and argmax along one axis. Semantics: docs/ops.md.
//
// Float reductions accumulate in f64 for every float dtype and round once on
// store; integer sums wrap to the element width.
#include <cmath>
#include <limits>

#include "ir/op_registry.h"
#include "ir/ops/op_helpers.h"
#include "ir/strings.h"

namespace nyx::ir {
namespace {

using namespace ops;

absl::StatusOr<std::vector<TensorType>> inferReduce(const Op &op,
                                                    DTypeClass cls) {
  NYX_RETURN_IF_ERROR(checkOpBasics(op, {"axes", "keepdims"}));
  NYX_RETURN_IF_ERROR(checkOperandDType(op, 0, cls));
  NYX_ASSIGN_OR_RETURN(std::vector<int64_t> axes, reducedAxes(op));
  NYX_ASSIGN_OR_RETURN(bool keepdims, op.getBool("keepdims", false));
  ReductionLayout l = reductionShapes(op.operand(0)->type.shape, axes);
  return oneResult(op.operand(0)->type.dtype,
                   keepdims ? l.keptDimsShape : l.keptShape);
}

// The smallest or largest value of an integer dtype: the identity of an
// empty max or min.
int64_t intLimit(DType t, bool max) {
  switch (t) {
  case DType::I8:
    return max ? INT8_MAX : INT8_MIN;
  case DType::I32:
    return max ? INT32_MAX : INT32_MIN;
  default:
    return max ? std::numeric_limits<int64_t>::max()
               : std::numeric_limits<int64_t>::min();
  }
}

enum class ReduceKind { Sum, Mean, Max, Min };

// Folds the reduced elements of each output element. Empty reductions give
// the identity: 0 for sums, NaN for a mean (0/0), -inf/+inf or the integer
// type's min/max for max/min.
absl::Status reduceInto(const Op &op, ReduceKind kind, const Tensor &in,
                        Tensor &out) {
  NYX_ASSIGN_OR_RETURN(std::vector<int64_t> axes, reducedAxes(op));
  ReductionLayout l = reductionLayout(in.shape(), axes);
  const bool isMax = kind == ReduceKind::Max;
  for (size_t o = 0; o < l.base.size(); ++o) {
    const int64_t base = l.base[o];
    if (isFloat(in.dtype())) {
      double acc = kind == ReduceKind::Max   ? -INFINITY
                   : kind == ReduceKind::Min ? INFINITY
                                             : 0.0;
      for (int64_t r : l.inner) {
        double v = in.getDouble(base + r);
        if (kind == ReduceKind::Sum || kind == ReduceKind::Mean)
          acc += v;
        else if (std::isnan(v) || std::isnan(acc))
          acc = NAN; // NaN wins and stays
        else if (isMax ? v > acc : v < acc)
          acc = v;
      }
      if (kind == ReduceKind::Mean)
        acc /= static_cast<double>(l.reducedCount);
      storeRounded(out, static_cast<int64_t>(o), acc);
    } else {
      int64_t acc = kind == ReduceKind::Sum ? 0
                    : isMax ? intLimit(in.dtype(), /*max=*/false)
                            : intLimit(in.dtype(), /*max=*/true);
      for (int64_t r : l.inner) {
        int64_t v = in.getInt(base + r);
        if (kind == ReduceKind::Sum)
          acc = wrapAdd(acc, v);
        else if (isMax ? v > acc : v < acc)
          acc = v;
      }
      out.setInt(static_cast<int64_t>(o), acc);
    }
  }
  return absl::OkStatus();
}

void addReduce(OpRegistry &r, std::string name, ReduceKind kind,
               DTypeClass cls) {
  OpDef def;
  def.name = std::move(name);
  def.minOperands = def.maxOperands = 1;
  def.inferTypes = [cls](const Op &op, const Module &) {
    return inferReduce(op, cls);
  };
  def.interpret = [kind](const Op &op, std::span<const Tensor *const> in,
                         std::span<Tensor> out,
                         const InterpContext &) -> absl::Status {
    return reduceInto(op, kind, *in[0], out[0]);
  };
  r.add(std::move(def));
}

absl::StatusOr<int64_t> argmaxAxis(const Op &op) {
  NYX_ASSIGN_OR_RETURN(int64_t axis, op.getInt("axis", 0));
  return normalizeAxis(op, axis, op.operand(0)->type.rank());
}

void registerArgmax(OpRegistry &r) {
  OpDef def;
  def.name = "argmax";
  def.minOperands = def.maxOperands = 1;
  def.inferTypes =
      [](const Op &op,
         const Module &) -> absl::StatusOr<std::vector<TensorType>> {
    NYX_RETURN_IF_ERROR(checkOpBasics(op, {"axis", "keepdims"}));
    NYX_RETURN_IF_ERROR(checkOperandDType(op, 0, DTypeClass::Numeric));
    NYX_ASSIGN_OR_RETURN(int64_t axis, argmaxAxis(op));
    NYX_ASSIGN_OR_RETURN(bool keepdims, op.getBool("keepdims", false));
    const Shape &shape = op.operand(0)->type.shape;
    if (shape[axis] == 0)
      return opError(op, strCat("axis ", axis,
                                " has size 0; expected at least one element"));
    ReductionLayout l = reductionShapes(shape, {axis});
    return oneResult(DType::I64, keepdims ? l.keptDimsShape : l.keptShape);
  };
  def.interpret = [](const Op &op, std::span<const Tensor *const> in,
                     std::span<Tensor> out,
                     const InterpContext &) -> absl::Status {
    const Tensor &x = *in[0];
    NYX_ASSIGN_OR_RETURN(int64_t axis, argmaxAxis(op));
    ReductionLayout l = reductionLayout(x.shape(), {axis});
    const bool floats = isFloat(x.dtype());
    for (size_t o = 0; o < l.base.size(); ++o) {
      const int64_t base = l.base[o];
      int64_t best = 0;
      for (int64_t k = 1; k < l.reducedCount; ++k) {
        const int64_t i = base + l.inner[k], b = base + l.inner[best];
        bool better;
        if (floats) {
          // A NaN counts as the maximum, so the first NaN wins.
          double v = x.getDouble(i), cur = x.getDouble(b);
          better = !std::isnan(cur) && (std::isnan(v) || v > cur);
        } else {
          better = x.getInt(i) > x.getInt(b);
        }
        if (better)
          best = k;
      }
      out[0].setInt(static_cast<int64_t>(o), best);
    }
    return absl::OkStatus();
  };
  r.add(std::move(def));
}

} // namespace

void registerReductionOps(OpRegistry &r) {
  addReduce(r, "reduce_sum", ReduceKind::Sum, DTypeClass::Numeric);
  addReduce(r, "reduce_mean", ReduceKind::Mean, DTypeClass::Float);
  addReduce(r, "reduce_max", ReduceKind::Max, DTypeClass::Numeric);
  addReduce(r, "reduce_min", ReduceKind::Min, DTypeClass::Numeric);
  registerArgmax(r);
  r.setFusionKind(
      {"reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "argmax"},
      FusionKind::Reduction);
}

} // namespace nyx::ir
