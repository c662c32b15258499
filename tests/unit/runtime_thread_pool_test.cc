// nyx_parallel_for: coverage of every index, thread counts, nesting and
// concurrent callers.
#include "nyx/runtime.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace {

// Restores the default thread count after each test.
class ThreadPoolTest : public testing::Test {
protected:
  void TearDown() override { nyx_set_num_threads(0); }
};

struct Coverage {
  std::vector<std::atomic<int>> hits;
  std::atomic<int64_t> chunks{0};
  std::atomic<bool> bad_range{false};
  explicit Coverage(int64_t n) : hits(static_cast<size_t>(n)) {}
};

void countHits(void *ctx, int64_t begin, int64_t end) {
  auto *c = static_cast<Coverage *>(ctx);
  if (begin >= end || begin < 0 || end > static_cast<int64_t>(c->hits.size()))
    c->bad_range = true;
  for (int64_t i = begin; i < end && !c->bad_range; ++i)
    c->hits[static_cast<size_t>(i)].fetch_add(1);
  c->chunks.fetch_add(1);
}

void expectEachIndexOnce(const Coverage &c, int64_t n) {
  ASSERT_FALSE(c.bad_range) << "n=" << n;
  for (int64_t i = 0; i < n; ++i)
    ASSERT_EQ(c.hits[static_cast<size_t>(i)].load(), 1)
        << "index " << i << " of n=" << n;
}

TEST_F(ThreadPoolTest, CoversEveryIndexExactlyOnce) {
  const int thread_counts[] = {1, 2, 3, 4, 7, 16};
  const int64_t sizes[] = {1, 2, 3, 5, 7, 8, 15, 16, 17, 100, 1000, 12345};
  for (int threads : thread_counts) {
    nyx_set_num_threads(threads);
    EXPECT_EQ(nyx_get_num_threads(), threads);
    for (int64_t n : sizes) {
      Coverage c(n);
      nyx_parallel_for(n, countHits, &c);
      expectEachIndexOnce(c, n);
      EXPECT_LE(c.chunks.load(), std::min<int64_t>(n, threads))
          << "threads=" << threads << " n=" << n;
    }
  }
}

TEST_F(ThreadPoolTest, SplitsIntoOneChunkPerThreadWhenThereIsEnoughWork) {
  nyx_set_num_threads(4);
  Coverage c(1000);
  nyx_parallel_for(1000, countHits, &c);
  expectEachIndexOnce(c, 1000);
  EXPECT_EQ(c.chunks.load(), 4);
}

TEST_F(ThreadPoolTest, UsesSeveralThreads) {
  nyx_set_num_threads(4);
  struct Ctx {
    std::mutex mu;
    std::set<std::thread::id> ids;
    std::atomic<int> arrived{0};
  } ctx;
  // Each chunk waits (boundedly) for the others so that one thread cannot
  // run them all before the workers wake up.
  nyx_parallel_for(
      4,
      [](void *p, int64_t, int64_t) {
        auto *c = static_cast<Ctx *>(p);
        {
          std::lock_guard<std::mutex> lock(c->mu);
          c->ids.insert(std::this_thread::get_id());
        }
        c->arrived.fetch_add(1);
        for (int spin = 0; spin < 2000 && c->arrived.load() < 4; ++spin)
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
      },
      &ctx);
  EXPECT_EQ(ctx.ids.size(), 4u);
  EXPECT_TRUE(ctx.ids.count(std::this_thread::get_id()))
      << "the calling thread takes part";
}

TEST_F(ThreadPoolTest, NonPositiveSizesDoNothing) {
  nyx_set_num_threads(4);
  int calls = 0;
  auto body = [](void *p, int64_t, int64_t) { ++*static_cast<int *>(p); };
  nyx_parallel_for(0, body, &calls);
  nyx_parallel_for(-5, body, &calls);
  EXPECT_EQ(calls, 0);
}

TEST_F(ThreadPoolTest, OneThreadRunsInlineOnTheCaller) {
  nyx_set_num_threads(1);
  struct Ctx {
    std::thread::id id;
    int calls = 0;
    bool other_thread = false;
  } ctx{std::this_thread::get_id()};
  nyx_parallel_for(
      1000,
      [](void *p, int64_t begin, int64_t end) {
        auto *c = static_cast<Ctx *>(p);
        ++c->calls;
        c->other_thread |= std::this_thread::get_id() != c->id;
        EXPECT_EQ(begin, 0);
        EXPECT_EQ(end, 1000);
      },
      &ctx);
  EXPECT_EQ(ctx.calls, 1);
  EXPECT_FALSE(ctx.other_thread);
}

constexpr int64_t kOuter = 16, kInner = 50;

TEST_F(ThreadPoolTest, NestedCallsRunSeriallyWithoutDeadlock) {
  nyx_set_num_threads(4);
  struct Ctx {
    std::vector<std::atomic<int>> hits;
    Ctx() : hits(kOuter * kInner) {}
  } ctx;
  struct Inner {
    Ctx *ctx;
    int64_t row;
  };
  nyx_parallel_for(
      kOuter,
      [](void *p, int64_t begin, int64_t end) {
        for (int64_t row = begin; row < end; ++row) {
          Inner inner{static_cast<Ctx *>(p), row};
          nyx_parallel_for(
              kInner,
              [](void *q, int64_t b, int64_t e) {
                auto *in = static_cast<Inner *>(q);
                // Serial nesting means one chunk covering the whole range.
                EXPECT_EQ(b, 0);
                EXPECT_EQ(e, kInner);
                for (int64_t i = b; i < e; ++i)
                  in->ctx->hits[static_cast<size_t>(in->row * kInner + i)]++;
              },
              &inner);
        }
      },
      &ctx);
  for (const auto &h : ctx.hits)
    EXPECT_EQ(h.load(), 1);
}

TEST_F(ThreadPoolTest, ConcurrentCallersFromSeveralThreads) {
  nyx_set_num_threads(3);
  constexpr int kCallers = 6, kRounds = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < kCallers; ++t) {
    callers.emplace_back([t, &failures] {
      for (int round = 0; round < kRounds; ++round) {
        int64_t n = 1 + (t * 131 + round * 17) % 997;
        Coverage c(n);
        nyx_parallel_for(n, countHits, &c);
        bool ok = !c.bad_range;
        for (const auto &h : c.hits)
          ok &= h.load() == 1;
        if (!ok)
          failures++;
      }
    });
  }
  for (std::thread &t : callers)
    t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(ThreadPoolTest, ThreadCountChangesBetweenCallsWhileOthersRun) {
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::thread caller([&] {
    while (!stop) {
      Coverage c(257);
      nyx_parallel_for(257, countHits, &c);
      for (const auto &h : c.hits)
        if (h.load() != 1)
          failures++;
    }
  });
  for (int i = 0; i < 200; ++i)
    nyx_set_num_threads(1 + i % 5);
  stop = true;
  caller.join();
  EXPECT_EQ(failures.load(), 0);
}

// A body may change the thread count; the change applies to later calls.
TEST_F(ThreadPoolTest, SetNumThreadsFromInsideABodyDoesNotDeadlock) {
  nyx_set_num_threads(4);
  nyx_parallel_for(
      64, [](void *, int64_t, int64_t) { nyx_set_num_threads(2); }, nullptr);
  EXPECT_EQ(nyx_get_num_threads(), 2);
  Coverage c(1000);
  nyx_parallel_for(1000, countHits, &c);
  expectEachIndexOnce(c, 1000);
}

TEST_F(ThreadPoolTest, SetNumThreadsClampsAndResets) {
  nyx_set_num_threads(5);
  EXPECT_EQ(nyx_get_num_threads(), 5);
  nyx_set_num_threads(100000);
  EXPECT_EQ(nyx_get_num_threads(), 1024);
  nyx_set_num_threads(0);
  EXPECT_GE(nyx_get_num_threads(), 1);
  int default_count = nyx_get_num_threads();
  nyx_set_num_threads(-3);
  EXPECT_EQ(nyx_get_num_threads(), default_count);
}

TEST(ThreadPoolEnv, NumThreadsComesFromTheEnvironment) {
  // The environment is read whenever no explicit count is set.
  nyx_set_num_threads(0);
  ASSERT_EQ(setenv("NYX_NUM_THREADS", "3", 1), 0);
  EXPECT_EQ(nyx_get_num_threads(), 3);
  Coverage c(100);
  nyx_parallel_for(100, countHits, &c);
  expectEachIndexOnce(c, 100);
  EXPECT_EQ(c.chunks.load(), 3);
  ASSERT_EQ(setenv("NYX_NUM_THREADS", "bogus", 1), 0);
  EXPECT_GE(nyx_get_num_threads(), 1);
  unsetenv("NYX_NUM_THREADS");
}

} // namespace
