// Gradient rules of the reductions (reduce_sum, reduce_mean, reduce_max,
// reduce_min) and of cumsum. argmax has an integer result, so no gradient
// ever reaches it.
#include "ir/grad/grad_helpers.h"
#include "ir/op_registry.h"
#include "ir/ops/op_helpers.h"

namespace nyx::ir {
namespace {

using grad::keepAxes;

using ops::reducedAxes;

int64_t reducedCount(const Shape &shape, const std::vector<int64_t> &axes) {
  int64_t n = 1;
  for (int64_t a : axes)
    n *= shape[a];
  return n;
}

// `g / n` for a count `n` > 1. Where the dtype cannot hold `n` exactly
// (f16 rounds counts of 65520 and more to infinity), `g * (1 / n)` instead.
Value *divideByCount(Builder &b, Value *g, int64_t n, DType dtype) {
  const double count = static_cast<double>(n);
  Tensor probe(TensorType{dtype, {}});
  probe.setDouble(0, count);
  if (probe.getDouble(0) == count)
    return b.op("div", {g, b.scalar(count, dtype)});
  return b.op("mul", {g, b.scalar(1.0 / count, dtype)});
}

// `g`, the gradient of a reduction's result, spread back over the operand:
// its reduced axes restored and broadcast to the operand's shape.
Value *spread(Builder &b, Value *g, const Shape &shape,
              const std::vector<int64_t> &axes) {
  Value *kept = keepAxes(b, g, shape, axes);
  if (!kept || kept->type.shape == shape)
    return kept;
  return b.op("broadcast_to", {kept}, {{"shape", shape}});
}

absl::Status reduceSumGrad(Builder &b, const Op &op, std::span<Value *const> gy,
                           std::span<Value *> gx) {
  NYX_ASSIGN_OR_RETURN(std::vector<int64_t> axes, reducedAxes(op));
  gx[0] = spread(b, gy[0], op.operand(0)->type.shape, axes);
  return absl::OkStatus();
}

absl::Status reduceMeanGrad(Builder &b, const Op &op,
                            std::span<Value *const> gy, std::span<Value *> gx) {
  NYX_ASSIGN_OR_RETURN(std::vector<int64_t> axes, reducedAxes(op));
  const TensorType &x = op.operand(0)->type;
  int64_t n = reducedCount(x.shape, axes);
  Value *g = gy[0];
  // A reduction over no elements has an empty operand: nothing to scale.
  if (n > 1)
    g = divideByCount(b, g, n, x.dtype);
  gx[0] = spread(b, g, x.shape, axes);
  return absl::OkStatus();
}

// reduce_max and reduce_min: the gradient goes to the elements equal to the
// result, split evenly among ties (as PyTorch's amax/amin do). The mask is
// a constant of the operand, so the rule stays differentiable.
absl::Status reduceExtremumGrad(Builder &b, const Op &op,
                                std::span<Value *const> gy,
                                std::span<Value *> gx) {
  NYX_ASSIGN_OR_RETURN(std::vector<int64_t> axes, reducedAxes(op));
  Value *x = op.operand(0);
  const Shape &shape = x->type.shape;
  Value *y = keepAxes(b, op.result(), shape, axes);
  Value *mask = b.op("cast", {b.op("eq", {x, y})}, {{"to", x->type.dtype}});
  Value *share = keepAxes(b, gy[0], shape, axes);
  if (reducedCount(shape, axes) > 1) {
    Value *ties =
        b.op("reduce_sum", {mask}, {{"axes", axes}, {"keepdims", true}});
    share = b.op("div", {share, ties});
  }
  gx[0] = b.op("mul", {mask, share});
  return absl::OkStatus();
}

// y[i] sums x[j] over j <= i (or j < i, exclusive); x[j] therefore reaches
// every y[i] with i >= j (i > j): the running sum of g taken from the other
// end, with the same exclusiveness.
absl::Status cumsumGrad(Builder &b, const Op &op, std::span<Value *const> gy,
                        std::span<Value *> gx) {
  NYX_ASSIGN_OR_RETURN(int64_t axis, op.getInt("axis"));
  NYX_ASSIGN_OR_RETURN(bool exclusive, op.getBool("exclusive", false));
  NYX_ASSIGN_OR_RETURN(bool reverse, op.getBool("reverse", false));
  gx[0] =
      b.op("cumsum", {gy[0]},
           {{"axis", axis}, {"exclusive", exclusive}, {"reverse", !reverse}});
  return absl::OkStatus();
}

} // namespace

void registerReductionGrads(OpRegistry &r) {
  r.setGrad("reduce_sum", reduceSumGrad);
  r.setGrad("reduce_mean", reduceMeanGrad);
  r.setGrad("reduce_max", reduceExtremumGrad);
  r.setGrad("reduce_min", reduceExtremumGrad);
  r.setGrad("cumsum", cumsumGrad);
}

} // namespace nyx::ir
