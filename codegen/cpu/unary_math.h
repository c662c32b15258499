// The LLVM IR of the loop IR's unary functions (kernel::UnaryFn) on one
// scalar value.
//
// f32 exp, log, tanh and erf are Nyx's own polynomials (fast_math.h). The
// other float functions call libm (sinf, sin, log1pf, ...) with the
// attributes of clang's -fno-math-errno, so the loop vectorizer can replace
// the calls with glibc's vector functions (vector_math.h); rounding and
// square roots are LLVM intrinsics, which become instructions.
#pragma once

#include "codegen/kernel/loop_ir.h"
#include "ir/types.h"
#include "llvm/IR/IRBuilder.h"

namespace nyx::codegen::cpu {

// `fn` of `a`, whose loop IR type is `type` (a compute type: f32, f64, an
// integer or bool), at b's insertion point.
llvm::Value *emitUnary(llvm::IRBuilder<> &b, kernel::UnaryFn fn, llvm::Value *a,
                       ir::DType type);

} // namespace nyx::codegen::cpu
