// Lowers a loop-nest Kernel to an LLVM function.
#pragma once

#include "codegen/cpu/target.h"
#include "codegen/kernel/loop_ir.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/Module.h"

namespace nyx::codegen::cpu {

// Sets "target-cpu", "target-features" and, on AVX-512 targets,
// "prefer-vector-width"="512".
void setTargetAttributes(llvm::Function &fn, const TargetSpec &target);

// Adds `kernel` to `module` as an internal `void name(ptr noalias, ...)` with
// one pointer per buffer, in the kernel's buffer order.
llvm::Function *emitKernel(const kernel::Kernel &kernel, llvm::Module &module,
                           const TargetSpec &target);

} // namespace nyx::codegen::cpu
