// Nyx's own f32 exp, log, tanh, erf and sigmoid for generated kernels:
// polynomial approximations built from LLVM IR (range reduction, FMA
// polynomials, exponents assembled with integer operations), so f32 code needs
// no libm.
//
// Each is an internal, always-inlined scalar function of the module
// (`nyx.expf`, ...). Inlined into a loop, it is straight-line code that the
// loop vectorizer widens like any other arithmetic: a vectorized loop runs
// the same operations on vectors that its scalar remainder runs on scalars,
// so both give the same bits, with no call and no spill around one.
//
// Maximum errors over all 2^32 f32 inputs, against the exact value: exp
// 0.91 ulp, log 1.15 ulp, tanh 1.97 ulp, erf 1.21 ulp, sigmoid 2.49 ulp on
// targets with FMA; without FMA (plain x86-64), where multiplies and adds
// round separately, 1.17, 1.22, 2.02, 1.51 and 2.49 ulp (docs/math.md).
// Special values follow C's libm: NaN in, NaN out; exp(-inf) = 0,
// exp(+inf) = +inf, log(±0) = -inf, log(x < 0) = NaN, tanh(±inf) = ±1,
// erf(±inf) = ±1, sigmoid(+inf) = 1, sigmoid(-inf) = 0; tanh and erf keep
// the sign of zero; exp overflows to +inf, and the subnormal results of
// exp and sigmoid are rounded once.
#pragma once

#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"

namespace nyx::codegen::llvmir {

enum class FastMathFn { Exp, Log, Tanh, Erf, Sigmoid };

// The function's name in a module: "nyx.expf", "nyx.logf", "nyx.tanhf",
// "nyx.erff", "nyx.sigmoidf".
const char *fastMathName(FastMathFn fn);

// `fn` of the f32 value `x`, as a call at b's insertion point of the
// module's `nyx.<fn>f`. The function is defined on first use with the
// target attributes ("target-cpu", "target-features", ...) of the function
// being built, which also say whether FMA instructions may be used; every
// function of one module is expected to have the same target.
llvm::Value *emitFastMath(llvm::IRBuilder<> &b, FastMathFn fn, llvm::Value *x);

} // namespace nyx::codegen::llvmir
