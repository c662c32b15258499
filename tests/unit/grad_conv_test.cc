// Gradient rules of conv2d, max_pool2d and avg_pool2d
// (ir/grad/conv_grad.cc) against finite differences, over strides,
// padding, dilations, groups and output sizes that round down; the
// max-pool tie rule; second derivatives through the rules.
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "ir/printer.h"
#include "tests/support/gradcheck.h"
#include "gtest/gtest.h"

namespace nyx {
namespace {

using ir::Builder;
using ir::DType;
using ir::Shape;
using ir::Value;
using Ints = std::vector<int64_t>;
using test::BuildFn;
using test::hvpCheck;

absl::Status check(const BuildFn &build,
                   const test::GradCheckOptions &options = {}) {
  return test::gradCheck(build, options);
}

Value *input(Builder &b, const Shape &shape, std::string name = "x") {
  return b.input(std::move(name), {DType::F64, shape});
}

std::string str(const Ints &v) { return strCat("[", strJoin(v, ","), "]"); }

struct ConvCase {
  Shape x;        // N, C, H, W
  int64_t m;      // output channels
  Ints kernel;    // kH, kW
  Ints strides;   // sH, sW
  Ints padding;   // top, left, bottom, right
  Ints dilations; // dH, dW
  int64_t groups;
  bool bias;
};

std::string describe(const ConvCase &c) {
  return strCat("x ", str(c.x), " m ", c.m, " kernel ", str(c.kernel),
                " strides ", str(c.strides), " padding ", str(c.padding),
                " dilations ", str(c.dilations), " groups ", c.groups,
                c.bias ? " bias" : "");
}

Value *conv(Builder &b, const ConvCase &c, Value *x) {
  Value *w = b.input(
      "w", {DType::F64, {c.m, c.x[1] / c.groups, c.kernel[0], c.kernel[1]}});
  std::vector<Value *> operands = {x, w};
  if (c.bias)
    operands.push_back(b.input("bias", {DType::F64, {c.m}}));
  return b.op("conv2d", operands,
              {{"strides", c.strides},
               {"padding", c.padding},
               {"dilations", c.dilations},
               {"groups", c.groups}});
}

TEST(GradConv, Conv2d) {
  const ConvCase cases[] = {
      {{2, 3, 5, 5}, 2, {3, 3}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1, true},
      {{2, 3, 5, 5}, 2, {3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1, false},
      // Output sizes rounded down: the last row and column are never read.
      {{2, 3, 6, 6}, 2, {3, 3}, {2, 2}, {0, 0, 0, 0}, {1, 1}, 1, true},
      {{2, 3, 7, 6}, 2, {3, 2}, {2, 3}, {1, 0, 2, 1}, {1, 1}, 1, true},
      {{1, 2, 7, 7}, 3, {3, 3}, {1, 1}, {0, 0, 0, 0}, {2, 3}, 1, false},
      {{2, 2, 7, 6}, 2, {2, 2}, {3, 2}, {1, 2, 0, 1}, {2, 2}, 1, true},
      {{2, 4, 5, 5}, 4, {3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 2, true},
      {{1, 6, 5, 5}, 4, {2, 3}, {2, 1}, {0, 1, 1, 0}, {1, 2}, 2, false},
      {{2, 3, 5, 6}, 6, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, 3, true},
      {{2, 3, 5, 5}, 3, {1, 1}, {2, 2}, {0, 0, 0, 0}, {1, 1}, 3, false},
      // Padding beyond the kernel's reach: padded rows only some windows
      // read.
      {{1, 2, 4, 4}, 2, {1, 2}, {1, 1}, {2, 3, 1, 2}, {1, 1}, 1, false},
      // No window reaches the input at all (the only window sits in the
      // top padding): x gets zeros.
      {{1, 2, 1, 3}, 2, {1, 1}, {4, 1}, {2, 0, 0, 0}, {1, 1}, 1, true},
  };
  for (const ConvCase &c : cases)
    EXPECT_EQ(check([&](Builder &b) { return conv(b, c, input(b, c.x)); }),
              absl::OkStatus())
        << describe(c);
}

TEST(GradConv, Conv2dDefaultAttributes) {
  EXPECT_EQ(check([](Builder &b) {
              return b.op("conv2d", {input(b, {1, 2, 4, 5}),
                                     input(b, {3, 2, 2, 3}, "w")});
            }),
            absl::OkStatus());
}

struct PoolCase {
  Shape x;
  Ints kernel, strides, padding;
};

std::string describe(const PoolCase &c) {
  return strCat("x ", str(c.x), " kernel ", str(c.kernel), " strides ",
                str(c.strides), " padding ", str(c.padding));
}

const PoolCase kPoolCases[] = {
    {{2, 2, 4, 4}, {2, 2}, {2, 2}, {0, 0, 0, 0}},
    {{2, 2, 5, 5}, {2, 2}, {2, 2}, {0, 0, 0, 0}}, // rounded down
    {{1, 2, 5, 5}, {3, 3}, {2, 2}, {1, 1, 1, 1}}, // overlapping windows
    {{1, 3, 5, 4}, {3, 3}, {1, 1}, {1, 1, 1, 1}},
    {{2, 1, 6, 5}, {2, 3}, {1, 2}, {1, 0, 0, 2}},
    {{1, 2, 7, 7}, {3, 2}, {3, 3}, {2, 1, 0, 1}},
    {{1, 2, 5, 6}, {4, 4}, {1, 3}, {3, 0, 2, 3}},
};

TEST(GradConv, HwioFilterHasNoGradient) {
  absl::Status s = check([](Builder &b) {
    return b.op("conv2d", {input(b, {1, 2, 4, 5}), input(b, {2, 3, 2, 3}, "w")},
                {{"filter_layout", std::string("hwio")}});
  });
  EXPECT_NE(std::string(s.message())
                .find("gradient of 'conv2d' with filter_layout \"hwio\""),
            std::string::npos)
      << s.message();
}

TEST(GradConv, MaxPool) {
  for (const PoolCase &c : kPoolCases) {
    // Negative inputs: a padded position taken as 0 would win.
    for (auto range : {std::pair{-1.0, 1.0}, std::pair{-3.0, -1.0}}) {
      test::GradCheckOptions o;
      o.lo = range.first;
      o.hi = range.second;
      EXPECT_EQ(check(
                    [&](Builder &b) {
                      return b.op("max_pool2d", {input(b, c.x)},
                                  {{"kernel", c.kernel},
                                   {"strides", c.strides},
                                   {"padding", c.padding}});
                    },
                    o),
                absl::OkStatus())
          << describe(c) << " inputs in [" << o.lo << ", " << o.hi << "]";
    }
  }
}

TEST(GradConv, MaxPoolDefaultStrides) {
  EXPECT_EQ(check([](Builder &b) {
              return b.op("max_pool2d", {input(b, {1, 2, 6, 4})},
                          {{"kernel", Ints{3, 2}}});
            }),
            absl::OkStatus());
}

TEST(GradConv, AvgPool) {
  for (const PoolCase &c : kPoolCases)
    for (bool includePad : {false, true})
      EXPECT_EQ(check([&](Builder &b) {
                  return b.op("avg_pool2d", {input(b, c.x)},
                              {{"kernel", c.kernel},
                               {"strides", c.strides},
                               {"padding", c.padding},
                               {"count_include_pad", includePad}});
                }),
                absl::OkStatus())
          << describe(c) << " count_include_pad " << includePad;
}

// The gradient of sum(max_pool2d(x)) at `values` (x's elements).
absl::StatusOr<std::vector<double>>
maxPoolGradient(const Shape &shape, const Ints &strides, const Ints &padding,
                const std::vector<double> &values) {
  Builder b("m");
  Value *x = input(b, shape);
  Value *y = b.op(
      "max_pool2d", {x},
      {{"kernel", Ints{2, 2}}, {"strides", strides}, {"padding", padding}});
  b.ret({b.op("reduce_sum", {y})});
  auto built = b.finish();
  if (!built.ok())
    return built.status();
  ir::Module &m = **built;
  auto grad = passes::addGradFunction(m, **m.entry(), {}, "main_grad");
  if (!grad.ok())
    return grad.status();
  ir::Tensor in(x->type);
  for (size_t i = 0; i < values.size(); ++i)
    in.setDouble(static_cast<int64_t>(i), values[i]);
  ir::Interpreter interp(m, nullptr);
  auto out = interp.run(**grad, {in});
  if (!out.ok())
    return out.status();
  std::vector<double> result;
  for (int64_t i = 0; i < (*out)[1].numElements(); ++i)
    result.push_back((*out)[1].getDouble(i));
  return result;
}

// The gradient of max_pool2d's result goes to the first maximal element of
// each window in row-major order (PyTorch's rule), also where windows
// overlap and an element is the maximum of several windows.
TEST(GradConv, MaxPoolTies) {
  auto got = maxPoolGradient({1, 1, 3, 4}, {1, 2}, {0, 0, 0, 0},
                             {1, 5, 2, 2, //
                              5, 5, 2, 1, //
                              0, 3, 7, 7});
  ASSERT_TRUE(got.ok()) << got.status();
  // Windows (rows 0-1, cols 0-1): first 5 at (0,1); (rows 0-1, cols 2-3):
  // first 2 at (0,2); (rows 1-2, cols 0-1): first 5 at (1,0); (rows 1-2,
  // cols 2-3): first 7 at (2,2).
  EXPECT_EQ(*got, (std::vector<double>{0, 1, 1, 0, //
                                       1, 0, 0, 0, //
                                       0, 0, 1, 0}));
}

// A maximum equal to the value the padding would hold (0) still goes to
// the input element, even when padded positions come first in its window.
TEST(GradConv, MaxPoolTiesWithPadding) {
  auto got = maxPoolGradient({1, 1, 2, 2}, {1, 1}, {1, 1, 0, 0},
                             {0, -1, //
                              -1, -1});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, (std::vector<double>{4, 0, 0, 0}));
}

// A NaN in a window makes its maximum NaN; the gradient goes to the first
// NaN, the element the forward picked.
TEST(GradConv, MaxPoolNaN) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto got = maxPoolGradient({1, 1, 2, 4}, {2, 2}, {0, 0, 0, 0},
                             {1, nan, 9, 2, //
                              nan, 3, 4, nan});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, (std::vector<double>{0, 1, 0, 0, //
                                       0, 0, 0, 1}));
}

// The gradients have the operands' types in every float dtype (the
// autodiff rejects a rule that gives another type), and run.
TEST(GradConv, StorageDTypes) {
  for (DType t : {DType::F32, DType::F16, DType::BF16}) {
    Builder b("m");
    Value *x = b.input("x", {t, {1, 4, 5, 5}});
    Value *w = b.input("w", {t, {2, 2, 3, 3}});
    Value *bias = b.input("bias", {t, {2}});
    Value *y = b.op("conv2d", {x, w, bias},
                    {{"strides", Ints{2, 2}},
                     {"padding", Ints{1, 1, 0, 0}},
                     {"groups", 2}});
    Value *mp = b.op("max_pool2d", {x},
                     {{"kernel", Ints{3, 3}},
                      {"strides", Ints{2, 2}},
                      {"padding", Ints{1, 1, 1, 1}}});
    Value *ap = b.op("avg_pool2d", {x},
                     {{"kernel", Ints{2, 2}}, {"padding", Ints{1, 0, 1, 0}}});
    b.ret({b.op("add", {b.op("add", {b.op("reduce_sum", {y}),
                                     b.op("reduce_sum", {mp})}),
                        b.op("reduce_sum", {ap})})});
    auto built = b.finish();
    ASSERT_TRUE(built.ok()) << built.status();
    ir::Module &m = **built;
    auto grad = passes::addGradFunction(m, **m.entry(), {}, "main_grad");
    ASSERT_TRUE(grad.ok()) << ir::dtypeName(t) << ": " << grad.status();
    ASSERT_EQ(ir::verifyModule(m), absl::OkStatus());
    std::vector<ir::Tensor> args;
    for (const Value *p : (*grad)->params) {
      ir::Tensor a(p->type);
      for (int64_t i = 0; i < a.numElements(); ++i)
        a.setDouble(i, 0.25 * static_cast<double>(i % 7) - 0.5);
      args.push_back(std::move(a));
    }
    ir::Interpreter interp(m, nullptr);
    auto out = interp.run(**grad, args);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ((*out)[1].type(), x->type);
    EXPECT_EQ((*out)[2].type(), w->type);
    EXPECT_EQ((*out)[3].type(), bias->type);
  }
}

TEST(GradConv, SecondOrder) {
  const ConvCase grouped = {{1, 4, 5, 5}, 2,      {3, 2}, {2, 1},
                            {1, 0, 0, 1}, {1, 2}, 2,      true};
  const std::pair<const char *, BuildFn> cases[] = {
      // x is the first input: d2/dx2 through dx = conv(g, w) and the
      // weight gradient's dependence on x.
      {"conv2d wrt x",
       [&](Builder &b) { return conv(b, grouped, input(b, grouped.x)); }},
      {"conv2d wrt w",
       [&](Builder &b) {
         Value *w = b.input("w", {DType::F64, {2, 2, 3, 2}});
         Value *x = input(b, grouped.x);
         return b.op("conv2d", {x, w},
                     {{"strides", Ints{2, 1}},
                      {"padding", Ints{1, 0, 0, 1}},
                      {"dilations", Ints{1, 2}},
                      {"groups", 2}});
       }},
      {"max_pool2d",
       [](Builder &b) {
         return b.op("max_pool2d", {input(b, {1, 2, 5, 5})},
                     {{"kernel", Ints{3, 3}},
                      {"strides", Ints{2, 2}},
                      {"padding", Ints{1, 1, 1, 1}}});
       }},
      {"avg_pool2d",
       [](Builder &b) {
         return b.op("avg_pool2d", {input(b, {1, 2, 5, 5})},
                     {{"kernel", Ints{3, 3}},
                      {"strides", Ints{2, 2}},
                      {"padding", Ints{1, 1, 1, 1}}});
       }},
  };
  for (const auto &[name, build] : cases)
    EXPECT_EQ(hvpCheck(build), absl::OkStatus()) << name;
}

} // namespace
} // namespace nyx
