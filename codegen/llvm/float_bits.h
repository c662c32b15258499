// f16 and bf16 conversions written as integer and f32 arithmetic, so they
// vectorize on every x86-64 level and need no compiler-rt helpers.
// Roundings are to nearest even, like ir/half.h.
#pragma once

#include "llvm/IR/IRBuilder.h"

namespace nyx::codegen::llvmir {

// i16 bits -> float (exact).
llvm::Value *halfBitsToFloat(llvm::IRBuilder<> &b, llvm::Value *bits);
llvm::Value *bf16BitsToFloat(llvm::IRBuilder<> &b, llvm::Value *bits);
// float -> i16 bits; NaN becomes a quiet NaN.
llvm::Value *floatToHalfBits(llvm::IRBuilder<> &b, llvm::Value *f);
llvm::Value *floatToBf16Bits(llvm::IRBuilder<> &b, llvm::Value *f);
// double -> float rounded to odd: a second rounding to a type with at most
// 22 significand bits then equals one direct rounding (no double rounding).
llvm::Value *doubleToFloatRoundToOdd(llvm::IRBuilder<> &b, llvm::Value *d);

} // namespace nyx::codegen::llvmir
