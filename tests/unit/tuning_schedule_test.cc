// GEMM schedules: the attribute's text form, the checks a schedule must
// pass, the default heuristic and the space the autotuner searches.
#include <algorithm>
#include <set>

#include "codegen/kernel/gemm_schedule.h"
#include "ir/strings.h"
#include "gtest/gtest.h"

namespace nyx::kernel {
namespace {

GemmSchedule schedule(int64_t mr, int64_t nr, int64_t mc, int64_t nc,
                      bool packA, int64_t kc = 0) {
  GemmSchedule s;
  s.mr = mr;
  s.nr = nr;
  s.mc = mc;
  s.nc = nc;
  s.kc = kc;
  s.packA = packA;
  return s;
}

std::string parseError(std::string_view text) {
  auto s = GemmSchedule::parse(text);
  EXPECT_FALSE(s.ok()) << text;
  return s.ok() ? "" : std::string(s.status().message());
}

TEST(GemmScheduleText, RoundTrips) {
  for (const GemmSchedule &s : {schedule(6, 64, 96, 256, false),
                                schedule(14, 32, 518, 64, true, 256)}) {
    auto back = GemmSchedule::parse(s.str());
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(schedule(6, 64, 96, 256, false).str(),
            "mr=6,nr=64,mc=96,nc=256,pack_a=0");
  EXPECT_EQ(schedule(6, 64, 96, 256, true, 512).str(),
            "mr=6,nr=64,mc=96,nc=256,kc=512,pack_a=1");
  GemmSchedule inPlace = schedule(6, 64, 96, 256, false);
  inPlace.packB = false;
  EXPECT_EQ(inPlace.str(), "mr=6,nr=64,mc=96,nc=256,pack_a=0,pack_b=0");
  EXPECT_EQ(GemmSchedule::parse(inPlace.str()).value(), inPlace);
  // Keys in any order; kc and pack_b are optional.
  auto shuffled = GemmSchedule::parse("pack_a=1,nc=32,mc=8,nr=16,mr=4");
  ASSERT_TRUE(shuffled.ok());
  EXPECT_EQ(*shuffled, schedule(4, 16, 8, 32, true));
}

TEST(GemmScheduleText, ErrorsNameTheProblem) {
  EXPECT_EQ(parseError("mr=6,nr=64,mc=96,pack_a=1"),
            "schedule 'mr=6,nr=64,mc=96,pack_a=1' has no 'nc'; expected mr, "
            "nr, mc, nc and pack_a");
  EXPECT_EQ(parseError("mr=6,mr=4"), "schedule key 'mr' appears twice");
  EXPECT_EQ(parseError("mr=six"),
            "schedule key 'mr' has value 'six'; expected an integer");
  EXPECT_EQ(parseError("mr=6,nr"),
            "schedule item 'nr' has no '='; expected key=integer");
  EXPECT_EQ(parseError("mr=6,nr=64,mc=96,nc=256,pack_a=1,kb=64"),
            "schedule key 'kb' is unknown; expected mr, nr, mc, nc, kc, pack_a "
            "and pack_b");
  EXPECT_EQ(parseError("mr=6,nr=64,mc=96,nc=256,pack_a=1,pack_b=3"),
            "schedule 'mr=6,nr=64,mc=96,nc=256,pack_a=1,pack_b=3' has "
            "pack_b=3; expected 0 or 1");
  EXPECT_NE(parseError("mr=6,nr=64,mc=96,nc=256,pack_a=2").find("pack_a"),
            std::string::npos);
  EXPECT_NE(parseError("").find("no '='"), std::string::npos);
}

TEST(GemmScheduleCheck, RefusesWhatTheKernelCannotUse) {
  const GemmShape shape{1, 256, 256, 256};
  EXPECT_TRUE(validateSchedule(schedule(6, 64, 96, 256, true), shape, 16).ok());
  auto message = [&](GemmSchedule s, int lanes) {
    return std::string(validateSchedule(s, shape, lanes).message());
  };
  EXPECT_NE(message(schedule(0, 64, 96, 256, true), 16).find("size <= 0"),
            std::string::npos);
  EXPECT_NE(message(schedule(6, 24, 96, 240, true), 16)
                .find("multiple of the target"),
            std::string::npos);
  EXPECT_NE(message(schedule(6, 64, 100, 256, true), 16).find("whole tiles"),
            std::string::npos);
  // 12 rows of 4 vectors are 48 accumulators: more than 32 registers.
  EXPECT_NE(message(schedule(12, 64, 96, 256, true), 16)
                .find("accumulator registers"),
            std::string::npos);
  // AVX2 has 16 registers: 6 rows of 2 vectors fit, 6 rows of 4 do not.
  EXPECT_TRUE(validateSchedule(schedule(6, 16, 96, 256, true), shape, 8).ok());
  EXPECT_FALSE(validateSchedule(schedule(6, 32, 96, 256, true), shape, 8).ok());
}

TEST(GemmScheduleCheck, BlocksAreCutToTheProblemBeforeTheScratchLimit) {
  // 2^40 columns of a 64-column product are one 64-column block.
  const GemmShape narrow{1, 32, 64, 4096};
  const GemmSchedule huge = schedule(6, 64, 6000, int64_t{1} << 40, true);
  EXPECT_TRUE(validateSchedule(huge, narrow, 16).ok());
  const GemmSchedule cut = withinProblem(huge, narrow);
  EXPECT_EQ(cut.mc, 36);
  EXPECT_EQ(cut.nc, 64);
  // Where the problem is that wide, the block is what it says: 2^20
  // columns of depth 4096 would pack 16 GiB of B.
  const GemmShape wide{1, 32, int64_t{1} << 20, 4096};
  EXPECT_NE(
      std::string(validateSchedule(schedule(6, 64, 96, int64_t{1} << 20, true),
                                   wide, 16)
                      .message())
          .find("block of B"),
      std::string::npos);
}

TEST(GemmScheduleCheck, VectorLanesFollowTheWidth) {
  EXPECT_EQ(vectorLanes(512), 16);
  EXPECT_EQ(vectorLanes(256), 8);
  EXPECT_EQ(vectorLanes(128), 4);
}

// Shapes of every kind: tiny, skinny, wide, batched, conv-like, huge K.
const GemmShape kShapes[] = {
    {1, 1, 1, 1},        {1, 64, 96, 80},   {1, 1024, 1024, 1024},
    {1, 1, 4096, 1024},  {1, 4096, 1, 512}, {1, 3, 5, 7},
    {8, 128, 64, 64},    {1, 1024, 64, 27}, {2, 3136, 64, 576},
    {1, 17, 1000, 4096}, {1, 8, 8, 100000}, {12, 197, 197, 64},
};

TEST(GemmScheduleSpace, DefaultsAreValid) {
  for (int lanes : {4, 8, 16})
    for (int threads : {1, 2, 16})
      for (const GemmShape &shape : kShapes) {
        GemmSchedule s = defaultSchedule(shape, lanes, threads);
        EXPECT_TRUE(validateSchedule(s, shape, lanes).ok())
            << s.str() << " for " << shape.batch << "x" << shape.m << "x"
            << shape.n << "x" << shape.k << " lanes " << lanes << ": "
            << validateSchedule(s, shape, lanes).message();
      }
}

TEST(GemmScheduleSpace, DefaultTileRowsPadLittle) {
  // 6-row tiles where they pad little; 5 rows for 49 (54 would pad 5), 4
  // for 128 (132 would pad 4).
  EXPECT_EQ(defaultSchedule({1, 3136, 64, 576}, 16, 1).mr, 6);
  EXPECT_EQ(defaultSchedule({1, 49, 512, 4608}, 16, 1).mr, 5);
  EXPECT_EQ(defaultSchedule({1, 128, 3072, 768}, 16, 1).mr, 4);
}

// Columns of C the busiest thread computes when `threads` threads take
// contiguous runs of the column blocks of a product with one row block.
int64_t busiestThreadColumns(const GemmShape &shape, const GemmSchedule &s,
                             int threads) {
  EXPECT_EQ(s.mc, (shape.m + s.mr - 1) / s.mr * s.mr) << "one row block";
  const int64_t blocks = (shape.n + s.nc - 1) / s.nc;
  const int64_t chunks = std::min<int64_t>(threads, blocks);
  int64_t busiest = 0, block = 0;
  for (int64_t c = 0; c < chunks; ++c) {
    int64_t columns = 0;
    for (int64_t end = block + blocks / chunks + (c < blocks % chunks);
         block < end; ++block)
      columns += std::min(s.nc, shape.n - block * s.nc);
    busiest = std::max(busiest, columns);
  }
  return busiest;
}

TEST(GemmScheduleSpace, ColumnBlocksShareTheWorkEvenly) {
  // N = 512 in L2-sized blocks of 160 would give two threads 320 and 192
  // columns, N = 768 in blocks of 256 would give them 512 and 256: the
  // default narrows the blocks until every thread has its share of nr-wide
  // panels, and keeps the L2-sized blocks for one thread.
  GemmShape mlp{1, 32, 512, 784};
  mlp.bInPlace = true;
  const GemmShape gpt2{1, 128, 768, 3072};
  EXPECT_EQ(defaultSchedule(mlp, 16, 1).nc, 160);
  EXPECT_EQ(defaultSchedule(mlp, 16, 2).nc, 128);
  EXPECT_EQ(defaultSchedule(gpt2, 16, 1).nc, 256);
  EXPECT_EQ(defaultSchedule(gpt2, 16, 2).nc, 192);
  for (const GemmShape &shape :
       {mlp, gpt2, GemmShape{1, 128, 3072, 768}, GemmShape{1, 32, 10, 512},
        GemmShape{1, 64, 1000, 2048}})
    for (int threads : {2, 3, 4}) {
      GemmSchedule s = defaultSchedule(shape, 16, threads);
      EXPECT_TRUE(validateSchedule(s, shape, 16).ok()) << s.str();
      const int64_t panels = (shape.n + s.nr - 1) / s.nr;
      const int64_t share = (panels + threads - 1) / threads * s.nr;
      EXPECT_LE(busiestThreadColumns(shape, s, threads), share)
          << s.str() << " for N = " << shape.n << ", " << threads << " threads";
    }
}

TEST(GemmScheduleSpace, EmptyProductsGetValidSchedules) {
  // M, N, K or the batch of 0: nothing to compute, but no division by a
  // block of 0 rows on the way.
  for (const GemmShape &shape :
       {GemmShape{1, 0, 3, 5}, GemmShape{1, 4, 0, 5}, GemmShape{1, 4, 3, 0},
        GemmShape{0, 4, 3, 5}, GemmShape{0, 300, 64, 64}})
    for (int threads : {1, 2}) {
      GemmSchedule s = defaultSchedule(shape, 16, threads);
      EXPECT_TRUE(validateSchedule(s, shape, 16).ok()) << s.str();
      EXPECT_FALSE(scheduleSpace(shape, 16, threads).empty());
    }
}

TEST(GemmScheduleSpace, TilesCoverWholeBlocksOfB) {
  // A blocked filter (16-column blocks) on 8-lane vectors: the default
  // and every candidate tile cover whole blocks; nr = 8 is refused.
  for (GemmShape shape : {GemmShape{1, 49, 512, 4608}, GemmShape{8, 7, 16, 9},
                          GemmShape{1, 3136, 64, 576}}) {
    shape.bBlock = 16;
    EXPECT_EQ(defaultSchedule(shape, 8, 1).nr % 16, 0);
    for (const GemmSchedule &s : scheduleSpace(shape, 8, 2))
      EXPECT_EQ(s.nr % 16, 0) << s.str();
  }
  GemmShape shape{1, 49, 512, 4608};
  shape.bBlock = 16;
  GemmSchedule s = defaultSchedule(shape, 8, 1);
  s.nr = 8;
  s.nc = 8;
  EXPECT_EQ(validateSchedule(s, shape, 8).message(),
            strCat("schedule ", s.str(),
                   " has nr=8; expected a multiple of the 16-column blocks "
                   "of B (the filter layout)"));
}

TEST(GemmScheduleDefault, SmallConvolutionsGetTilesOfWholeOutputRows) {
  // ResNet-18's layer4 (7x7 pixels) and layer3 (14x14): 7-row tiles, one
  // output row or half of one, which skip the taps over the padding;
  // without taps to skip, and at 56 pixels wide, the usual 5x64 and 6x64.
  GemmShape shape{1, 49, 512, 4608};
  shape.bBlock = 16;
  EXPECT_EQ(defaultSchedule(shape, 16, 1).mr, 5);
  EXPECT_EQ(defaultSchedule(shape, 16, 1).nr, 64);
  shape.pixelRowWidth = 7;
  for (int threads : {1, 2}) {
    GemmSchedule s = defaultSchedule(shape, 16, threads);
    EXPECT_EQ(s.mr, 7) << s.str();
    EXPECT_EQ(s.nr, 32) << s.str();
    EXPECT_TRUE(validateSchedule(s, shape, 16).ok()) << s.str();
  }
  GemmShape layer3{1, 196, 256, 2304};
  layer3.bBlock = 16;
  layer3.pixelRowWidth = 14;
  EXPECT_EQ(defaultSchedule(layer3, 16, 1).mr, 7);
  GemmShape layer1{1, 3136, 64, 576};
  layer1.bBlock = 16;
  layer1.pixelRowWidth = 56;
  EXPECT_EQ(defaultSchedule(layer1, 16, 1).mr, 6);
  EXPECT_EQ(defaultSchedule(layer1, 16, 1).nr, 64);
  // 8-lane vectors: 7 rows of a 16-wide block's two vectors need 17 of
  // the 16 registers, so the tile stays as it was.
  shape.pixelRowWidth = 0;
  const GemmSchedule avx2 = defaultSchedule(shape, 8, 1);
  shape.pixelRowWidth = 7;
  EXPECT_EQ(defaultSchedule(shape, 8, 1), avx2);
}

TEST(GemmScheduleSpace, StartsWithTheDefaultAndHoldsDistinctValidSchedules) {
  for (int lanes : {8, 16})
    for (int threads : {1, 2})
      for (const GemmShape &shape : kShapes) {
        std::vector<GemmSchedule> space = scheduleSpace(shape, lanes, threads);
        ASSERT_FALSE(space.empty());
        EXPECT_EQ(space[0], defaultSchedule(shape, lanes, threads));
        EXPECT_LE(space.size(), 64u);
        std::set<std::string> seen;
        for (const GemmSchedule &s : space) {
          EXPECT_TRUE(validateSchedule(s, shape, lanes).ok()) << s.str();
          EXPECT_TRUE(seen.insert(s.str()).second) << "twice: " << s.str();
        }
      }
}

TEST(GemmScheduleSpace, OffersChoicesForRealProblems) {
  // A square GEMM has register tiles and block sizes to choose between.
  std::vector<GemmSchedule> space = scheduleSpace({1, 1024, 1024, 1024}, 16, 2);
  std::set<std::pair<int64_t, int64_t>> tiles;
  std::set<int64_t> blocks, depths;
  std::set<bool> packs;
  for (const GemmSchedule &s : space) {
    tiles.emplace(s.mr, s.nr);
    blocks.insert(s.nc);
    depths.insert(s.kc);
    packs.insert(s.packA);
  }
  EXPECT_GE(tiles.size(), 4u);
  EXPECT_GE(blocks.size(), 3u);
  EXPECT_GE(depths.size(), 2u);
  EXPECT_EQ(packs.size(), 2u);
}

TEST(GemmScheduleSpace, RespectsTheLimit) {
  EXPECT_EQ(scheduleSpace({1, 1024, 1024, 1024}, 16, 2, 5).size(), 5u);
  EXPECT_EQ(scheduleSpace({1, 1024, 1024, 1024}, 16, 2, 1)[0],
            defaultSchedule({1, 1024, 1024, 1024}, 16, 2));
}

} // namespace
} // namespace nyx::kernel
