// Lowering of one fused kernel: the body of a kernel function (what a
// `fusion` op calls) becomes a single Kernel.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "codegen/kernel/loop_ir.h"
#include "ir/module.h"

namespace nyx::kernel {

// Lowers `body`, whose params are the fusion op's operands and whose returns
// are its results, to a Kernel named `name` whose buffers are the params
// then the returns (a value returned twice gets two buffers). The body is
// one of the two group forms the fuse pass makes:
//
// Loop group: only Elementwise and Injective ops and splat constants, every
// returned value of one shape. The kernel is a parallel loop nest over that
// shape (adjacent dimensions merged where that costs no index division)
// that stores each returned value at each position, computed through the
// ops' element functions down to loads of the params. A value used more
// than once is computed once per iteration, in a local.
//
// Anchor group: one Reduction, Normalization, Contraction or Other op with
// one result (the anchor); prologue ops (Elementwise, Injective, splat
// constants) feeding its operands; epilogue ops (Elementwise, each result of
// the anchor's shape) computed from the anchor's result at the same
// position and from side values of the params (read with broadcasting).
// Every returned value is the anchor's result or an epilogue value. A GEMM
// anchor (gemm.h: f32 matmul, conv2d) becomes a GEMM kernel whose packing
// computes the prologue's values and whose epilogue stores every returned
// value of each finished element. Any other anchor is lowered with its own
// LowerFn (see the anchor contract in lowering.h), then its loads of operands
// become the prologue's values at those positions and its stores of the result
// become stores of every returned value.
//
// Bodies in neither form are InvalidArgument errors naming the op.
absl::StatusOr<Kernel> lowerFusion(const ir::Function &body, std::string name);

} // namespace nyx::kernel
