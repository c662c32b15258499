// Target names: what each resolves to and the error for an unknown one.
#include "codegen/cpu/target.h"

#include "codegen/codegen.h"
#include "llvm/Target/TargetMachine.h"
#include "gtest/gtest.h"

namespace nyx::codegen::cpu {
namespace {

bool hasFeature(const TargetSpec &t, const std::string &f) {
  return ("," + t.features + ",").find("," + f + ",") != std::string::npos;
}

TEST(CodegenTarget, Avx2IsHaswell) {
  auto t = resolveTarget("x86-64-avx2");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->cpu, "haswell");
  EXPECT_EQ(t->triple, "x86_64-unknown-linux-gnu");
  EXPECT_FALSE(t->avx512);
  for (const char *f : {"+avx2", "+fma", "+f16c", "+bmi2"})
    EXPECT_TRUE(hasFeature(*t, f)) << f << " in " << t->features;
  EXPECT_FALSE(hasFeature(*t, "+avx512f"));
}

TEST(CodegenTarget, Avx512IsSkylakeServer) {
  auto t = resolveTarget("x86-64-avx512");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->cpu, "skylake-avx512");
  EXPECT_TRUE(t->avx512);
  for (const char *f : {"+avx512f", "+avx512bw", "+avx512dq", "+avx512vl",
                        "+avx512cd", "+avx2", "+fma"})
    EXPECT_TRUE(hasFeature(*t, f)) << f << " in " << t->features;
}

TEST(CodegenTarget, HostDescribesThisMachine) {
  auto t = resolveTarget("host");
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->cpu.empty());
  EXPECT_NE(t->triple.find("x86_64"), std::string::npos);
  EXPECT_EQ(t->avx512, hasFeature(*t, "+avx512f"));
  auto tm = createTargetMachine(*t, 2);
  ASSERT_TRUE(tm.ok()) << tm.status().message();
  EXPECT_EQ((*tm)->getTargetCPU(), t->cpu);
}

TEST(CodegenTarget, UnknownNamesListTheValidOnes) {
  EXPECT_TRUE(checkTarget("host").ok());
  EXPECT_TRUE(checkTarget("x86-64-avx512").ok());
  absl::Status s = checkTarget("x86-64-avx3");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "unknown target 'x86-64-avx3'; expected one of: "
                         "host, x86-64-avx2, x86-64-avx512, cuda-sm80, "
                         "cuda-sm90, cuda-sm90a");
}

TEST(CodegenTarget, GpuArchitectures) {
  EXPECT_TRUE(checkTarget("cuda-sm80").ok());
  EXPECT_TRUE(checkTarget("cuda-sm90").ok());
  EXPECT_TRUE(checkTarget("cuda-sm90a").ok());
  absl::Status s = checkTarget("cuda-sm75");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "unsupported GPU architecture in target 'cuda-sm75'; "
                         "expected one of: cuda-sm80, cuda-sm90, cuda-sm90a");
}

TEST(CodegenTarget, MachinesForEveryLevel) {
  for (int level = 0; level <= 3; ++level) {
    auto tm = createTargetMachine(*resolveTarget("x86-64-avx2"), level);
    ASSERT_TRUE(tm.ok());
    EXPECT_TRUE((*tm)->isPositionIndependent());
  }
}

} // namespace
} // namespace nyx::codegen::cpu
