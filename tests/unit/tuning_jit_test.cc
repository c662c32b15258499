// The autotuner's machinery: running compiled objects in the process with
// the JIT, comparing outputs, and the progress line.
#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "codegen/codegen.h"
#include "ir/parser.h"
#include "tuning/object_jit.h"
#include "tuning/op_bench.h"
#include "tuning/progress.h"
#include "gtest/gtest.h"

namespace nyx::tuning {
namespace {

TEST(ObjectJit, RunsACompiledModelThatCallsTheRuntime) {
  // Large enough that the elementwise kernel is a parallel loop, which
  // calls nyx_parallel_for in libnyxrt.
  auto m = ir::parseModule(R"(
func @main(%a: f32[256,1024], %b: f32[256,1024]) -> (f32[256,1024]) {
  %c = add(%a, %b) : f32[256,1024]
  return %c
})",
                           "add.nyx");
  ASSERT_TRUE(m.ok()) << m.status().message();
  codegen::Options options;
  options.modelName = "jit_add";
  auto compiled = codegen::compileModel(**m, *(*m)->functions[0], {}, options);
  ASSERT_TRUE(compiled.ok()) << compiled.status().message();
  ASSERT_NE((*compiled)->llvmIR().find("@nyx_parallel_for"), std::string::npos);
  auto object = (*compiled)->object();
  ASSERT_TRUE(object.ok());

  auto jit = ObjectJit::create();
  ASSERT_TRUE(jit.ok()) << jit.status().message();
  // Two libraries of one model name live side by side.
  auto first = (*jit)->load(*object, "jit_add");
  ASSERT_TRUE(first.ok()) << first.status().message();
  auto second = (*jit)->load(*object, "jit_add");
  ASSERT_TRUE(second.ok()) << second.status().message();

  const size_t n = 256 * 1024;
  std::vector<float> a(n), b(n), c(n, -1);
  for (size_t i = 0; i < n; ++i) {
    a[i] = static_cast<float>(i % 97);
    b[i] = 0.5f * static_cast<float>(i % 13);
  }
  void *buffers[] = {a.data(), b.data(), c.data()};
  AlignedBytes arena((*second)->arenaBytes());
  ASSERT_EQ((*second)->runPacked()(buffers, arena.data()), 0);
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(c[i], a[i] + b[i]) << i;
  // A model whose object is not linkable is an error, not a crash.
  EXPECT_FALSE((*jit)->load("not an object", "jit_bad").ok());
}

TEST(CloseOutputs, HoldsElementsToTheScaleOfTheResult) {
  std::vector<float> want = {100, -100, 0.001f, 50};
  std::vector<float> got = want;
  EXPECT_TRUE(closeOutputs(got, want, 1e-4));
  // An element that cancelled to near zero may be off by rtol times the
  // mean magnitude (62.5), not just its own.
  got[2] = 0.001f + 0.005f;
  EXPECT_TRUE(closeOutputs(got, want, 1e-4));
  got[2] = 0.001f + 0.02f;
  size_t where = 99;
  EXPECT_FALSE(closeOutputs(got, want, 1e-4, &where));
  EXPECT_EQ(where, 2u);
  got = want;
  got[0] = 100.1f;
  EXPECT_FALSE(closeOutputs(got, want, 1e-4, &where));
  EXPECT_EQ(where, 0u);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(closeOutputs({nan, 1}, {nan, 1}, 1e-4));
  EXPECT_FALSE(closeOutputs({nan, 1}, {0, 1}, 1e-4));
  EXPECT_FALSE(closeOutputs({1, 1}, {nan, 1}, 1e-4));
  EXPECT_FALSE(closeOutputs({1}, {1, 1}, 1e-4));
}

TEST(ProgressBar, FitsTheTerminal) {
  std::string line = ProgressBar::line("matmul 64x96x80", 12, 40, 80);
  EXPECT_EQ(line.rfind("autotune  matmul 64x96x80  [", 0), 0u) << line;
  EXPECT_NE(line.find("]  12/40"), std::string::npos);
  EXPECT_LT(line.size(), 80u);
  const auto filled = std::count(line.begin(), line.end(), '#');
  const auto bar = filled + std::count(line.begin(), line.end(), '.');
  EXPECT_EQ(filled, bar * 12 / 40);
  EXPECT_LT(ProgressBar::line("conv2d 3136x64x576", 1, 2, 20).size(), 20u);
}

TEST(ProgressBar, DrawsNothingWhenDisabled) {
  std::ostringstream out;
  {
    ProgressBar bar(out, /*enabled=*/false);
    bar.show("matmul", 1, 2);
  }
  EXPECT_EQ(out.str(), "");
  {
    ProgressBar bar(out, /*enabled=*/true);
    bar.show("matmul", 1, 2);
  }
  // Drawn in place and erased when done.
  EXPECT_EQ(out.str().rfind("\r\033[K", 0), 0u);
  EXPECT_EQ(out.str().substr(out.str().size() - 4), "\r\033[K");
}

} // namespace
} // namespace nyx::tuning
