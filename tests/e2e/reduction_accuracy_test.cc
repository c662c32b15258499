// Compiled float reductions in partial results (codegen/kernel/
// partial_sums.h) on long rows and columns: their error against an exact
// (double) reference is compared with the error of a sequential f32 sum,
// on inputs made to hurt a sequential sum (large and small values mixed,
// many positive values). Then the forms the lowerings take (lanes over
// runs, column tiles, softmax tiles, two-level blocks, tails) against the
// interpreter over every float dtype, with NaN, and inside fused kernels.
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "compiler/compilation.h"
#include "harness.h"
#include "ir/strings.h"

namespace nyx {
namespace {

using e2e::typeText;
using ir::DType;

// Runs @main of `text`, compiled at -O2, on `inputs`.
std::vector<ir::Tensor> runCompiled(const std::string &text,
                                    const std::vector<ir::Tensor> &inputs) {
  auto parsed = ir::parseModule(text, "accuracy.nyx");
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  if (!parsed.ok())
    return {};
  const ir::Function &fn = **(*parsed)->entry();
  codegen::Options options;
  options.modelName = "nyx_test";
  auto model = e2e::LoadedModel::build(**parsed, fn, {}, options);
  if (!model)
    return {};
  std::vector<ir::Tensor> outputs;
  for (const ir::TensorType &t : fn.resultTypes)
    outputs.emplace_back(t);
  EXPECT_EQ(model->run(inputs, outputs), 0);
  return outputs;
}

// The unit roundoff of f32.
constexpr double kU = 0x1p-24;

// The most roundings one element of a sum goes through when a lane takes
// `steps` steps (partial_sums.h): 3 in its step's pairwise group, at most
// kBlocsteps in its block's partial, one per block and per leftover step
// in the lane, 17 where the lanes and the tail sum combine, and the final
// rounding.
double roundingsOfLaneSum(int64_t steps) {
  constexpr double kBlock = 64;
  return static_cast<double>(steps) / kBlock + 2 * kBlock + 3 + 17 + 1;
}

struct SumErrors {
  double lanes = 0, sequential = 0, bound = 0;
};

// The errors of the compiled sum `got` (whose lanes took `steps` elements
// each) and of a sequential f32 sum of `values`, against the sum in double
// (exact for these inputs: multiples of 2^-12 well within 2^53).
SumErrors sumErrors(const std::vector<float> &values, double got,
                    int64_t steps) {
  double exact = 0, magnitude = 0;
  float sequential = 0;
  for (float v : values) {
    exact += v;
    magnitude += std::fabs(v);
    sequential += v;
  }
  SumErrors e;
  e.lanes = std::fabs(got - exact);
  e.sequential = std::fabs(static_cast<double>(sequential) - exact);
  e.bound = roundingsOfLaneSum(steps) * kU * magnitude;
  return e;
}

// Rows (or columns) of `n` values that a sequential f32 sum gets wrong:
// 0: 1e8, then ones, then -1e8 (the ones vanish next to 1e8);
// 1: values in [0, 1) in steps of 2^-12 (the running sum grows and each
//    addition rounds away low bits);
// 2: ones with +-1e8 pairs at random places;
// 3: 1000 + small steps (a large common offset).
std::vector<std::vector<float>> hardSums(int64_t n) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int> fraction(0, 4095), place(0, n - 1);
  std::vector<std::vector<float>> rows(4, std::vector<float>(n, 1.0f));
  rows[0][0] = 1e8f;
  rows[0][n - 1] = -1e8f;
  for (float &v : rows[1])
    v = static_cast<float>(fraction(rng)) / 4096;
  for (int k = 0; k < 20; ++k) {
    rows[2][place(rng)] = 1e8f;
    rows[2][place(rng)] = -1e8f;
  }
  for (float &v : rows[3])
    v = 1000 + static_cast<float>(fraction(rng)) / 4096;
  return rows;
}

void expectLaneSumAccurate(const std::vector<float> &values, double got,
                           int64_t steps, int row) {
  SumErrors e = sumErrors(values, got, steps);
  EXPECT_LE(e.lanes, e.bound) << "row " << row;
  EXPECT_LE(e.lanes, e.sequential) << "row " << row;
}

TEST(SumAccuracy, RowsBeatASequentialSum) {
  const int64_t n = 100003;      // blocks of 64 steps, leftover steps, a tail
  const int64_t steps = n / 128; // 16 lanes of 8 elements a step
  std::vector<std::vector<float>> rows = hardSums(n);
  ir::Tensor x({DType::F32, {4, n}});
  for (int r = 0; r < 4; ++r)
    std::copy(rows[r].begin(), rows[r].end(), x.data<float>() + r * n);
  auto out = runCompiled(strCat("func @main(%x: f32[4,", n,
                                "]) -> (f32[4]) {\n  %s = reduce_sum(%x) "
                                "{axes = [1]} : f32[4]\n  return %s\n}\n"),
                         {x});
  ASSERT_EQ(out.size(), 1u);
  for (int r = 0; r < 4; ++r)
    expectLaneSumAccurate(rows[r], out[0].getDouble(r), steps, r);
  // The ones next to 1e8: a sequential sum loses all of them, lanes keep
  // nearly all.
  SumErrors e = sumErrors(rows[0], out[0].getDouble(0), steps);
  EXPECT_GT(e.sequential, 9e4);
  EXPECT_LT(e.lanes, 100);
}

TEST(SumAccuracy, ColumnsBeatASequentialSum) {
  // Column c of x holds row c % 4 of hardSums; 80 columns are a tile of
  // 64 and one of 16.
  const int64_t n = 20011, columns = 80;
  std::vector<std::vector<float>> rows = hardSums(n);
  ir::Tensor x({DType::F32, {n, columns}});
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < columns; ++c)
      x.data<float>()[i * columns + c] = rows[c % 4][i];
  auto out = runCompiled(
      strCat("func @main(%x: f32[", n, ",", columns, "]) -> (f32[", columns,
             "]) {\n  %s = reduce_sum(%x) {axes = [0]} : f32[", columns,
             "]\n  return %s\n}\n"),
      {x});
  ASSERT_EQ(out.size(), 1u);
  for (int64_t c = 0; c < columns; ++c)
    expectLaneSumAccurate(rows[c % 4], out[0].getDouble(c), n,
                          static_cast<int>(c));
}

// softmax of a long row against double: each element within a few ulps
// relative, and the row sums to 1.
TEST(SoftmaxAccuracy, LongRowAgainstDouble) {
  const int64_t n = 50000;
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> dist(-8, 8);
  ir::Tensor x({DType::F32, {1, n}});
  for (int64_t i = 0; i < n; ++i)
    x.setDouble(i, dist(rng));
  auto out = runCompiled(strCat("func @main(%x: f32[1,", n, "]) -> (f32[1,", n,
                                "], f32[1,", n,
                                "]) {\n  %p = softmax(%x) : "
                                "f32[1,",
                                n, "]\n  %l = log_softmax(%x) : f32[1,", n,
                                "]\n  return %p, %l\n}\n"),
                         {x});
  ASSERT_EQ(out.size(), 2u);
  double mx = -INFINITY, sum = 0;
  for (int64_t i = 0; i < n; ++i)
    mx = std::max(mx, x.getDouble(i));
  for (int64_t i = 0; i < n; ++i)
    sum += std::exp(x.getDouble(i) - mx);
  double total = 0, worstRel = 0, worstLog = 0;
  for (int64_t i = 0; i < n; ++i) {
    double want = std::exp(x.getDouble(i) - mx) / sum;
    total += out[0].getDouble(i);
    worstRel = std::max(worstRel, std::fabs(out[0].getDouble(i) - want) / want);
    worstLog =
        std::max(worstLog, std::fabs(out[1].getDouble(i) -
                                     (x.getDouble(i) - mx - std::log(sum))));
  }
  EXPECT_NEAR(total, 1.0, 1e-5);
  EXPECT_LT(worstRel, 2e-6); // exp and the division, a few ulps
  EXPECT_LT(worstLog, 1e-5);
}

// layer_norm of rows with a large common offset: the corrected two-pass
// statistics stay accurate (a one-pass sum of squares would cancel
// catastrophically, and plain two passes lose the low bits of the mean to
// its rounding: about 2^-11 here, over a deviation of about 0.6), and are
// more accurate than two sequential f32 passes.
TEST(LayerNormAccuracy, LargeOffsetRowsAgainstDouble) {
  const int64_t rows = 4, d = 4096;
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> dist(-1, 1);
  ir::Tensor x({DType::F32, {rows, d}});
  for (int64_t i = 0; i < rows * d; ++i)
    x.setDouble(i, 1e4 + dist(rng));
  auto out =
      runCompiled(strCat("func @main(%x: f32[", rows, ",", d, "]) -> (f32[",
                         rows, ",", d, "]) {\n  %y = layer_norm(%x) : f32[",
                         rows, ",", d, "]\n  return %y\n}\n"),
                  {x});
  ASSERT_EQ(out.size(), 1u);
  for (int64_t r = 0; r < rows; ++r) {
    const float *row = x.data<float>() + r * d;
    double mean = 0, var = 0;
    float seqSum = 0, seqVar = 0;
    for (int64_t j = 0; j < d; ++j) {
      mean += row[j];
      seqSum += row[j];
    }
    mean /= d;
    const float seqMean = seqSum / d;
    for (int64_t j = 0; j < d; ++j) {
      var += (row[j] - mean) * (row[j] - mean);
      seqVar += (row[j] - seqMean) * (row[j] - seqMean);
    }
    var /= d;
    const float seqInv = 1 / std::sqrt(seqVar / d + 1e-5f);
    double worst = 0, seqWorst = 0;
    for (int64_t j = 0; j < d; ++j) {
      double want = (row[j] - mean) / std::sqrt(var + 1e-5);
      worst = std::max(worst, std::fabs(out[0].getDouble(r * d + j) - want));
      seqWorst =
          std::max(seqWorst, std::fabs((row[j] - seqMean) * seqInv - want));
    }
    // A few units in the last place of outputs of up to about 1.7.
    EXPECT_LT(worst, 1e-6) << "row " << r;
    EXPECT_LT(worst, seqWorst) << "row " << r;
  }
}

// -- The lane forms against the interpreter ----------------------------------

constexpr DType kFloats[] = {DType::F32, DType::F64, DType::F16, DType::BF16};

// One module computing every call in `calls` on `params`, each result
// returned, compared with the interpreter (one compilation for them all).
void expectOpsMatchInterpreter(const std::string &params,
                               const std::vector<std::string> &calls,
                               const e2e::HarnessOptions &opts = {}) {
  std::string body, types, results;
  for (size_t i = 0; i < calls.size(); ++i) {
    auto probe =
        ir::parseModule(e2e::singleOpModule(params, calls[i]), "probe.nyx");
    ASSERT_TRUE(probe.ok()) << probe.status().message();
    std::string type = (*probe)->functions[0]->resultTypes[0].str();
    body += strCat("  %y", i, " = ", calls[i], " : ", type, "\n");
    types += strCat(i ? ", " : "", type);
    results += strCat(i ? ", " : "", "%y", i);
  }
  e2e::expectCompiledMatchesInterpreter(strCat("func @main(", params, ") -> (",
                                               types, ") {\n", body,
                                               "  return ", results, "\n}\n"),
                                        opts);
}

// Sums of up to a few thousand values in [-4, 4]: the absolute error grows
// with the count.
e2e::HarnessOptions countOptions(int64_t count, DType t) {
  e2e::HarnessOptions o;
  o.atol = std::max(e2e::defaultTolerance(t).atol, 1e-6 * count);
  return o;
}

const std::vector<std::string> kReductions = {"reduce_sum", "reduce_mean",
                                              "reduce_max", "reduce_min"};

std::vector<std::string> reductionCalls(const std::string &attrs) {
  std::vector<std::string> calls;
  for (const std::string &op : kReductions)
    calls.push_back(strCat(op, "(%x)", attrs));
  return calls;
}

TEST(LaneForms, RowReductionsOfEveryFloatDType) {
  // One, two and eight elements per lane and step; tails with whole lane
  // groups and without; two-level blocks (over 64 steps).
  for (DType t : kFloats)
    for (int64_t n : {47, 200, 1000, 20000})
      expectOpsMatchInterpreter(strCat("%x: ", typeText(t, {3, n})),
                                reductionCalls(" {axes = [1]}"),
                                countOptions(n, t));
}

TEST(LaneForms, ColumnReductionsOfEveryFloatDType) {
  // A row of 16; a row of 600 split in two tiles; tiles in a prefix loop;
  // rows past a block of 64.
  for (DType t : kFloats) {
    expectOpsMatchInterpreter(strCat("%x: ", typeText(t, {70, 16})),
                              reductionCalls(" {axes = [0]}"),
                              countOptions(70, t));
    expectOpsMatchInterpreter(strCat("%x: ", typeText(t, {130, 600})),
                              reductionCalls(" {axes = [0]}"),
                              countOptions(130, t));
    expectOpsMatchInterpreter(strCat("%x: ", typeText(t, {2, 9, 4, 25})),
                              reductionCalls(" {axes = [1]}"),
                              countOptions(9, t));
  }
}

TEST(LaneForms, AllAxesAndSeparatedAxes) {
  for (const char *axes : {"", " {axes = [0, 2]}", " {axes = [1, 2]}",
                           " {axes = [0, 1], keepdims = true}"})
    expectOpsMatchInterpreter("%x: f32[5,3,40]", reductionCalls(axes),
                              countOptions(600, DType::F32));
}

// Rows of 100 (three steps of 32 and a tail of 4) with NaN at the start, in
// the steps, in the tail, everywhere; and an ordinary row.
ir::Tensor nanRows(DType t, int64_t rows, int64_t n) {
  ir::Tensor x({t, {rows, n}});
  for (int64_t i = 0; i < rows * n; ++i)
    x.setDouble(i, std::sin(static_cast<double>(i)));
  const int64_t places[] = {0, 37, 99};
  for (int64_t r = 0; r < 3 && r < rows; ++r)
    x.setDouble(r * n + places[r], NAN);
  if (rows > 3)
    for (int64_t j = 0; j < n; ++j)
      x.setDouble(3 * n + j, NAN);
  return x;
}

TEST(LaneForms, NaNPropagatesFromAnyLane) {
  for (DType t : {DType::F32, DType::BF16}) {
    e2e::HarnessOptions o;
    o.inputs = {nanRows(t, 5, 100)};
    expectOpsMatchInterpreter(
        strCat("%x: ", typeText(t, {5, 100})),
        {"reduce_max(%x) {axes = [1]}", "reduce_min(%x) {axes = [1]}",
         "reduce_sum(%x) {axes = [1]}", "reduce_max(%x) {axes = [0]}",
         "softmax(%x)", "log_softmax(%x)", "softmax(%x) {axis = 0}",
         "layer_norm(%x)", "rms_norm(%x)"},
        o);
  }
}

TEST(LaneForms, SoftmaxRowsAndColumnsOfEveryFloatDType) {
  for (DType t : kFloats) {
    for (int64_t n : {32, 100, 1000, 5000})
      expectOpsMatchInterpreter(strCat("%x: ", typeText(t, {2, n})),
                                {"softmax(%x)", "log_softmax(%x)"});
    // Over a leading axis: 40 and 100 inner positions, 70 rows (a block of
    // 64 and more).
    expectOpsMatchInterpreter(
        strCat("%x: ", typeText(t, {7, 40})),
        {"softmax(%x) {axis = 0}", "log_softmax(%x) {axis = 0}"});
    expectOpsMatchInterpreter(
        strCat("%x: ", typeText(t, {3, 70, 2, 50})),
        {"softmax(%x) {axis = 1}", "log_softmax(%x) {axis = 1}"});
  }
  e2e::HarnessOptions wide;
  wide.minValue = -200;
  wide.maxValue = 200;
  expectOpsMatchInterpreter(
      "%x: f32[300,40]", {"softmax(%x)", "log_softmax(%x) {axis = 0}"}, wide);
}

TEST(LaneForms, NormsOfEveryFloatDType) {
  for (DType t : kFloats)
    for (int64_t d : {32, 48, 768, 5000}) {
      std::string v = typeText(t, {d});
      expectOpsMatchInterpreter(
          strCat("%x: ", typeText(t, {3, d}), ", %g: ", v, ", %b: ", v),
          {"layer_norm(%x, %g, %b)", "rms_norm(%x, %g)"});
    }
  // Normalized over two axes (a run of 2 x 40), and a large offset (within
  // the default tolerance, thanks to the corrected mean).
  expectOpsMatchInterpreter("%x: f32[3,2,40]", {"layer_norm(%x) {axis = 1}",
                                                "rms_norm(%x) {axis = 1}"});
  e2e::HarnessOptions offset;
  offset.minValue = 999;
  offset.maxValue = 1001;
  expectOpsMatchInterpreter("%x: f32[4,768]", {"layer_norm(%x)"}, offset);
}

// -- Fused kernels -----------------------------------------------------------

void expectFusedMatchesInterpreter(const std::string &text) {
  SCOPED_TRACE(text);
  e2e::HarnessOptions o;
  o.pipeline = compiler::standardPipeline(2);
  o.atol = 1e-4;
  e2e::expectCompiledMatchesInterpreter(text, o);
}

TEST(LaneForms, FusedProloguesAndEpilogues) {
  expectFusedMatchesInterpreter(R"(
func @main(%x: f32[6,1000], %r: f32[1000,6]) -> (f32[6], f32[6]) {
  %t = transpose(%r) : f32[6,1000]
  %a = add(%x, %t) : f32[6,1000]
  %q = mul(%a, %a) : f32[6,1000]
  %s = reduce_sum(%q) {axes = [1]} : f32[6]
  %n = sqrt(%s) : f32[6]
  return %s, %n
})");
  expectFusedMatchesInterpreter(R"(
func @main(%x: f32[300,100], %b: f32[100]) -> (f32[100]) {
  %e = exp(%x) : f32[300,100]
  %m = reduce_max(%e) {axes = [0]} : f32[100]
  %a = add(%m, %b) : f32[100]
  %y = relu(%a) : f32[100]
  return %y
})");
  expectFusedMatchesInterpreter(R"(
func @main(%x: f32[8,1000], %r: f32[8,1000], %g: f32[1000]) -> (f32[8,1000]) {
  %a = add(%x, %r) : f32[8,1000]
  %p = softmax(%a) : f32[8,1000]
  %y = mul(%p, %g) : f32[8,1000]
  return %y
})");
  expectFusedMatchesInterpreter(R"(
func @main(%x: f32[50,40], %r: f32[40,50]) -> (f32[50,40], f32[50,40]) {
  %t = transpose(%r) : f32[50,40]
  %a = add(%x, %t) : f32[50,40]
  %p = log_softmax(%a) {axis = 0} : f32[50,40]
  %c = constant() {value = dense<2.0>} : f32[50,40]
  %y = mul(%p, %c) : f32[50,40]
  return %p, %y
})");
  expectFusedMatchesInterpreter(R"(
func @main(%x: bf16[16,768], %r: bf16[16,768], %g: bf16[768], %b: bf16[768]) -> (bf16[16,768]) {
  %a = add(%x, %r) : bf16[16,768]
  %n = layer_norm(%a, %g, %b) : bf16[16,768]
  %y = gelu(%n) {approximate = "tanh"} : bf16[16,768]
  return %y
})");
  expectFusedMatchesInterpreter(R"(
func @main(%x: f32[6,4,64], %g: f32[64]) -> (f32[6,4,64]) {
  %s = mul(%x, %x) : f32[6,4,64]
  %n = rms_norm(%s, %g) : f32[6,4,64]
  return %n
})");
}

} // namespace
} // namespace nyx
