// Gradient rules of softmax, log_softmax, layer_norm, rms_norm and
// batch_norm. The normalization ops return only their result, so the rules
// recompute the row statistics they need from the operand.
#include "ir/grad/grad_helpers.h"
#include "ir/op_registry.h"
#include "ir/ops/op_helpers.h"

namespace nyx::ir {
namespace {

using grad::unbroadcast;

absl::StatusOr<int64_t> opAxis(const Op &op, int64_t dflt) {
  NYX_ASSIGN_OR_RETURN(int64_t axis, op.getInt("axis", dflt));
  return ops::normalizeAxis(op, axis, op.operand(0)->type.rank());
}

Value *sumKeep(Builder &b, Value *v, const std::vector<int64_t> &axes) {
  return b.op("reduce_sum", {v}, {{"axes", axes}, {"keepdims", true}});
}

Value *meanKeep(Builder &b, Value *v, const std::vector<int64_t> &axes) {
  return b.op("reduce_mean", {v}, {{"axes", axes}, {"keepdims", true}});
}

// softmax: dx = y * (g - sum(g * y)) along the axis.
absl::Status softmaxGrad(Builder &b, const Op &op, std::span<Value *const> gy,
                         std::span<Value *> gx) {
  NYX_ASSIGN_OR_RETURN(int64_t axis, opAxis(op, -1));
  Value *y = op.result(), *g = gy[0];
  Value *dot = sumKeep(b, b.op("mul", {g, y}), {axis});
  gx[0] = b.op("mul", {y, b.op("sub", {g, dot})});
  return absl::OkStatus();
}

// log_softmax: dx = g - softmax(x) * sum(g), with softmax(x) = exp(y).
absl::Status logSoftmaxGrad(Builder &b, const Op &op,
                            std::span<Value *const> gy, std::span<Value *> gx) {
  NYX_ASSIGN_OR_RETURN(int64_t axis, opAxis(op, -1));
  Value *g = gy[0];
  Value *probs = b.op("exp", {op.result()});
  gx[0] = b.op("sub", {g, b.op("mul", {probs, sumKeep(b, g, {axis})})});
  return absl::OkStatus();
}

// layer_norm and rms_norm: y = xhat * scale + bias with xhat = xc * inv,
// xc = x - mean(x) (layer_norm) or x (rms_norm), inv = 1 / sqrt(mean(xc^2)
// + epsilon), all over the block axis..rank-1. With gh = g * scale:
//   dx = inv * (gh - mean(gh) - xhat * mean(gh * xhat))   (layer_norm)
//   dx = inv * (gh - xhat * mean(gh * xhat))              (rms_norm)
// and the scale and bias gradients are g * xhat and g summed over the
// leading axes.
absl::Status normGrad(Builder &b, const Op &op, std::span<Value *const> gy,
                      std::span<Value *> gx, bool centered,
                      double defaultEpsilon) {
  NYX_ASSIGN_OR_RETURN(int64_t axis, opAxis(op, -1));
  NYX_ASSIGN_OR_RETURN(double epsilon, op.getFloat("epsilon", defaultEpsilon));
  Value *x = op.operand(0), *g = gy[0];
  const TensorType &type = x->type;
  std::vector<int64_t> block;
  for (int64_t d = axis; d < type.rank(); ++d)
    block.push_back(d);
  Shape blockShape(type.shape.begin() + axis, type.shape.end());

  Value *xc = centered ? b.op("sub", {x, meanKeep(b, x, block)}) : x;
  Value *var = meanKeep(b, b.op("mul", {xc, xc}), block);
  Value *inv =
      b.op("rsqrt", {b.op("add", {var, b.scalar(epsilon, type.dtype)})});
  Value *xhat = b.op("mul", {xc, inv});

  Value *gh = g;
  if (op.numOperands() > 1) {
    Value *scale = op.operand(1);
    gh = b.op("mul", {g, scale});
    gx[1] = unbroadcast(b, b.op("mul", {g, xhat}), blockShape);
  }
  if (op.numOperands() > 2)
    gx[2] = unbroadcast(b, g, blockShape);

  Value *inner =
      b.op("mul", {xhat, meanKeep(b, b.op("mul", {gh, xhat}), block)});
  if (centered)
    inner = b.op("add", {inner, meanKeep(b, gh, block)});
  gx[0] = b.op("mul", {inv, b.op("sub", {gh, inner})});
  return absl::OkStatus();
}

absl::Status layerNormGrad(Builder &b, const Op &op, std::span<Value *const> gy,
                           std::span<Value *> gx) {
  return normGrad(b, op, gy, gx, /*centered=*/true, 1e-5);
}

absl::Status rmsNormGrad(Builder &b, const Op &op, std::span<Value *const> gy,
                         std::span<Value *> gx) {
  return normGrad(b, op, gy, gx, /*centered=*/false, 1e-6);
}

// batch_norm: y = (x - mean[c]) * scale[c] * inv[c] + bias[c] with
// inv = 1 / sqrt(var + epsilon), c the index along `axis`. With
// s = sum over the other axes of g * (x - mean[c]):
//   dx = g * scale * inv, dbias = sum(g), dscale = s * inv,
//   dmean = -dbias * scale * inv, dvar = -dscale * scale * inv^2 / 2.
absl::Status batchNormGrad(Builder &b, const Op &op, std::span<Value *const> gy,
                           std::span<Value *> gx) {
  NYX_ASSIGN_OR_RETURN(int64_t axis, opAxis(op, 1));
  NYX_ASSIGN_OR_RETURN(double epsilon, op.getFloat("epsilon", 1e-5));
  Value *x = op.operand(0), *scale = op.operand(1), *mean = op.operand(3),
        *var = op.operand(4), *g = gy[0];
  const TensorType &type = x->type;
  const int64_t rank = type.rank();
  std::vector<int64_t> others;
  for (int64_t d = 0; d < rank; ++d)
    if (d != axis)
      others.push_back(d);
  // A per-channel vector shaped [C, 1, ...] to broadcast along `axis`.
  Shape channelShape(rank - axis, 1);
  channelShape[0] = type.shape[axis];
  auto perChannel = [&](Value *v) {
    if (!v || v->type.shape == channelShape)
      return v;
    return b.op("reshape", {v}, {{"shape", channelShape}});
  };
  // Sums over every axis but `axis`, as a [C] vector.
  auto channelSum = [&](Value *v) {
    return others.empty() ? v
                          : b.op("reduce_sum", {v},
                                 {{"axes", others}, {"keepdims", false}});
  };

  Value *inv =
      b.op("rsqrt", {b.op("add", {var, b.scalar(epsilon, type.dtype)})});
  Value *factor = b.op("mul", {scale, inv});
  gx[0] = b.op("mul", {g, perChannel(factor)});
  Value *gBias = channelSum(g);
  gx[2] = gBias;
  Value *centered = b.op("sub", {x, perChannel(mean)});
  Value *gScale = b.op("mul", {channelSum(b.op("mul", {g, centered})), inv});
  gx[1] = gScale;
  gx[3] = b.op("neg", {b.op("mul", {gBias, factor})});
  Value *halfInvSq =
      b.op("mul", {b.op("mul", {inv, inv}), b.scalar(-0.5, type.dtype)});
  gx[4] = b.op("mul", {b.op("mul", {gScale, scale}), halfInvSq});
  return absl::OkStatus();
}

} // namespace

void registerNormalizationGrads(OpRegistry &r) {
  r.setGrad("softmax", softmaxGrad);
  r.setGrad("log_softmax", logSoftmaxGrad);
  r.setGrad("layer_norm", layerNormGrad);
  r.setGrad("rms_norm", rmsNormGrad);
  r.setGrad("batch_norm", batchNormGrad);
}

} // namespace nyx::ir
