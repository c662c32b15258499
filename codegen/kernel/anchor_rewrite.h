// The anchor half of lowerFusion: turns the kernel of an anchor op into the
// body of the fused kernel around it.
#pragma once

#include "absl/status/statusor.h"
#include "codegen/kernel/loop_ir.h"
#include "ir/module.h"

namespace nyx::kernel {

// `anchorKernel` is the lowering of `anchor`, an op of `body` (a kernel
// function in the anchor-group form, see lower_fusion.h). Returns the body
// of the fused kernel, whose buffers are body's params then its returns:
// the anchor's loads of operands become the operands' values (computed by
// the prologue, or loads of params), and its stores of the result become
// stores of every returned value. An error when the anchor's kernel breaks
// the anchor contract of lowering.h.
absl::StatusOr<StmtRef> rewriteAnchorKernel(const ir::Function &body,
                                            const ir::Op &anchor,
                                            const Kernel &anchorKernel);

} // namespace nyx::kernel
