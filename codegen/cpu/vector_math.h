// Which vector functions of glibc's libmvec may replace calls to scalar
// math functions when a loop is vectorized: the SSE, AVX2 and AVX-512 entry
// points of every libm function generated kernels call (f64 exp, log, pow,
// erf, tanh; f32 and f64 log1p and the trigonometric and hyperbolic
// functions; f32 pow), so an 8-lane f64 loop calls one `_ZGVeN8v_sin`
// instead of 8 `sin`s. f32 exp, log, tanh and erf are Nyx's own
// polynomials (fast_math.h), not libm calls. glibc bounds the errors of
// libmvec's functions at 4 ulp.
#pragma once

#include "llvm/Analysis/TargetLibraryInfo.h"
#include "llvm/TargetParser/Triple.h"

namespace nyx::codegen::cpu {

// Adds the libmvec mappings to `info` when `triple` is x86-64 Linux: the
// SSE ones always, the AVX2 and AVX-512 ones only when the target has those
// instructions (the vector functions use them). All but exp, log, pow, sin
// and cos need glibc 2.35 or later at run time.
void addVectorMathLibrary(llvm::TargetLibraryInfoImpl &info,
                          const llvm::Triple &triple, bool hasAvx2,
                          bool hasAvx512);

} // namespace nyx::codegen::cpu
