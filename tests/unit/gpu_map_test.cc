// kernel::mapToGpu: which statements become a thread per iteration, which
// run on one thread, and how a thread finds its loop indices.
#include "codegen/kernel/gpu_map.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nyx::kernel {
namespace {

using B = Builder;
using ::testing::HasSubstr;

// y[i * cols + j] = x[i * cols + j] + 1 over a rows x cols nest whose loops
// have the given kinds.
struct Nest {
  Builder b;
  Kernel k;
  Nest(int64_t rows, int64_t cols, LoopKind outer, LoopKind inner) {
    k.name = "k";
    k.buffers = {{"x", DType::F32, rows * cols},
                 {"y", DType::F32, rows * cols}};
    k.buffers[1].isOutput = true;
    Var i = b.newVar(DType::I64, "i"), j = b.newVar(DType::I64, "j");
    ExprRef at = B::ref(i) * B::i64(cols) + B::ref(j);
    StmtRef store =
        B::store(1, at,
                 B::binary(BinaryFn::Add, B::load(0, DType::F32, at),
                           B::constant(DType::F32, 1)));
    k.body = B::loop(i, B::i64(rows),
                     {B::loop(j, B::i64(cols), {store}, inner)}, outer);
  }
};

TEST(GpuMap, ParallelNestIsOneThreadPerIteration) {
  Nest n(4, 300, LoopKind::Parallel, LoopKind::Parallel);
  auto launches = mapToGpu(n.k);
  ASSERT_TRUE(launches.ok()) << launches.status().message();
  ASSERT_EQ(launches->size(), 1u);
  const GpuLaunch &l = (*launches)[0];
  EXPECT_EQ(l.threads, 1200);
  EXPECT_EQ(l.blockSize, 256);
  EXPECT_EQ(l.blocks(), 5);
  EXPECT_EQ(l.kernel.name, "k");
  std::string text = print(l.kernel);
  EXPECT_THAT(text, HasSubstr("if (thread.2 < 1200) {"));
  EXPECT_THAT(text, HasSubstr("var i.0: i64 = (thread.2 / 300)"));
  EXPECT_THAT(text, HasSubstr("var j.1: i64 = ((thread.2 / 1) % 300)"));
}

TEST(GpuMap, SerialInnerLoopStaysInTheThread) {
  Nest n(4, 300, LoopKind::Parallel, LoopKind::Serial);
  auto launches = mapToGpu(n.k);
  ASSERT_TRUE(launches.ok());
  ASSERT_EQ(launches->size(), 1u);
  EXPECT_EQ((*launches)[0].threads, 4);
  // A small grid is one block of whole warps.
  EXPECT_EQ((*launches)[0].blockSize, 32);
  EXPECT_THAT(print((*launches)[0].kernel), HasSubstr("for j.1 in 0..300"));
}

TEST(GpuMap, SerialStatementRunsOnOneThreadAfterTheParallelOne) {
  Nest a(2, 8, LoopKind::Parallel, LoopKind::Parallel);
  Nest serial(2, 8, LoopKind::Serial, LoopKind::Serial);
  Kernel k = a.k;
  k.body = B::block({a.k.body, serial.k.body});
  auto launches = mapToGpu(k);
  ASSERT_TRUE(launches.ok());
  ASSERT_EQ(launches->size(), 2u);
  EXPECT_EQ((*launches)[0].kernel.name, "k_0");
  EXPECT_EQ((*launches)[0].threads, 16);
  EXPECT_EQ((*launches)[1].kernel.name, "k_1");
  EXPECT_EQ((*launches)[1].threads, 1);
  // Every launch takes all the kernel's buffers.
  EXPECT_EQ((*launches)[1].kernel.buffers.size(), 2u);
}

TEST(GpuMap, TopLevelLocalsKeepTheKernelOnOneThread) {
  Nest n(2, 8, LoopKind::Parallel, LoopKind::Parallel);
  Var total = n.b.newVar(DType::F32, "total");
  Kernel k = n.k;
  k.body = B::block({B::declare(total, B::constant(DType::F32, 0)), n.k.body,
                     B::store(1, B::i64(0), B::ref(total))});
  auto launches = mapToGpu(k);
  ASSERT_TRUE(launches.ok());
  ASSERT_EQ(launches->size(), 1u);
  EXPECT_EQ((*launches)[0].threads, 1);
}

TEST(GpuMap, UnsharedLocalsDoNotJoinStatements) {
  Nest n(2, 8, LoopKind::Parallel, LoopKind::Parallel);
  Var unused = n.b.newVar(DType::F32, "unused");
  Kernel k = n.k;
  k.body = B::block({B::declare(unused, B::constant(DType::F32, 0)), n.k.body});
  auto launches = mapToGpu(k);
  ASSERT_TRUE(launches.ok());
  ASSERT_EQ(launches->size(), 2u);
  EXPECT_EQ((*launches)[1].threads, 16);
}

TEST(GpuMap, LocalsDeclaredInsideAnEarlierStatementKeepItTogether) {
  Nest n(2, 8, LoopKind::Parallel, LoopKind::Parallel);
  Var total = n.b.newVar(DType::F32, "total");
  Kernel k = n.k;
  // The local is declared inside a block and read by the nest after it.
  k.body = B::block({B::block({B::declare(total, B::constant(DType::F32, 0)),
                               B::store(1, B::i64(0), B::ref(total))}),
                     n.k.body, B::store(1, B::i64(1), B::ref(total))});
  auto launches = mapToGpu(k);
  ASSERT_TRUE(launches.ok());
  ASSERT_EQ(launches->size(), 1u);
  EXPECT_EQ((*launches)[0].threads, 1);
}

TEST(GpuMap, CpuGemmKernelsAreRejected) {
  Nest n(2, 8, LoopKind::Parallel, LoopKind::Parallel);
  Kernel k = n.k;
  k.buffers.push_back({"packed", DType::F32, 16});
  k.buffers.back().isScratch = true;
  auto launches = mapToGpu(k);
  ASSERT_FALSE(launches.ok());
  EXPECT_THAT(std::string(launches.status().message()),
              HasSubstr("is a CPU GEMM kernel"));
}

TEST(GpuMap, LaunchesRunInOrderAsOneCpuKernel) {
  Nest n(4, 300, LoopKind::Parallel, LoopKind::Parallel);
  auto launches = mapToGpu(n.k);
  ASSERT_TRUE(launches.ok());
  std::string text = print(runLaunchesInOrder(n.k, *launches));
  // Whole blocks: the threads past the last iteration do nothing.
  EXPECT_THAT(text, HasSubstr("for thread.2 in 0..1280 {"));
  EXPECT_THAT(text, HasSubstr("if (thread.2 < 1200) {"));
}

} // namespace
} // namespace nyx::kernel
