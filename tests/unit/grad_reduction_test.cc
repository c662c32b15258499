// Gradient rules of the reductions, cumsum, the normalizations and matmul:
// each against finite differences over shapes and attribute combinations,
// the split among ties of reduce_max/reduce_min, and second derivatives
// (the rules' own ops differentiated again).
#include <optional>
#include <random>

#include "tests/support/gradcheck.h"
#include "gtest/gtest.h"

namespace nyx {
namespace {

using ir::Shape;

std::string f64(const Shape &s) {
  return strCat("f64[", ir::shapeString(s), "]");
}

struct Input {
  std::string name;
  Shape shape;
};

// A module whose @main returns `op` applied to its inputs (in order) with
// the attributes `attrs` (the text inside the braces, may be empty), or,
// when `squared`, that result times itself: a linear op's second derivative
// is zero, and the square makes its rule's ops be differentiated again.
std::string oneOpModule(std::string_view op, const std::vector<Input> &inputs,
                        std::string_view attrs, const Shape &result,
                        bool squared = false) {
  std::vector<std::string> params, operands;
  for (const Input &in : inputs) {
    params.push_back(strCat("%", in.name, ": ", f64(in.shape)));
    operands.push_back(strCat("%", in.name));
  }
  std::string attrText = attrs.empty() ? "" : strCat(" {", attrs, "}");
  std::string square =
      squared ? strCat("  %z = mul(%y, %y) : ", f64(result), "\n") : "";
  return strCat("module @m\nfunc @main(", strJoin(params, ", "), ") -> (",
                f64(result), ") {\n  %y = ", op, "(", strJoin(operands, ", "),
                ")", attrText, " : ", f64(result), "\n", square, "  return ",
                squared ? "%z" : "%y", "\n}\n");
}

// The Hessian of sum(main(x) * r) (r fixed, random) with respect to each
// float input in turn, built by differentiating the gradient, against
// central differences of the gradient.
absl::Status hessianCheck(std::string_view source,
                          const test::GradCheckOptions &o = {}) {
  auto parsed = ir::parseModule(source, "hessian.nyx");
  if (!parsed.ok())
    return parsed.status();
  ir::Module &m = **parsed;
  auto entry = m.entry();
  if (!entry.ok())
    return entry.status();
  ir::Function &f = **entry;
  std::mt19937_64 rng(o.seed);
  std::uniform_real_distribution<double> ur(0.5, 1.5);
  ir::Value *y = f.returns[0];
  ir::Tensor r(y->type);
  for (int64_t i = 0; i < r.numElements(); ++i)
    r.setDouble(i, ur(rng));
  ir::Builder b(m, f);
  ir::Value *loss =
      b.op("reduce_sum", {b.op("mul", {y, b.constant(std::move(r))})});
  if (!b.ok())
    return b.status();
  f.returns = {loss};
  f.resultTypes = {loss->type};

  std::vector<ir::Tensor> args;
  for (const ir::Value *p : f.params) {
    ir::Tensor t(p->type);
    auto it = o.ranges.find(p->name);
    auto [lo, hi] =
        it == o.ranges.end() ? std::make_pair(o.lo, o.hi) : it->second;
    std::uniform_real_distribution<double> u(lo, hi);
    for (int64_t i = 0; i < t.numElements(); ++i)
      t.setDouble(i, u(rng));
    args.push_back(std::move(t));
  }

  for (int input = 0; input < static_cast<int>(f.params.size()); ++input) {
    if (!ir::isFloat(f.params[input]->type.dtype))
      continue;
    std::string suffix = strCat("_", input);
    auto hessianFn =
        passes::addHessianFunction(m, f, input, "main_hessian" + suffix);
    if (!hessianFn.ok())
      return hessianFn.status();
    passes::Wrt wrt;
    wrt.inputs = {input};
    wrt.all = false;
    auto gradFn = passes::addGradFunction(m, f, wrt, "main_grad" + suffix);
    if (!gradFn.ok())
      return gradFn.status();
    if (absl::Status s = ir::verifyModule(m); !s.ok())
      return s;
    ir::Interpreter interp(m, nullptr);
    auto hessian = interp.run(**hessianFn, args);
    if (!hessian.ok())
      return hessian.status();
    auto gradAt = [&](std::vector<ir::Tensor> a) -> absl::StatusOr<ir::Tensor> {
      auto out = interp.run(**gradFn, std::move(a));
      if (!out.ok())
        return out.status();
      return (*out)[1];
    };
    ir::Tensor &x = args[input];
    const int64_t n = x.numElements();
    for (int64_t i = 0; i < n; ++i) {
      double x0 = x.getDouble(i);
      std::vector<ir::Tensor> plus = args, minus = args;
      plus[input].setDouble(i, x0 + o.step);
      minus[input].setDouble(i, x0 - o.step);
      auto gPlus = gradAt(std::move(plus));
      auto gMinus = gradAt(std::move(minus));
      if (!gPlus.ok())
        return gPlus.status();
      if (!gMinus.ok())
        return gMinus.status();
      for (int64_t j = 0; j < n; ++j) {
        double numeric =
            (gPlus->getDouble(j) - gMinus->getDouble(j)) / (2 * o.step);
        double got = (*hessian)[0].getDouble(j * n + i);
        if (!(std::abs(got - numeric) <=
              o.atol + o.rtol * std::max(std::abs(numeric), std::abs(got))))
          return absl::InternalError(
              strCat("d2/d%", f.params[input]->name, "[", j, "]d%",
                     f.params[input]->name, "[", i, "]: the Hessian is ", got,
                     ", finite differences of the gradient give ", numeric));
      }
    }
  }
  return absl::OkStatus();
}

// Second derivatives come from differences of first derivatives, so they
// are held to a looser tolerance.
test::GradCheckOptions hessianOptions(test::GradCheckOptions o = {}) {
  o.rtol = 1e-4;
  o.atol = 1e-6;
  return o;
}

// ---------------------------------------------------------------------------
// Reductions
// ---------------------------------------------------------------------------

struct ReduceCase {
  Shape shape;
  std::optional<std::vector<int64_t>> axes; // nullopt: omitted (all axes)
  bool keepdims;
};

Shape reducedShape(const ReduceCase &c) {
  int64_t rank = static_cast<int64_t>(c.shape.size());
  std::vector<bool> reduced(rank, !c.axes);
  if (c.axes)
    for (int64_t a : *c.axes)
      reduced[a < 0 ? a + rank : a] = true;
  Shape out;
  for (int64_t d = 0; d < rank; ++d) {
    if (!reduced[d])
      out.push_back(c.shape[d]);
    else if (c.keepdims)
      out.push_back(1);
  }
  return out;
}

std::string reduceAttrs(const ReduceCase &c) {
  std::vector<std::string> attrs;
  if (c.axes)
    attrs.push_back(strCat("axes = [", strJoin(*c.axes, ", "), "]"));
  if (c.keepdims)
    attrs.push_back("keepdims = true");
  return strJoin(attrs, ", ");
}

const std::vector<ReduceCase> &reduceCases() {
  static const std::vector<ReduceCase> cases = {
      {{2, 3, 4}, std::nullopt, false},
      {{2, 3, 4}, std::nullopt, true},
      {{2, 3, 4}, std::vector<int64_t>{1}, false},
      {{2, 3, 4}, std::vector<int64_t>{-1, 0}, true},
      {{2, 3, 4}, std::vector<int64_t>{}, false},
      {{2, 3, 4}, std::vector<int64_t>{2, 0, 1}, false},
      {{5}, std::vector<int64_t>{0}, false},
      {{5}, std::nullopt, true},
      {{3, 1, 4}, std::vector<int64_t>{1}, true},
      {{2, 3, 2, 2}, std::vector<int64_t>{0, -2}, false},
      {{4, 1}, std::vector<int64_t>{-1}, false},
  };
  return cases;
}

class ReductionGrad : public testing::TestWithParam<std::string> {};

TEST_P(ReductionGrad, MatchesFiniteDifferences) {
  for (const ReduceCase &c : reduceCases()) {
    std::string src = oneOpModule(GetParam(), {{"x", c.shape}}, reduceAttrs(c),
                                  reducedShape(c));
    EXPECT_EQ(test::gradCheck(src), absl::OkStatus()) << src;
  }
}

TEST_P(ReductionGrad, SecondDerivatives) {
  for (const ReduceCase &c : reduceCases()) {
    std::string src = oneOpModule(GetParam(), {{"x", c.shape}}, reduceAttrs(c),
                                  reducedShape(c), /*squared=*/true);
    EXPECT_EQ(hessianCheck(src, hessianOptions()), absl::OkStatus()) << src;
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, ReductionGrad,
                         testing::Values("reduce_sum", "reduce_mean",
                                         "reduce_max", "reduce_min"));

// The gradient of @main's result with respect to its one input, at `x`.
absl::StatusOr<ir::Tensor> gradientAt(std::string_view source, ir::Tensor x) {
  auto parsed = ir::parseModule(source, "grad.nyx");
  if (!parsed.ok())
    return parsed.status();
  auto entry = (*parsed)->entry();
  if (!entry.ok())
    return entry.status();
  auto gradFn = passes::addGradFunction(**parsed, **entry, {}, "main_grad");
  if (!gradFn.ok())
    return gradFn.status();
  ir::Interpreter interp(**parsed, nullptr);
  auto out = interp.run(**gradFn, {std::move(x)});
  if (!out.ok())
    return out.status();
  return (*out)[1];
}

ir::Tensor matrix(const Shape &shape, const std::vector<double> &values) {
  ir::Tensor t(ir::TensorType{ir::DType::F64, shape});
  for (size_t i = 0; i < values.size(); ++i)
    t.setDouble(static_cast<int64_t>(i), values[i]);
  return t;
}

void expectGradient(const ir::Tensor &got, const std::vector<double> &want) {
  ASSERT_EQ(got.numElements(), static_cast<int64_t>(want.size()));
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_DOUBLE_EQ(got.getDouble(static_cast<int64_t>(i)), want[i])
        << "element " << i;
}

TEST(ReductionGradTies, MaxSplitsEvenlyAmongTies) {
  auto g = gradientAt(R"(
module @m
func @main(%x: f64[3, 3]) -> (f64[]) {
  %m = reduce_max(%x) {axes = [1]} : f64[3]
  %y = reduce_sum(%m) : f64[]
  return %y
}
)",
                      matrix({3, 3}, {1, 3, 3, 2, 2, 2, 0, -1, 5}));
  ASSERT_TRUE(g.ok()) << g.status();
  expectGradient(*g, {0, 0.5, 0.5, 1.0 / 3, 1.0 / 3, 1.0 / 3, 0, 0, 1});
}

TEST(ReductionGradTies, MinSplitsEvenlyAmongTiesOverAllAxes) {
  auto g = gradientAt(R"(
module @m
func @main(%x: f64[2, 3]) -> (f64[]) {
  %y = reduce_min(%x) : f64[]
  return %y
}
)",
                      matrix({2, 3}, {4, -2, 7, -2, 0, -2}));
  ASSERT_TRUE(g.ok()) << g.status();
  expectGradient(*g, {0, 1.0 / 3, 0, 1.0 / 3, 0, 1.0 / 3});
}

TEST(ReductionGradTies, KeepdimsMaxOverTheLeadingAxis) {
  auto g = gradientAt(R"(
module @m
func @main(%x: f64[2, 2]) -> (f64[]) {
  %m = reduce_max(%x) {axes = [-2], keepdims = true} : f64[1, 2]
  %y = reduce_sum(%m) : f64[]
  return %y
}
)",
                      matrix({2, 2}, {1, 6, 1, 5}));
  ASSERT_TRUE(g.ok()) << g.status();
  expectGradient(*g, {0.5, 1, 0.5, 0});
}

TEST_P(ReductionGrad, EmptyOperands) {
  // Reductions over an axis of size 0 and of operands with no elements:
  // the gradient is built and has the operand's (empty) type.
  const std::vector<ReduceCase> cases = {
      {{2, 0}, std::vector<int64_t>{1}, false},
      {{2, 0}, std::vector<int64_t>{0}, true},
      {{0, 3}, std::nullopt, false},
  };
  for (const ReduceCase &c : cases) {
    std::string src = oneOpModule(GetParam(), {{"x", c.shape}}, reduceAttrs(c),
                                  reducedShape(c));
    EXPECT_EQ(test::gradCheck(src), absl::OkStatus()) << src;
  }
}

TEST(ReduceMeanGrad, CountBeyondTheRangeOfF16) {
  // 65536 rounds to infinity in f16; the gradient 1/65536 does not.
  constexpr int64_t n = 65536;
  ir::Tensor x(ir::TensorType{ir::DType::F16, {n}});
  auto g = gradientAt(R"(
module @m
func @main(%x: f16[65536]) -> (f16[]) {
  %y = reduce_mean(%x) : f16[]
  return %y
}
)",
                      std::move(x));
  ASSERT_TRUE(g.ok()) << g.status();
  ASSERT_EQ(g->numElements(), n);
  for (int64_t i = 0; i < n; i += 4097)
    EXPECT_EQ(g->getDouble(i), 1.0 / n) << "element " << i;
}

// ---------------------------------------------------------------------------
// cumsum
// ---------------------------------------------------------------------------

struct AxisCase {
  Shape shape;
  int64_t axis;
};

TEST(CumsumGrad, MatchesFiniteDifferences) {
  const std::vector<AxisCase> cases = {
      {{5}, 0}, {{3, 4}, 1}, {{3, 4}, -2}, {{2, 3, 4}, 1}, {{2, 1, 3}, -1}};
  for (const AxisCase &c : cases)
    for (bool exclusive : {false, true})
      for (bool reverse : {false, true}) {
        std::string attrs = strCat("axis = ", c.axis);
        if (exclusive)
          attrs += ", exclusive = true";
        if (reverse)
          attrs += ", reverse = true";
        std::string src =
            oneOpModule("cumsum", {{"x", c.shape}}, attrs, c.shape);
        EXPECT_EQ(test::gradCheck(src), absl::OkStatus()) << src;
        std::string squared = oneOpModule("cumsum", {{"x", c.shape}}, attrs,
                                          c.shape, /*squared=*/true);
        EXPECT_EQ(hessianCheck(squared, hessianOptions()), absl::OkStatus())
            << squared;
      }
}

// ---------------------------------------------------------------------------
// Normalization
// ---------------------------------------------------------------------------

const std::vector<AxisCase> &softmaxCases() {
  static const std::vector<AxisCase> cases = {{{5}, -1},       {{3, 4}, 0},
                                              {{3, 4}, 1},     {{2, 3, 4}, 1},
                                              {{2, 3, 4}, -1}, {{2, 1, 3}, -2}};
  return cases;
}

// Inputs spread wide enough that some rows are far from uniform.
test::GradCheckOptions wideInputs() {
  test::GradCheckOptions o;
  o.lo = -3;
  o.hi = 3;
  return o;
}

class SoftmaxGrad : public testing::TestWithParam<std::string> {};

TEST_P(SoftmaxGrad, MatchesFiniteDifferences) {
  for (const AxisCase &c : softmaxCases()) {
    std::string src = oneOpModule(GetParam(), {{"x", c.shape}},
                                  strCat("axis = ", c.axis), c.shape);
    EXPECT_EQ(test::gradCheck(src, wideInputs()), absl::OkStatus()) << src;
  }
  // The default axis is the last one.
  std::string src = oneOpModule(GetParam(), {{"x", {2, 3}}}, "", {2, 3});
  EXPECT_EQ(test::gradCheck(src), absl::OkStatus()) << src;
}

TEST_P(SoftmaxGrad, SecondDerivatives) {
  for (const AxisCase &c : softmaxCases()) {
    std::string src = oneOpModule(GetParam(), {{"x", c.shape}},
                                  strCat("axis = ", c.axis), c.shape);
    EXPECT_EQ(hessianCheck(src, hessianOptions()), absl::OkStatus()) << src;
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, SoftmaxGrad,
                         testing::Values("softmax", "log_softmax"));

struct NormCase {
  Shape shape;
  int64_t axis;
  std::string epsilon; // empty: the default
};

const std::vector<NormCase> &normCases() {
  static const std::vector<NormCase> cases = {
      {{3, 4}, -1, ""},       {{2, 3, 4}, 1, ""}, {{2, 3, 4}, 0, "0.1"},
      {{2, 3, 4}, -1, "0.5"}, {{4, 1}, -1, ""},   {{6}, 0, "0.01"}};
  return cases;
}

std::string normModule(std::string_view op, const NormCase &c, int operands) {
  int64_t rank = static_cast<int64_t>(c.shape.size());
  int64_t axis = c.axis < 0 ? c.axis + rank : c.axis;
  Shape block(c.shape.begin() + axis, c.shape.end());
  std::vector<Input> inputs = {{"x", c.shape}};
  if (operands > 1)
    inputs.push_back({"scale", block});
  if (operands > 2)
    inputs.push_back({"bias", block});
  std::string attrs = strCat("axis = ", c.axis);
  if (!c.epsilon.empty())
    attrs += strCat(", epsilon = ", c.epsilon);
  return oneOpModule(op, inputs, attrs, c.shape);
}

TEST(LayerNormGrad, MatchesFiniteDifferences) {
  for (const NormCase &c : normCases())
    for (int operands : {1, 2, 3}) {
      std::string src = normModule("layer_norm", c, operands);
      EXPECT_EQ(test::gradCheck(src), absl::OkStatus()) << src;
    }
}

TEST(LayerNormGrad, SecondDerivatives) {
  for (const NormCase &c : normCases())
    for (int operands : {1, 3}) {
      std::string src = normModule("layer_norm", c, operands);
      EXPECT_EQ(hessianCheck(src, hessianOptions()), absl::OkStatus()) << src;
    }
}

TEST(RmsNormGrad, MatchesFiniteDifferences) {
  for (const NormCase &c : normCases())
    for (int operands : {1, 2}) {
      std::string src = normModule("rms_norm", c, operands);
      EXPECT_EQ(test::gradCheck(src), absl::OkStatus()) << src;
    }
}

TEST(RmsNormGrad, SecondDerivatives) {
  for (const NormCase &c : normCases()) {
    std::string src = normModule("rms_norm", c, 2);
    EXPECT_EQ(hessianCheck(src, hessianOptions()), absl::OkStatus()) << src;
  }
}

const std::vector<NormCase> &batchNormCases() {
  static const std::vector<NormCase> cases = {{{2, 3}, 1, ""},
                                              {{2, 3, 2, 2}, 1, ""},
                                              {{3}, 0, "0.1"},
                                              {{2, 2, 3}, -1, ""},
                                              {{3, 2, 2}, 0, "0.01"}};
  return cases;
}

std::string batchNormModule(const NormCase &c, bool squared = false) {
  int64_t rank = static_cast<int64_t>(c.shape.size());
  Shape channels = {c.shape[c.axis < 0 ? c.axis + rank : c.axis]};
  std::string attrs = strCat("axis = ", c.axis);
  if (!c.epsilon.empty())
    attrs += strCat(", epsilon = ", c.epsilon);
  return oneOpModule("batch_norm",
                     {{"x", c.shape},
                      {"scale", channels},
                      {"bias", channels},
                      {"mean", channels},
                      {"var", channels}},
                     attrs, c.shape, squared);
}

// Variances stay positive.
test::GradCheckOptions batchNormOptions() {
  test::GradCheckOptions o;
  o.ranges = {{"var", {0.5, 2.0}}};
  return o;
}

TEST(BatchNormGrad, MatchesFiniteDifferences) {
  for (const NormCase &c : batchNormCases()) {
    std::string src = batchNormModule(c);
    EXPECT_EQ(test::gradCheck(src, batchNormOptions()), absl::OkStatus())
        << src;
  }
  // The default axis is 1.
  std::string src = oneOpModule(
      "batch_norm",
      {{"x", {2, 3, 2}}, {"s", {3}}, {"b", {3}}, {"m", {3}}, {"v", {3}}}, "",
      {2, 3, 2});
  test::GradCheckOptions o;
  o.ranges = {{"v", {0.5, 2.0}}};
  EXPECT_EQ(test::gradCheck(src, o), absl::OkStatus()) << src;
}

TEST(BatchNormGrad, SecondDerivatives) {
  for (const NormCase &c : batchNormCases()) {
    std::string src = batchNormModule(c, /*squared=*/true);
    EXPECT_EQ(hessianCheck(src, hessianOptions(batchNormOptions())),
              absl::OkStatus())
        << src;
  }
}

// ---------------------------------------------------------------------------
// matmul
// ---------------------------------------------------------------------------

struct MatmulCase {
  Shape batchA, batchB;
  int64_t m, k, n;
};

const std::vector<MatmulCase> &matmulCases() {
  static const std::vector<MatmulCase> cases = {
      {{}, {}, 3, 4, 2},         // plain matrices
      {{2}, {2}, 3, 4, 2},       // equal batch axes
      {{2}, {}, 3, 4, 2},        // b shared by the batch (a linear layer)
      {{2, 2}, {}, 2, 3, 2},     // two batch axes, b shared
      {{}, {2}, 3, 4, 2},        // a shared by the batch
      {{1}, {3}, 2, 3, 2},       // a batch axis of size 1 broadcast
      {{2, 3}, {2, 1}, 2, 3, 2}, // rank 4, b broadcast in axis 1
      {{2, 1}, {3}, 2, 3, 2},    // [2,1,M,K] @ [3,K,N]
      {{2, 1}, {1, 3}, 2, 2, 3}, // both broadcast, in different axes
      {{1, 1}, {}, 2, 3, 2},     // size-1 batch axes, b rank 2
  };
  return cases;
}

std::string matmulModule(const MatmulCase &c, bool ta, bool tb,
                         bool squared = false) {
  Shape a = c.batchA, b = c.batchB;
  a.insert(a.end(), {ta ? c.k : c.m, ta ? c.m : c.k});
  b.insert(b.end(), {tb ? c.n : c.k, tb ? c.k : c.n});
  Shape out = ir::broadcastShapes(c.batchA, c.batchB).value();
  out.insert(out.end(), {c.m, c.n});
  std::vector<std::string> attrs;
  if (ta)
    attrs.push_back("transpose_a = true");
  if (tb)
    attrs.push_back("transpose_b = true");
  return oneOpModule("matmul", {{"a", a}, {"b", b}}, strJoin(attrs, ", "), out,
                     squared);
}

TEST(MatmulGrad, MatchesFiniteDifferences) {
  for (const MatmulCase &c : matmulCases())
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        std::string src = matmulModule(c, ta, tb);
        EXPECT_EQ(test::gradCheck(src), absl::OkStatus()) << src;
      }
}

TEST(MatmulGrad, SecondDerivatives) {
  for (const MatmulCase &c : matmulCases())
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        std::string src = matmulModule(c, ta, tb, /*squared=*/true);
        EXPECT_EQ(hessianCheck(src, hessianOptions()), absl::OkStatus()) << src;
      }
}

TEST(MatmulGrad, EmptyInnerDimension) {
  // K = 0: the result is zeros and the operands have no elements.
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      std::string src = matmulModule({{2}, {}, 3, 0, 2}, ta, tb);
      EXPECT_EQ(test::gradCheck(src), absl::OkStatus()) << src;
    }
}

TEST(MatmulGrad, SameOperandOnBothSides) {
  EXPECT_EQ(test::gradCheck(R"(
module @m
func @main(%x: f64[2, 3, 3]) -> (f64[2, 3, 3]) {
  %y = matmul(%x, %x) {transpose_b = true} : f64[2, 3, 3]
  return %y
}
)"),
            absl::OkStatus());
}

} // namespace
} // namespace nyx
