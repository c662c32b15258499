// The LLVM IR of the loop IR's unary functions (kernel::UnaryFn) on one
// scalar value.
//
// f32 exp, log, tanh and erf are Nyx's own polynomials (fast_math.h), on
// every target, so CPU and GPU kernels give the same bits. The other float
// functions call the target's math library: on CPUs libm (sinf, sin,
// log1pf, ...) with the attributes of clang's -fno-math-errno, so the loop
// vectorizer can replace the calls with glibc's vector functions
// (vector_math.h); on NVIDIA GPUs libdevice (__nv_sinf, ...), linked into
// the module before optimization. Rounding and square roots are LLVM
// intrinsics, which become instructions.
#pragma once

#include "codegen/kernel/loop_ir.h"
#include "ir/types.h"
#include "llvm/IR/IRBuilder.h"

namespace nyx::codegen::llvmir {

// `fn` of `a`, whose loop IR type is `type` (a compute type: f32, f64, an
// integer or bool), at b's insertion point.
enum class MathLibrary {
  Libm,      // C's libm: sinf, sin, ...
  Libdevice, // CUDA's libdevice: __nv_sinf, __nv_sin, ...
};

// A call of the math library's `f64Name` (f64) or its f32 form.
llvm::Value *mathCall(llvm::IRBuilder<> &b, MathLibrary lib,
                      const char *f64Name, llvm::Value *a,
                      llvm::Value *second = nullptr);

llvm::Value *emitUnary(llvm::IRBuilder<> &b, kernel::UnaryFn fn, llvm::Value *a,
                       ir::DType type, MathLibrary lib);

} // namespace nyx::codegen::llvmir
