// Float reductions in partial results (codegen/kernel/partial_sums.h): the
// order Lanes adds in, the loop nests the reduction and normalization
// lowerings build with it (printed), fused kernels around them, and the
// vector code LLVM makes of them. Numerics and accuracy are covered by
// tests/e2e/reduction_accuracy_test.cc.
#include <regex>
#include <string>

#include "codegen/codegen.h"
#include "codegen/kernel/lower_fusion.h"
#include "codegen/kernel/lowering.h"
#include "codegen/kernel/partial_sums.h"
#include "ir/parser.h"
#include "ir/strings.h"
#include "tests/support/lowered.h"
#include "gtest/gtest.h"

namespace nyx::kernel {
namespace {

using B = Builder;
using ir::DType;

std::string printed(const std::vector<StmtRef> &stmts) {
  Kernel k;
  k.name = "k";
  k.buffers = {{"x", DType::F32, 1000, false}};
  k.body = B::block(stmts);
  return print(k);
}

size_t occurrences(const std::string &text, const std::string &needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + 1))
    ++n;
  return n;
}

// Printed index arithmetic that divides by a constant: "(i.0 / 33)".
bool hasIndexDivision(const std::string &text) {
  return std::regex_search(text, std::regex("[/%] -?[0-9]+\\)"));
}

TEST(PartialSums, GroupsPerStepGrowWithTheRun) {
  EXPECT_EQ(runGroups(31), 0);
  EXPECT_EQ(runGroups(32), 1);
  EXPECT_EQ(runGroups(63), 1);
  EXPECT_EQ(runGroups(64), 2);
  EXPECT_EQ(runGroups(128), 4);
  EXPECT_EQ(runGroups(255), 4);
  EXPECT_EQ(runGroups(256), 8);
  EXPECT_EQ(runGroups(100000), 8);
}

ExprRef xAt(const ExprRef &i) { return B::load(0, DType::F32, i); }

TEST(PartialSums, RunSumStepsTailAndF64Combination) {
  Builder b;
  RunSum sum(b, DType::F32, "a");
  // 120 elements, two per lane and step: three steps of 32, then a tail of
  // 24: one group of 16 that starts the lanes, and 8 summed on their own.
  std::vector<StmtRef> stmts = sum.declare();
  for (StmtRef &s : sum.add(120, 2, xAt))
    stmts.push_back(s);
  for (StmtRef &s : sum.combine())
    stmts.push_back(s);
  std::string text = printed(stmts);
  EXPECT_NE(text.find("  a0.0 = (a0.0 + x[96])\n  a1.1 = (a1.1 + x[97])"),
            std::string::npos)
      << text;
  EXPECT_LT(text.find("a15.15 = (a15.15 + x[111])"), text.find("for s."))
      << text;
  EXPECT_NE(text.find("for s.18 in 0..3 {\n"
                      "    a0.0 = (a0.0 + (x[(s.18 * 32)] + "
                      "x[((s.18 * 32) + 16)]))"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("a15.15 = (a15.15 + (x[((s.18 * 32) + 15)] + "
                      "x[((s.18 * 32) + 31)]))"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("a_tail.16 = (a_tail.16 + (((x[112] + x[113]) + "
                      "(x[114] + x[115])) + ((x[116] + x[117]) + "
                      "(x[118] + x[119]))))"),
            std::string::npos)
      << text;
  // Lanes in order, then the tail, in f64 from 0.
  EXPECT_NE(text.find("var a_total.17: f64 = 0.0:f64\n"
                      "  a_total.17 = (a_total.17 + f64(a0.0))\n"
                      "  a_total.17 = (a_total.17 + f64(a1.1))"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("a_total.17 = (a_total.17 + f64(a15.15))\n"
                      "  a_total.17 = (a_total.17 + f64(a_tail.16))\n}"),
            std::string::npos)
      << text;
  EXPECT_EQ(sum.total()->kind, Expr::Kind::Cast);
}

TEST(PartialSums, F64SumsCombineWithoutConversions) {
  Builder b;
  RunSum sum(b, DType::F64, "d");
  std::string text = printed(sum.combine());
  EXPECT_NE(text.find("d_total.17 = (d_total.17 + d0.0)"), std::string::npos)
      << text;
  EXPECT_EQ(sum.total()->kind, Expr::Kind::VarRef);
}

TEST(PartialSums, LongStepsGoThroughBlockPartials) {
  Builder b;
  Lanes acc(b, sumCombiner(DType::F32), 1, "a");
  const int64_t steps = 2 * kBlockSteps + 5;
  std::string text = printed(
      acc.addSteps(steps, [](const ExprRef &s, int64_t) { return xAt(s); }));
  EXPECT_EQ(text, strCat(R"(kernel k(x: f32[1000]) {
  for blk.2 in 0..2 {
    var a_block0.1: f32 = 0.0:f32
    for s.3 in 0..)",
                         kBlockSteps, R"( {
      a_block0.1 = (a_block0.1 + x[((blk.2 * )",
                         kBlockSteps, R"() + s.3)])
    }
    a0.0 = (a0.0 + a_block0.1)
  }
  for s.4 in 0..5 {
    a0.0 = (a0.0 + x[()",
                         2 * kBlockSteps, R"( + s.4)])
  }
}
)"));
}

TEST(PartialSums, MaxLanesNeedNoBlocksAndKeepNaN) {
  Builder b;
  Lanes acc(b, maxCombiner(DType::F32), 1, "m");
  std::string text = printed(acc.addSteps(
      10 * kBlockSteps, [](const ExprRef &s, int64_t) { return xAt(s); }));
  EXPECT_EQ(occurrences(text, "for "), 1u) << text;
  EXPECT_NE(text.find("m0.0 = select(((x[s.1] > m0.0) | (x[s.1] != x[s.1])), "
                      "x[s.1], m0.0)"),
            std::string::npos)
      << text;
  EXPECT_EQ(printed(acc.declare()), R"(kernel k(x: f32[1000]) {
  var m0.0: f32 = -inf:f32
}
)");
}

TEST(PartialSums, ExtremeOfARunIsOneNaNPropagatingLoop) {
  Builder b;
  Var acc = b.newVar(DType::F32, "m");
  EXPECT_EQ(printed({extremeOfRun(b, acc, false, 100, xAt)}),
            R"(kernel k(x: f32[1000]) {
  for r.1 in 0..100 {
    m.0 = min(m.0, x[r.1])
  }
}
)");
}

TEST(PartialSums, ColumnTilesSplitARowForThreads) {
  auto tiles = [](const ir::Shape &prefix, int64_t columns, int64_t maxWidth) {
    Builder b;
    std::string widths;
    StmtRef s =
        columnTiles(b, prefix, columns, maxWidth,
                    [&](const ExprRef &, const ExprRef &, int64_t lanes) {
                      widths += strCat(lanes, ";");
                      return B::block({});
                    });
    return std::make_pair(widths, printed({s}));
  };
  // A single row of 1000: two tiles (512 and 488) in one parallel loop.
  auto [w1, p1] = tiles({}, 1000, 1024);
  EXPECT_NE(p1.find("parallel for tile.0 in 0..2"), std::string::npos) << p1;
  EXPECT_NE(p1.find("if (tile.0 < 1)"), std::string::npos) << p1;
  EXPECT_EQ(w1, "512;488;");
  // Rows of 100 under a prefix: one tile per row, the prefix parallel.
  auto [w2, p2] = tiles({3, 1}, 100, 1024);
  EXPECT_NE(p2.find("parallel for o0.0 in 0..3"), std::string::npos) << p2;
  EXPECT_EQ(p2.find("tile"), std::string::npos) << p2;
  EXPECT_EQ(w2, "100;");
  // Rows of 3000 in tiles of at most 1024: three tiles of 1008, the last
  // 984 wide.
  auto [w3, p3] = tiles({2}, 3000, 1024);
  EXPECT_NE(p3.find("for tile.1 in 0..2"), std::string::npos) << p3;
  EXPECT_EQ(w3, "1008;984;");
}

// -- Lowerings -----------------------------------------------------------

using test::Lowered;

// Lowers the first op of @main, or the kernel function @k when there is one;
// expects it to lower.
Lowered lower(const std::string &text) {
  Lowered l = text.find("kernel @k") != std::string::npos
                  ? test::lowerKernelFunction(text)
                  : test::lowerFirstOp(text);
  EXPECT_TRUE(l.kernel.ok()) << l.error();
  return l;
}

TEST(ReductionLowering, InnermostSumTakes16LanesOf8PerStep) {
  Lowered l = lower(R"(
func @main(%x: f32[4,1000]) -> (f32[4]) {
  %s = reduce_sum(%x) {axes = [1]} : f32[4]
  return %s
})");
  // 1000 = 7 steps of 128, then a tail of 104: six groups of 16 start the
  // lanes, the last 8 are summed apart.
  EXPECT_NE(l.printed.find("parallel for o0.0 in 0..4"), std::string::npos)
      << l.printed;
  EXPECT_NE(l.printed.find("var acc15."), std::string::npos) << l.printed;
  EXPECT_EQ(l.printed.find("var acc16."), std::string::npos) << l.printed;
  EXPECT_NE(l.printed.find(" in 0..7 {"), std::string::npos) << l.printed;
  EXPECT_NE(l.printed.find("x[((o0.0 * 1000) + 896)]"), std::string::npos)
      << l.printed;
  EXPECT_NE(l.printed.find("x[((o0.0 * 1000) + 999)]"), std::string::npos)
      << l.printed;
  // Each element is read once: 16 lanes x 8 per step, 104 in the tail.
  EXPECT_EQ(occurrences(l.printed, "x["), 16u * 8u + 104u) << l.printed;
  EXPECT_NE(l.printed.find("s[o0.0] = f32(acc_total."), std::string::npos)
      << l.printed;
}

TEST(ReductionLowering, InnermostMaxIsOneVectorizableRunningValue) {
  Lowered l = lower(R"(
func @main(%x: f32[4,1000]) -> (f32[4]) {
  %s = reduce_max(%x) {axes = [1]} : f32[4]
  return %s
})");
  EXPECT_EQ(l.printed, R"(kernel k(x: f32[4000], out s: f32[4]) {
  parallel for o0.0 in 0..4 {
    var acc.1: f32 = -inf:f32
    for r.2 in 0..1000 {
      acc.1 = max(acc.1, x[((o0.0 * 1000) + r.2)])
    }
    s[o0.0] = acc.1
  }
}
)");
}

TEST(ReductionLowering, ShortRowsAndIntegersKeepOneAccumulator) {
  for (const char *text : {R"(
func @main(%x: f32[4,31]) -> (f32[4]) {
  %s = reduce_sum(%x) {axes = [1]} : f32[4]
  return %s
})",
                           R"(
func @main(%x: f32[4,15]) -> (f32[4]) {
  %s = reduce_min(%x) {axes = [1]} : f32[4]
  return %s
})",
                           R"(
func @main(%x: i32[4,1000]) -> (i32[4]) {
  %s = reduce_sum(%x) {axes = [1]} : i32[4]
  return %s
})"}) {
    Lowered l = lower(text);
    EXPECT_NE(l.printed.find("var acc.2"), std::string::npos) << l.printed;
    EXPECT_EQ(l.printed.find("acc0."), std::string::npos) << l.printed;
    EXPECT_EQ(l.printed.find("min("), std::string::npos) << l.printed;
  }
}

TEST(ReductionLowering, MeanOverSeparatedAxesWalksTheOuterOneAroundRuns) {
  // Axes 0 and 2 reduced: the lanes and the tail sum take one run of the
  // 100 contiguous elements of axis 2 per position of axis 0.
  Lowered l = lower(R"(
func @main(%x: f16[3,5,100]) -> (f16[5]) {
  %m = reduce_mean(%x) {axes = [0, 2]} : f16[5]
  return %m
})");
  EXPECT_NE(l.printed.find("parallel for o0.0 in 0..5"), std::string::npos)
      << l.printed;
  EXPECT_NE(l.printed.find("for r0.1 in 0..3"), std::string::npos) << l.printed;
  EXPECT_NE(l.printed.find("var acc0.2: f32"), std::string::npos) << l.printed;
  EXPECT_NE(l.printed.find("x[(((r0.1 * 500) + (o0.0 * 100)) + 99)]"),
            std::string::npos)
      << l.printed;
  EXPECT_NE(l.printed.find("m[o0.0] = (f32(acc_total.19) / 300.0:f32)"),
            std::string::npos)
      << l.printed;
}

TEST(ReductionLowering, LeadingAxisSumsTilesOfColumnsInParallel) {
  Lowered l = lower(R"(
func @main(%x: f32[300,1000]) -> (f32[1000]) {
  %s = reduce_sum(%x) {axes = [0]} : f32[1000]
  return %s
})");
  // One row of 1000 columns: two tiles (512 and 488) so threads can share
  // it; every column stored once, nothing loaded back.
  EXPECT_NE(l.printed.find("parallel for tile.0 in 0..2"), std::string::npos)
      << l.printed;
  EXPECT_NE(l.printed.find("if (tile.0 < 1)"), std::string::npos) << l.printed;
  EXPECT_EQ(occurrences(l.printed, "s["), 1000u) << l.printed;
  EXPECT_EQ(l.printed.find("= s["), std::string::npos) << l.printed;
  EXPECT_NE(l.printed.find("s[((tile.0 * 512) + 511)] = acc511."),
            std::string::npos)
      << l.printed;
  EXPECT_NE(l.printed.find("s[999] = acc487."), std::string::npos) << l.printed;
  // 300 rows: four blocks of 64 rows through partials, then 44 rows.
  EXPECT_NE(l.printed.find("for blk."), std::string::npos) << l.printed;
  EXPECT_NE(l.printed.find(" in 0..44 {"), std::string::npos) << l.printed;
}

TEST(ReductionLowering, MiddleAxisTilesRunInsideTheParallelPrefix) {
  Lowered l = lower(R"(
func @main(%x: bf16[3,7,2,50]) -> (bf16[3,2,50]) {
  %m = reduce_max(%x) {axes = [1]} : bf16[3,2,50]
  return %m
})");
  // Columns are the 100 elements of the last two axes: one tile per row of
  // the parallel first axis, a NaN-sticking select per column.
  EXPECT_NE(l.printed.find("parallel for o0.0 in 0..3"), std::string::npos)
      << l.printed;
  EXPECT_EQ(l.printed.find("tile"), std::string::npos) << l.printed;
  EXPECT_NE(l.printed.find("var acc0.2: f32 = -inf:f32"), std::string::npos)
      << l.printed;
  EXPECT_NE(l.printed.find("m[((o0.0 * 100) + 99)] = acc99."),
            std::string::npos)
      << l.printed;
  EXPECT_NE(l.printed.find("select("), std::string::npos) << l.printed;
  EXPECT_EQ(l.printed.find("blk"), std::string::npos) << l.printed;
}

TEST(ReductionLowering, SeparatedReducedAxesBeforeKeptOnesKeepTheOldNest) {
  Lowered l = lower(R"(
func @main(%x: f32[4,3,5,64]) -> (f32[3,64]) {
  %s = reduce_sum(%x) {axes = [0, 2]} : f32[3,64]
  return %s
})");
  EXPECT_EQ(l.printed.find("acc0."), std::string::npos) << l.printed;
  EXPECT_NE(l.printed.find("s[((i0.0 * 64) + i1.1)] = 0.0:f32"),
            std::string::npos)
      << l.printed;
}

TEST(NormalizationLowering, SoftmaxRowsTakeMaxAndSumInLanes) {
  Lowered l = lower(R"(
func @main(%x: f32[2,100]) -> (f32[2,100]) {
  %y = log_softmax(%x) : f32[2,100]
  return %y
})");
  // The max in one running value; the sum in 16 lanes of 2 per step (three
  // steps) and a tail of 4; the output pass stays one loop.
  EXPECT_NE(l.printed.find("max.2 = max(max.2, x[((o0.0 * 100) + r."),
            std::string::npos)
      << l.printed;
  EXPECT_NE(l.printed.find("var sum15."), std::string::npos) << l.printed;
  EXPECT_NE(l.printed.find("var sum.3: f32 = f32(sum_total."),
            std::string::npos)
      << l.printed;
  EXPECT_EQ(occurrences(l.printed, "exp("), 16u * 2u + 4u) << l.printed;
  EXPECT_NE(l.printed.find("for r.5 in 0..100"), std::string::npos)
      << l.printed;
  EXPECT_NE(l.printed.find("log(sum.3)"), std::string::npos) << l.printed;
}

TEST(NormalizationLowering, SoftmaxOverALeadingAxisTilesTheInnerPositions) {
  Lowered l = lower(R"(
func @main(%x: f32[3,70,2,50]) -> (f32[3,70,2,50]) {
  %y = softmax(%x) {axis = 1} : f32[3,70,2,50]
  return %y
})");
  // 100 inner positions: tiles of 64 and 36 within each iteration of the
  // parallel first axis; each keeps a max and a sum per position and stores
  // each row's 100.
  EXPECT_NE(l.printed.find("parallel for o0.0 in 0..3"), std::string::npos)
      << l.printed;
  EXPECT_NE(l.printed.find("var max63."), std::string::npos) << l.printed;
  EXPECT_NE(l.printed.find("var sum35."), std::string::npos) << l.printed;
  // 70 rows: the sums take a block of 64 through partials, then 6 rows.
  EXPECT_NE(l.printed.find("var sum_block63."), std::string::npos) << l.printed;
  EXPECT_EQ(occurrences(l.printed, "y["), 100u) << l.printed;
  EXPECT_NE(l.printed.find("+ 35)] = (exp((x[((((o0.0 * 7000) + 64) + (r."),
            std::string::npos)
      << l.printed;
}

TEST(NormalizationLowering, LayerNormSumsMeanAndDeviationsInLanes) {
  Lowered l = lower(R"(
func @main(%x: f32[3,256], %g: f32[256], %b: f32[256]) -> (f32[3,256]) {
  %y = layer_norm(%x, %g, %b) : f32[3,256]
  return %y
})");
  // The corrected two-pass algorithm: three sums of 16 lanes of 8 per step
  // (two steps each) -- the row, its deviations from the mean, their
  // squares, the last two needing only the mean -- the squares corrected by
  // the deviations' sum, then the output pass.
  EXPECT_EQ(occurrences(l.printed, "var acc15."), 3u) << l.printed;
  EXPECT_EQ(occurrences(l.printed, " in 0..2 {"), 3u) << l.printed;
  EXPECT_NE(l.printed.find("var acc.5: f32 = f32(acc_total."),
            std::string::npos)
      << l.printed;
  EXPECT_NE(l.printed.find("var mean.4: f32 = (acc.5 / 256.0:f32)"),
            std::string::npos)
      << l.printed;
  EXPECT_NE(l.printed.find("((x[((row0.0 * 256) + ((s.65 * 128) + 112))] - "
                           "mean.4) * (x[((row0.0 * 256) + ((s.65 * 128) + "
                           "112))] - mean.4))"),
            std::string::npos)
      << l.printed;
  EXPECT_NE(l.printed.find("acc.5 = (acc.5 - (mean_error.7 * (mean_error.7 / "
                           "256.0:f32)))\n    mean_error.7 = (mean_error.7 / "
                           "256.0:f32)"),
            std::string::npos)
      << l.printed;
  EXPECT_NE(l.printed.find("y[((row0.0 * 256) + j.3)] = (((((x[((row0.0 * "
                           "256) + j.3)] - mean.4) - mean_error.7) * inv.6) "
                           "* g[j.3]) + b[j.3])"),
            std::string::npos)
      << l.printed;
}

TEST(NormalizationLowering, RmsNormSumsSquaresInLanes) {
  Lowered l = lower(R"(
func @main(%x: f32[3,48]) -> (f32[3,48]) {
  %y = rms_norm(%x) : f32[3,48]
  return %y
})");
  // 48 = three steps of one element per lane.
  EXPECT_NE(l.printed.find("var acc15."), std::string::npos) << l.printed;
  EXPECT_NE(l.printed.find(" in 0..3 {"), std::string::npos) << l.printed;
  EXPECT_EQ(l.printed.find("mean"), std::string::npos) << l.printed;
  EXPECT_EQ(occurrences(l.printed, " * x["), 16u) << l.printed;
}

// -- Fused kernels around lanes --------------------------------------------

TEST(FusedLanes, PrologueFeedsEveryLaneWithoutIndexDivision) {
  Lowered l = lower(R"(
kernel @k(%x: f32[4,1000], %r: f32[1000,4]) -> (f32[4], f32[4]) {
  %t = transpose(%r) : f32[4,1000]
  %a = add(%x, %t) : f32[4,1000]
  %q = mul(%a, %a) : f32[4,1000]
  %s = reduce_sum(%q) {axes = [1]} : f32[4]
  %n = sqrt(%s) : f32[4]
  return %s, %n
})");
  EXPECT_FALSE(hasIndexDivision(l.printed)) << l.printed;
  EXPECT_EQ(occurrences(l.printed, "r["), 16u * 8u + 104u) << l.printed;
  EXPECT_NE(l.printed.find("n[o0.0] = sqrt("), std::string::npos) << l.printed;
}

TEST(FusedLanes, ColumnTilesStoreEveryEpilogueValueOnce) {
  Lowered l = lower(R"(
kernel @k(%x: f32[300,100], %b: f32[100]) -> (f32[100]) {
  %e = exp(%x) : f32[300,100]
  %m = reduce_max(%e) {axes = [0]} : f32[100]
  %y = add(%m, %b) : f32[100]
  return %y
})");
  EXPECT_FALSE(hasIndexDivision(l.printed)) << l.printed;
  EXPECT_EQ(occurrences(l.printed, "y["), 100u) << l.printed;
  EXPECT_NE(l.printed.find("y[99] = (acc99."), std::string::npos) << l.printed;
  EXPECT_NE(l.printed.find("exp(x["), std::string::npos) << l.printed;
}

TEST(FusedLanes, SoftmaxAndLayerNormTakeTheirPrologues) {
  Lowered softmax = lower(R"(
kernel @k(%x: f32[8,100], %r: f32[8,100], %g: f32[100]) -> (f32[8,100]) {
  %a = add(%x, %r) : f32[8,100]
  %p = softmax(%a) : f32[8,100]
  %y = mul(%p, %g) : f32[8,100]
  return %y
})");
  EXPECT_FALSE(hasIndexDivision(softmax.printed)) << softmax.printed;
  EXPECT_NE(softmax.printed.find("(x[((o0.0 * 100) + 99)] + "
                                 "r[((o0.0 * 100) + 99)])"),
            std::string::npos)
      << softmax.printed;
  Lowered norm = lower(R"(
kernel @k(%x: f32[3,4,64], %r: f32[3,4,64], %g: f32[64]) -> (f32[3,4,64]) {
  %a = add(%x, %r) : f32[3,4,64]
  %n = rms_norm(%a, %g) : f32[3,4,64]
  return %n
})");
  EXPECT_FALSE(hasIndexDivision(norm.printed)) << norm.printed;
  EXPECT_NE(norm.printed.find("var acc15."), std::string::npos) << norm.printed;
}

// -- Vector code -------------------------------------------------------------

std::string llvmIR(const std::string &text) {
  auto parsed = ir::parseModule(text, "test.nyx");
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  if (!parsed.ok())
    return "";
  codegen::Options options;
  options.modelName = "m";
  options.target = "x86-64-avx512";
  auto model =
      codegen::compileModel(**parsed, **(*parsed)->entry(), {}, options);
  EXPECT_TRUE(model.ok()) << model.status().message();
  return model.ok() ? (*model)->llvmIR() : "";
}

TEST(ReductionVectorCode, LaneSumsBecome512BitAdds) {
  for (const char *text : {R"(
func @main(%x: f32[8,1024]) -> (f32[8]) {
  %s = reduce_sum(%x) {axes = [1]} : f32[8]
  return %s
})",
                           R"(
func @main(%x: f32[256,128]) -> (f32[128]) {
  %s = reduce_sum(%x) {axes = [0]} : f32[128]
  return %s
})",
                           R"(
func @main(%x: f32[16,768], %g: f32[768], %b: f32[768]) -> (f32[16,768]) {
  %y = layer_norm(%x, %g, %b) : f32[16,768]
  return %y
})"}) {
    std::string ir = llvmIR(text);
    EXPECT_NE(ir.find("fadd <16 x float>"), std::string::npos) << ir;
  }
}

TEST(ReductionVectorCode, SoftmaxSumsVectorizeTheirExponentials) {
  std::string ir = llvmIR(R"(
func @main(%x: f32[8,1000]) -> (f32[8,1000]) {
  %y = softmax(%x) : f32[8,1000]
  return %y
})");
  EXPECT_NE(ir.find("fadd <16 x float>"), std::string::npos) << ir;
  EXPECT_NE(ir.find("@llvm.vector.reduce.fmaximum"), std::string::npos) << ir;
  // No exponential is computed one element at a time.
  EXPECT_EQ(ir.find("call float @expf"), std::string::npos) << ir;
  EXPECT_EQ(ir.find("call float @nyx.expf"), std::string::npos) << ir;
}

} // namespace
} // namespace nyx::kernel
