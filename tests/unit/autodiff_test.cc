// The autodiff core (passes/autodiff.h): gradients of compositions with
// fan-out and params, Jacobians, Hessians and Hessian-vector products
// against finite differences, and its errors.
#include <random>

#include "ir/interpreter.h"
#include "ir/parser.h"
#include "ir/verifier.h"
#include "passes/autodiff.h"
#include "tests/support/gradcheck.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nyx {
namespace {

using ::testing::HasSubstr;

TEST(Autodiff, ChainFanOutAndParams) {
  // x reaches y three ways; the param is read by two param ops.
  EXPECT_EQ(test::gradCheck(R"(
module @m
param @w : f64[4]
func @main(%x: f64[3, 4]) -> (f64[3, 4]) {
  %s = mul(%x, %x) : f64[3, 4]
  %t = add(%s, %x) : f64[3, 4]
  %w1 = param() {name = @w} : f64[4]
  %w2 = param() {name = @w} : f64[4]
  %n = neg(%w1) : f64[4]
  %u = mul(%t, %n) : f64[3, 4]
  %y = mul(%u, %w2) : f64[3, 4]
  return %y
}
)"),
            absl::OkStatus());
}

TEST(Autodiff, IntegerInputsGetNoGradient) {
  EXPECT_EQ(test::gradCheck(R"(
func @main(%x: f64[5, 3], %i: i64[4]) -> (f64[4, 3]) {
  %g = gather(%x, %i) : f64[4, 3]
  %y = mul(%g, %g) : f64[4, 3]
  return %y
}
)",
                            {.ranges = {{"i", {0, 5}}}}),
            absl::OkStatus());
}

// A module, its entry, and random f64 arguments.
struct Case {
  std::unique_ptr<ir::Module> module;
  ir::Function *entry = nullptr;
  std::vector<ir::Tensor> args;
};

Case parse(std::string_view text) {
  Case c;
  auto m = ir::parseModule(text, "f.nyx");
  EXPECT_TRUE(m.ok()) << m.status().message();
  c.module = std::move(*m);
  c.entry = *c.module->entry();
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(-1, 1);
  for (const ir::Value *p : c.entry->params) {
    ir::Tensor t(p->type);
    for (int64_t i = 0; i < t.numElements(); ++i)
      t.setDouble(i, u(rng));
    c.args.push_back(std::move(t));
  }
  return c;
}

std::vector<ir::Tensor> run(const ir::Module &m, const ir::Function &f,
                            const std::vector<ir::Tensor> &args) {
  ir::Interpreter interp(m, nullptr);
  auto out = interp.run(f, args);
  EXPECT_TRUE(out.ok()) << out.status().message();
  return out.ok() ? *out : std::vector<ir::Tensor>{};
}

constexpr const char *kVectorFunction = R"(
func @main(%x: f64[3]) -> (f64[2]) {
  %e = exp(%x) : f64[3]
  %m = mul(%e, %x) : f64[3]
  %s = slice(%m) {starts = [0], ends = [2]} : f64[2]
  %t = slice(%x) {starts = [1], ends = [3]} : f64[2]
  %y = mul(%s, %t) : f64[2]
  return %y
}
)";

TEST(Autodiff, JacobianMatchesFiniteDifferences) {
  Case c = parse(kVectorFunction);
  auto jac = passes::addJacobianFunction(*c.module, *c.entry, 0, "jac");
  ASSERT_TRUE(jac.ok()) << jac.status().message();
  ASSERT_TRUE(ir::verifyModule(*c.module).ok());
  ir::Tensor j = run(*c.module, **jac, c.args)[0];
  ASSERT_EQ(j.type().shape, (ir::Shape{2, 3}));
  const double h = 1e-6;
  for (int64_t col = 0; col < 3; ++col) {
    std::vector<ir::Tensor> plus = c.args, minus = c.args;
    plus[0].setDouble(col, c.args[0].getDouble(col) + h);
    minus[0].setDouble(col, c.args[0].getDouble(col) - h);
    ir::Tensor fp = run(*c.module, *c.entry, plus)[0];
    ir::Tensor fm = run(*c.module, *c.entry, minus)[0];
    for (int64_t row = 0; row < 2; ++row)
      EXPECT_NEAR(j.getDouble(row * 3 + col),
                  (fp.getDouble(row) - fm.getDouble(row)) / (2 * h), 1e-7)
          << row << "," << col;
  }
}

constexpr const char *kScalarFunction = R"(
func @main(%x: f64[3], %a: f64[3]) -> (f64[]) {
  %t = tanh(%x) : f64[3]
  %p = mul(%t, %x) : f64[3]
  %q = mul(%p, %a) : f64[3]
  %e = exp(%q) : f64[3]
  %y = reduce_sum(%e) : f64[]
  return %y
}
)";

// d/dx of the gradient, by finite differences of @grad.
std::vector<double> numericHessian(Case &c, const ir::Function &grad) {
  const double h = 1e-6;
  std::vector<double> H(9);
  for (int64_t k = 0; k < 3; ++k) {
    std::vector<ir::Tensor> plus = c.args, minus = c.args;
    plus[0].setDouble(k, c.args[0].getDouble(k) + h);
    minus[0].setDouble(k, c.args[0].getDouble(k) - h);
    ir::Tensor gp = run(*c.module, grad, plus)[1];
    ir::Tensor gm = run(*c.module, grad, minus)[1];
    for (int64_t i = 0; i < 3; ++i)
      H[i * 3 + k] = (gp.getDouble(i) - gm.getDouble(i)) / (2 * h);
  }
  return H;
}

TEST(Autodiff, HessianMatchesFiniteDifferencesOfTheGradient) {
  Case c = parse(kScalarFunction);
  auto grad = passes::addGradFunction(*c.module, *c.entry, {}, "grad");
  auto hess = passes::addHessianFunction(*c.module, *c.entry, 0, "hess");
  ASSERT_TRUE(grad.ok() && hess.ok());
  ASSERT_TRUE(ir::verifyModule(*c.module).ok());
  ir::Tensor H = run(*c.module, **hess, c.args)[0];
  ASSERT_EQ(H.type().shape, (ir::Shape{3, 3}));
  std::vector<double> want = numericHessian(c, **grad);
  for (int64_t i = 0; i < 9; ++i)
    EXPECT_NEAR(H.getDouble(i), want[i], 1e-6) << i;
  for (int64_t i = 0; i < 3; ++i) // symmetric
    for (int64_t k = 0; k < 3; ++k)
      EXPECT_NEAR(H.getDouble(i * 3 + k), H.getDouble(k * 3 + i), 1e-12);
}

TEST(Autodiff, HessianVectorProductIsHTimesV) {
  Case c = parse(kScalarFunction);
  auto hess = passes::addHessianFunction(*c.module, *c.entry, 0, "hess");
  auto hvp = passes::addHvpFunction(*c.module, *c.entry, 0, "hvp");
  ASSERT_TRUE(hess.ok() && hvp.ok());
  ASSERT_TRUE(ir::verifyModule(*c.module).ok());
  ir::Tensor v(ir::TensorType{ir::DType::F64, {3}});
  for (int64_t i = 0; i < 3; ++i)
    v.setDouble(i, 0.5 - i);
  std::vector<ir::Tensor> args = c.args;
  args.push_back(v);
  ir::Tensor hv = run(*c.module, **hvp, args)[0];
  ir::Tensor H = run(*c.module, **hess, c.args)[0];
  for (int64_t i = 0; i < 3; ++i) {
    double want = 0;
    for (int64_t k = 0; k < 3; ++k)
      want += H.getDouble(i * 3 + k) * v.getDouble(k);
    EXPECT_NEAR(hv.getDouble(i), want, 1e-12);
  }
}

std::string
errorOf(std::string_view text,
        absl::StatusOr<ir::Function *> (*derive)(ir::Module &,
                                                 const ir::Function &)) {
  auto m = ir::parseModule(text, "f.nyx");
  EXPECT_TRUE(m.ok()) << m.status().message();
  auto made = derive(**m, **(*m)->entry());
  EXPECT_FALSE(made.ok());
  return std::string(made.status().message());
}

absl::StatusOr<ir::Function *> grad(ir::Module &m, const ir::Function &f) {
  return passes::addGradFunction(m, f, {}, "g");
}

TEST(Autodiff, NonScalarResultIsAnError) {
  EXPECT_THAT(errorOf(R"(
func @main(%x: f32[3, 4]) -> (f32[3, 4]) {
  %y = exp(%x) : f32[3, 4]
  return %y
}
)",
                      grad),
              HasSubstr("f.nyx:4:3: error: @main returns f32[3,4]; the "
                        "gradient needs one float scalar result"));
}

TEST(Autodiff, IntegerInputIsAnError) {
  auto m = ir::parseModule(R"(
func @main(%x: i32[3]) -> (f32[]) {
  %c = cast(%x) {to = f32} : f32[3]
  %y = reduce_sum(%c) : f32[]
  return %y
}
)",
                           "f.nyx");
  ASSERT_TRUE(m.ok());
  passes::Wrt wrt{.inputs = {0}, .params = {}, .all = false};
  auto made = passes::addGradFunction(**m, **(*m)->entry(), wrt, "g");
  ASSERT_FALSE(made.ok());
  EXPECT_THAT(made.status().message(),
              HasSubstr("cannot differentiate @main with respect to %x of "
                        "type i32[3]; expected a float input"));
}

TEST(Autodiff, OpWithoutRuleIsNamedWithItsLocation) {
  // A fused kernel has no rule: derivatives are taken before fusion.
  EXPECT_THAT(errorOf(R"(
kernel @k(%a: f32[4]) -> (f32[4]) {
  %b = exp(%a) : f32[4]
  %c = neg(%b) : f32[4]
  return %c
}
func @main(%x: f32[4]) -> (f32[]) {
  %f = fusion(%x) {callee = @k} : f32[4]
  %y = reduce_sum(%f) : f32[]
  return %y
}
)",
                      grad),
              HasSubstr("f.nyx:8:3: error: 'fusion' is not differentiable; "
                        "the gradient of @g's result with respect to %x "
                        "flows through it"));
}

TEST(Autodiff, RuleErrorsNameTheOp) {
  EXPECT_THAT(errorOf(R"(
func @main(%x: f32[4], %i: i64[1, 1], %u: f32[1]) -> (f32[]) {
  %s = scatter_nd(%x, %i, %u) {reduction = "mul"} : f32[4]
  %y = reduce_sum(%s) : f32[]
  return %y
}
)",
                      grad),
              HasSubstr("f.nyx:3:3: error: gradient of 'scatter_nd': "));
}

} // namespace
} // namespace nyx
