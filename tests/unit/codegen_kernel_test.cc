// The CPU backend on small models: target attributes, vectorization, the
// emitted entry points and errors, checked on LLVM IR, assembly and objects.
#include <string>

#include "codegen/codegen.h"
#include "ir/parser.h"
#include "gtest/gtest.h"

namespace nyx::codegen {
namespace {

struct Compiled {
  std::unique_ptr<ir::Module> module;
  std::unique_ptr<CompiledModel> model;
};

absl::StatusOr<Compiled> compile(const std::string &text, Options options,
                                 const ir::WeightMap &weights = {}) {
  auto parsed = ir::parseModule(text, "test.nyx");
  if (!parsed.ok())
    return parsed.status();
  Compiled c{std::move(*parsed), nullptr};
  auto entry = c.module->entry();
  if (!entry.ok())
    return entry.status();
  auto model = compileModel(*c.module, **entry, weights, options);
  if (!model.ok())
    return model.status();
  c.model = std::move(*model);
  return c;
}

// The line of `text` that contains `needle` ("" if none).
std::string lineWith(const std::string &text, const std::string &needle) {
  size_t at = text.find(needle);
  if (at == std::string::npos)
    return "";
  size_t begin = text.rfind('\n', at);
  begin = begin == std::string::npos ? 0 : begin + 1;
  return text.substr(begin, text.find('\n', at) - begin);
}

Options named(std::string target, int optLevel = 2) {
  Options o;
  o.modelName = "m";
  o.target = std::move(target);
  o.optLevel = optLevel;
  return o;
}

constexpr const char *kChain = R"(
func @main(%a: f32[1024], %b: f32[1024]) -> (f32[1024]) {
  %s = add(%a, %b) : f32[1024]
  %p = mul(%s, %a) : f32[1024]
  return %p
}
)";

TEST(CodegenKernel, Avx512ChainVectorizesWith512BitVectors) {
  auto c = compile(kChain, named("x86-64-avx512"));
  ASSERT_TRUE(c.ok()) << c.status().message();
  std::string ir = c->model->llvmIR();
  EXPECT_NE(ir.find("<16 x float>"), std::string::npos) << ir;
  EXPECT_NE(ir.find("\"prefer-vector-width\"=\"512\""), std::string::npos);
  EXPECT_NE(ir.find("\"target-cpu\"=\"skylake-avx512\""), std::string::npos);
  EXPECT_NE(ir.find("+avx512f"), std::string::npos);
  auto asm_ = c->model->assembly();
  ASSERT_TRUE(asm_.ok()) << asm_.status().message();
  EXPECT_NE(asm_->find("zmm"), std::string::npos);
}

TEST(CodegenKernel, Avx2ChainUses256BitVectorsOnly) {
  auto c = compile(kChain, named("x86-64-avx2"));
  ASSERT_TRUE(c.ok()) << c.status().message();
  std::string ir = c->model->llvmIR();
  EXPECT_NE(ir.find("<8 x float>"), std::string::npos) << ir;
  EXPECT_EQ(ir.find("<16 x float>"), std::string::npos);
  EXPECT_EQ(ir.find("prefer-vector-width"), std::string::npos);
  EXPECT_NE(ir.find("\"target-cpu\"=\"haswell\""), std::string::npos);
  EXPECT_EQ(ir.find("+avx512f"), std::string::npos);
  auto asm_ = c->model->assembly();
  ASSERT_TRUE(asm_.ok());
  EXPECT_NE(asm_->find("ymm"), std::string::npos);
  EXPECT_EQ(asm_->find("zmm"), std::string::npos);
}

TEST(CodegenKernel, O0KeepsScalarLoops) {
  auto c = compile(kChain, named("x86-64-avx512", 0));
  ASSERT_TRUE(c.ok()) << c.status().message();
  std::string ir = c->model->llvmIR();
  EXPECT_EQ(ir.find("<16 x float>"), std::string::npos);
  EXPECT_NE(ir.find("fadd float"), std::string::npos);
}

TEST(CodegenKernel, ExportsEntryPointsAndSizes) {
  auto c = compile(kChain, named("host"));
  ASSERT_TRUE(c.ok()) << c.status().message();
  std::string ir = c->model->llvmIR();
  EXPECT_NE(ir.find("i32 @m_run(ptr noalias"), std::string::npos) << ir;
  EXPECT_NE(ir.find("i32 @m_run_packed(ptr"), std::string::npos);
  // %s is the only intermediate: 4096 bytes of arena.
  EXPECT_NE(lineWith(ir, "@m_arena_bytes =").find("constant i64 4096"),
            std::string::npos);
  EXPECT_NE(lineWith(ir, "@m_weights_bytes =").find("constant i64 0"),
            std::string::npos);
  auto obj = c->model->object();
  ASSERT_TRUE(obj.ok()) << obj.status().message();
  ASSERT_GT(obj->size(), 4u);
  EXPECT_EQ(obj->substr(0, 4), "\x7f"
                               "ELF");
}

TEST(CodegenKernel, EmbeddedWeightsAreAlignedReadOnlyData) {
  ir::WeightMap weights;
  ir::Tensor w(ir::TensorType{ir::DType::F32, {1000}});
  for (int i = 0; i < 1000; ++i)
    w.setDouble(i, 1.5 + i);
  weights.emplace("w", w);
  auto c = compile(R"(
param @w : f32[1000]
func @main(%x: f32[1000]) -> (f32[1000]) {
  %w = param() {name = @w} : f32[1000]
  %y = add(%x, %w) : f32[1000]
  return %y
}
)",
                   named("host"), weights);
  ASSERT_TRUE(c.ok()) << c.status().message();
  std::string ir = c->model->llvmIR();
  // 4000 bytes rounded up to the 64-byte alignment.
  EXPECT_NE(lineWith(ir, "@m_weights_bytes =").find("constant i64 4032"),
            std::string::npos)
      << ir;
  EXPECT_NE(lineWith(ir, "@m.weights =").find("align 64"), std::string::npos);
  EXPECT_NE(c->model->header().find("#define M_WEIGHTS_BYTES 4032"),
            std::string::npos);
  auto asm_ = c->model->assembly();
  ASSERT_TRUE(asm_.ok());
  EXPECT_NE(asm_->find(".rodata"), std::string::npos);
}

TEST(CodegenKernel, ExternalWeightsDeclareLoaderAndDescriptors) {
  Options o = named("host");
  o.externalWeights = true;
  auto c = compile(R"(
param @w : f32[2,3]
func @main(%x: f32[2,3]) -> (f32[2,3]) {
  %w = param() {name = @w} : f32[2,3]
  %y = mul(%x, %w) : f32[2,3]
  return %y
}
)",
                   o);
  ASSERT_TRUE(c.ok()) << c.status().message();
  std::string ir = c->model->llvmIR();
  EXPECT_NE(ir.find("i32 @m_load_weights(ptr"), std::string::npos) << ir;
  EXPECT_NE(ir.find("define void @m_unload_weights()"), std::string::npos);
  EXPECT_NE(ir.find("@nyx_load_weights"), std::string::npos);
  EXPECT_NE(ir.find("c\"w\\00\""), std::string::npos);
  EXPECT_NE(ir.find("[i64 2, i64 3]"), std::string::npos);
  std::string header = c->model->header();
  EXPECT_NE(header.find("int m_load_weights(const char *path);"),
            std::string::npos);
  EXPECT_NE(header.find("void m_unload_weights(void);"), std::string::npos);
}

TEST(CodegenKernel, KernelsArePrinted) {
  auto c = compile(kChain, named("host"));
  ASSERT_TRUE(c.ok());
  std::string k = c->model->kernels();
  EXPECT_NE(k.find("kernel add_0("), std::string::npos) << k;
  EXPECT_NE(k.find("kernel mul_1("), std::string::npos) << k;
  EXPECT_NE(k.find("parallel for i.0 in 0..1024"), std::string::npos) << k;
}

TEST(CodegenKernel, LargeParallelLoopsRunOnTheThreadPool) {
  auto big = compile(R"(
func @main(%a: f32[512,256], %b: f32[256]) -> (f32[512,256]) {
  %y = add(%a, %b) : f32[512,256]
  return %y
}
)",
                     named("x86-64-avx512"));
  ASSERT_TRUE(big.ok()) << big.status().message();
  std::string ir = big->model->llvmIR();
  EXPECT_NE(ir.find("call void @nyx_parallel_for(i64 131072"),
            std::string::npos)
      << ir;
  // The chunk body still vectorizes.
  EXPECT_NE(ir.find("<16 x float>"), std::string::npos);
  // Small kernels stay on the calling thread.
  auto small = compile(kChain, named("x86-64-avx512"));
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->model->llvmIR().find("nyx_parallel_for"), std::string::npos);
}

TEST(CodegenKernel, UnknownTargetIsAnErrorListingTheValidOnes) {
  auto c = compile(kChain, named("riscv"));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "unknown target 'riscv'; expected one of: host, x86-64-avx2, "
            "x86-64-avx512, cuda-sm80, cuda-sm90, cuda-sm90a");
}

TEST(CodegenKernel, BadOptLevelAndModelNameAreErrors) {
  auto c = compile(kChain, named("host", 4));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("optimization level 4; expected 0 to 3"),
            absl::string_view::npos);
  Options o = named("host");
  o.modelName = "9lives";
  c = compile(kChain, o);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("'9lives' is not a C identifier"),
            absl::string_view::npos);
}

TEST(CodegenKernel, CallInEntryIsAnErrorAtTheOp) {
  auto c = compile(R"(
func @f(%x: f32[2]) -> (f32[2]) {
  return %x
}
func @main(%x: f32[2]) -> (f32[2]) {
  %y = call(%x) {callee = @f} : f32[2]
  return %y
}
)",
                   named("host"));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find(
                "test.nyx:6:3: error: 'call' to @f found in the entry "
                "function; expected calls to be inlined"),
            absl::string_view::npos)
      << c.status().message();
}

TEST(CodegenKernel, MissingWeightsAreAnError) {
  auto c = compile(R"(
param @w : f32[3]
func @main() -> (f32[3]) {
  %w = param() {name = @w} : f32[3]
  return %w
}
)",
                   named("host"));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find(
                "no weights given for param @w; expected a tensor of type "
                "f32[3]"),
            absl::string_view::npos)
      << c.status().message();
}

} // namespace
} // namespace nyx::codegen
