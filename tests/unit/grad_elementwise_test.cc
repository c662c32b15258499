// Gradient rules of the elementwise ops (ir/grad/elementwise_grad.cc):
// every rule against finite differences, over broadcasting shapes, second
// derivatives through every rule, and the ops whose gradient is zero.
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "tests/support/gradcheck.h"
#include "gtest/gtest.h"

namespace nyx {
namespace {

using Shape = std::vector<int64_t>;
using Range = std::pair<double, double>;

std::string f64(const Shape &shape) {
  return strCat("f64[", strJoin(shape, ", "), "]");
}

// NumPy broadcasting of two shapes that are known to broadcast.
Shape broadcast(const Shape &a, const Shape &b) {
  Shape out(std::max(a.size(), b.size()), 1);
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t da = i < out.size() - a.size() ? 1 : a[i - (out.size() - a.size())];
    int64_t db = i < out.size() - b.size() ? 1 : b[i - (out.size() - b.size())];
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// @main(%x) = op(%x).
std::string unaryModule(std::string_view op, std::string_view attrs,
                        const Shape &shape) {
  return absl::StrFormat(R"(
module @m
func @main(%%x: %s) -> (%s) {
  %%y = %s(%%x) %s : %s
  return %%y
}
)",
                         f64(shape), f64(shape), op, attrs, f64(shape));
}

// @main(%a, %b) = op(%a, %b).
std::string binaryModule(std::string_view op, std::string_view attrs,
                         const Shape &a, const Shape &b) {
  Shape y = broadcast(a, b);
  return absl::StrFormat(R"(
module @m
func @main(%%a: %s, %%b: %s) -> (%s) {
  %%y = %s(%%a, %%b) %s : %s
  return %%y
}
)",
                         f64(a), f64(b), f64(y), op, attrs, f64(y));
}

test::GradCheckOptions inRange(double lo, double hi) {
  test::GradCheckOptions o;
  o.lo = lo;
  o.hi = hi;
  return o;
}

test::GradCheckOptions withSeed(uint64_t seed) {
  test::GradCheckOptions o;
  o.seed = seed;
  return o;
}

struct UnaryCase {
  std::string op;
  std::string attrs;
  // Where the op is smooth (and well conditioned).
  Range range = {-1, 1};
};

const std::vector<UnaryCase> &unaryCases() {
  static const std::vector<UnaryCase> cases = {
      {"neg", ""},
      {"abs", "", {-2, 2}},
      {"relu", "", {-2, 2}},
      {"exp", "", {-2, 2}},
      {"log", "", {0.5, 2}},
      {"sqrt", "", {0.5, 2}},
      {"rsqrt", "", {0.5, 2}},
      {"tanh", "", {-2, 2}},
      {"erf", "", {-2, 2}},
      {"sigmoid", "", {-3, 3}},
      {"silu", "", {-3, 3}},
      {"gelu", "", {-3, 3}},
      {"gelu", R"({approximate = "none"})", {-3, 3}},
      {"gelu", R"({approximate = "tanh"})", {-3, 3}},
      {"reciprocal", "", {0.5, 2}},
      {"reciprocal", "", {-2, -0.5}},
      {"sin", "", {-3, 3}},
      {"cos", "", {-3, 3}},
      {"tan", "", {-1.2, 1.2}},
      {"asin", "", {-0.8, 0.8}},
      {"acos", "", {-0.8, 0.8}},
      {"atan", "", {-3, 3}},
      {"sinh", "", {-2, 2}},
      {"cosh", "", {-2, 2}},
      {"asinh", "", {-3, 3}},
      {"acosh", "", {1.5, 3}},
      {"atanh", "", {-0.8, 0.8}},
      {"softplus", "", {-3, 3}},
  };
  return cases;
}

struct BinaryCase {
  std::string op;
  std::string attrs;
  Range a = {-1, 1};
  Range b = {-1, 1};
};

const std::vector<BinaryCase> &binaryCases() {
  static const std::vector<BinaryCase> cases = {
      {"add", ""},
      {"sub", ""},
      {"mul", ""},
      {"div", "", {-2, 2}, {0.5, 2}},
      {"div", "", {-2, 2}, {-2, -0.5}},
      {"pow", "", {0.5, 2}, {-2, 2}},
      {"max", ""},
      {"min", ""},
      {"mod", "", {-3, 3}, {0.5, 2}},
      {"mod", "", {-3, 3}, {-2, -0.5}},
      {"mod", "{fmod = false}", {-3, 3}, {0.7, 1.3}},
      {"mod", "{fmod = true}", {-3, 3}, {0.5, 2}},
      {"mod", "{fmod = true}", {-3, 3}, {-2, -0.5}},
  };
  return cases;
}

const std::vector<std::pair<Shape, Shape>> &binaryShapes() {
  static const std::vector<std::pair<Shape, Shape>> shapes = {
      {{3, 4}, {3, 4}}, {{3, 4}, {4}}, {{4}, {3, 4}}, {{2, 1, 3}, {1, 4, 1}},
      {{}, {2, 3}},     {{2, 3}, {}},  {{}, {}},
  };
  return shapes;
}

TEST(GradElementwise, UnaryMatchesFiniteDifferences) {
  const Shape shapes[] = {{3, 4}, {5}, {}, {2, 1, 3}};
  int checked = 0;
  for (const UnaryCase &c : unaryCases())
    for (const Shape &shape : shapes) {
      test::GradCheckOptions options;
      options.ranges["x"] = c.range;
      EXPECT_EQ(test::gradCheck(unaryModule(c.op, c.attrs, shape), options),
                absl::OkStatus())
          << c.op << " " << c.attrs << " on " << f64(shape);
      ++checked;
    }
  EXPECT_EQ(checked, 4 * static_cast<int>(unaryCases().size()));
}

TEST(GradElementwise, BinaryMatchesFiniteDifferencesWithBroadcasting) {
  for (const BinaryCase &c : binaryCases())
    for (const auto &[a, b] : binaryShapes()) {
      test::GradCheckOptions options;
      options.ranges["a"] = c.a;
      options.ranges["b"] = c.b;
      EXPECT_EQ(test::gradCheck(binaryModule(c.op, c.attrs, a, b), options),
                absl::OkStatus())
          << c.op << " " << c.attrs << " on " << f64(a) << " x " << f64(b);
    }
}

TEST(GradElementwise, PowBaseGradientWithNegativeBaseAndIntegerExponent) {
  // The exponent is a constant, so only the base is differentiated, and
  // c a^(c-1) is exact for negative a.
  for (const char *exponent : {"3.0", "2.0", "-1.0"})
    EXPECT_EQ(test::gradCheck(absl::StrFormat(R"(
module @m
func @main(%%a: f64[3, 4]) -> (f64[3, 4]) {
  %%c = constant() {value = dense<%s>} : f64[]
  %%y = pow(%%a, %%c) : f64[3, 4]
  return %%y
}
)",
                                              exponent),
                              inRange(-2, -0.5)),
              absl::OkStatus())
        << "exponent " << exponent;
}

TEST(GradElementwise, MaxAndMinGiveTiesToTheFirstOperand) {
  // max(x, x) and min(x, x): all of the gradient reaches x through the
  // first operand, none is lost or doubled, so d/dx sum(r * y) is r.
  for (const char *op : {"max", "min"}) {
    auto m = ir::parseModule(absl::StrFormat(R"(
module @m
func @main(%%x: f64[3], %%w: f64[3]) -> (f64[]) {
  %%y = %s(%%x, %%w) : f64[3]
  %%s = reduce_sum(%%y) : f64[]
  return %%s
}
)",
                                             op),
                             "ties.nyx");
    ASSERT_TRUE(m.ok()) << m.status();
    auto g = passes::addGradFunction(**m, **(*m)->entry(), {}, "g");
    ASSERT_TRUE(g.ok()) << g.status();
    ir::Tensor x(ir::TensorType{ir::DType::F64, {3}});
    for (int i = 0; i < 3; ++i)
      x.setDouble(i, i - 1.0);
    ir::Interpreter interp(**m, nullptr);
    auto out = interp.run(**g, {x, x});
    ASSERT_TRUE(out.ok()) << out.status();
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ((*out)[1].getDouble(i), 1.0) << op << " d/dx[" << i << "]";
      EXPECT_EQ((*out)[2].getDouble(i), 0.0) << op << " d/dw[" << i << "]";
    }
  }
}

TEST(GradElementwise, ModDivisorGradientIsTheExactQuotient) {
  // 1 mod 0.1 is 1 - 9 * 0.1 (0.1 is a little above 1/10), though 1 / 0.1
  // rounds to 10. The quotient the result was formed with is what the
  // gradient must use.
  struct Case {
    double a, b;
    bool fmod;
    double quotient;
  };
  const Case cases[] = {{1, 0.1, false, 9},    {1, 0.1, true, 9},
                        {-1, 0.1, false, -10}, {-1, 0.1, true, -9},
                        {7.5, -2, false, -4},  {7.5, -2, true, -3}};
  for (const Case &c : cases) {
    auto m = ir::parseModule(
        strCat("module @m\nfunc @main(%a: f64[], %b: f64[]) -> (f64[]) {\n"
               "  %y = mod(%a, %b) {fmod = ",
               c.fmod ? "true" : "false", "} : f64[]\n  return %y\n}\n"),
        "mod.nyx");
    ASSERT_TRUE(m.ok()) << m.status();
    auto g = passes::addGradFunction(**m, **(*m)->entry(), {}, "g");
    ASSERT_TRUE(g.ok()) << g.status();
    ir::Tensor a(ir::TensorType{ir::DType::F64, {}});
    ir::Tensor b(ir::TensorType{ir::DType::F64, {}});
    a.setDouble(0, c.a);
    b.setDouble(0, c.b);
    ir::Interpreter interp(**m, nullptr);
    auto out = interp.run(**g, {a, b});
    ASSERT_TRUE(out.ok()) << out.status();
    std::string what = strCat(c.a, " mod ", c.b, " fmod=", c.fmod);
    EXPECT_NEAR((*out)[0].getDouble(0), c.a - c.quotient * c.b, 1e-15) << what;
    EXPECT_EQ((*out)[1].getDouble(0), 1.0) << what;
    EXPECT_EQ((*out)[2].getDouble(0), -c.quotient) << what;
  }
}

TEST(GradElementwise, SelectMasksBothBranchesAndUnbroadcasts) {
  struct Case {
    Shape cond, a, b;
  };
  const Case cases[] = {{{3, 4}, {3, 4}, {3, 4}},
                        {{2, 1, 3}, {4, 1}, {}},
                        {{3}, {2, 1}, {2, 3}},
                        {{}, {2, 3}, {3}}};
  for (const Case &c : cases) {
    Shape y = broadcast(broadcast(c.cond, c.a), c.b);
    std::string source = absl::StrFormat(R"(
module @m
func @main(%%c: bool[%s], %%a: %s, %%b: %s) -> (%s) {
  %%y = select(%%c, %%a, %%b) : %s
  return %%y
}
)",
                                         strJoin(c.cond, ", "), f64(c.a),
                                         f64(c.b), f64(y), f64(y));
    // Two seeds, so the condition takes both values.
    for (uint64_t seed : {1, 2})
      EXPECT_EQ(test::gradCheck(source, withSeed(seed)), absl::OkStatus())
          << source;
  }
}

TEST(GradElementwise, CastBetweenFloatsReturnsTheGradientInTheOperandType) {
  // Through f32 the values round to 24 bits: a linear function and a large
  // step keep the finite differences exact enough.
  test::GradCheckOptions coarse;
  coarse.step = 1e-2;
  coarse.rtol = 1e-4;
  coarse.atol = 1e-6;
  EXPECT_EQ(test::gradCheck(R"(
module @m
func @main(%x: f64[3, 4], %w: f64[4]) -> (f64[3, 4]) {
  %h = cast(%x) {to = f32} : f32[3, 4]
  %e = cast(%h) {to = f64} : f64[3, 4]
  %s = cast(%e) {to = f64} : f64[3, 4]
  %y = mul(%s, %w) : f64[3, 4]
  return %y
}
)",
                            coarse),
            absl::OkStatus());
}

TEST(GradElementwise, CastFromIntsAndBoolsPassesNoGradient) {
  // x * float(int(x)) + float(x > 0) + float(i): d/dx is trunc(x) (the
  // truncation is piecewise constant); the int and bool paths carry none.
  EXPECT_EQ(test::gradCheck(R"(
module @m
func @main(%x: f64[2, 3], %i: i32[3]) -> (f64[2, 3]) {
  %t = cast(%x) {to = i32} : i32[2, 3]
  %f = cast(%t) {to = f64} : f64[2, 3]
  %p = mul(%x, %f) : f64[2, 3]
  %z = constant() {value = dense<0.0>} : f64[]
  %c = gt(%x, %z) : bool[2, 3]
  %cf = cast(%c) {to = f64} : f64[2, 3]
  %fi = cast(%i) {to = f64} : f64[3]
  %q = add(%p, %cf) : f64[2, 3]
  %y = add(%q, %fi) : f64[2, 3]
  return %y
}
)",
                            inRange(-3, 3)),
            absl::OkStatus());
}

TEST(GradElementwise, PiecewiseConstantOpsGiveZeroGradientWithoutError) {
  // y = op(x) * x + x: d/dx is op(x) + 1, the op contributing nothing.
  for (const char *op : {"floor", "ceil", "round", "sign"}) {
    EXPECT_EQ(test::gradCheck(absl::StrFormat(R"(
module @m
func @main(%%x: f64[3, 4]) -> (f64[3, 4]) {
  %%f = %s(%%x) : f64[3, 4]
  %%p = mul(%%f, %%x) : f64[3, 4]
  %%y = add(%%p, %%x) : f64[3, 4]
  return %%y
}
)",
                                              op),
                              inRange(-3, 3)),
              absl::OkStatus())
        << op;
  }
  // Only a floor between the input and the result: the gradient is zero.
  auto m = ir::parseModule(R"(
module @m
func @main(%x: f64[4]) -> (f64[]) {
  %f = floor(%x) : f64[4]
  %s = reduce_sum(%f) : f64[]
  return %s
}
)",
                           "floor.nyx");
  ASSERT_TRUE(m.ok()) << m.status();
  auto g = passes::addGradFunction(**m, **(*m)->entry(), {}, "g");
  ASSERT_TRUE(g.ok()) << g.status();
  ir::Tensor x(ir::TensorType{ir::DType::F64, {4}});
  for (int i = 0; i < 4; ++i)
    x.setDouble(i, 0.7 * i - 1.3);
  ir::Interpreter interp(**m, nullptr);
  auto out = interp.run(**g, {x});
  ASSERT_TRUE(out.ok()) << out.status();
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ((*out)[1].getDouble(i), 0.0) << i;
}

TEST(GradElementwise, FakeQuantizePassesGradientsStraightThroughInRange) {
  // With scale 0.25 and zero point 5, round(x / 0.25) + 5 is 7, 127, 128,
  // -128, -128 and -129: the gradient of the sum is 1 where that lies in
  // [-128, 127] and 0 where the value saturates.
  auto m = ir::parseModule(R"(
module @m
func @main(%x: f64[6]) -> (f64[]) {
  %s = constant() {value = dense<0.25>} : f64[]
  %z = constant() {value = dense<5>} : i8[]
  %f = fake_quantize(%x, %s, %z) : f64[6]
  %y = reduce_sum(%f) : f64[]
  return %y
}
)",
                           "fake_quantize.nyx");
  ASSERT_TRUE(m.ok()) << m.status();
  auto g = passes::addGradFunction(**m, **(*m)->entry(), {}, "g");
  ASSERT_TRUE(g.ok()) << g.status();
  const double xs[] = {0.375, 30.5, 30.7, -33.2, -33.3, -33.4};
  ir::Tensor x(ir::TensorType{ir::DType::F64, {6}});
  for (int i = 0; i < 6; ++i)
    x.setDouble(i, xs[i]);
  ir::Interpreter interp(**m, nullptr);
  auto out = interp.run(**g, {x});
  ASSERT_TRUE(out.ok()) << out.status();
  const double want[] = {1, 1, 0, 1, 1, 0};
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ((*out)[1].getDouble(i), want[i]) << i;
}

// The Hessian the autodiff builds by differentiating the gradient (so every
// rule on the path is differentiated twice) against central differences of
// the gradient, for input `input` of @main (which returns a scalar).
absl::Status hessianCheck(std::string_view source, int input,
                          const std::map<std::string, Range> &ranges) {
  auto parsed = ir::parseModule(source, "hessian.nyx");
  if (!parsed.ok())
    return parsed.status();
  ir::Module &m = **parsed;
  auto entry = m.entry();
  if (!entry.ok())
    return entry.status();
  auto hessian = passes::addHessianFunction(m, **entry, input, "hessian");
  if (!hessian.ok())
    return hessian.status();
  passes::Wrt wrt;
  wrt.inputs = {input};
  wrt.all = false;
  auto gradient = passes::addGradFunction(m, **entry, wrt, "gradient");
  if (!gradient.ok())
    return gradient.status();
  if (absl::Status s = ir::verifyModule(m); !s.ok())
    return s;

  std::mt19937_64 rng(7);
  std::vector<ir::Tensor> args;
  for (const ir::Value *p : (*entry)->params) {
    auto it = ranges.find(p->name);
    Range r = it == ranges.end() ? Range{-1, 1} : it->second;
    std::uniform_real_distribution<double> u(r.first, r.second);
    ir::Tensor t(p->type);
    for (int64_t i = 0; i < p->type.numElements(); ++i)
      t.setDouble(i, u(rng));
    args.push_back(std::move(t));
  }
  ir::Interpreter interp(m, nullptr);
  auto analytic = interp.run(**hessian, args);
  if (!analytic.ok())
    return analytic.status();
  const ir::Tensor &h = (*analytic)[0];

  auto gradientAt = [&]() -> absl::StatusOr<ir::Tensor> {
    auto out = interp.run(**gradient, args);
    if (!out.ok())
      return out.status();
    return std::move((*out)[1]);
  };
  const double step = 1e-5;
  ir::Tensor &x = args[input];
  int64_t n = x.type().numElements();
  for (int64_t j = 0; j < n; ++j) {
    double x0 = x.getDouble(j);
    x.setDouble(j, x0 + step);
    auto plus = gradientAt();
    x.setDouble(j, x0 - step);
    auto minus = gradientAt();
    x.setDouble(j, x0);
    if (!plus.ok())
      return plus.status();
    if (!minus.ok())
      return minus.status();
    for (int64_t i = 0; i < n; ++i) {
      double numeric = (plus->getDouble(i) - minus->getDouble(i)) / (2 * step);
      double got = h.getDouble(i * n + j);
      if (!(std::abs(got - numeric) <=
            1e-7 + 1e-5 * std::max(std::abs(numeric), std::abs(got))))
        return absl::InternalError(
            strCat("H[", i, ", ", j, "] is ", got,
                   ", finite differences of the gradient give ", numeric));
    }
  }
  return absl::OkStatus();
}

TEST(GradElementwise, HessianOfTanhTimesX) {
  EXPECT_EQ(hessianCheck(R"(
module @m
func @main(%x: f64[4]) -> (f64[]) {
  %t = tanh(%x) : f64[4]
  %p = mul(%t, %x) : f64[4]
  %s = reduce_sum(%p) : f64[]
  return %s
}
)",
                         0, {{"x", {-2, 2}}}),
            absl::OkStatus());
}

TEST(GradElementwise, SecondDerivativesOfEveryUnaryRule) {
  // sum(op(x)^2): the Hessian 2 op'^2 + 2 op op'' also differentiates the
  // rule with respect to the incoming gradient, which is not constant.
  for (const UnaryCase &c : unaryCases())
    EXPECT_EQ(hessianCheck(absl::StrFormat(R"(
module @m
func @main(%%x: f64[3]) -> (f64[]) {
  %%y = %s(%%x) %s : f64[3]
  %%q = mul(%%y, %%y) : f64[3]
  %%s = reduce_sum(%%q) : f64[]
  return %%s
}
)",
                                           c.op, c.attrs),
                           0, {{"x", c.range}}),
              absl::OkStatus())
        << c.op << " " << c.attrs;
}

TEST(GradElementwise, SecondDerivativesOfEveryBinaryRule) {
  // With respect to each operand, one of them broadcast.
  for (const BinaryCase &c : binaryCases())
    for (int input : {0, 1})
      EXPECT_EQ(hessianCheck(absl::StrFormat(R"(
module @m
func @main(%%a: f64[2, 3], %%b: f64[3]) -> (f64[]) {
  %%y = %s(%%a, %%b) %s : f64[2, 3]
  %%q = mul(%%y, %%y) : f64[2, 3]
  %%s = reduce_sum(%%q) : f64[]
  return %%s
}
)",
                                             c.op, c.attrs),
                             input, {{"a", c.a}, {"b", c.b}}),
                absl::OkStatus())
          << c.op << " " << c.attrs << " w.r.t. operand " << input;
}

TEST(GradElementwise, SecondDerivativesOfSelectAndCast) {
  EXPECT_EQ(hessianCheck(R"(
module @m
func @main(%x: f64[4], %w: f64[4]) -> (f64[]) {
  %z = constant() {value = dense<0.0>} : f64[]
  %c = gt(%w, %z) : bool[4]
  %e = exp(%x) : f64[4]
  %t = tanh(%x) : f64[4]
  %y = select(%c, %e, %t) : f64[4]
  %h = cast(%y) {to = f64} : f64[4]
  %q = mul(%h, %h) : f64[4]
  %s = reduce_sum(%q) : f64[]
  return %s
}
)",
                         0, {}),
            absl::OkStatus());
}

// Rules build their constants in the operand's dtype, so the gradient of
// an f32, f16 or bf16 op has exactly the operand's type.
TEST(GradElementwise, RulesKeepTheOperandDtype) {
  for (const char *dtype : {"f32", "f16", "bf16"}) {
    for (const UnaryCase &c : unaryCases()) {
      std::string source =
          absl::StrFormat(R"(
module @m
func @main(%%x: %s[2, 3]) -> (%s[]) {
  %%y = %s(%%x) %s : %s[2, 3]
  %%s = reduce_sum(%%y) : %s[]
  return %%s
}
)",
                          dtype, dtype, c.op, c.attrs, dtype, dtype);
      auto m = ir::parseModule(source, "dtype.nyx");
      ASSERT_TRUE(m.ok()) << m.status();
      auto g = passes::addGradFunction(**m, **(*m)->entry(), {}, "g");
      ASSERT_TRUE(g.ok()) << g.status() << "\n" << source;
      EXPECT_EQ(ir::verifyModule(**m), absl::OkStatus()) << source;
    }
    for (const BinaryCase &c : binaryCases()) {
      std::string source =
          absl::StrFormat(R"(
module @m
func @main(%%a: %s[2, 3], %%b: %s[3]) -> (%s[]) {
  %%y = %s(%%a, %%b) %s : %s[2, 3]
  %%s = reduce_sum(%%y) : %s[]
  return %%s
}
)",
                          dtype, dtype, dtype, c.op, c.attrs, dtype, dtype);
      auto m = ir::parseModule(source, "dtype.nyx");
      ASSERT_TRUE(m.ok()) << m.status();
      auto g = passes::addGradFunction(**m, **(*m)->entry(), {}, "g");
      ASSERT_TRUE(g.ok()) << g.status() << "\n" << source;
      EXPECT_EQ(ir::verifyModule(**m), absl::OkStatus()) << source;
    }
  }
}

} // namespace
} // namespace nyx
