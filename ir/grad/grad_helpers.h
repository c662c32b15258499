// Building blocks the gradient rules share.
#pragma once

#include "ir/builder.h"

namespace nyx::ir::grad {

// The gradient of an operand of shape `shape` that was broadcast (NumPy
// rules) to the shape of `g`: `g` summed over the broadcast axes, reshaped
// to `shape`. Returns `g` itself when nothing was broadcast.
Value *unbroadcast(Builder &b, Value *g, const Shape &shape);

// A tensor of `type` filled with `v` (a broadcast scalar, so no large
// constant is materialized).
Value *filled(Builder &b, const TensorType &type, double v);

// `v` as a rank-0 constant of `dtype` (a float dtype).
inline Value *scalar(Builder &b, double v, DType dtype) {
  return b.scalar(v, dtype);
}

// `x` with its dims of `axes` (sorted, non-negative) restored as size 1, so
// it broadcasts against the operand a reduction over `axes` read.
Value *keepAxes(Builder &b, Value *x, const Shape &operandShape,
                const std::vector<int64_t> &axes);

// Axis `axis` of a rank-`rank` tensor made non-negative.
inline int64_t normalizeAxis(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

} // namespace nyx::ir::grad
