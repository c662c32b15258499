// Lowers the body of a loop-nest Kernel to LLVM IR, for any LLVM target:
// the CPU backend (codegen/cpu) and the GPU backend (codegen/cuda) both
// declare the function and hand its body to emitKernelBody.
#pragma once

#include <utility>
#include <vector>

#include "codegen/kernel/loop_ir.h"
#include "codegen/llvm/unary_math.h"
#include "llvm/IR/Function.h"

namespace nyx::codegen::llvmir {

struct KernelBodyOptions {
  // f32 lanes of the target's vectors (MatmulTile register tiles).
  int vectorLanes = 4;
  // The widest vpdpbusd the target has for i8Dot4 register tiles: 512
  // (AVX-512 VNNI), 256 (AVX-VNNI or AVX-512 VNNI with VL), or 0, where the
  // dot products are plain widening multiplies and adds.
  int vnniBits = 0;
  MathLibrary math = MathLibrary::Libm;
  // When set, this For statement of the kernel runs over [begin, end)
  // instead of [0, extent): the body of a loop split across threads.
  const kernel::Stmt *restrictedLoop = nullptr;
  llvm::Value *begin = nullptr, *end = nullptr;
  // Variables the caller computes (a GPU thread's index): each reference to
  // the variable yields the value.
  std::vector<std::pair<kernel::Var, llvm::Value *>> boundVars;
};

// Fills `fn`, an empty function whose first arguments are the pointers to
// the kernel's parameter buffers in order, with the kernel's body and a
// `ret void`. Scratch buffers come from the runtime's nyx_scratch.
void emitKernelBody(const kernel::Kernel &kernel, llvm::Function &fn,
                    const KernelBodyOptions &options);

// The LLVM type of an element as stored in memory (bool is i8, f16/bf16 are
// i16 bits).
llvm::Type *storageType(llvm::LLVMContext &ctx, ir::DType t);

} // namespace nyx::codegen::llvmir
