// What the tuning database keys a measurement by.
#include "codegen/kernel/gemm_schedule.h"
#include "ir/parser.h"
#include "tuning/op_key.h"
#include "llvm/Config/llvm-config.h"
#include "gtest/gtest.h"

namespace nyx::tuning {
namespace {

// The ops of @main in `text`, which must parse.
std::unique_ptr<ir::Module> parse(const std::string &text) {
  auto m = ir::parseModule(text, "key.nyx");
  EXPECT_TRUE(m.ok()) << m.status().message();
  return m.ok() ? std::move(*m) : nullptr;
}

TEST(TuningKey, SignatureHasTheOperandTypesAndAttributes) {
  auto m = parse(R"(
func @main(%a: f32[64,80], %b: f32[96,80], %x: f32[1,3,32,32],
           %w: f32[8,3,3,3], %bias: f32[8]) -> (f32[64,96], f32[1,8,16,16]) {
  %c = matmul(%a, %b) {transpose_b = true} : f32[64,96]
  %y = conv2d(%x, %w, %bias) {padding = [1, 1, 1, 1], strides = [2, 2]} : f32[1,8,16,16]
  return %c, %y
})");
  ASSERT_TRUE(m);
  const auto &ops = m->functions[0]->ops;
  EXPECT_EQ(opSignature(*ops[0]),
            "matmul(f32[64,80], f32[96,80]) {transpose_b = true}");
  EXPECT_EQ(opSignature(*ops[1]),
            "conv2d(f32[1,3,32,32], f32[8,3,3,3], f32[8]) {padding = [1, 1, "
            "1, 1], strides = [2, 2]}");
}

TEST(TuningKey, LeavesOutWhatPassesAddForCodeGeneration) {
  auto m = parse(R"(
func @main(%a: f32[4,8], %b: f32[8,16]) -> (f32[4,16]) {
  %c = matmul(%a, %b) : f32[4,16]
  return %c
})");
  ASSERT_TRUE(m);
  ir::Op &op = *m->functions[0]->ops[0];
  const std::string plain = opSignature(op);
  EXPECT_EQ(plain, "matmul(f32[4,8], f32[8,16])");
  op.attrs["schedule"] = std::string("mr=4,nr=16,mc=4,nc=16,pack_a=1");
  op.attrs["arena_offsets"] = std::vector<int64_t>{0};
  EXPECT_EQ(opSignature(op), plain);
}

TEST(TuningKey, HoldsTargetThreadsAndCompiler) {
  auto m = parse(R"(
func @main(%a: f32[4,8], %b: f32[8,16]) -> (f32[4,16]) {
  %c = matmul(%a, %b) : f32[4,16]
  return %c
})");
  ASSERT_TRUE(m);
  TuningKey key =
      tuningKey(*m->functions[0]->ops[0], {"znver4", "+avx2,+fma"}, 2);
  EXPECT_EQ(key.op, "matmul(f32[4,8], f32[8,16])");
  EXPECT_EQ(key.cpu, "znver4");
  EXPECT_EQ(key.features, "+avx2,+fma");
  EXPECT_EQ(key.threads, 2);
  EXPECT_EQ(key.compiler, compilerVersion());
}

TEST(TuningKey, CompilerVersionNamesEverythingThatChangesTimings) {
  std::string v = compilerVersion();
  EXPECT_EQ(v.rfind("nyx ", 0), 0u) << v;
  EXPECT_NE(v.find("gemm " + std::to_string(kernel::kGemmRevision)),
            std::string::npos)
      << v;
  EXPECT_NE(v.find(std::string("LLVM ") + LLVM_VERSION_STRING),
            std::string::npos)
      << v;
}

} // namespace
} // namespace nyx::tuning
