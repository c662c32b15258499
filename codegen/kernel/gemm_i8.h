// The i8 matmul (i8 x i8 -> i32, any transposes and broadcast batch axes) as
// a GEMM kernel of four-byte dot-product register tiles (MatmulTileArgs::
// i8Dot4, vpdpbusd on x86 with VNNI).
//
// vpdpbusd multiplies unsigned bytes by signed ones, so the kernel moves
// A's bytes to unsigned by flipping their sign bit (a + 128) and subtracts
// what that adds:
//   C[i, j] = sum_p (a[i, p] + 128) * b[p, j] - 128 * sum_p b[p, j].
// Per task (mc rows by nc columns of C) it packs
// - A's rows as K rounded up to 4 unsigned bytes each: a register tile of
//   mr rows broadcasts four bytes of each row a step;
// - B's columns as nr-column panels of [K / 4][nr][4] signed bytes, zero
//   past K: the tile's vector operands, 16 columns of C to a vector.
// 128 times a panel's column sums is the same product for a row of A's
// zeros with flipped sign bits, a one-row tile. The tile is C's rows,
// stored row by row less that; everything wraps in i32 like the
// reference. docs/quantization.md.
#pragma once

#include "absl/status/statusor.h"
#include "codegen/kernel/gemm.h"
#include "codegen/kernel/loop_ir.h"
#include "ir/module.h"

namespace nyx::kernel {

// Whether `op` is an i8 matmul that lowerGemmI8 takes (CPU form only).
bool isGemmI8(const ir::Op &op);

// The kernel of an i8 matmul on its own (isGemmI8).
absl::StatusOr<Kernel> lowerGemmI8(const ir::Op &op, std::string name);

// The loop-IR body of the kernel, reading operands and handing over each
// element of C through `io` (buffers read in place are not used): a fused
// prologue's values are computed while packing, an epilogue consumes C.
absl::StatusOr<StmtRef> buildGemmI8(const GemmForm &form, const GemmIo &io,
                                    Kernel &kernel, Builder &builder);

} // namespace nyx::kernel
