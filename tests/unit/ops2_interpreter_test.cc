// Reference semantics of matmul, the shape ops, conv/pooling and the
// quantization ops on small hand-computed cases; the Winograd transforms
// against conv2d.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "ir/module.h"
#include "ir/op_registry.h"
#include "ir/winograd.h"

namespace nyx::ir {
namespace {

using Ints = std::vector<int64_t>;
using Doubles = std::vector<double>;
constexpr DType F32 = DType::F32;

Tensor floats(DType dtype, Shape shape, const Doubles &values) {
  Tensor t(TensorType{dtype, std::move(shape)});
  EXPECT_EQ(static_cast<size_t>(t.numElements()), values.size());
  for (size_t i = 0; i < values.size(); ++i)
    t.setDouble(static_cast<int64_t>(i), values[i]);
  return t;
}

Tensor ints(DType dtype, Shape shape, const Ints &values) {
  Tensor t(TensorType{dtype, std::move(shape)});
  EXPECT_EQ(static_cast<size_t>(t.numElements()), values.size());
  for (size_t i = 0; i < values.size(); ++i)
    t.setInt(static_cast<int64_t>(i), values[i]);
  return t;
}

// 0, 1, 2, ... in the given dtype.
Tensor iota(DType dtype, Shape shape) {
  Tensor t(TensorType{dtype, std::move(shape)});
  for (int64_t i = 0; i < t.numElements(); ++i)
    t.setInt(i, i);
  return t;
}

Doubles valuesOf(const Tensor &t) {
  Doubles v;
  for (int64_t i = 0; i < t.numElements(); ++i)
    v.push_back(t.getDouble(i));
  return v;
}

Ints intsOf(const Tensor &t) {
  Ints v;
  for (int64_t i = 0; i < t.numElements(); ++i)
    v.push_back(t.getInt(i));
  return v;
}

// Builds the op over parameters of the inputs' types, infers its result type
// and runs its interpreter kernel.
Tensor run(std::string_view name, const std::vector<Tensor> &inputs,
           Attributes attrs = {}) {
  Module module;
  Function *f = module.addFunction("main");
  std::vector<Value *> values;
  std::vector<const Tensor *> ptrs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    values.push_back(f->addParam("p" + std::to_string(i), inputs[i].type()));
    ptrs.push_back(&inputs[i]);
  }
  const OpDef *def = lookupOp(name);
  EXPECT_NE(def, nullptr) << name;
  if (!def)
    return {};
  Op *op = f->appendOp(def, values, std::move(attrs), {});
  auto types = def->inferTypes(*op, module);
  EXPECT_TRUE(types.ok()) << types.status().message();
  if (!types.ok() || types->size() != 1)
    return {};
  std::vector<Tensor> results;
  results.emplace_back((*types)[0]);
  InterpContext ctx;
  ctx.module = &module;
  absl::Status s = def->interpret(*op, ptrs, results, ctx);
  EXPECT_TRUE(s.ok()) << s.message();
  return results[0];
}

// ---- matmul ----

TEST(MatmulInterp, Basic) {
  Tensor a = floats(F32, {2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = floats(F32, {3, 2}, {7, 8, 9, 10, 11, 12});
  Tensor c = run("matmul", {a, b});
  EXPECT_EQ(c.shape(), (Shape{2, 2}));
  EXPECT_EQ(valuesOf(c), (Doubles{58, 64, 139, 154}));
}

TEST(MatmulInterp, I8AccumulatesInI32) {
  // (-128)(-128) + 127 * 127 = 32513 and (-128) 127 + 127 (-128) = -32512.
  Tensor a = ints(DType::I8, {1, 2}, {-128, 127});
  Tensor b = ints(DType::I8, {2, 2}, {-128, 127, 127, -128});
  Tensor c = run("matmul", {a, b});
  EXPECT_EQ(c.dtype(), DType::I32);
  EXPECT_EQ(intsOf(c), (Ints{32513, -32512}));
}

TEST(MatmulInterp, Transposes) {
  // a^T with a = [[1, 4], [2, 5], [3, 6]] is [[1, 2, 3], [4, 5, 6]];
  // b^T with b = [[7, 9, 11], [8, 10, 12]] is [[7, 8], [9, 10], [11, 12]].
  Tensor a = floats(DType::F64, {3, 2}, {1, 4, 2, 5, 3, 6});
  Tensor b = floats(DType::F64, {2, 3}, {7, 9, 11, 8, 10, 12});
  Tensor c =
      run("matmul", {a, b}, {{"transpose_a", true}, {"transpose_b", true}});
  EXPECT_EQ(valuesOf(c), (Doubles{58, 64, 139, 154}));
}

TEST(MatmulInterp, BroadcastBatch) {
  // a: [2,1,1,2] batches [[1,2]] and [[3,4]]; b: [3,2,1] columns [1,0],
  // [0,1], [1,1]. Result [2,3,1,1].
  Tensor a = floats(F32, {2, 1, 1, 2}, {1, 2, 3, 4});
  Tensor b = floats(F32, {3, 2, 1}, {1, 0, 0, 1, 1, 1});
  Tensor c = run("matmul", {a, b});
  EXPECT_EQ(c.shape(), (Shape{2, 3, 1, 1}));
  EXPECT_EQ(valuesOf(c), (Doubles{1, 2, 3, 3, 4, 7}));
}

TEST(MatmulInterp, IntegersWrap) {
  Tensor a = ints(DType::I32, {1, 2}, {std::numeric_limits<int32_t>::max(), 1});
  Tensor b = ints(DType::I32, {2, 1}, {2, 3});
  // 2 * (2^31 - 1) + 3 = 2^32 + 1, which wraps to 1.
  EXPECT_EQ(intsOf(run("matmul", {a, b})), (Ints{1}));
  Tensor a64 = ints(DType::I64, {1, 1}, {int64_t{1} << 62});
  Tensor b64 = ints(DType::I64, {1, 1}, {4});
  EXPECT_EQ(intsOf(run("matmul", {a64, b64})), (Ints{0}));
}

TEST(MatmulInterp, HalfRoundsOnceAfterAccumulating) {
  // 2048 + 1 + 1 in f16: rounding after each add would stay at 2048 (ties
  // to even), accumulating wider gives 2050, which f16 represents.
  Tensor a = floats(DType::F16, {1, 3}, {2048, 1, 1});
  Tensor b = floats(DType::F16, {3, 1}, {1, 1, 1});
  EXPECT_EQ(valuesOf(run("matmul", {a, b})), (Doubles{2050}));
}

TEST(MatmulInterp, EmptyInnerDimensionGivesZeros) {
  Tensor a(TensorType{F32, {2, 0}});
  Tensor b(TensorType{F32, {0, 2}});
  EXPECT_EQ(valuesOf(run("matmul", {a, b})), (Doubles{0, 0, 0, 0}));
}

// ---- reshape / transpose / broadcast_to ----

TEST(ReshapeInterp, KeepsElementOrder) {
  Tensor x = iota(DType::I8, {2, 3});
  Tensor y = run("reshape", {x}, {{"shape", Ints{3, -1}}});
  EXPECT_EQ(y.shape(), (Shape{3, 2}));
  EXPECT_EQ(intsOf(y), (Ints{0, 1, 2, 3, 4, 5}));
}

TEST(TransposeInterp, DefaultReversesAxes) {
  Tensor x = iota(DType::I64, {2, 3});
  Tensor y = run("transpose", {x});
  EXPECT_EQ(y.shape(), (Shape{3, 2}));
  EXPECT_EQ(intsOf(y), (Ints{0, 3, 1, 4, 2, 5}));
}

TEST(TransposeInterp, Rank3Perm) {
  Tensor x = iota(DType::I32, {2, 2, 3});
  Tensor y = run("transpose", {x}, {{"perm", Ints{2, 0, 1}}});
  EXPECT_EQ(y.shape(), (Shape{3, 2, 2}));
  // y[k][i][j] = x[i][j][k] = 6i + 3j + k.
  EXPECT_EQ(intsOf(y), (Ints{0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11}));
}

TEST(TransposeInterp, CopiesBitsExactly) {
  // A NaN payload and -0.0 survive: shape ops move bytes.
  Tensor x(TensorType{F32, {2}});
  uint32_t bits[2] = {0x7fc01234u, 0x80000000u};
  std::memcpy(x.bytes(), bits, sizeof bits);
  Tensor y = run("transpose", {x});
  EXPECT_EQ(std::memcmp(y.bytes(), bits, sizeof bits), 0);
}

TEST(BroadcastToInterp, RepeatsSizeOneAxes) {
  Tensor x = ints(DType::Bool, {2, 1}, {1, 0});
  Tensor y = run("broadcast_to", {x}, {{"shape", Ints{2, 2, 3}}});
  EXPECT_EQ(intsOf(y), (Ints{1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0}));
}

TEST(ShapeOpsInterp, EmptyTensors) {
  Tensor empty(TensorType{F32, {0, 3}});
  EXPECT_EQ(run("reshape", {empty}, {{"shape", Ints{3, 0}}}).shape(),
            (Shape{3, 0}));
  EXPECT_EQ(run("transpose", {empty}).shape(), (Shape{3, 0}));
  Tensor noIndices(TensorType{DType::I32, {0}});
  EXPECT_EQ(
      run("gather", {iota(F32, {2, 3}), noIndices}, {{"axis", int64_t{1}}})
          .shape(),
      (Shape{2, 0}));
  // Constant padding fills an empty axis with the value.
  Tensor none(TensorType{DType::I8, {0}});
  EXPECT_EQ(intsOf(run("pad", {none}, {{"pads", Ints{1, 2}}, {"value", 4.0}})),
            (Ints{4, 4, 4}));
}

// ---- slice ----

TEST(SliceInterp, StepsAndClamping) {
  Tensor x = iota(DType::I64, {10});
  auto slice = [&](int64_t start, int64_t end, int64_t step) {
    return intsOf(run(
        "slice", {x},
        {{"starts", Ints{start}}, {"ends", Ints{end}}, {"steps", Ints{step}}}));
  };
  EXPECT_EQ(slice(1, 8, 3), (Ints{1, 4, 7}));
  EXPECT_EQ(slice(-3, 1000, 1), (Ints{7, 8, 9}));
  EXPECT_EQ(slice(-1000, 2, 1), (Ints{0, 1}));
  EXPECT_EQ(slice(5, 5, 1), (Ints{}));
  // Negative steps: x[8:2:-2], x[::-1] spelled with out-of-range bounds,
  // x[-2:-100:-4].
  EXPECT_EQ(slice(8, 2, -2), (Ints{8, 6, 4}));
  EXPECT_EQ(slice(std::numeric_limits<int64_t>::max(),
                  std::numeric_limits<int64_t>::min(), -1),
            (Ints{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}));
  EXPECT_EQ(slice(-2, -100, -4), (Ints{8, 4, 0}));
  EXPECT_EQ(slice(2, 8, -1), (Ints{}));
}

TEST(SliceInterp, SeveralAxes) {
  Tensor x = iota(DType::F16, {3, 4});
  // x[::-2, 1:3]
  Tensor y = run("slice", {x},
                 {{"starts", Ints{1, -1}},
                  {"ends", Ints{3, -10}},
                  {"axes", Ints{1, 0}},
                  {"steps", Ints{1, -2}}});
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(valuesOf(y), (Doubles{9, 10, 1, 2}));
}

// ---- concat ----

TEST(ConcatInterp, InnerAxis) {
  Tensor a = iota(DType::I32, {2, 2});
  Tensor b = ints(DType::I32, {2, 1}, {-1, -2});
  Tensor empty(TensorType{DType::I32, {2, 0}});
  Tensor y = run("concat", {a, empty, b}, {{"axis", int64_t{-1}}});
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(intsOf(y), (Ints{0, 1, -1, 2, 3, -2}));
}

TEST(ConcatInterp, OuterAxis) {
  Tensor a = floats(F32, {1, 2}, {1.5, 2.5});
  Tensor b = floats(F32, {2, 2}, {3, 4, 5, 6});
  EXPECT_EQ(valuesOf(run("concat", {a, b}, {{"axis", int64_t{0}}})),
            (Doubles{1.5, 2.5, 3, 4, 5, 6}));
}

// ---- gather ----

TEST(GatherInterp, NegativeAndOutOfRangeIndices) {
  Tensor data = floats(F32, {4}, {10, 11, 12, 13});
  Tensor idx = ints(DType::I64, {2, 3}, {0, -1, 2, 4, -5, 1});
  Tensor y = run("gather", {data, idx});
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(valuesOf(y), (Doubles{10, 13, 12, 0, 0, 11}));
}

TEST(GatherInterp, InnerAxis) {
  Tensor data = iota(DType::I8, {2, 3, 2});
  Tensor idx = ints(DType::I32, {2}, {2, -3});
  Tensor y = run("gather", {data, idx}, {{"axis", int64_t{1}}});
  EXPECT_EQ(y.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(intsOf(y), (Ints{4, 5, 0, 1, 10, 11, 6, 7}));
}

TEST(GatherInterp, ScalarIndexDropsTheAxis) {
  Tensor data = iota(DType::I64, {2, 3});
  Tensor idx = ints(DType::I32, {}, {1});
  Tensor y = run("gather", {data, idx}, {{"axis", int64_t{1}}});
  EXPECT_EQ(y.shape(), (Shape{2}));
  EXPECT_EQ(intsOf(y), (Ints{1, 4}));
}

// ---- pad ----

TEST(PadInterp, Constant) {
  Tensor x = iota(DType::I32, {2, 2});
  Tensor y = run("pad", {x}, {{"pads", Ints{1, 0, 0, 1}}, {"value", 7.0}});
  EXPECT_EQ(y.shape(), (Shape{3, 3}));
  EXPECT_EQ(intsOf(y), (Ints{7, 7, 7, 0, 1, 7, 2, 3, 7}));
}

TEST(PadInterp, ConstantDefaultsToZero) {
  Tensor x = floats(F32, {1}, {5});
  EXPECT_EQ(valuesOf(run("pad", {x}, {{"pads", Ints{1, 2}}})),
            (Doubles{0, 5, 0, 0}));
}

TEST(PadInterp, ReflectMirrorsWithoutTheEdge) {
  Tensor x = iota(DType::I64, {4});
  Tensor y =
      run("pad", {x}, {{"pads", Ints{3, 2}}, {"mode", std::string("reflect")}});
  EXPECT_EQ(intsOf(y), (Ints{3, 2, 1, 0, 1, 2, 3, 2, 1}));
}

TEST(PadInterp, Reflect2d) {
  Tensor x = iota(DType::F64, {2, 3});
  Tensor y =
      run("pad", {x},
          {{"pads", Ints{1, 1, 0, 1}}, {"mode", std::string("reflect")}});
  EXPECT_EQ(y.shape(), (Shape{3, 5}));
  EXPECT_EQ(valuesOf(y),
            (Doubles{4, 3, 4, 5, 4, 1, 0, 1, 2, 1, 4, 3, 4, 5, 4}));
}

TEST(PadInterp, EdgeRepeats) {
  Tensor x = ints(DType::Bool, {3}, {1, 0, 0});
  Tensor y =
      run("pad", {x}, {{"pads", Ints{2, 1}}, {"mode", std::string("edge")}});
  EXPECT_EQ(intsOf(y), (Ints{1, 1, 1, 0, 0, 0}));
}

TEST(PadInterp, HalfFillValueRoundsOnce) {
  Tensor x = floats(DType::F16, {1}, {1});
  // 1 + 2^-11 + 2^-30 is just above the midpoint between 1 and the next f16,
  // so a single rounding goes up; rounding through f32 first would tie to 1.
  double v = 1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -30);
  Tensor y = run("pad", {x}, {{"pads", Ints{1, 0}}, {"value", v}});
  EXPECT_EQ(valuesOf(y), (Doubles{1.0 + std::ldexp(1.0, -10), 1}));
}

// ---- conv2d ----

TEST(Conv2dInterp, SingleChannel) {
  // 3x3 input, 2x2 kernel of ones plus bias 1: window sums + 1.
  Tensor x = iota(F32, {1, 1, 3, 3});
  Tensor w = floats(F32, {1, 1, 2, 2}, {1, 1, 1, 1});
  Tensor b = floats(F32, {1}, {1});
  Tensor y = run("conv2d", {x, w, b});
  EXPECT_EQ(y.shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(valuesOf(y), (Doubles{9, 13, 21, 25}));
}

TEST(Conv2dInterp, PaddingStrideDilation) {
  // 4x4 input 0..15, 2x2 kernel [[1, 0], [0, -1]] dilated by 2, padding 1,
  // stride 2: windows start at (-1,-1), (-1,1), (1,-1), (1,1) and read
  // x[r][c] - x[r+2][c+2] where both are inside.
  Tensor x = iota(F32, {1, 1, 4, 4});
  Tensor w = floats(F32, {1, 1, 2, 2}, {1, 0, 0, -1});
  Tensor y = run("conv2d", {x, w},
                 {{"strides", Ints{2, 2}},
                  {"padding", Ints{1, 1, 1, 1}},
                  {"dilations", Ints{2, 2}}});
  EXPECT_EQ(y.shape(), (Shape{1, 1, 2, 2}));
  // (-1,-1): -x[1][1] = -5; (-1,1): -x[1][3] = -7; (1,-1): -x[3][1] = -13;
  // (1,1): x[1][1] - x[3][3] = 5 - 15 = -10.
  EXPECT_EQ(valuesOf(y), (Doubles{-5, -7, -13, -10}));
}

TEST(Conv2dInterp, GroupsKeepChannelsApart) {
  // Two groups of two input channels; output channel 0 sees channels 0-1,
  // output channel 1 sees channels 2-3. 1x1 spatial, 1x1 kernel.
  Tensor x = floats(F32, {1, 4, 1, 1}, {1, 10, 100, 1000});
  Tensor w = floats(F32, {2, 2, 1, 1}, {1, 2, 3, 4});
  Tensor y = run("conv2d", {x, w}, {{"groups", int64_t{2}}});
  EXPECT_EQ(valuesOf(y), (Doubles{21, 4300}));
}

TEST(Conv2dInterp, Depthwise) {
  Tensor x = floats(DType::F64, {1, 2, 1, 3}, {1, 2, 3, 4, 5, 6});
  Tensor w = floats(DType::F64, {2, 1, 1, 2}, {1, -1, 2, 1});
  Tensor y = run("conv2d", {x, w}, {{"groups", int64_t{2}}});
  EXPECT_EQ(y.shape(), (Shape{1, 2, 1, 2}));
  EXPECT_EQ(valuesOf(y), (Doubles{-1, -1, 13, 16}));
}

TEST(Conv2dInterp, EveryFilterLayoutHoldsTheOihwFilter) {
  // Two groups of 4 output channels, a 2x3 kernel, stride, padding and
  // dilation: every index of the filter matters. hwio holds filter row
  // (kh, kw, i) for every output channel; Ohwi2o holds channels 2b and
  // 2b+1 of that row in block b.
  const int64_t m = 8, cg = 3, kh = 2, kw = 3, block = 2;
  Tensor x = iota(F32, {1, 6, 5, 6});
  Tensor oihw(ir::TensorType{F32, {m, cg, kh, kw}});
  Tensor hwio(ir::TensorType{F32, {kh, kw, cg, m}});
  Tensor blocked(ir::TensorType{F32, {m / block, kh, kw, cg, block}});
  for (int64_t o = 0; o < m; ++o)
    for (int64_t i = 0; i < cg; ++i)
      for (int64_t h = 0; h < kh; ++h)
        for (int64_t w = 0; w < kw; ++w) {
          double v = static_cast<double>((o * 7 + i * 5 + h * 3 + w) % 11) - 5;
          const int64_t row = (h * kw + w) * cg + i;
          oihw.setDouble(((o * cg + i) * kh + h) * kw + w, v);
          hwio.setDouble(row * m + o, v);
          blocked.setDouble(
              ((o / block) * kh * kw * cg + row) * block + o % block, v);
        }
  Tensor b = floats(F32, {m}, {1, -2, 3, 0.5, 0, 4, -1, 2});
  Attributes attrs = {{"strides", Ints{2, 1}},
                      {"padding", Ints{1, 0, 0, 2}},
                      {"dilations", Ints{1, 2}},
                      {"groups", int64_t{2}}};
  Tensor want = run("conv2d", {x, oihw, b}, attrs);
  for (auto [layout, w] :
       {std::pair{"hwio", &hwio}, std::pair{"Ohwi2o", &blocked}}) {
    attrs["filter_layout"] = std::string(layout);
    Tensor got = run("conv2d", {x, *w, b}, attrs);
    EXPECT_EQ(got.shape(), want.shape()) << layout;
    EXPECT_EQ(valuesOf(got), valuesOf(want)) << layout;
  }
}

TEST(Conv2dInterp, BatchAndOutputChannels) {
  Tensor x = floats(F32, {2, 1, 1, 1}, {2, 3});
  Tensor w = floats(F32, {3, 1, 1, 1}, {1, 10, 100});
  Tensor b = floats(F32, {3}, {0.5, 0, -1});
  EXPECT_EQ(valuesOf(run("conv2d", {x, w, b})),
            (Doubles{2.5, 20, 199, 3.5, 30, 299}));
}

// ---- Winograd transforms ----

// In f64 the transforms, the product with the transformed filter and the
// output transform compute the convolution to within f64 rounding, for
// every padding form and outputs that are not whole tiles; this checks
// the three matrices (ir/winograd.h) against the direct definition.
TEST(WinogradInterp, TransformsComputeTheConvolution) {
  const DType F64 = DType::F64;
  const Ints paddings[] = {{1, 1, 1, 1}, {0, 0, 0, 0}, {2, 0, 1, 2}};
  for (const Ints &pad : paddings) {
    Tensor x(TensorType{F64, {2, 3, 9, 7}});
    Tensor w(TensorType{F64, {4, 3, 3, 3}});
    Tensor b(TensorType{F64, {4}});
    for (int64_t i = 0; i < x.numElements(); ++i)
      x.setDouble(i, std::sin(0.7 * i));
    for (int64_t i = 0; i < w.numElements(); ++i)
      w.setDouble(i, std::cos(1.3 * i));
    for (int64_t i = 0; i < b.numElements(); ++i)
      b.setDouble(i, i - 1.5);
    Tensor direct = run("conv2d", {x, w, b}, {{"padding", pad}});
    Tensor v = run("winograd_input", {x}, {{"padding", pad}});
    Tensor products = run("matmul", {winograd::transformFilter(w), v});
    Tensor y =
        run("winograd_output", {products, b},
            {{"output_size", Ints{direct.shape()[2], direct.shape()[3]}}});
    ASSERT_EQ(y.shape(), direct.shape());
    for (int64_t i = 0; i < y.numElements(); ++i)
      ASSERT_NEAR(y.getDouble(i), direct.getDouble(i), 1e-12) << i;
  }
}

// ---- pooling ----

TEST(MaxPoolInterp, PaddingNeverWins) {
  // All inputs negative: a padded zero would win if padding took part.
  Tensor x = floats(F32, {1, 1, 2, 2}, {-4, -3, -2, -1});
  Tensor y = run("max_pool2d", {x},
                 {{"kernel", Ints{2, 2}},
                  {"strides", Ints{1, 1}},
                  {"padding", Ints{1, 1, 1, 1}}});
  EXPECT_EQ(y.shape(), (Shape{1, 1, 3, 3}));
  EXPECT_EQ(valuesOf(y), (Doubles{-4, -3, -3, -2, -1, -1, -2, -1, -1}));
}

TEST(MaxPoolInterp, StridesDefaultToKernel) {
  Tensor x = iota(F32, {1, 2, 2, 4});
  Tensor y = run("max_pool2d", {x}, {{"kernel", Ints{2, 2}}});
  EXPECT_EQ(y.shape(), (Shape{1, 2, 1, 2}));
  EXPECT_EQ(valuesOf(y), (Doubles{5, 7, 13, 15}));
}

TEST(MaxPoolInterp, NaNPropagates) {
  double nan = std::numeric_limits<double>::quiet_NaN();
  Tensor x = floats(F32, {1, 1, 1, 4}, {1, nan, 3, 2});
  Tensor y = run("max_pool2d", {x}, {{"kernel", Ints{1, 2}}});
  Doubles v = valuesOf(y);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_TRUE(std::isnan(v[0]));
  EXPECT_EQ(v[1], 3);
}

TEST(AvgPoolInterp, CountIncludePadBothWays) {
  Tensor x = floats(F32, {1, 1, 2, 2}, {1, 2, 3, 4});
  Attributes attrs = {{"kernel", Ints{2, 2}},
                      {"strides", Ints{1, 1}},
                      {"padding", Ints{1, 1, 0, 0}}};
  // Windows: {1}, {1,2}, {1,3}, {1,2,3,4}.
  EXPECT_EQ(valuesOf(run("avg_pool2d", {x}, attrs)), (Doubles{1, 1.5, 2, 2.5}));
  attrs["count_include_pad"] = true;
  EXPECT_EQ(valuesOf(run("avg_pool2d", {x}, attrs)),
            (Doubles{0.25, 0.75, 1, 2.5}));
}

TEST(AvgPoolInterp, HalfRoundsTheMean) {
  // (1 + 2 + 2) / 3 = 1 + 682.67 / 1024; the nearest f16 is 1 + 683 / 1024.
  Tensor x = floats(DType::F16, {1, 1, 1, 3}, {1, 2, 2});
  Tensor y = run("avg_pool2d", {x}, {{"kernel", Ints{1, 3}}});
  EXPECT_EQ(valuesOf(y), (Doubles{1.0 + 683.0 / 1024}));
}

// ---- quantize, dequantize, requantize ----

constexpr DType I8 = DType::I8;

Tensor quantize(const Tensor &x, double scale, int64_t zeroPoint) {
  return run("quantize",
             {x, floats(x.dtype(), {}, {scale}), ints(I8, {}, {zeroPoint})});
}

TEST(QuantizeInterp, RoundsHalvesToEven) {
  // Quotients 1.5, 2.5, -0.5, -1.5, 0.5 and -2.5.
  Tensor x = floats(F32, {6}, {0.375, 0.625, -0.125, -0.375, 0.125, -0.625});
  EXPECT_EQ(intsOf(quantize(x, 0.25, 0)), (Ints{2, 2, 0, -2, 0, -2}));
}

TEST(QuantizeInterp, AddsTheZeroPointThenSaturates) {
  // Quotients 1.5, 122.5, 123.5, -133.5, -132.5 plus 5.
  Tensor x = floats(F32, {5}, {0.375, 30.625, 30.875, -33.375, -33.125});
  EXPECT_EQ(intsOf(quantize(x, 0.25, 5)), (Ints{7, 127, 127, -128, -127}));
  Tensor far = floats(F32, {4}, {1e30, -1e30, INFINITY, -INFINITY});
  EXPECT_EQ(intsOf(quantize(far, 0.25, -3)), (Ints{127, -128, 127, -128}));
}

TEST(QuantizeInterp, NaNQuotientsGiveTheZeroPoint) {
  Tensor x = floats(F32, {2}, {NAN, 0});
  EXPECT_EQ(intsOf(quantize(x, 0.5, -9)), (Ints{-9, -9}));
  EXPECT_EQ(intsOf(quantize(x, 0, 4)), (Ints{4, 4})); // 0 / 0 is NaN
}

TEST(QuantizeInterp, DividesInTheComputeType) {
  // 0.35f / 0.1f is 3.49999989 exactly, which rounds to 3.5 in f32 and so
  // quantizes to 4; in f64 the same values quantize to 3.
  EXPECT_EQ(intsOf(quantize(floats(F32, {1}, {0.35f}), 0.1f, 0)), (Ints{4}));
  EXPECT_EQ(intsOf(quantize(floats(DType::F64, {1}, {double(0.35f)}),
                            double(0.1f), 0)),
            (Ints{3}));
}

TEST(QuantizeInterp, BroadcastsPerChannelParameters) {
  Tensor x = floats(F32, {2, 2}, {1, 2, 3, 4});
  Tensor scale = floats(F32, {2, 1}, {0.5, 2});
  Tensor zp = ints(I8, {2, 1}, {1, -1});
  // Row 0: 2 + 1, 4 + 1; row 1: round(1.5) - 1, 2 - 1.
  EXPECT_EQ(intsOf(run("quantize", {x, scale, zp})), (Ints{3, 5, 1, 1}));
}

TEST(FakeQuantizeInterp, QuantizesThenDequantizes) {
  // Quotients 1.5, 160 and -1.2 plus 5: 7, 127 (saturated) and 4.
  Tensor x = floats(F32, {3}, {0.375, 40, -0.3});
  Tensor y =
      run("fake_quantize", {x, floats(F32, {}, {0.25}), ints(I8, {}, {5})});
  EXPECT_EQ(y.dtype(), F32);
  EXPECT_EQ(valuesOf(y), (Doubles{0.5, 30.5, -0.25}));
}

TEST(DequantizeInterp, SubtractsTheZeroPointThenScales) {
  Tensor q = ints(I8, {4}, {-128, 127, 0, 5});
  Tensor y = run("dequantize", {q, floats(F32, {}, {0.5}), ints(I8, {}, {3})});
  EXPECT_EQ(y.dtype(), F32);
  EXPECT_EQ(valuesOf(y), (Doubles{-65.5, 62, -1.5, 1}));
}

TEST(DequantizeInterp, WideValuesRoundOnceToTheScaleType) {
  // 2^24 + 1 - (-2^31) = 2164260865 is exact in int64; f32 rounds it to
  // the nearest multiple of 256, f64 does not.
  Tensor q = ints(DType::I32, {1}, {16777217});
  Tensor zp = ints(DType::I32, {}, {INT32_MIN});
  double exact = 16777217.0 + 2147483648.0;
  EXPECT_EQ(valuesOf(run("dequantize", {q, floats(F32, {}, {1}), zp})),
            (Doubles{2164260864.0}));
  EXPECT_EQ(valuesOf(run("dequantize", {q, floats(DType::F64, {}, {1}), zp})),
            (Doubles{exact}));
}

TEST(RequantizeInterp, ScalesRoundsAndSaturates) {
  Tensor acc = ints(DType::I32, {6}, {5, -3, 1, 7, 1000, -1000});
  Tensor y =
      run("requantize", {acc, floats(F32, {}, {0.5}), ints(I8, {}, {0})});
  // 2.5, -1.5, 0.5, 3.5, then 500 and -500 saturate.
  EXPECT_EQ(intsOf(y), (Ints{2, -2, 0, 4, 127, -128}));
  Tensor shifted =
      run("requantize", {acc, floats(F32, {}, {0.5}), ints(I8, {}, {-2})});
  EXPECT_EQ(intsOf(shifted), (Ints{0, -4, -2, 2, 127, -128}));
}

} // namespace
} // namespace nyx::ir
