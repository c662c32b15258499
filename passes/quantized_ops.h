// The int8 forms of f32 matmuls and convolutions with compile-time weights,
// shared by the quantize-dynamic and quantize-int8 passes
// (docs/quantization.md).
#pragma once

#include "absl/status/statusor.h"
#include "ir/module.h"
#include "ir/rewrite.h"
#include "ir/tensor.h"

namespace nyx::passes {

// An f32 matmul of activations (rank >= 2) by a rank-2 weight operand.
bool isQuantizableMatmul(const ir::Op &op);
// An f32 conv2d of one group with its filter in the oihw layout.
bool isQuantizableConv(const ir::Op &op);

// Emits at `at` (before `op`, a quantizable matmul or conv2d at
// `at.pos()`) its int8 form, given its activations quantized as `xq` with
// the f32[] scale `sx` and the i8[] zero point whose value is `zx`, and the
// value of its weights. The weights get one symmetric scale per output
// channel. A matmul becomes
//
//   %wq = quantize(%w, sw, 0)               (const-fold makes it i8 data)
//   %p  = matmul(%xq, %wq)                  : i32, op's transposes
//   %zp = mul(reduce_sum(cast(%wq, i32)), zx)   only when zx != 0
//   %y  = dequantize(%p, mul(%sx, sw), %zp)
//
// and a conv2d of x [N, C, H, W] by w [M, C, kh, kw] a matmul of the
// filter as [M, C * kh * kw] by im2col of the input, padded with zx (the
// quantized 0), then back to NCHW:
//
//   %cols = im2col(%xq) {op's window, value = zx} : i8[N, C * kh * kw, P]
//   %wq   = quantize(reshape(%w), sw, 0)          : i8[M, C * kh * kw]
//   %p    = matmul(%wq, %cols)                    : i32[N, M, P]
//   %y    = dequantize(%p, mul(%sx, sw), %zp)     (+ the bias as [M, 1])
//   %out  = reshape(%y)                           : f32[N, M, OH, OW]
//
// The last value takes op's place and name. Returns the position after the
// new ops.
absl::StatusOr<size_t> replaceWithQuantized(ir::OpInserter &at,
                                            ir::Function &fn, ir::Op &op,
                                            const ir::Tensor &weights,
                                            ir::Value *xq, ir::Value *sx,
                                            int zx);

} // namespace nyx::passes
