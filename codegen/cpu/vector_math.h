// Which vector functions of glibc's libmvec may replace calls to scalar
// math functions when a loop is vectorized. LLVM knows libmvec's SSE and
// AVX2 entry points; this adds the AVX-512 ones and the functions glibc 2.35
// added (erf, tanh), so an 8-lane f64 loop calls one `_ZGVeN8v_exp` instead
// of 8 `exp`s. Only f64 functions and f32 pow are mapped: f32 exp, log,
// tanh and erf are Nyx's own polynomials (fast_math.h), not libm calls.
#pragma once

#include "llvm/Analysis/TargetLibraryInfo.h"
#include "llvm/TargetParser/Triple.h"

namespace nyx::codegen::cpu {

// Adds the libmvec mappings to `info` when `triple` is x86-64 Linux: the
// SSE ones always, the AVX2 and AVX-512 ones only when the target has those
// instructions (the vector functions use them). erf and tanh need glibc
// 2.35 or later at run time.
void addVectorMathLibrary(llvm::TargetLibraryInfoImpl &info,
                          const llvm::Triple &triple, bool hasAvx2,
                          bool hasAvx512);

} // namespace nyx::codegen::cpu
