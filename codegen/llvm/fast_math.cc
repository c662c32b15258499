#include "codegen/llvm/fast_math.h"

#include <cstdint>
#include <limits>

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/IR/Intrinsics.h"

namespace nyx::codegen::llvmir {
namespace {

// Polynomial coefficients, lowest power first: near-minimax fits (Lawson's
// iteratively reweighted least squares on 20,001 points, weighted for the
// relative error of the final result) rounded to f32.

// e^r = 1 + r (1 + r q(r)) for |r| <= ln2/2; relative error of the fit
// 3.1e-9 (degree 6) and, for the e^x inside tanh and erf, which scale its
// error down, 1.05e-7 (degree 5).
constexpr float kExpPoly[] = {0x1.fffffcp-2f, 0x1.555492p-3f, 0x1.5558f2p-5f,
                              0x1.1239d4p-7f, 0x1.6a243ap-10f};
constexpr float kExpInnerPoly[] = {0x1.fffdfcp-2f, 0x1.5557aep-3f,
                                   0x1.5729eep-5f, 0x1.106270p-7f};
// log1p(f) = f + f^2 q(f) for f in [sqrt(1/2) - 1, sqrt(2) - 1]; 3.0e-8.
constexpr float kLogPoly[] = {-0x1.fffffap-2f, 0x1.5556f4p-2f,  -0x1.00049ap-2f,
                              0x1.98d2c0p-3f,  -0x1.535d32p-3f, 0x1.318522p-3f,
                              -0x1.250488p-3f, 0x1.65c758p-4f};
// e^r - 1 = r + r^2 q(r) for |r| <= ln2/2, for tanh; relative error of
// e^r - 1 1.4e-8.
constexpr float kExpm1Poly[] = {0x1.fffffep-2f, 0x1.5554b4p-3f, 0x1.5556f2p-5f,
                                0x1.12254ap-7f, 0x1.6b9c6cp-10f};
// erf(a) = a + a q(a^2) for a < kErfSmall; 1.2e-9.
constexpr float kErfSmall = 1.0f;
constexpr float kErfSmallPoly[] = {
    0x1.06eba8p-3f, -0x1.81273ep-2f,  0x1.ce2cf8p-4f, -0x1.b7f90cp-6f,
    0x1.5405aep-8f, -0x1.a3f6e0p-11f, 0x1.4969d6p-14f};
// erf(a) = 1 - e^q(a) above, q(a) ~ log(erfc(a)) on [1, 3.925] (beyond,
// erf rounds to 1); absolute error of erf 1.0e-9.
constexpr float kErfLargePoly[] = {
    -0x1.72e0d0p-12f, -0x1.2085b4p+0f, -0x1.46c580p-1f, -0x1.a60aa2p-4f,
    0x1.65425cp-6f,   -0x1.814d48p-9f, 0x1.852df6p-13f};

constexpr float kLog2e = 0x1.715476p0f;
// ln 2 = kLn2Hi + kLn2Lo, kLn2Hi with 16 significant bits, so n * kLn2Hi
// is exact for every exponent n of an f32 (|n| < 2^8).
constexpr float kLn2Hi = 0x1.62e400p-1f;
constexpr float kLn2Lo = 0x1.7f7d1cp-20f;
constexpr float kLn2 = 0x1.62e430p-1f; // off by 1.9e-9
// Adding 1.5 * 2^23 rounds |v| < 2^22 to an integer held in the low bits
// of the sum, with no float-to-int conversion (which NaN would poison).
constexpr float kRoundShifter = 0x1.8p23f;
constexpr uint32_t kRoundShifterBits = 0x4b400000;
// log: the mantissa is reduced to [sqrt(1/2), sqrt(2)).
constexpr uint32_t kSqrtHalfBits = 0x3f3504f3;

bool hasFeature(llvm::StringRef features, llvm::StringRef name) {
  llvm::SmallVector<llvm::StringRef, 64> list;
  features.split(list, ',');
  for (llvm::StringRef f : list)
    if (f.size() == name.size() + 1 && f[0] == '+' && f.drop_front() == name)
      return true;
  return false;
}

// Builds the scalar f32 code of one function at b's insertion point.
class FastMathEmitter {
public:
  FastMathEmitter(llvm::IRBuilder<> &b, bool fma)
      : b_(b), f32_(b.getFloatTy()), i32_(b.getInt32Ty()), fma_(fma) {}

  llvm::Value *emit(FastMathFn fn, llvm::Value *x) {
    switch (fn) {
    case FastMathFn::Exp:
      return exp(x);
    case FastMathFn::Log:
      return log(x);
    case FastMathFn::Tanh:
      return tanh(x);
    case FastMathFn::Erf:
      return erf(x);
    case FastMathFn::Sigmoid:
      return sigmoid(x);
    }
    return nullptr;
  }

private:
  llvm::Value *c(float v) { return llvm::ConstantFP::get(f32_, v); }
  llvm::Value *i(uint32_t v) { return llvm::ConstantInt::get(i32_, v); }
  llvm::Value *bits(llvm::Value *f) { return b_.CreateBitCast(f, i32_); }
  llvm::Value *fromBits(llvm::Value *n) { return b_.CreateBitCast(n, f32_); }

  // a * m + c, rounded once where the target has FMA.
  llvm::Value *mulAdd(llvm::Value *a, llvm::Value *m, llvm::Value *c) {
    if (fma_)
      return b_.CreateIntrinsic(llvm::Intrinsic::fma, {f32_}, {a, m, c});
    return b_.CreateFAdd(b_.CreateFMul(a, m), c);
  }

  // The polynomial times `scale`, a power of two, which scales every
  // intermediate result exactly.
  llvm::Value *horner(llvm::ArrayRef<float> coeffs, llvm::Value *x,
                      float scale = 1) {
    llvm::Value *p = c(coeffs.back() * scale);
    for (size_t k = coeffs.size() - 1; k-- > 0;)
      p = mulAdd(p, x, c(coeffs[k] * scale));
    return p;
  }

  // min(x, limit) and max(x, limit) that keep a NaN x.
  llvm::Value *atMost(llvm::Value *x, float limit) {
    return b_.CreateSelect(b_.CreateFCmpOGT(x, c(limit)), c(limit), x);
  }
  llvm::Value *atLeast(llvm::Value *x, float limit) {
    return b_.CreateSelect(b_.CreateFCmpOLT(x, c(limit)), c(limit), x);
  }

  // e^x = p * 2^n: returns p = e^r for r = x - n ln2, |r| <= ln2/2, times
  // `scale` (a power of two), and sets `rounded` to x / ln2 plus
  // kRoundShifter, whose low bits hold n. Full precision subtracts n ln2 in
  // two steps, so r is exact up to the rounding of n kLn2Lo; the inner
  // precision of erf, where |n| <= 30, subtracts n kLn2 (an error of at
  // most 6e-8 in r) and uses a shorter polynomial.
  enum class ExpPrecision { Full, Inner };
  llvm::Value *expReduce(llvm::Value *x, llvm::Value *&rounded,
                         ExpPrecision precision, float scale = 1) {
    rounded = mulAdd(x, c(kLog2e), c(kRoundShifter));
    llvm::Value *n = b_.CreateFSub(rounded, c(kRoundShifter));
    llvm::Value *r;
    llvm::Value *p;
    if (precision == ExpPrecision::Full) {
      r = mulAdd(n, c(-kLn2Lo), mulAdd(n, c(-kLn2Hi), x));
      p = horner(kExpPoly, r, scale);
    } else {
      r = mulAdd(n, c(-kLn2), x);
      p = horner(kExpInnerPoly, r, scale);
    }
    p = mulAdd(p, r, c(scale));
    return mulAdd(p, r, c(scale));
  }

  // 2^n as an f32 for -126 <= n <= 127, from v = kRoundShifterBits + n (or
  // any value congruent to it modulo 2^9).
  llvm::Value *powerOfTwo(llvm::Value *v) {
    return fromBits(b_.CreateAdd(b_.CreateShl(v, 23), i(127u << 23)));
  }

  // e^x inside tanh and erf, where the result is a normal number (no
  // clamping, one scaling).
  llvm::Value *expInner(llvm::Value *x) {
    llvm::Value *rounded;
    llvm::Value *p = expReduce(x, rounded, ExpPrecision::Inner);
    return b_.CreateFMul(p, powerOfTwo(bits(rounded)));
  }

  llvm::Value *exp(llvm::Value *x) {
    // Beyond [-104, 89] the result is 0 or +inf either way; clamping keeps
    // n within [-150, 128].
    x = atLeast(atMost(x, 89.0f), -104.0f);
    llvm::Value *rounded;
    llvm::Value *p = expReduce(x, rounded, ExpPrecision::Full);
    // p * 2^n as (p * 2^h) * 2^(n-h), h = floor(n/2): both factors are
    // normal, the first product is exact, and the second rounds once, to a
    // subnormal, to +inf or to a normal result.
    llvm::Value *n = b_.CreateSub(bits(rounded), i(kRoundShifterBits));
    llvm::Value *h = b_.CreateAShr(n, 1);
    return b_.CreateFMul(b_.CreateFMul(p, powerOfTwo(h)),
                         powerOfTwo(b_.CreateSub(n, h)));
  }

  // 1 / (1 + e^-x) as s / (s + p) with e^-x = p 2^n and s = 2^-n, both
  // times 2^64 so that they are normal numbers; the division rounds a
  // subnormal result once. Clamping -x to [-18, 104] keeps n in [-26, 150];
  // beyond, the result rounds to 1 or to 0.
  llvm::Value *sigmoid(llvm::Value *x) {
    llvm::Value *y = atLeast(atMost(b_.CreateFNeg(x), 104.0f), -18.0f);
    llvm::Value *rounded;
    llvm::Value *p = expReduce(y, rounded, ExpPrecision::Full, 0x1p64f);
    llvm::Value *s =
        powerOfTwo(b_.CreateSub(i(kRoundShifterBits + 64), bits(rounded)));
    return b_.CreateFDiv(s, b_.CreateFAdd(s, p));
  }

  llvm::Value *log(llvm::Value *x) {
    // Subnormals are scaled into the normal range first.
    llvm::Value *subnormal = b_.CreateFCmpOLT(x, c(0x1p-126f));
    llvm::Value *xs =
        b_.CreateSelect(subnormal, b_.CreateFMul(x, c(0x1p23f)), x);
    // x = 2^e m, m in [sqrt(1/2), sqrt(2)): log x = e ln2 + log1p(m - 1).
    llvm::Value *shifted = b_.CreateSub(bits(xs), i(kSqrtHalfBits));
    llvm::Value *e = b_.CreateSub(b_.CreateAShr(shifted, 23),
                                  b_.CreateSelect(subnormal, i(23), i(0)));
    llvm::Value *m = fromBits(
        b_.CreateAdd(b_.CreateAnd(shifted, i(0x7fffff)), i(kSqrtHalfBits)));
    llvm::Value *f = b_.CreateFSub(m, c(1)); // exact
    llvm::Value *y =
        mulAdd(b_.CreateFMul(f, f), horner(kLogPoly, f), f); // log1p(f)
    llvm::Value *ef = b_.CreateSIToFP(e, f32_);
    y = mulAdd(ef, c(kLn2Lo), y);
    y = mulAdd(ef, c(kLn2Hi), y);
    const float inf = std::numeric_limits<float>::infinity();
    y = b_.CreateSelect(b_.CreateFCmpOEQ(x, c(inf)), c(inf), y);
    y = b_.CreateSelect(b_.CreateFCmpOEQ(x, c(0)), c(-inf), y);
    return b_.CreateSelect(b_.CreateFCmpULT(x, c(0)),
                           c(std::numeric_limits<float>::quiet_NaN()),
                           y); // x < 0 or NaN
  }

  // tanh and erf are odd: computed on |x|, then given x's sign (which also
  // keeps the sign of zero).
  llvm::Value *withSignOf(llvm::Value *magnitude, llvm::Value *x) {
    return b_.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, magnitude, x);
  }

  // tanh a = (1 - e^y) / (1 + e^y) with y = -2a: e^y = 2^n (1 + m), n <= 0,
  // m = e^r - 1 (which keeps its relative precision where a is small), and
  // numerator and denominator each rounded once, 1 - 2^n - 2^n m and
  // 1 + 2^n + 2^n m. The denominator lies in (1, 2], where its rounding
  // error is half what it is for the 2 + (e^2a - 1) of the positive form.
  // y is clamped to -20: from a = 9.011 on, tanh rounds to 1.
  llvm::Value *tanh(llvm::Value *x) {
    llvm::Value *a = b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x);
    llvm::Value *y = atLeast(b_.CreateFSub(b_.CreateFNeg(a), a), -20.0f);
    // y = n ln2 + r with -29 <= n <= 0: n kLn2 is off by at most 5.6e-8 in
    // r, which 2^n scales far below an ulp of the result where n != 0.
    llvm::Value *rounded = mulAdd(y, c(kLog2e), c(kRoundShifter));
    llvm::Value *n = b_.CreateFSub(rounded, c(kRoundShifter));
    llvm::Value *r = mulAdd(n, c(-kLn2), y);
    llvm::Value *m = mulAdd(b_.CreateFMul(r, r), horner(kExpm1Poly, r), r);
    // 1 - 2^n and 1 + 2^n are exact down to n = -23 (beyond, their
    // rounding is below half an ulp of the result).
    llvm::Value *scale = powerOfTwo(bits(rounded));
    llvm::Value *num =
        mulAdd(b_.CreateFNeg(scale), m, b_.CreateFSub(c(1), scale));
    llvm::Value *den = mulAdd(scale, m, b_.CreateFAdd(c(1), scale));
    return withSignOf(b_.CreateFDiv(num, den), x);
  }

  llvm::Value *erf(llvm::Value *x) {
    llvm::Value *a = b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x);
    llvm::Value *t = b_.CreateFMul(a, a);
    llvm::Value *small = mulAdd(a, horner(kErfSmallPoly, t), a);
    // From a = 3.92 on, erf rounds to 1.
    llvm::Value *q = horner(kErfLargePoly, atMost(a, 4.0f));
    llvm::Value *large = b_.CreateFSub(c(1), expInner(q));
    return withSignOf(
        b_.CreateSelect(b_.CreateFCmpOLT(a, c(kErfSmall)), small, large), x);
  }

  llvm::IRBuilder<> &b_;
  llvm::Type *f32_;
  llvm::IntegerType *i32_;
  bool fma_;
};

llvm::Function *defineFastMath(llvm::Module &module, FastMathFn fn,
                               const llvm::Function &caller) {
  llvm::LLVMContext &ctx = module.getContext();
  llvm::Type *f32 = llvm::Type::getFloatTy(ctx);
  auto *type = llvm::FunctionType::get(f32, {f32}, false);
  llvm::Function *f = llvm::Function::Create(
      type, llvm::GlobalValue::InternalLinkage, fastMathName(fn), module);
  for (const char *kind :
       {"target-cpu", "target-features", "prefer-vector-width"})
    if (caller.hasFnAttribute(kind))
      f->addFnAttr(caller.getFnAttribute(kind));
  f->addFnAttr(llvm::Attribute::AlwaysInline);
  f->addFnAttr(llvm::Attribute::NoUnwind);
  f->addFnAttr(llvm::Attribute::WillReturn);
  f->setDoesNotAccessMemory();
  bool fma = hasFeature(
      caller.getFnAttribute("target-features").getValueAsString(), "fma");
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", f));
  f->getArg(0)->setName("x");
  b.CreateRet(FastMathEmitter(b, fma).emit(fn, f->getArg(0)));
  return f;
}

} // namespace

const char *fastMathName(FastMathFn fn) {
  switch (fn) {
  case FastMathFn::Exp:
    return "nyx.expf";
  case FastMathFn::Log:
    return "nyx.logf";
  case FastMathFn::Tanh:
    return "nyx.tanhf";
  case FastMathFn::Erf:
    return "nyx.erff";
  case FastMathFn::Sigmoid:
    return "nyx.sigmoidf";
  }
  return "";
}

llvm::Value *emitFastMath(llvm::IRBuilder<> &b, FastMathFn fn, llvm::Value *x) {
  llvm::Function *caller = b.GetInsertBlock()->getParent();
  llvm::Module &module = *caller->getParent();
  llvm::Function *f = module.getFunction(fastMathName(fn));
  if (!f)
    f = defineFastMath(module, fn, *caller);
  return b.CreateCall(f, {x});
}

} // namespace nyx::codegen::llvmir
