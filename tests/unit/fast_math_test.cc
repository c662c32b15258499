// Nyx's f32 exp, log, tanh and erf (codegen/llvm/fast_math.h), run through
// the JIT on three targets (the host, AVX2 with FMA, plain x86-64 without
// FMA): the error of every result against the double-precision libm value,
// the special values, and bit-identical results from a vectorized loop and
// from the scalar function.
//
// By default every 257th f32 bit pattern is checked (16.7 million inputs,
// every exponent and sign); NYX_FAST_MATH_EXHAUSTIVE=1 checks all 2^32 and
// prints the maximum errors docs/math.md lists (a few minutes on two cores).
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "codegen/cpu/kernel_codegen.h"
#include "codegen/cpu/llvm_pipeline.h"
#include "codegen/cpu/target.h"
#include "codegen/llvm/fast_math.h"
#include "ir/strings.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/ExecutionEngine/Orc/ThreadSafeModule.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/X86TargetParser.h"
#include "gtest/gtest.h"

namespace nyx::codegen::cpu {

using llvmir::emitFastMath;
using llvmir::FastMathFn;
namespace {

using ApplyFn = void (*)(const float *in, float *out, int64_t n);
using ScalarFn = float (*)(float);

struct MathCase {
  FastMathFn fn;
  const char *name;
  double (*reference)(double);
  // The largest error, in ulps of the exact result, over all f32 inputs
  // (docs/math.md), with and without FMA.
  double maxUlpFma, maxUlpNoFma;
};

// Names the case in gtest's messages.
void PrintTo(const MathCase &c, std::ostream *os) { *os << c.name; }

double referenceExp(double x) { return std::exp(x); }
double referenceLog(double x) { return std::log(x); }
double referenceTanh(double x) { return std::tanh(x); }
double referenceErf(double x) { return std::erf(x); }
double referenceSigmoid(double x) { return 1 / (1 + std::exp(-x)); }

const MathCase kCases[] = {
    {FastMathFn::Exp, "exp", referenceExp, 0.91, 1.17},
    {FastMathFn::Log, "log", referenceLog, 1.15, 1.22},
    {FastMathFn::Tanh, "tanh", referenceTanh, 1.97, 2.02},
    {FastMathFn::Erf, "erf", referenceErf, 1.21, 1.51},
    {FastMathFn::Sigmoid, "sigmoid", referenceSigmoid, 2.49, 2.49},
};

// The error of `got` in ulps of the exact value `want`: 0 when both are the
// same NaN-ness, infinity or float; infinite when one is NaN or infinite
// and the other is not. An ulp is that of want's binade (2^-149 for
// subnormals).
double ulpError(float got, double want) {
  if (std::isnan(want) || std::isnan(got))
    return std::isnan(want) && std::isnan(got)
               ? 0
               : std::numeric_limits<double>::infinity();
  float rounded = static_cast<float>(want);
  if (got == rounded)
    return 0;
  if (std::isinf(rounded) || std::isinf(got))
    return std::numeric_limits<double>::infinity();
  int exponent = 0;
  std::frexp(want, &exponent); // want = m 2^exponent, m in [0.5, 1)
  double ulp = std::ldexp(1.0, std::max(exponent - 1, -126) - 23);
  return std::fabs(static_cast<double>(got) - want) / ulp;
}

// One target's compiled functions in a JIT of their own.
class Compiled {
public:
  // Builds `apply` (a loop the optimizer vectorizes) and `scalar` (one
  // call) for `fn` and `target`, optimizes them with the -O2 pipeline and
  // links them. `lanes` is the widest vector the optimized loop uses.
  static std::unique_ptr<Compiled> build(FastMathFn fn,
                                         const TargetSpec &target) {
    auto tm = createTargetMachine(target, 2);
    if (!tm.ok()) {
      ADD_FAILURE() << tm.status().message();
      return nullptr;
    }
    auto ctx = std::make_unique<llvm::LLVMContext>();
    auto module = std::make_unique<llvm::Module>("fast_math", *ctx);
    module->setTargetTriple(target.triple);
    module->setDataLayout((*tm)->createDataLayout());
    llvm::Type *f32 = llvm::Type::getFloatTy(*ctx);
    llvm::Type *i64 = llvm::Type::getInt64Ty(*ctx);
    llvm::Type *ptr = llvm::PointerType::getUnqual(*ctx);

    // float scalar(float x) { return fn(x); }, kept out of line.
    llvm::Function *scalar = llvm::Function::Create(
        llvm::FunctionType::get(f32, {f32}, false),
        llvm::GlobalValue::ExternalLinkage, "scalar", *module);
    setTargetAttributes(*scalar, target);
    scalar->addFnAttr(llvm::Attribute::NoInline);
    {
      llvm::IRBuilder<> b(llvm::BasicBlock::Create(*ctx, "entry", scalar));
      b.CreateRet(emitFastMath(b, fn, scalar->getArg(0)));
    }

    // void apply(const float *in, float *out, int64_t n): out[i] = fn(in[i]).
    llvm::Function *apply = llvm::Function::Create(
        llvm::FunctionType::get(llvm::Type::getVoidTy(*ctx), {ptr, ptr, i64},
                                false),
        llvm::GlobalValue::ExternalLinkage, "apply", *module);
    setTargetAttributes(*apply, target);
    for (unsigned k = 0; k < 2; ++k)
      apply->getArg(k)->addAttr(llvm::Attribute::NoAlias);
    {
      auto *entry = llvm::BasicBlock::Create(*ctx, "entry", apply);
      auto *loop = llvm::BasicBlock::Create(*ctx, "loop", apply);
      auto *exit = llvm::BasicBlock::Create(*ctx, "exit", apply);
      llvm::IRBuilder<> b(entry);
      b.CreateCondBr(b.CreateICmpSGT(apply->getArg(2), b.getInt64(0)), loop,
                     exit);
      b.SetInsertPoint(loop);
      llvm::PHINode *i = b.CreatePHI(i64, 2);
      i->addIncoming(b.getInt64(0), entry);
      llvm::Value *x =
          b.CreateLoad(f32, b.CreateInBoundsGEP(f32, apply->getArg(0), i));
      b.CreateStore(emitFastMath(b, fn, x),
                    b.CreateInBoundsGEP(f32, apply->getArg(1), i));
      llvm::Value *next = b.CreateAdd(i, b.getInt64(1), "", true, true);
      i->addIncoming(next, loop);
      b.CreateCondBr(b.CreateICmpSLT(next, apply->getArg(2)), loop, exit);
      b.SetInsertPoint(exit);
      b.CreateRetVoid();
    }

    if (absl::Status s = optimizeModule(*module, **tm, 2); !s.ok()) {
      ADD_FAILURE() << s.message();
      return nullptr;
    }
    auto out = std::unique_ptr<Compiled>(new Compiled);
    for (llvm::Instruction &inst : llvm::instructions(*apply)) {
      if (auto *call = llvm::dyn_cast<llvm::CallInst>(&inst))
        if (llvm::Function *callee = call->getCalledFunction();
            !callee || !callee->isIntrinsic())
          out->calls = true;
      if (auto *v = llvm::dyn_cast<llvm::FixedVectorType>(inst.getType()))
        if (v->getElementType()->isFloatTy())
          out->lanes = std::max<int>(out->lanes, v->getNumElements());
    }

    auto jit = llvm::orc::LLJITBuilder().create();
    if (!jit) {
      ADD_FAILURE() << llvm::toString(jit.takeError());
      return nullptr;
    }
    out->jit = std::move(*jit);
    if (llvm::Error e = out->jit->addIRModule(
            llvm::orc::ThreadSafeModule(std::move(module), std::move(ctx)))) {
      ADD_FAILURE() << llvm::toString(std::move(e));
      return nullptr;
    }
    auto applyAddr = out->jit->lookup("apply");
    auto scalarAddr = out->jit->lookup("scalar");
    if (!applyAddr || !scalarAddr) {
      ADD_FAILURE() << "JIT lookup failed";
      llvm::consumeError(applyAddr.takeError());
      llvm::consumeError(scalarAddr.takeError());
      return nullptr;
    }
    out->apply = applyAddr->toPtr<ApplyFn>();
    out->scalar = scalarAddr->toPtr<ScalarFn>();
    return out;
  }

  std::unique_ptr<llvm::orc::LLJIT> jit;
  ApplyFn apply = nullptr;
  ScalarFn scalar = nullptr;
  int lanes = 1;      // widest <N x float> in the optimized loop
  bool calls = false; // the optimized loop calls a function
};

struct Target {
  TargetSpec spec;
  bool fma;
  int lanes; // the vector width its loops must use; 0: any, at least 4
};

// The targets this machine can run: the host, AVX2 with FMA, and plain
// x86-64 (SSE2, no FMA).
std::vector<Target> runnableTargets() {
  static const bool init = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)init;
  std::vector<Target> targets;
  auto host = resolveTarget("host");
  if (!host.ok())
    return targets;
  bool hostFma = host->features.find("+fma,") != std::string::npos ||
                 host->features.ends_with("+fma");
  bool hostAvx2 = host->features.find("+avx2") != std::string::npos;
  targets.push_back({*host, hostFma, host->avx512 ? 16 : hostAvx2 ? 8 : 0});
  if (hostAvx2 && hostFma)
    if (auto avx2 = resolveTarget("x86-64-avx2"); avx2.ok())
      targets.push_back({*avx2, true, 8});
  // Its features spelled out, so the JIT (whose default is the host's)
  // generates code for exactly them.
  TargetSpec baseline = *host;
  baseline.name = "x86-64";
  baseline.cpu = "x86-64";
  llvm::SmallVector<llvm::StringRef, 16> features;
  llvm::X86::getFeaturesForCPU("x86-64", features, /*NeedPlus=*/true);
  baseline.features = llvm::join(features, ",");
  baseline.avx512 = false;
  targets.push_back({baseline, false, 4});
  return targets;
}

bool exhaustive() {
  const char *v = std::getenv("NYX_FAST_MATH_EXHAUSTIVE");
  return v && std::string(v) == "1";
}

struct Measured {
  double maxUlp = 0;
  uint32_t worst = 0; // the input's bits
  int64_t mismatches = 0;
  uint32_t firstMismatch = 0;
};

// Checks inputs with bits first, first + stride, ... below 2^32 on every
// target: ulp errors against `reference`, and the vectorized loop against
// the scalar function.
void measure(const MathCase &c, const std::vector<Target> &targets,
             const std::vector<std::unique_ptr<Compiled>> &compiled,
             uint64_t first, uint64_t stride, std::vector<Measured> &out) {
  constexpr int64_t kChunk = 1 << 16;
  std::vector<float> in(kChunk), got(kChunk);
  std::vector<double> want(kChunk);
  for (uint64_t base = first; base < (uint64_t{1} << 32);) {
    int64_t n = 0;
    for (; n < kChunk && base < (uint64_t{1} << 32); ++n, base += stride) {
      in[n] = std::bit_cast<float>(static_cast<uint32_t>(base));
      want[n] = c.reference(in[n]);
    }
    for (size_t t = 0; t < targets.size(); ++t) {
      compiled[t]->apply(in.data(), got.data(), n);
      Measured &m = out[t];
      for (int64_t k = 0; k < n; ++k) {
        double err = ulpError(got[k], want[k]);
        if (err > m.maxUlp) {
          m.maxUlp = err;
          m.worst = std::bit_cast<uint32_t>(in[k]);
        }
        float s = compiled[t]->scalar(in[k]);
        if (std::bit_cast<uint32_t>(s) != std::bit_cast<uint32_t>(got[k]) &&
            !(std::isnan(s) && std::isnan(got[k])) && m.mismatches++ == 0)
          m.firstMismatch = std::bit_cast<uint32_t>(in[k]);
      }
    }
  }
}

class FastMath : public ::testing::TestWithParam<MathCase> {};

TEST_P(FastMath, ErrorBoundAndVectorScalarAgreement) {
  const MathCase &c = GetParam();
  std::vector<Target> targets = runnableTargets();
  ASSERT_FALSE(targets.empty());
  std::vector<std::unique_ptr<Compiled>> compiled;
  for (const Target &t : targets) {
    compiled.push_back(Compiled::build(c.fn, t.spec));
    ASSERT_TRUE(compiled.back()) << t.spec.name;
    if (t.lanes > 0)
      EXPECT_EQ(compiled.back()->lanes, t.lanes)
          << c.name << " on " << t.spec.name << " is not fully vectorized";
    else
      EXPECT_GE(compiled.back()->lanes, 4)
          << c.name << " on " << t.spec.name << " is not vectorized";
    EXPECT_FALSE(compiled.back()->calls)
        << c.name << " on " << t.spec.name << " still calls a function";
  }

  // Threads take interleaved inputs, so each sees every exponent.
  uint64_t stride = exhaustive() ? 1 : 257;
  unsigned threads = std::max(1u, std::min(std::thread::hardware_concurrency(),
                                           exhaustive() ? 16u : 2u));
  std::vector<std::vector<Measured>> perThread(
      threads, std::vector<Measured>(targets.size()));
  std::vector<std::thread> pool;
  for (unsigned k = 0; k < threads; ++k)
    pool.emplace_back([&, k] {
      measure(c, targets, compiled, k * stride, stride * threads, perThread[k]);
    });
  for (std::thread &th : pool)
    th.join();

  for (size_t t = 0; t < targets.size(); ++t) {
    Measured m;
    for (const auto &p : perThread) {
      if (p[t].maxUlp > m.maxUlp) {
        m.maxUlp = p[t].maxUlp;
        m.worst = p[t].worst;
      }
      if (p[t].mismatches && !m.mismatches)
        m.firstMismatch = p[t].firstMismatch;
      m.mismatches += p[t].mismatches;
    }
    float worst = std::bit_cast<float>(m.worst);
    std::string where = strCat(c.name, " on ", targets[t].spec.name);
    double bound = targets[t].fma ? c.maxUlpFma : c.maxUlpNoFma;
    if (exhaustive())
      std::printf("%-5s %-14s max %.3f ulp at %a\n", c.name,
                  targets[t].spec.name.c_str(), m.maxUlp, worst);
    EXPECT_LE(m.maxUlp, bound)
        << where << " at x = " << worst << " (" << compiled[t]->scalar(worst)
        << ", exact " << c.reference(worst) << ")";
    EXPECT_EQ(m.mismatches, 0)
        << where << ": vector and scalar results differ, first at x = "
        << std::bit_cast<float>(m.firstMismatch);
  }
}

INSTANTIATE_TEST_SUITE_P(AllFunctions, FastMath, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<MathCase> &info) {
                           return std::string(info.param.name);
                         });

// Runs `fn` on `in` through the vectorized loop and the scalar function of
// every target; `check(target, k, got)` sees each result for input k.
template <class Check>
void runEverywhere(const MathCase &c, const std::vector<float> &in,
                   Check check) {
  for (const Target &t : runnableTargets()) {
    auto compiled = Compiled::build(c.fn, t.spec);
    ASSERT_TRUE(compiled) << t.spec.name;
    std::vector<float> out(in.size());
    compiled->apply(in.data(), out.data(), static_cast<int64_t>(in.size()));
    for (size_t k = 0; k < in.size(); ++k) {
      check(t, k, out[k]);
      check(t, k, compiled->scalar(in[k]));
    }
  }
}

const MathCase &caseOf(FastMathFn fn) {
  return *std::find_if(std::begin(kCases), std::end(kCases),
                       [fn](const MathCase &c) { return c.fn == fn; });
}

// The special values of C's libm, exactly.
TEST(FastMathSpecialValues, MatchLibm) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float minSub = std::numeric_limits<float>::denorm_min();
  struct Expect {
    FastMathFn fn;
    std::vector<std::pair<float, float>> xWant;
  };
  const Expect expects[] = {
      {FastMathFn::Exp,
       {{0.0f, 1.0f},
        {-0.0f, 1.0f},
        {minSub, 1.0f},
        {-minSub, 1.0f},
        {inf, inf},
        {-inf, 0.0f},
        {nan, nan},
        {0x1.62e430p6f, inf}, // the smallest x with e^x beyond FLT_MAX
        {1000.0f, inf},
        {-104.0f, 0.0f},
        {-1000.0f, 0.0f}}},
      {FastMathFn::Log,
       {{1.0f, 0.0f},
        {2.0f, 0x1.62e430p-1f},
        {0.0f, -inf},
        {-0.0f, -inf},
        {inf, inf},
        {-inf, nan},
        {-1.0f, nan},
        {-minSub, nan},
        {nan, nan}}},
      {FastMathFn::Tanh,
       {{0.0f, 0.0f},
        {-0.0f, -0.0f},
        {minSub, minSub},
        {-minSub, -minSub},
        {inf, 1.0f},
        {-inf, -1.0f},
        {20.0f, 1.0f},
        {-20.0f, -1.0f},
        {nan, nan}}},
      {FastMathFn::Sigmoid,
       {{0.0f, 0.5f},
        {-0.0f, 0.5f},
        {inf, 1.0f},
        {-inf, 0.0f},
        {18.0f, 1.0f},
        {1000.0f, 1.0f},
        {-104.0f, 0.0f}, // below 2^-150
        {-1000.0f, 0.0f},
        {nan, nan}}},
      {FastMathFn::Erf,
       {{0.0f, 0.0f},
        {-0.0f, -0.0f},
        {minSub, minSub},
        {-minSub, -minSub},
        {inf, 1.0f},
        {-inf, -1.0f},
        {5.0f, 1.0f},
        {-5.0f, -1.0f},
        {nan, nan}}},
  };
  for (const Expect &e : expects) {
    std::vector<float> in;
    for (auto [x, want] : e.xWant)
      in.push_back(x);
    const MathCase &c = caseOf(e.fn);
    runEverywhere(c, in, [&](const Target &t, size_t k, float got) {
      auto [x, want] = e.xWant[k];
      std::string where = strCat(c.name, "(", x, ") on ", t.spec.name, ": got ",
                                 got, ", expected ", want);
      if (std::isnan(want))
        EXPECT_TRUE(std::isnan(got)) << where;
      else
        EXPECT_EQ(std::bit_cast<uint32_t>(got), std::bit_cast<uint32_t>(want))
            << where;
    });
  }
}

// Inputs at the edges of each function's ranges, within the error bound.
TEST(FastMathSpecialValues, EdgesWithinBound) {
  const float minSub = std::numeric_limits<float>::denorm_min();
  const float minNormal = std::numeric_limits<float>::min();
  const float maxFloat = std::numeric_limits<float>::max();
  auto around = [](std::vector<float> centers) {
    std::vector<float> xs;
    for (float c : centers)
      for (float x = std::nextafter(std::nextafter(c, -INFINITY), -INFINITY),
                 k = 0;
           k < 5; ++k, x = std::nextafter(x, INFINITY))
        xs.push_back(x);
    return xs;
  };
  const std::pair<FastMathFn, std::vector<float>> edges[] = {
      // Overflow; the smallest normal result; subnormal results; 0.
      {FastMathFn::Exp,
       around({0x1.62e42ep6f, -87.33655f, -100.0f, -103.27893f, -103.97208f,
               0.5f * 0.6931472f, -0.5f * 0.6931472f})},
      // Subnormal and extreme inputs; the reduction's boundaries.
      {FastMathFn::Log, around({minSub, 0x1p-140f, minNormal, maxFloat,
                                0.70710677f, 1.4142135f, 1.0f})},
      // Where n of e^-2a = 2^n e^r steps from 0 to -1, -1 to -2, -23 to
      // -24 and -24 to -25; 1 from 9.011 on; the clamp.
      {FastMathFn::Tanh, around({minSub, minNormal, 0.17328680f, 0.51986039f,
                                 8.1444540f, 8.4910296f, 9.011f, 10.0f})},
      // Subnormal results down to 0 (the clamp at -104); the smallest
      // normal result; 1 from 17.33 on (the clamp at 18).
      {FastMathFn::Sigmoid,
       around({-104.0f, -103.97208f, -103.27893f, -88.72284f, -87.33655f,
               -minSub, 17.328679f, 18.0f})},
      {FastMathFn::Erf, around({minSub, minNormal, 1.0f, 3.9192f, 4.0f})},
  };
  for (const auto &[fn, xs] : edges) {
    const MathCase &c = caseOf(fn);
    runEverywhere(c, xs, [&](const Target &t, size_t k, float got) {
      float x = xs[k];
      double bound = t.fma ? c.maxUlpFma : c.maxUlpNoFma;
      EXPECT_LE(ulpError(got, c.reference(x)), bound)
          << c.name << "(" << x << ") on " << t.spec.name << ": got " << got
          << ", exact " << c.reference(x);
    });
  }
}

} // namespace
} // namespace nyx::codegen::cpu
