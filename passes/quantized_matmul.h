// The int8 form of an f32 matmul with compile-time weights, shared by the
// quantize-dynamic and quantize-int8 passes (docs/quantization.md).
#pragma once

#include "absl/status/statusor.h"
#include "ir/module.h"
#include "ir/rewrite.h"
#include "ir/tensor.h"

namespace nyx::passes {

// An f32 matmul of activations (rank >= 2) by a rank-2 weight operand.
bool isQuantizableMatmul(const ir::Op &op);

// Emits at `at` (before the matmul `mm`, which is at `at.pos()`) the weights quantized with one symmetric scale per output column,
// the i32 product of `xq` (the activations quantized with the f32[] scale
// `sx` and the i8[] zero point whose value is `zx`) by them, and its
// dequantization:
//
//   %wq = quantize(%w, sw, 0)              (const-fold makes it i8 data)
//   %p  = matmul(%xq, %wq)                 : i32, mm's transposes
//   %zp = mul(reduce_sum(cast(%wq, i32)), zx)   only when zx != 0
//   %y  = dequantize(%p, mul(%sx, sw), %zp)
//
// then makes %y take mm's place and name. `weights` is the weights' value.
// Returns the position after the new ops.
absl::StatusOr<size_t> replaceWithQuantized(ir::OpInserter &at,
                                            ir::Function &fn, ir::Op &mm,
                                            const ir::Tensor &weights,
                                            ir::Value *xq, ir::Value *sx,
                                            int zx);

} // namespace nyx::passes
