// Fused kernels against the interpreter and against the same ops compiled
// one kernel each. A test body is written as `func @main` in one of the
// group forms (codegen/kernel/lower_fusion.h); lowerFusion turns it into a
// single kernel, which is compiled, linked with libnyxrt and run on the
// same random inputs as the interpreter and the unfused model. The fused
// outputs must equal the unfused ones bit for bit (both evaluate each op
// the same way, in the same order) and match the interpreter within the
// per-dtype tolerance (bit for bit where HarnessOptions::bitExact says so).
#include <dlfcn.h>

#include <regex>
#include <string>
#include <vector>

#include "codegen/cpu/kernel_codegen.h"
#include "codegen/cpu/llvm_pipeline.h"
#include "codegen/cpu/target.h"
#include "codegen/kernel/lower_fusion.h"
#include "harness.h"
#include "ir/half.h"
#include "ir/strings.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/Support/raw_ostream.h"

namespace nyx {
namespace {

using e2e::HarnessOptions;
using ir::DType;

// One fused kernel compiled into a shared library whose exported
// `nyx_fused(void **buffers)` calls it with the kernel's buffers in order.
class FusedKernel {
public:
  using EntryFn = void (*)(void **buffers);

  ~FusedKernel() {
    if (handle_)
      dlclose(handle_);
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  // The kernel's printed loop nest and optimized LLVM IR; failures are
  // gtest failures and yield null.
  static std::unique_ptr<FusedKernel> build(const ir::Function &fn,
                                            const std::string &targetName,
                                            bool load = true) {
    auto fused = std::unique_ptr<FusedKernel>(new FusedKernel);
    auto k = kernel::lowerFusion(fn, "fused");
    if (!k.ok()) {
      ADD_FAILURE() << "lowerFusion: " << k.status().message();
      return nullptr;
    }
    fused->kernelText_ = kernel::print(*k);
    auto target = codegen::cpu::resolveTarget(targetName);
    if (!target.ok()) {
      ADD_FAILURE() << target.status().message();
      return nullptr;
    }
    auto tm = codegen::cpu::createTargetMachine(*target, 2);
    if (!tm.ok()) {
      ADD_FAILURE() << tm.status().message();
      return nullptr;
    }
    llvm::LLVMContext ctx;
    llvm::Module module("fused", ctx);
    module.setTargetTriple(target->triple);
    module.setDataLayout((*tm)->createDataLayout());
    llvm::Function *kernelFn = codegen::cpu::emitKernel(*k, module, *target);
    llvm::Type *ptrTy = llvm::PointerType::getUnqual(ctx);
    llvm::Function *entry = llvm::Function::Create(
        llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptrTy}, false),
        llvm::GlobalValue::ExternalLinkage, "nyx_fused", module);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", entry));
    std::vector<llvm::Value *> args;
    for (size_t i = 0; i < k->numParams(); ++i)
      args.push_back(b.CreateLoad(
          ptrTy, b.CreateConstInBoundsGEP1_64(ptrTy, entry->getArg(0), i)));
    b.CreateCall(kernelFn, args);
    b.CreateRetVoid();
    if (auto s = codegen::cpu::optimizeModule(module, **tm, 2); !s.ok()) {
      ADD_FAILURE() << s.message();
      return nullptr;
    }
    llvm::raw_string_ostream os(fused->ir_);
    module.print(os, nullptr);
    if (!load)
      return fused;
    auto object = codegen::cpu::emitMachineCode(
        module, **tm, llvm::CodeGenFileType::ObjectFile);
    if (!object.ok()) {
      ADD_FAILURE() << object.status().message();
      return nullptr;
    }
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "nyx-fused-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) {
      ADD_FAILURE() << "mkdtemp failed for " << tmpl;
      return nullptr;
    }
    fused->dir_ = tmpl;
    std::string obj = tmpl + "/fused.o", so = tmpl + "/fused.so";
    std::ofstream(obj, std::ios::binary) << *object;
    std::string cmd = "cc -shared " NYX_TEST_CFLAGS " -o '" + so + "' '" + obj +
                      "' '" + NYX_RUNTIME_LIB + "' -lm -lpthread 2>&1";
    if (int rc = std::system(cmd.c_str()); rc != 0) {
      ADD_FAILURE() << "link failed (" << rc << "): " << cmd;
      return nullptr;
    }
    fused->handle_ = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!fused->handle_) {
      ADD_FAILURE() << "dlopen failed: " << dlerror();
      return nullptr;
    }
    fused->entry_ =
        reinterpret_cast<EntryFn>(dlsym(fused->handle_, "nyx_fused"));
    if (!fused->entry_) {
      ADD_FAILURE() << "nyx_fused not found";
      return nullptr;
    }
    return fused;
  }

  void run(const std::vector<ir::Tensor> &inputs,
           std::vector<ir::Tensor> &outputs) const {
    std::vector<void *> buffers;
    for (const ir::Tensor &t : inputs)
      buffers.push_back(const_cast<uint8_t *>(t.bytes()));
    for (ir::Tensor &t : outputs)
      buffers.push_back(t.bytes());
    static uint64_t placeholder[8];
    for (void *&p : buffers)
      if (!p)
        p = placeholder;
    entry_(buffers.data());
  }

  const std::string &kernelText() const { return kernelText_; }
  const std::string &ir() const { return ir_; }

private:
  FusedKernel() = default;
  std::string kernelText_, ir_, dir_;
  void *handle_ = nullptr;
  EntryFn entry_ = nullptr;
};

std::unique_ptr<ir::Module> parse(const std::string &text) {
  auto parsed = ir::parseModule(text, "fusion.nyx");
  EXPECT_TRUE(parsed.ok()) << parsed.status().message() << "\n" << text;
  return parsed.ok() ? std::move(*parsed) : nullptr;
}

// Runs @main of `text` through the interpreter, the unfused compiled model
// and the fused kernel; returns the fused kernel for further checks.
std::unique_ptr<FusedKernel>
expectFusedMatches(const std::string &text, const HarnessOptions &opts = {}) {
  SCOPED_TRACE(text);
  auto module = parse(text);
  if (!module)
    return nullptr;
  const ir::Function &fn = **module->entry();

  std::mt19937_64 rng(opts.seed);
  std::vector<ir::Tensor> inputs = opts.inputs;
  if (inputs.empty())
    for (const ir::Value *p : fn.params)
      inputs.push_back(e2e::randomTensor(p->type, rng, opts));

  ir::Interpreter interpreter(*module, nullptr);
  auto expected = interpreter.run(fn, inputs);
  EXPECT_TRUE(expected.ok()) << expected.status().message();
  if (!expected.ok())
    return nullptr;

  codegen::Options copts;
  copts.modelName = "unfused";
  auto unfused = e2e::LoadedModel::build(*module, fn, {}, copts);
  auto fused = FusedKernel::build(fn, "host");
  if (!unfused || !fused)
    return nullptr;

  auto allocate = [&] {
    std::vector<ir::Tensor> out;
    for (const ir::TensorType &t : fn.resultTypes)
      out.emplace_back(t);
    return out;
  };
  std::vector<ir::Tensor> separate = allocate(), together = allocate();
  EXPECT_EQ(unfused->run(inputs, separate), 0);
  fused->run(inputs, together);
  // Fused and unfused loops compute the same expressions, but a vectorized
  // loop calls libmvec where its scalar remainder calls libm, and the two
  // loops split differently: transcendental results may differ in the last
  // ulps. Everything else (data movement, integers) must be identical.
  for (size_t i = 0; i < together.size(); ++i) {
    EXPECT_TRUE(together[i] == separate[i] ||
                (ir::isFloat(together[i].dtype()) && !opts.bitExact &&
                 test::tensorsMatch(together[i], separate[i])))
        << "output " << i << ": fused and unfused differ: "
        << test::tensorsMatch(together[i], separate[i], 0.0, 0.0).message()
        << "\nfused kernel:\n"
        << fused->kernelText();
    EXPECT_TRUE(opts.bitExact
                    ? ::testing::AssertionResult(together[i] == (*expected)[i])
                    : test::tensorsMatch(together[i], (*expected)[i], opts.rtol,
                                         opts.atol))
        << "output " << i << " against the interpreter\nfused kernel:\n"
        << fused->kernelText();
  }
  return fused;
}

std::string t(DType d, const ir::Shape &s) { return e2e::typeText(d, s); }

// Printed index arithmetic divides by constants: "(i.0 / 33)".
bool hasIndexDivision(const std::string &kernelText) {
  return std::regex_search(kernelText, std::regex("[/%] -?[0-9]+\\)"));
}

// -- Loop groups -------------------------------------------------------------

TEST(LoopGroup, ElementwiseChainWithBiasBroadcast) {
  for (DType d : {DType::F32, DType::F16, DType::BF16, DType::F64}) {
    std::string x = t(d, {33, 70}), b = t(d, {70});
    auto k = expectFusedMatches(strCat(R"(
func @main(%x: )",
                                       x, ", %b: ", b, ", %s: ", t(d, {}),
                                       ") -> (", x, R"() {
  %m = mul(%x, %s) : )",
                                       x, R"(
  %a = add(%m, %b) : )",
                                       x, R"(
  %r = relu(%a) : )",
                                       x, R"(
  %y = sigmoid(%r) : )",
                                       x, R"(
  return %y
})"));
    ASSERT_TRUE(k);
    // The bias is read at the column index: no index division.
    EXPECT_FALSE(hasIndexDivision(k->kernelText())) << k->kernelText();
  }
}

TEST(LoopGroup, IntegerChainsWrapLikeTheUnfusedOps) {
  for (DType d : {DType::I32, DType::I8, DType::I64}) {
    std::string x = t(d, {5, 64}), c = t(d, {5, 1});
    HarnessOptions o;
    o.intMin = -100;
    o.intMax = 100;
    expectFusedMatches(strCat(R"(
func @main(%x: )",
                              x, ", %c: ", c, ") -> (", x, ", ",
                              t(DType::Bool, {5, 64}),
                              R"() {
  %m = mul(%x, %x) : )",
                              x, R"(
  %d = div(%m, %c) : )",
                              x, R"(
  %a = abs(%d) : )",
                              x, R"(
  %s = sub(%a, %c) : )",
                              x, R"(
  %g = gt(%s, %c) : )",
                              t(DType::Bool, {5, 64}), R"(
  return %s, %g
})"),
                       o);
  }
}

TEST(LoopGroup, TransposeAndReshapeProducers) {
  auto k = expectFusedMatches(R"(
func @main(%x: f32[6,4], %y: f32[4,6], %z: f32[24]) -> (f32[4,6]) {
  %xt = transpose(%x) : f32[4,6]
  %zr = reshape(%z) {shape = [4, 6]} : f32[4,6]
  %a = add(%xt, %y) : f32[4,6]
  %b = mul(%a, %zr) : f32[4,6]
  return %b
})");
  ASSERT_TRUE(k);
  EXPECT_FALSE(hasIndexDivision(k->kernelText())) << k->kernelText();
  // Through reshapes on both sides of a transpose, the index arithmetic
  // still cancels to affine indexing.
  k = expectFusedMatches(R"(
func @main(%x: f32[2,3,4], %b: f32[3,1]) -> (f32[4,3,2], f32[4,3,2]) {
  %r = reshape(%x) {shape = [6, 4]} : f32[6,4]
  %t = transpose(%r) : f32[4,6]
  %u = reshape(%t) {shape = [4, 3, 2]} : f32[4,3,2]
  %v = add(%u, %b) : f32[4,3,2]
  %e = exp(%v) : f32[4,3,2]
  return %u, %e
})");
  ASSERT_TRUE(k);
  EXPECT_FALSE(hasIndexDivision(k->kernelText())) << k->kernelText();
}

TEST(LoopGroup, SliceAndBroadcastToProducers) {
  expectFusedMatches(R"(
func @main(%x: f32[10,8], %c: f32[5]) -> (f32[4,5]) {
  %s = slice(%x) {starts = [-1, 1], ends = [1, 100], axes = [0, 1], steps = [-2, 1]} : f32[4,7]
  %n = slice(%s) {starts = [0], ends = [5], axes = [1]} : f32[4,5]
  %b = broadcast_to(%c) {shape = [4, 5]} : f32[4,5]
  %y = sub(%n, %b) : f32[4,5]
  return %y
})");
}

TEST(LoopGroup, DataMovementKeepsHalfBitsExactly) {
  for (DType d : {DType::F16, DType::BF16}) {
    // NaN payloads, signalling NaNs, infinities and negative zero.
    ir::Tensor x(ir::TensorType{d, {8, 6}});
    const uint16_t patterns[] = {0x7c01, 0x7e55, 0xfc02, 0x7f81, 0xffc3,
                                 0x8000, 0x0000, 0x7c00, 0xfc00, 0x0001};
    for (int64_t i = 0; i < x.numElements(); ++i)
      x.data<uint16_t>()[i] = patterns[i % 10] ^ static_cast<uint16_t>(i << 4);
    ir::Tensor c(ir::TensorType{d, {}});
    c.data<uint16_t>()[0] = 0x7d11;
    HarnessOptions o;
    o.bitExact = true;
    o.inputs = {x, c};
    std::string y = t(d, {6, 8});
    expectFusedMatches(strCat("func @main(%x: ", t(d, {8, 6}),
                              ", %c: ", t(d, {}), ") -> (", y, ", ", y, ", ", y,
                              ", ", y, ", ", y, R"() {
  %t = transpose(%x) : )",
                              y, R"(
  %r = reshape(%x) {shape = [6, 8]} : )",
                              y, R"(
  %s = slice(%x) {starts = [-1], ends = [-9], steps = [-1]} : )",
                              t(d, {8, 6}), R"(
  %sr = reshape(%s) {shape = [6, 8]} : )",
                              y, R"(
  %k = constant() {value = dense<0x7d11>} : )",
                              y, R"(
  %b = broadcast_to(%c) {shape = [6, 8]} : )",
                              y, R"(
  return %t, %r, %sr, %k, %b
})"),
                       o);
  }
}

TEST(LoopGroup, SplatConstantsAndSharedValues) {
  auto k = expectFusedMatches(R"(
func @main(%x: f32[3,50]) -> (f32[3,50], f32[3,50]) {
  %c = constant() {value = dense<0.5>} : f32[3,50]
  %h = mul(%x, %c) : f32[3,50]
  %e = exp(%h) : f32[3,50]
  %a = add(%e, %e) : f32[3,50]
  %b = div(%e, %a) : f32[3,50]
  return %a, %b
})");
  ASSERT_TRUE(k);
  // %e and %a are used twice: computed once, into locals.
  EXPECT_NE(k->kernelText().find("var e."), std::string::npos)
      << k->kernelText();
  EXPECT_NE(k->kernelText().find("var a."), std::string::npos)
      << k->kernelText();
}

TEST(LoopGroup, HalfIntermediatesRoundLikeTheUnfusedOps) {
  for (DType d : {DType::F16, DType::BF16}) {
    std::string x = t(d, {7, 9});
    expectFusedMatches(strCat(R"(
func @main(%x: )",
                              x, ", %y: ", x, ") -> (", x, ", ",
                              t(DType::F32, {7, 9}),
                              R"() {
  %a = add(%x, %y) : )",
                              x, R"(
  %m = mul(%a, %a) : )",
                              x, R"(
  %t = tanh(%m) : )",
                              x, R"(
  %f = cast(%t) {to = f32} : )",
                              t(DType::F32, {7, 9}), R"(
  return %t, %f
})"));
  }
}

TEST(LoopGroup, TanhTimesSigmoidIsOneVectorLoop) {
  // Numbers on a small size; the vector code on 16M elements.
  const char *body = R"(
  %m = mul(%x, %a) : f32[N]
  %p = add(%m, %b) : f32[N]
  %t = tanh(%p) : f32[N]
  %s = sigmoid(%x) : f32[N]
  %y = mul(%t, %s) : f32[N]
  return %y
})";
  auto text = [&](int64_t n) {
    std::string s = strCat("func @main(%x: f32[N], %a: f32[], %b: f32[]) -> "
                           "(f32[N]) {",
                           body);
    return std::regex_replace(s, std::regex("N"), std::to_string(n));
  };
  HarnessOptions o;
  o.minValue = -6;
  o.maxValue = 6;
  expectFusedMatches(text(5000), o);

  auto module = parse(text(int64_t{1} << 24));
  ASSERT_TRUE(module);
  auto k = FusedKernel::build(**module->entry(), "x86-64-avx512",
                              /*load=*/false);
  ASSERT_TRUE(k);
  // tanh is Nyx's inlined polynomial, so the loop vectorizes and calls
  // nothing but the thread pool.
  EXPECT_NE(k->ir().find("<16 x float>"), std::string::npos) << k->ir();
  EXPECT_NE(k->ir().find("call void @nyx_parallel_for"), std::string::npos);
  for (const char *op :
       {" sdiv ", " srem ", " udiv ", " urem ", "@tanhf", "call float @nyx."})
    EXPECT_EQ(k->ir().find(op), std::string::npos) << op;
}

TEST(LoopGroup, BroadcastOperandsLeaveNoDivisionInTheLoop) {
  auto module = parse(R"(
func @main(%x: f32[512,1024], %b: f32[1024], %r: f32[512,1]) -> (f32[512,1024]) {
  %a = add(%x, %b) : f32[512,1024]
  %m = mul(%a, %r) : f32[512,1024]
  %y = tanh(%m) : f32[512,1024]
  return %y
})");
  ASSERT_TRUE(module);
  auto k = FusedKernel::build(**module->entry(), "x86-64-avx512",
                              /*load=*/false);
  ASSERT_TRUE(k);
  EXPECT_NE(k->ir().find("<16 x float>"), std::string::npos) << k->ir();
  for (const char *op : {" sdiv ", " srem ", " udiv ", " urem "})
    EXPECT_EQ(k->ir().find(op), std::string::npos) << op << "\n" << k->ir();
}

// -- Anchor groups -----------------------------------------------------------

TEST(AnchorGroup, ReduceSumOfSquaresWithSqrtEpilogue) {
  // Innermost axis reduced (scalar accumulator), leading axis reduced
  // (accumulates in its result), all axes, keepdims.
  for (const char *reduce : {"{axes = [1]} : f32[12]", "{axes = [0]} : f32[40]",
                             "{axes = [1], keepdims = true} : f32[12,1]"}) {
    std::string type =
        std::string(reduce).substr(std::string(reduce).find(": ") + 2);
    expectFusedMatches(strCat(R"(
func @main(%x: f32[12,40]) -> ()",
                              type, R"() {
  %q = mul(%x, %x) : f32[12,40]
  %s = reduce_sum(%q) )",
                              reduce, R"(
  %r = sqrt(%s) : )",
                              type, R"(
  return %r
})"));
  }
  expectFusedMatches(R"(
func @main(%x: f32[12,40]) -> (f32[], f32[]) {
  %q = mul(%x, %x) : f32[12,40]
  %s = reduce_sum(%q) : f32[]
  %r = sqrt(%s) : f32[]
  return %s, %r
})");
}

TEST(AnchorGroup, ReductionAccumulatingInAnEpilogueBuffer) {
  // reduce over the leading axis accumulates in its output; the anchor is
  // not returned, so its values are held in the epilogue's buffer.
  auto k = expectFusedMatches(R"(
func @main(%x: f32[3,7,40], %b: f32[40]) -> (f32[3,40]) {
  %e = exp(%x) : f32[3,7,40]
  %m = reduce_max(%e) {axes = [1]} : f32[3,40]
  %a = add(%m, %b) : f32[3,40]
  %r = relu(%a) : f32[3,40]
  return %r
})");
  ASSERT_TRUE(k);
}

TEST(AnchorGroup, SoftmaxWithResidualPrologueAndScaleEpilogue) {
  for (DType d : {DType::F32, DType::F16, DType::BF16}) {
    std::string x = t(d, {6, 33});
    expectFusedMatches(strCat(R"(
func @main(%x: )",
                              x, ", %r: ", x, ", %s: ", t(d, {33}), ") -> (", x,
                              R"() {
  %a = add(%x, %r) : )",
                              x, R"(
  %p = softmax(%a) : )",
                              x, R"(
  %y = mul(%p, %s) : )",
                              x, R"(
  return %y
})"));
  }
  // Over a leading axis, with a transposed residual.
  expectFusedMatches(R"(
func @main(%x: f32[5,4,3], %r: f32[3,4,5]) -> (f32[5,4,3], f32[5,4,3]) {
  %t = transpose(%r) : f32[5,4,3]
  %a = add(%x, %t) : f32[5,4,3]
  %p = log_softmax(%a) {axis = 0} : f32[5,4,3]
  %c = constant() {value = dense<2.0>} : f32[5,4,3]
  %y = mul(%p, %c) : f32[5,4,3]
  return %p, %y
})");
}

TEST(AnchorGroup, MatmulBiasReluResidualEpilogue) {
  // f32 accumulates in its result (i-k-j order), f16 in an f32 scalar,
  // transpose_b with dot products.
  for (const char *form : {"", "{transpose_b = true}"})
    for (DType d : {DType::F32, DType::F16, DType::F64}) {
      bool tb = std::string(form).size() > 0;
      std::string c = t(d, {9, 20});
      HarnessOptions o;
      o.atol = d == DType::F32 ? 1e-4 : d == DType::F64 ? 1e-10 : 5e-2;
      expectFusedMatches(
          strCat("func @main(%a: ", t(d, {9, 16}),
                 ", %w: ", t(d, tb ? ir::Shape{20, 16} : ir::Shape{16, 20}),
                 ", %bias: ", t(d, {20}), ", %res: ", c, ") -> (", c, R"() {
  %m = matmul(%a, %w) )",
                 form, " : ", c, R"(
  %b = add(%m, %bias) : )",
                 c, R"(
  %r = relu(%b) : )",
                 c, R"(
  %y = add(%r, %res) : )",
                 c, R"(
  return %y
})"),
          o);
    }
}

TEST(AnchorGroup, BatchedMatmulWithTransposedPrologueAndReturnedAnchor) {
  HarnessOptions o;
  o.atol = 1e-4;
  expectFusedMatches(R"(
func @main(%a: f32[2,8,5], %b: f32[2,8,6], %s: f32[2,1,6]) -> (f32[2,5,6], f32[2,5,6]) {
  %at = transpose(%a) {perm = [0, 2, 1]} : f32[2,5,8]
  %bt = transpose(%b) {perm = [0, 2, 1]} : f32[2,6,8]
  %m = matmul(%at, %bt) {transpose_b = true} : f32[2,5,6]
  %y = mul(%m, %s) : f32[2,5,6]
  return %m, %y
})",
                     o);
}

TEST(AnchorGroup, LayerNormWithAddPrologue) {
  for (DType d : {DType::F32, DType::BF16}) {
    std::string x = t(d, {4, 3, 16});
    expectFusedMatches(strCat(R"(
func @main(%x: )",
                              x, ", %r: ", x, ", %g: ", t(d, {16}),
                              ", %b: ", t(d, {16}), ") -> (", x, R"() {
  %a = add(%x, %r) : )",
                              x, R"(
  %n = layer_norm(%a, %g, %b) : )",
                              x, R"(
  %y = gelu(%n) {approximate = "tanh"} : )",
                              x, R"(
  return %y
})"));
  }
  expectFusedMatches(R"(
func @main(%x: f32[6,8], %g: f32[8]) -> (f32[6,8]) {
  %s = mul(%x, %x) : f32[6,8]
  %n = rms_norm(%s, %g) : f32[6,8]
  return %n
})");
}

TEST(AnchorGroup, ArgmaxAndPoolingWithEpilogues) {
  expectFusedMatches(R"(
func @main(%x: f32[5,9], %y: f32[5,9]) -> (i64[5], f32[5]) {
  %d = sub(%x, %y) : f32[5,9]
  %a = argmax(%d) {axis = 1} : i64[5]
  %f = cast(%a) {to = f32} : f32[5]
  return %a, %f
})");
  expectFusedMatches(R"(
func @main(%x: f32[2,3,8,8], %s: f32[3,1,1]) -> (f32[2,3,4,4]) {
  %t = reshape(%x) {shape = [2, 3, 8, 8]} : f32[2,3,8,8]
  %p = max_pool2d(%t) {kernel = [2, 2]} : f32[2,3,4,4]
  %y = mul(%p, %s) : f32[2,3,4,4]
  return %y
})");
  // Padded: the CPU kernel's unchecked interior and checked border both
  // feed the epilogue.
  for (const char *pool : {"max_pool2d", "avg_pool2d"})
    expectFusedMatches(strCat(
        R"(
func @main(%x: f32[1,3,9,8], %s: f32[3,1,1]) -> (f32[1,3,5,4]) {
  %r = relu(%x) : f32[1,3,9,8]
  %p = )",
        pool,
        R"((%r) {kernel = [3, 3], strides = [2, 2], padding = [1, 1, 1, 1]} : f32[1,3,5,4]
  %y = mul(%p, %s) : f32[1,3,5,4]
  return %y
})"));
}

TEST(AnchorGroup, ConvWithBiasAddAndSiluEpilogue) {
  HarnessOptions o;
  o.atol = 1e-4;
  expectFusedMatches(R"(
func @main(%x: f32[1,3,9,9], %w: f32[4,3,3,3], %b: f32[4,1,1]) -> (f32[1,4,9,9]) {
  %c = conv2d(%x, %w) {padding = [1, 1, 1, 1]} : f32[1,4,9,9]
  %a = add(%c, %b) : f32[1,4,9,9]
  %y = silu(%a) : f32[1,4,9,9]
  return %y
})",
                     o);
}

TEST(AnchorGroup, DataMovementAnchorsKeepBits) {
  // concat and pad (Other) store more than once and read stored bits.
  ir::Tensor x(ir::TensorType{DType::F16, {2, 3}});
  ir::Tensor y(ir::TensorType{DType::F16, {3, 2}});
  const uint16_t patterns[] = {0x7c01, 0x7e55, 0xfc02, 0x8000, 0x3c00, 0x0001};
  for (int i = 0; i < 6; ++i) {
    x.data<uint16_t>()[i] = patterns[i];
    y.data<uint16_t>()[i] = patterns[5 - i] ^ 0x10;
  }
  HarnessOptions o;
  o.bitExact = true;
  o.inputs = {x, y};
  expectFusedMatches(R"(
func @main(%x: f16[2,3], %y: f16[3,2]) -> (f16[2,6], f16[2,6]) {
  %t = transpose(%y) : f16[2,3]
  %c = concat(%x, %t) {axis = 1} : f16[2,6]
  %n = neg(%c) : f16[2,6]
  return %c, %n
})",
                     o);
  HarnessOptions p = o;
  p.inputs = {x};
  expectFusedMatches(R"(
func @main(%x: f16[2,3]) -> (f16[4,4]) {
  %r = reshape(%x) {shape = [3, 2]} : f16[3,2]
  %p = pad(%r) {pads = [1, 1, 0, 1], mode = "reflect"} : f16[4,4]
  return %p
})",
                     p);
}

TEST(AnchorGroup, IntegerAndBoolDtypes) {
  HarnessOptions o;
  o.intMin = -1000;
  o.intMax = 1000;
  expectFusedMatches(R"(
func @main(%x: i32[6,10], %y: i32[10]) -> (i32[6], bool[6]) {
  %m = mul(%x, %y) : i32[6,10]
  %s = reduce_sum(%m) {axes = [1]} : i32[6]
  %z = constant() {value = dense<0>} : i32[6]
  %p = gt(%s, %z) : bool[6]
  return %s, %p
})",
                     o);
  expectFusedMatches(R"(
func @main(%a: i64[4,5], %b: i64[5,3]) -> (i64[4,3]) {
  %m = matmul(%a, %b) : i64[4,3]
  %n = neg(%m) : i64[4,3]
  return %n
})",
                     o);
}

} // namespace
} // namespace nyx
