#include "codegen/llvm/float_bits.h"

namespace nyx::codegen::llvmir {
namespace {

llvm::Value *i32(llvm::IRBuilder<> &b, uint32_t v) { return b.getInt32(v); }

llvm::Value *asFloat(llvm::IRBuilder<> &b, llvm::Value *bits) {
  return b.CreateBitCast(bits, b.getFloatTy());
}

llvm::Value *asInt(llvm::IRBuilder<> &b, llvm::Value *f) {
  return b.CreateBitCast(f, b.getInt32Ty());
}

} // namespace

llvm::Value *halfBitsToFloat(llvm::IRBuilder<> &b, llvm::Value *bits) {
  llvm::Value *h = b.CreateZExt(bits, b.getInt32Ty());
  llvm::Value *sign = b.CreateShl(b.CreateAnd(h, i32(b, 0x8000)), 16);
  llvm::Value *magnitude = b.CreateAnd(h, i32(b, 0x7fff));
  // Shifting exponent and mantissa into f32 position and scaling by 2^112
  // rebiases the exponent and normalizes f16 subnormals exactly.
  llvm::Value *scaled =
      b.CreateFMul(asFloat(b, b.CreateShl(magnitude, 13)),
                   llvm::ConstantFP::get(b.getFloatTy(), 0x1p112));
  llvm::Value *scaledBits = asInt(b, scaled);
  llvm::Value *infOrNan = b.CreateICmpUGE(magnitude, i32(b, 0x7c00));
  scaledBits = b.CreateSelect(
      infOrNan, b.CreateOr(scaledBits, i32(b, 0x7f800000)), scaledBits);
  return asFloat(b, b.CreateOr(scaledBits, sign));
}

llvm::Value *bf16BitsToFloat(llvm::IRBuilder<> &b, llvm::Value *bits) {
  return asFloat(b, b.CreateShl(b.CreateZExt(bits, b.getInt32Ty()), 16));
}

// The branch-free round-to-nearest-even conversion from Fabian Giesen's
// float_to_half_fast3_rtne.
llvm::Value *floatToHalfBits(llvm::IRBuilder<> &b, llvm::Value *f) {
  llvm::Value *bits = asInt(b, f);
  llvm::Value *sign = b.CreateAnd(bits, i32(b, 0x80000000u));
  llvm::Value *abs = b.CreateXor(bits, sign);

  llvm::Value *isNan = b.CreateICmpUGT(abs, i32(b, 0x7f800000));
  llvm::Value *infOrNan = b.CreateSelect(isNan, i32(b, 0x7e00), i32(b, 0x7c00));

  // Below 2^-14 the result is an f16 subnormal: adding 0.5 lets the FPU do
  // the rounding at exactly the f16 subnormal spacing.
  const uint32_t denormMagic = ((127 - 15) + (23 - 10) + 1) << 23;
  llvm::Value *denorm = b.CreateSub(
      asInt(b, b.CreateFAdd(asFloat(b, abs), asFloat(b, i32(b, denormMagic)))),
      i32(b, denormMagic));

  llvm::Value *mantissaOdd = b.CreateAnd(b.CreateLShr(abs, 13), i32(b, 1));
  llvm::Value *normal =
      b.CreateAdd(abs, i32(b, (uint32_t(15 - 127) << 23) + 0xfff));
  normal = b.CreateLShr(b.CreateAdd(normal, mantissaOdd), 13);

  llvm::Value *tooLarge = b.CreateICmpUGE(abs, i32(b, (127 + 16) << 23));
  llvm::Value *tooSmall = b.CreateICmpULT(abs, i32(b, 113 << 23));
  llvm::Value *out = b.CreateSelect(tooLarge, infOrNan,
                                    b.CreateSelect(tooSmall, denorm, normal));
  out = b.CreateOr(out, b.CreateLShr(sign, 16));
  return b.CreateTrunc(out, b.getInt16Ty());
}

llvm::Value *floatToBf16Bits(llvm::IRBuilder<> &b, llvm::Value *f) {
  llvm::Value *bits = asInt(b, f);
  llvm::Value *isNan = b.CreateICmpUGT(b.CreateAnd(bits, i32(b, 0x7fffffff)),
                                       i32(b, 0x7f800000));
  llvm::Value *lsb = b.CreateAnd(b.CreateLShr(bits, 16), i32(b, 1));
  llvm::Value *rounded =
      b.CreateLShr(b.CreateAdd(b.CreateAdd(bits, i32(b, 0x7fff)), lsb), 16);
  llvm::Value *quietNan = b.CreateOr(b.CreateLShr(bits, 16), i32(b, 0x40));
  return b.CreateTrunc(b.CreateSelect(isNan, quietNan, rounded),
                       b.getInt16Ty());
}

llvm::Value *doubleToFloatRoundToOdd(llvm::IRBuilder<> &b, llvm::Value *d) {
  llvm::Value *nearest = b.CreateFPTrunc(d, b.getFloatTy());
  llvm::Value *back = b.CreateFPExt(nearest, b.getDoubleTy());
  llvm::Value *bits = asInt(b, nearest);
  // Inexact with an even last bit: the odd neighbour on the other side of
  // the exact value is the round-to-odd result.
  llvm::Value *inexact = b.CreateFCmpONE(back, d);
  llvm::Value *even = b.CreateICmpEQ(b.CreateAnd(bits, i32(b, 1)), i32(b, 0));
  llvm::Value *roundedAway =
      b.CreateFCmpOGT(b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, back),
                      b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, d));
  llvm::Value *odd = b.CreateSelect(roundedAway, b.CreateSub(bits, i32(b, 1)),
                                    b.CreateAdd(bits, i32(b, 1)));
  return asFloat(b, b.CreateSelect(b.CreateAnd(inexact, even), odd, bits));
}

} // namespace nyx::codegen::llvmir
