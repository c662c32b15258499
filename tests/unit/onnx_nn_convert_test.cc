// The ONNX converters of the neural-network families (convert_linalg.cc,
// convert_conv.cc, convert_pool.cc, ...) and convert_reduction.cc whose
// composition is not a single IR op: each test builds a small model,
// imports it, runs the interpreter and checks values worked out by hand or
// by a naive loop written from the ONNX definition.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "frontends/onnx/importer.h"
#include "ir/interpreter.h"
#include "onnx/onnx_pb.h"
#include "tests/support/onnx_model.h"
#include "tests/support/onnx_run.h"
#include "tests/support/tensor_match.h"

namespace nyx::onnx_import {
namespace {

using ir::DType;
using ir::Shape;
using ir::Tensor;
using onnx::TensorProto;
using test::OnnxModel;
using test::tensor;
using test::tensorsMatch;

constexpr int32_t kFloat = TensorProto::FLOAT;
constexpr int32_t kInt8 = TensorProto::INT8;
constexpr int32_t kInt32 = TensorProto::INT32;
constexpr int32_t kInt64 = TensorProto::INT64;

Tensor f32(Shape shape, const std::vector<double> &values) {
  return tensor(DType::F32, std::move(shape), values);
}
Tensor i64(Shape shape, const std::vector<double> &values) {
  return tensor(DType::I64, std::move(shape), values);
}

// 0, 1, 2, ... scaled by `scale`, as f32.
Tensor iota(Shape shape, double scale = 1.0, double offset = 0.0) {
  Tensor t(ir::TensorType{DType::F32, std::move(shape)});
  for (int64_t i = 0; i < t.numElements(); ++i)
    t.setDouble(i, offset + scale * static_cast<double>(i));
  return t;
}

absl::Status importStatus(OnnxModel &m) {
  return importModel(m.proto(), "nn.onnx", {}).status();
}

std::vector<Tensor> run(OnnxModel &m, std::vector<Tensor> args) {
  return test::runModel(m.proto(), std::move(args));
}

Tensor runOne(OnnxModel &m, std::vector<Tensor> args) {
  return test::runModelOne(m.proto(), std::move(args));
}

// ---- MatMul, Gemm ----

TEST(OnnxMatMul, VectorOperandsArePromotedThenSqueezed) {
  OnnxModel m(13);
  m.input("v", kFloat, {2});
  m.input("a", kFloat, {3, 2, 4});
  m.input("w", kFloat, {4});
  m.node("MatMul", {"v", "a"}, {"va"});
  m.node("MatMul", {"a", "w"}, {"aw"});
  m.node("MatMul", {"w", "w"}, {"ww"});
  m.output("va", {3, 4});
  m.output("aw", {3, 2});
  m.output("ww", {});
  std::vector<Tensor> r =
      run(m, {f32({2}, {1, 2}), iota({3, 2, 4}), f32({4}, {1, 0, 0, 2})});
  ASSERT_EQ(r.size(), 3u);
  // va[b, n] = a[b, 0, n] + 2 a[b, 1, n]
  EXPECT_TRUE(tensorsMatch(
      r[0], f32({3, 4}, {8, 11, 14, 17, 32, 35, 38, 41, 56, 59, 62, 65})));
  // aw[b, m] = a[b, m, 0] + 2 a[b, m, 3]
  EXPECT_TRUE(tensorsMatch(r[1], f32({3, 2}, {6, 18, 30, 42, 54, 66})));
  EXPECT_TRUE(tensorsMatch(r[2], f32({}, {5})));
}

TEST(OnnxGemm, TransposesScalesAndBroadcastsC) {
  OnnxModel m(13);
  m.input("a", kFloat, {2, 3});
  m.input("b", kFloat, {2, 2});
  m.input("c", kFloat, {2});
  auto &node = m.node("Gemm", {"a", "b", "c"}, {"y"});
  OnnxModel::intAttr(node, "transA", 1);
  OnnxModel::intAttr(node, "transB", 1);
  OnnxModel::floatAttr(node, "alpha", 2.0f);
  OnnxModel::floatAttr(node, "beta", 0.5f);
  m.output("y", {3, 2});
  // A' = [[1,4],[2,5],[3,6]], B' = [[1,0],[1,1]]: A'B' = [[5,4],[7,5],[9,6]]
  Tensor y = runOne(m, {f32({2, 3}, {1, 2, 3, 4, 5, 6}),
                        f32({2, 2}, {1, 1, 0, 1}), f32({2}, {10, 20})});
  EXPECT_TRUE(tensorsMatch(y, f32({3, 2}, {15, 18, 19, 20, 23, 22})));
}

// ---- Conv, ConvTranspose ----

TEST(OnnxConv, SameUpperAndSameLowerPutTheOddPadAtOppositeEnds) {
  for (const char *mode : {"SAME_UPPER", "SAME_LOWER"}) {
    OnnxModel m(13);
    m.input("x", kFloat, {1, 1, 3});
    m.floats("w", {1, 1, 2}, {1, 10});
    auto &node = m.node("Conv", {"x", "w"}, {"y"});
    OnnxModel::stringAttr(node, "auto_pad", mode);
    m.output("y", {1, 1, 3});
    Tensor y = runOne(m, {f32({1, 1, 3}, {1, 2, 3})});
    Tensor want = std::string(mode) == "SAME_UPPER"
                      ? f32({1, 1, 3}, {21, 32, 3})
                      : f32({1, 1, 3}, {10, 21, 32});
    EXPECT_TRUE(tensorsMatch(y, want)) << mode;
  }
}

struct ConvCase {
  int64_t n, c, m, groups;
  Shape in, kernel, strides, dilations, pads; // pads: begins, then ends
};

// A direct N-D convolution from the ONNX definition, on row-major data.
std::vector<double> naiveConv(const ConvCase &k, const Tensor &x,
                              const Tensor &w, const Tensor &bias,
                              Shape &outShape) {
  const size_t s = k.in.size();
  Shape out;
  for (size_t i = 0; i < s; ++i)
    out.push_back((k.in[i] + k.pads[i] + k.pads[s + i] -
                   (k.kernel[i] - 1) * k.dilations[i] - 1) /
                      k.strides[i] +
                  1);
  outShape = {k.n, k.m};
  outShape.insert(outShape.end(), out.begin(), out.end());
  const int64_t cg = k.c / k.groups, mg = k.m / k.groups;
  std::vector<double> y(ir::numElements(outShape));
  const int64_t outCount = ir::numElements(out),
                kCount = ir::numElements(k.kernel),
                inCount = ir::numElements(k.in);
  for (int64_t b = 0; b < k.n; ++b)
    for (int64_t oc = 0; oc < k.m; ++oc)
      for (int64_t o = 0; o < outCount; ++o) {
        double acc = bias.getDouble(oc);
        for (int64_t ic = 0; ic < cg; ++ic)
          for (int64_t t = 0; t < kCount; ++t) {
            int64_t inIndex = 0, oRest = o, tRest = t;
            bool inside = true;
            std::vector<int64_t> pos(s), tap(s);
            for (size_t i = s; i-- > 0;) {
              int64_t oi = oRest % out[i], ti = tRest % k.kernel[i];
              oRest /= out[i];
              tRest /= k.kernel[i];
              pos[i] = oi * k.strides[i] - k.pads[i] + ti * k.dilations[i];
              tap[i] = ti;
              inside = inside && pos[i] >= 0 && pos[i] < k.in[i];
            }
            if (!inside)
              continue;
            for (size_t i = 0; i < s; ++i)
              inIndex = inIndex * k.in[i] + pos[i];
            const int64_t channel = (oc / mg) * cg + ic;
            acc += x.getDouble((b * k.c + channel) * inCount + inIndex) *
                   w.getDouble((oc * cg + ic) * kCount + t);
          }
        y[(b * k.m + oc) * outCount + o] = acc;
      }
  return y;
}

void checkConv(const ConvCase &k) {
  OnnxModel m(13);
  Shape xShape = {k.n, k.c}, wShape = {k.m, k.c / k.groups};
  xShape.insert(xShape.end(), k.in.begin(), k.in.end());
  wShape.insert(wShape.end(), k.kernel.begin(), k.kernel.end());
  m.input("x", kFloat, xShape);
  m.input("w", kFloat, wShape);
  m.input("b", kFloat, {k.m});
  auto &node = m.node("Conv", {"x", "w", "b"}, {"y"});
  OnnxModel::intsAttr(node, "strides", k.strides);
  OnnxModel::intsAttr(node, "dilations", k.dilations);
  OnnxModel::intsAttr(node, "pads", k.pads);
  OnnxModel::intAttr(node, "group", k.groups);
  Tensor x = iota(xShape, 0.25, -3), w = iota(wShape, -0.5, 2),
         bias = iota({k.m}, 1, 1);
  Shape outShape;
  std::vector<double> want = naiveConv(k, x, w, bias, outShape);
  m.output("y", outShape);
  EXPECT_TRUE(tensorsMatch(runOne(m, {x, w, bias}), f32(outShape, want)));
}

TEST(OnnxConv, ThreeDimensionalWithStridesPadsDilationsAndGroups) {
  checkConv({1,
             4,
             6,
             2,
             {5, 4, 6},
             {3, 2, 2},
             {2, 1, 2},
             {1, 2, 1},
             {1, 0, 1, 2, 1, 0}});
  checkConv({2,
             2,
             3,
             1,
             {3, 3, 3},
             {2, 2, 2},
             {1, 1, 1},
             {1, 1, 1},
             {0, 0, 0, 0, 0, 0}});
}

TEST(OnnxConv, OneDimensionalRunsAsTwoDimensional) {
  checkConv({2, 4, 2, 2, {9}, {3}, {2}, {2}, {1, 2}});
}

struct ConvTransposeCase {
  int64_t n, c, m, groups;
  Shape in, kernel, strides, dilations, pads, outputPadding;
};

// The ONNX definition as a scatter: input element i adds w * x at output
// position i * stride + tap * dilation - pad_begin.
void checkConvTranspose(const ConvTransposeCase &k) {
  const size_t s = k.in.size();
  OnnxModel m(13);
  Shape xShape = {k.n, k.c}, wShape = {k.c, k.m / k.groups};
  xShape.insert(xShape.end(), k.in.begin(), k.in.end());
  wShape.insert(wShape.end(), k.kernel.begin(), k.kernel.end());
  m.input("x", kFloat, xShape);
  m.input("w", kFloat, wShape);
  auto &node = m.node("ConvTranspose", {"x", "w"}, {"y"});
  OnnxModel::intsAttr(node, "strides", k.strides);
  OnnxModel::intsAttr(node, "dilations", k.dilations);
  OnnxModel::intsAttr(node, "pads", k.pads);
  OnnxModel::intsAttr(node, "output_padding", k.outputPadding);
  OnnxModel::intAttr(node, "group", k.groups);
  Tensor x = iota(xShape, 0.5, -2), w = iota(wShape, -0.25, 1);
  Shape out;
  for (size_t i = 0; i < s; ++i)
    out.push_back(k.strides[i] * (k.in[i] - 1) + k.outputPadding[i] +
                  (k.kernel[i] - 1) * k.dilations[i] + 1 - k.pads[i] -
                  k.pads[s + i]);
  Shape yShape = {k.n, k.m};
  yShape.insert(yShape.end(), out.begin(), out.end());
  m.output("y", yShape);
  std::vector<double> y(ir::numElements(yShape), 0.0);
  const int64_t cg = k.c / k.groups, mg = k.m / k.groups;
  const int64_t inCount = ir::numElements(k.in),
                kCount = ir::numElements(k.kernel),
                outCount = ir::numElements(out);
  for (int64_t b = 0; b < k.n; ++b)
    for (int64_t ic = 0; ic < k.c; ++ic)
      for (int64_t i = 0; i < inCount; ++i)
        for (int64_t oc = 0; oc < mg; ++oc)
          for (int64_t t = 0; t < kCount; ++t) {
            int64_t iRest = i, tRest = t, o = 0;
            std::vector<int64_t> pos(s);
            bool inside = true;
            for (size_t d = s; d-- > 0;) {
              int64_t ii = iRest % k.in[d], ti = tRest % k.kernel[d];
              iRest /= k.in[d];
              tRest /= k.kernel[d];
              pos[d] = ii * k.strides[d] + ti * k.dilations[d] - k.pads[d];
              inside = inside && pos[d] >= 0 && pos[d] < out[d];
            }
            if (!inside)
              continue;
            for (size_t d = 0; d < s; ++d)
              o = o * out[d] + pos[d];
            const int64_t channel = (ic / cg) * mg + oc;
            y[(b * k.m + channel) * outCount + o] +=
                x.getDouble((b * k.c + ic) * inCount + i) *
                w.getDouble((ic * mg + oc) * kCount + t);
          }
  EXPECT_TRUE(tensorsMatch(runOne(m, {x, w}), f32(yShape, y)));
}

TEST(OnnxConvTranspose, MatchesTheScatterDefinition) {
  // 2-D: strides, dilations, pads larger than the kernel reach (crops),
  // output padding, groups.
  checkConvTranspose(
      {1, 4, 6, 2, {3, 4}, {3, 2}, {2, 3}, {1, 2}, {1, 3, 2, 0}, {1, 2}});
  // 1-D and 3-D.
  checkConvTranspose({2, 2, 2, 1, {4}, {3}, {3}, {1}, {0, 1}, {2}});
  checkConvTranspose({1,
                      2,
                      4,
                      2,
                      {2, 3, 2},
                      {2, 2, 3},
                      {2, 1, 2},
                      {1, 1, 1},
                      {0, 1, 1, 1, 0, 0},
                      {1, 0, 1}});
}

TEST(OnnxConvTranspose, OutputShapeLargerThanFullGrowsAtTheEnd) {
  OnnxModel m(13);
  m.input("x", kFloat, {1, 1, 2});
  m.floats("w", {1, 1, 2}, {1, 1});
  auto &node = m.node("ConvTranspose", {"x", "w"}, {"y"});
  OnnxModel::intsAttr(node, "strides", {2});
  OnnxModel::intsAttr(node, "output_shape", {5});
  m.output("y", {1, 1, 5});
  EXPECT_TRUE(tensorsMatch(runOne(m, {f32({1, 1, 2}, {1, 2})}),
                           f32({1, 1, 5}, {1, 1, 2, 2, 0})));
}

// ---- Pooling ----

TEST(OnnxPool, CeilModeAddsEndPadding) {
  for (const char *op : {"MaxPool", "AveragePool"}) {
    OnnxModel m(13);
    m.input("x", kFloat, {1, 1, 5});
    auto &node = m.node(op, {"x"}, {"y"});
    OnnxModel::intsAttr(node, "kernel_shape", {2});
    OnnxModel::intsAttr(node, "strides", {2});
    OnnxModel::intAttr(node, "ceil_mode", 1);
    m.output("y", {1, 1, 3});
    Tensor want = std::string(op) == "MaxPool" ? f32({1, 1, 3}, {5, 4, 3})
                                               : f32({1, 1, 3}, {3, 3, 3});
    EXPECT_TRUE(
        tensorsMatch(runOne(m, {f32({1, 1, 5}, {1, 5, 2, 4, 3})}), want))
        << op;
  }
}

TEST(OnnxPool, CeilModeWithCountIncludePadIsUnsupported) {
  OnnxModel m(13);
  m.input("x", kFloat, {1, 1, 5});
  auto &node = m.node("AveragePool", {"x"}, {"y"});
  OnnxModel::intsAttr(node, "kernel_shape", {2});
  OnnxModel::intsAttr(node, "strides", {2});
  OnnxModel::intAttr(node, "ceil_mode", 1);
  OnnxModel::intAttr(node, "count_include_pad", 1);
  m.output("y", {1, 1, 3});
  absl::Status s = importStatus(m);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented) << s;
  EXPECT_NE(s.message().find("ceil_mode = 1 with count_include_pad = 1"),
            std::string::npos)
      << s;
}

TEST(OnnxPool, DilatedMaxPoolTakesStridedTaps) {
  OnnxModel m(13);
  m.input("x", kFloat, {1, 1, 2, 5});
  auto &node = m.node("MaxPool", {"x"}, {"y"});
  OnnxModel::intsAttr(node, "kernel_shape", {1, 2});
  OnnxModel::intsAttr(node, "dilations", {1, 2});
  OnnxModel::intsAttr(node, "pads", {0, 1, 0, 0});
  m.output("y", {1, 1, 2, 4});
  // Row 0 padded: [-inf, 1, 5, 2, 4, 3]; taps (j, j + 2).
  Tensor x = f32({1, 1, 2, 5}, {1, 5, 2, 4, 3, -1, -2, -3, -4, -5});
  EXPECT_TRUE(tensorsMatch(runOne(m, {x}),
                           f32({1, 1, 2, 4}, {5, 2, 5, 3, -2, -1, -2, -3})));
}

TEST(OnnxPool, ThreeDimensionalAverageCountsOnlyInputElements) {
  OnnxModel m(13);
  m.input("x", kFloat, {1, 1, 2, 2, 2});
  auto &node = m.node("AveragePool", {"x"}, {"y"});
  OnnxModel::intsAttr(node, "kernel_shape", {2, 2, 2});
  OnnxModel::intsAttr(node, "pads", {1, 0, 0, 0, 0, 1});
  m.output("y", {1, 1, 2, 1, 2});
  // Depth windows {-1, 0} and {0, 1}; width windows {0, 1} and {1, 2}.
  Tensor y = runOne(m, {iota({1, 1, 2, 2, 2}, 1, 1)});
  EXPECT_TRUE(tensorsMatch(y, f32({1, 1, 2, 1, 2}, {2.5, 3, 4.5, 5})));
}

// ---- Normalizations ----

TEST(OnnxLayerNormalization, MeanAndInvStdDevOutputs) {
  OnnxModel m(17);
  m.input("x", kFloat, {2, 2});
  m.floats("scale", {2}, {1, 2});
  m.floats("bias", {2}, {0, 1});
  auto &node = m.node("LayerNormalization", {"x", "scale", "bias"},
                      {"y", "mean", "invstd"});
  OnnxModel::floatAttr(node, "epsilon", 0.0f);
  m.output("y", {2, 2});
  m.output("mean", {2, 1});
  m.output("invstd", {2, 1});
  std::vector<Tensor> r = run(m, {f32({2, 2}, {1, 3, 0, 4})});
  ASSERT_EQ(r.size(), 3u);
  EXPECT_TRUE(tensorsMatch(r[0], f32({2, 2}, {-1, 3, -1, 3})));
  EXPECT_TRUE(tensorsMatch(r[1], f32({2, 1}, {2, 2})));
  EXPECT_TRUE(tensorsMatch(r[2], f32({2, 1}, {1, 0.5})));
}

TEST(OnnxInstanceNormalization, NormalizesEachChannelOverSpace) {
  OnnxModel m(13);
  m.input("x", kFloat, {1, 2, 2});
  m.floats("scale", {2}, {1, 2});
  m.floats("bias", {2}, {0, 1});
  auto &node = m.node("InstanceNormalization", {"x", "scale", "bias"}, {"y"});
  OnnxModel::floatAttr(node, "epsilon", 0.0f);
  m.output("y", {1, 2, 2});
  EXPECT_TRUE(tensorsMatch(runOne(m, {f32({1, 2, 2}, {1, 3, 2, 6})}),
                           f32({1, 2, 2}, {-1, 1, -1, 3})));
}

TEST(OnnxLRN, SumsSquaresOverAChannelWindow) {
  OnnxModel m(13);
  m.input("x", kFloat, {1, 3, 1, 1});
  auto &node = m.node("LRN", {"x"}, {"y"});
  OnnxModel::intAttr(node, "size", 3);
  OnnxModel::floatAttr(node, "alpha", 3.0f); // alpha / size = 1
  OnnxModel::floatAttr(node, "beta", 1.0f);
  m.output("y", {1, 3, 1, 1});
  EXPECT_TRUE(tensorsMatch(runOne(m, {f32({1, 3, 1, 1}, {1, 2, 3})}),
                           f32({1, 3, 1, 1}, {1.0 / 6, 2.0 / 15, 3.0 / 14})));
}

TEST(OnnxBatchNormalization, TrainingModeIsUnsupported) {
  OnnxModel m(15);
  m.input("x", kFloat, {1, 2});
  for (const char *name : {"s", "b", "mean", "var"})
    m.floats(name, {2}, {1, 1});
  auto &node =
      m.node("BatchNormalization", {"x", "s", "b", "mean", "var"}, {"y"});
  OnnxModel::intAttr(node, "training_mode", 1);
  m.output("y", {1, 2});
  absl::Status s = importStatus(m);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented) << s;
}

// ---- Softmax family, Dropout ----

TEST(OnnxSoftmax, OpsetElevenFlattensAtAxis) {
  const double e1 = std::exp(1.0), e2 = std::exp(2.0), e3 = std::exp(3.0),
               e4 = std::exp(4.0), all = e1 + e2 + e3 + e4;
  for (int64_t opset : {11, 13}) {
    OnnxModel m(opset);
    m.input("x", kFloat, {2, 2});
    auto &node = m.node("Softmax", {"x"}, {"y"});
    OnnxModel::intAttr(node, "axis", 0);
    m.output("y", {2, 2});
    Tensor want = opset == 11
                      ? f32({2, 2}, {e1 / all, e2 / all, e3 / all, e4 / all})
                      : f32({2, 2}, {e1 / (e1 + e3), e2 / (e2 + e4),
                                     e3 / (e1 + e3), e4 / (e2 + e4)});
    EXPECT_TRUE(tensorsMatch(runOne(m, {f32({2, 2}, {1, 2, 3, 4})}), want))
        << "opset " << opset;
  }
}

TEST(OnnxHardmax, FirstMaximumWins) {
  OnnxModel m(13);
  m.input("x", kFloat, {2, 3});
  m.node("Hardmax", {"x"}, {"y"});
  m.output("y", {2, 3});
  EXPECT_TRUE(tensorsMatch(runOne(m, {f32({2, 3}, {1, 3, 3, 2, 0, 2})}),
                           f32({2, 3}, {0, 1, 0, 1, 0, 0})));
}

TEST(OnnxDropout, InferenceIsIdentityWithATrueMask) {
  OnnxModel m(13);
  m.input("x", kFloat, {3});
  m.node("Dropout", {"x"}, {"y", "mask"});
  m.output("y", {3});
  m.output("mask", {3}, TensorProto::BOOL);
  std::vector<Tensor> r = run(m, {f32({3}, {1, -2, 3})});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TRUE(tensorsMatch(r[0], f32({3}, {1, -2, 3})));
  EXPECT_TRUE(tensorsMatch(r[1], tensor(DType::Bool, {3}, {1, 1, 1})));
}

TEST(OnnxDropout, ZeroRatioIsIdentityInTrainingModeToo) {
  OnnxModel m(13);
  m.input("x", kFloat, {2});
  m.floats("r", {}, {0});
  m.input("t", TensorProto::BOOL, {});
  m.node("Dropout", {"x", "r", "t"}, {"y"});
  m.output("y", {2});
  EXPECT_TRUE(
      tensorsMatch(runOne(m, {f32({2}, {4, -5}), tensor(DType::Bool, {}, {1})}),
                   f32({2}, {4, -5})));
}

// ---- Einsum ----

// Einsum of `args` by `equation` matches `want`.
::testing::AssertionResult einsumGives(const std::string &equation,
                                       std::vector<Tensor> args,
                                       const Tensor &want) {
  OnnxModel m(12);
  std::vector<std::string> names;
  for (size_t i = 0; i < args.size(); ++i) {
    names.push_back("x" + std::to_string(i));
    m.input(names.back(), kFloat, args[i].shape());
  }
  OnnxModel::stringAttr(m.node("Einsum", names, {"y"}), "equation", equation);
  m.output("y", want.shape());
  return tensorsMatch(runOne(m, std::move(args)), want) << " for " << equation;
}

TEST(OnnxEinsum, CommonPatterns) {
  Tensor a = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = f32({3, 2}, {1, 0, 0, 1, 1, 1});
  Tensor ab = f32({2, 2}, {4, 5, 10, 11});
  EXPECT_TRUE(einsumGives("ij,jk->ik", {a, b}, ab));
  EXPECT_TRUE(einsumGives("ij,jk", {a, b}, ab)); // implicit output
  EXPECT_TRUE(einsumGives("ij->ji", {a}, f32({3, 2}, {1, 4, 2, 5, 3, 6})));
  EXPECT_TRUE(einsumGives("ij->", {a}, f32({}, {21})));
  EXPECT_TRUE(einsumGives("ij->j", {a}, f32({3}, {5, 7, 9})));
  EXPECT_TRUE(einsumGives("i,i", {f32({3}, {1, 2, 3}), f32({3}, {4, 5, 6})},
                          f32({}, {32})));
  // Outer product, and a chain of three operands.
  EXPECT_TRUE(einsumGives("i,j->ij", {f32({2}, {1, 2}), f32({3}, {1, 10, 100})},
                          f32({2, 3}, {1, 10, 100, 2, 20, 200})));
  EXPECT_TRUE(
      einsumGives("ij,jk,kl->il", {a, b, ab}, f32({2, 2}, {66, 75, 150, 171})));
}

TEST(OnnxEinsum, DiagonalsBatchesAndEllipses) {
  Tensor sq = f32({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  EXPECT_TRUE(einsumGives("ii->i", {sq}, f32({3}, {1, 5, 9})));
  EXPECT_TRUE(einsumGives("ii", {sq}, f32({}, {15})));
  // Batched matmul with the batch axes under an ellipsis that broadcasts.
  EXPECT_TRUE(einsumGives(
      "...ij,...jk->...ik",
      {iota({2, 1, 2, 2}), f32({3, 2, 1}, {1, 1, 1, -1, 2, 0})},
      f32({2, 3, 2, 1}, {1, 5, -1, -1, 0, 4, 9, 13, -1, -1, 8, 12})));
  EXPECT_TRUE(einsumGives("bij,bjk->bik", {iota({2, 1, 2}), iota({2, 2, 1})},
                          f32({2, 1, 1}, {1, 13})));
}

// ---- Losses ----

TEST(OnnxLoss, NllLossWithWeightAndIgnoreIndex) {
  OnnxModel m(13);
  m.input("x", kFloat, {3, 2});
  m.input("t", kInt64, {3});
  m.floats("w", {2}, {1, 3});
  auto &node = m.node("NegativeLogLikelihoodLoss", {"x", "t", "w"}, {"y"});
  OnnxModel::intAttr(node, "ignore_index", 1);
  m.output("y", {});
  // Rows 0 and 2 pick class 0 (weight 1); row 1 is ignored.
  Tensor y =
      runOne(m, {f32({3, 2}, {-1, -2, -3, -4, -5, -6}), i64({3}, {0, 1, 0})});
  EXPECT_TRUE(tensorsMatch(y, f32({}, {3})));
}

TEST(OnnxLoss, SoftmaxCrossEntropyWithLogProb) {
  OnnxModel m(13);
  m.input("x", kFloat, {2, 2});
  m.input("t", kInt64, {2});
  auto &node = m.node("SoftmaxCrossEntropyLoss", {"x", "t"}, {"y", "logp"});
  OnnxModel::stringAttr(node, "reduction", "sum");
  m.output("y", {});
  m.output("logp", {2, 2});
  std::vector<Tensor> r =
      run(m, {f32({2, 2}, {0, 0, 0, std::log(3.0)}), i64({2}, {1, 1})});
  ASSERT_EQ(r.size(), 2u);
  const double half = std::log(0.5), quarter = std::log(0.25),
               threeQ = std::log(0.75);
  EXPECT_TRUE(tensorsMatch(r[0], f32({}, {-(half + threeQ)})));
  EXPECT_TRUE(tensorsMatch(r[1], f32({2, 2}, {half, half, quarter, threeQ})));
}

// ---- Trilu, OneHot, EyeLike ----

TEST(OnnxTrilu, ConstantAndRuntimeDiagonalOffset) {
  Tensor x = iota({3, 4}, 1, 1);
  {
    OnnxModel m(14);
    m.input("x", kFloat, {3, 4});
    m.int64s("k", {1}).clear_dims(); // a scalar
    m.node("Trilu", {"x", "k"}, {"y"});
    m.output("y", {3, 4});
    EXPECT_TRUE(tensorsMatch(
        runOne(m, {x}), f32({3, 4}, {0, 2, 3, 4, 0, 0, 7, 8, 0, 0, 0, 12})));
  }
  {
    OnnxModel m(14);
    m.input("x", kFloat, {3, 4});
    m.input("k", kInt64, {});
    OnnxModel::intAttr(m.node("Trilu", {"x", "k"}, {"y"}), "upper", 0);
    m.output("y", {3, 4});
    EXPECT_TRUE(
        tensorsMatch(runOne(m, {x, i64({}, {-1})}),
                     f32({3, 4}, {0, 0, 0, 0, 5, 0, 0, 0, 9, 10, 0, 0})));
  }
}

TEST(OnnxOneHot, NegativeIndicesCountFromTheEndFromOpsetEleven) {
  for (int64_t opset : {9, 11}) {
    OnnxModel m(opset);
    m.input("i", kInt64, {3});
    m.floats("depth", {}, {3});
    m.floats("values", {2}, {-1, 5});
    OnnxModel::intAttr(m.node("OneHot", {"i", "depth", "values"}, {"y"}),
                       "axis", 0);
    m.output("y", {3, 3});
    Tensor y = runOne(m, {i64({3}, {0, -1, 3})});
    // Axis 0: y[c, j] = on where index j is c. Index 3 is out of range.
    Tensor want = opset == 11
                      ? f32({3, 3}, {5, -1, -1, -1, -1, -1, -1, 5, -1})
                      : f32({3, 3}, {5, -1, -1, -1, -1, -1, -1, -1, -1});
    EXPECT_TRUE(tensorsMatch(y, want)) << "opset " << opset;
  }
}

TEST(OnnxEyeLike, OffsetDiagonalInTheRequestedType) {
  OnnxModel m(13);
  m.input("x", kFloat, {3, 2});
  auto &node = m.node("EyeLike", {"x"}, {"y"});
  OnnxModel::intAttr(node, "k", -1);
  OnnxModel::intAttr(node, "dtype", kInt32);
  m.output("y", {3, 2}, kInt32);
  EXPECT_TRUE(tensorsMatch(runOne(m, {iota({3, 2})}),
                           tensor(DType::I32, {3, 2}, {0, 0, 1, 0, 0, 1})));
}

// ---- Reductions ----

// Reduction `op` of x (axes as an attribute) matches `want`.
::testing::AssertionResult
reduceGives(const std::string &op, std::vector<int64_t> axes, int64_t keepdims,
            const Tensor &x, const Tensor &want, int32_t elemType = kFloat) {
  OnnxModel m(13);
  m.input("x", elemType, x.shape());
  auto &node = m.node(op, {"x"}, {"y"});
  OnnxModel::intsAttr(node, "axes", axes);
  OnnxModel::intAttr(node, "keepdims", keepdims);
  m.output("y", want.shape(), elemType);
  return tensorsMatch(runOne(m, {x}), want) << " for " << op;
}

TEST(OnnxReduce, ProdIsAPairwiseProductTree) {
  Tensor x = iota({2, 3, 5}, 0.5, 0.5); // 0.5, 1, 1.5, ...
  std::vector<double> want(3, 1.0);
  for (int64_t i = 0; i < 30; ++i)
    want[(i / 5) % 3] *= x.getDouble(i);
  EXPECT_TRUE(reduceGives("ReduceProd", {0, -1}, 1, x, f32({1, 3, 1}, want)));
  EXPECT_TRUE(reduceGives("ReduceProd", {1}, 0, i64({1, 3}, {-2, 3, 7}),
                          i64({1}, {-42}), kInt64));
}

TEST(OnnxReduce, LogSumExpIsShiftedByTheMaximum) {
  const double inf = std::numeric_limits<double>::infinity();
  Tensor x = f32({3, 2}, {1000, 1000, -inf, -inf, inf, 1});
  EXPECT_TRUE(reduceGives("ReduceLogSumExp", {1}, 0, x,
                          f32({3}, {1000 + std::log(2.0), -inf, inf})));
}

TEST(OnnxReduce, IntegerMeanTruncatesAndL2RoundsDown) {
  Tensor x = tensor(DType::I32, {2, 2}, {1, 2, -3, -4});
  EXPECT_TRUE(reduceGives("ReduceMean", {1}, 0, x,
                          tensor(DType::I32, {2}, {1, -3}), kInt32));
  EXPECT_TRUE(reduceGives("ReduceL2", {1}, 0, x,
                          tensor(DType::I32, {2}, {2, 5}), kInt32));
}

TEST(OnnxReduce, SumAxesInputAndNoopWithEmptyAxes) {
  for (int64_t noop : {0, 1}) {
    OnnxModel m(13);
    m.input("x", kFloat, {2, 2});
    m.int64s("axes", {});
    OnnxModel::intAttr(m.node("ReduceSum", {"x", "axes"}, {"y"}),
                       "noop_with_empty_axes", noop);
    m.output("y", noop ? Shape{2, 2} : Shape{1, 1});
    Tensor x = f32({2, 2}, {1, 2, 3, 4});
    EXPECT_TRUE(tensorsMatch(runOne(m, {x}), noop ? x : f32({1, 1}, {10})))
        << "noop " << noop;
  }
}

TEST(OnnxArgMin, SelectLastIndexAndIntegerExtremes) {
  OnnxModel m(13);
  m.input("x", kInt8, {2, 3});
  auto &node = m.node("ArgMin", {"x"}, {"y"});
  OnnxModel::intAttr(node, "axis", 1);
  OnnxModel::intAttr(node, "select_last_index", 1);
  m.output("y", {2, 1}, kInt64);
  Tensor x = tensor(DType::I8, {2, 3}, {-128, 5, -128, 127, 3, 3});
  EXPECT_TRUE(tensorsMatch(runOne(m, {x}), i64({2, 1}, {2, 2})));
}

TEST(OnnxTopK, TiesKeepTheLowerIndexFirst) {
  OnnxModel m(11);
  m.input("x", kFloat, {2, 5});
  m.int64s("k", {3});
  m.node("TopK", {"x", "k"}, {"values", "indices"});
  m.output("values", {2, 3});
  m.output("indices", {2, 3}, kInt64);
  Tensor x = f32({2, 5}, {1, 7, 3, 7, -0.0, 2, 2, 2, 9, 2});
  std::vector<Tensor> out = run(m, {x});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(tensorsMatch(out[0], f32({2, 3}, {7, 7, 3, 9, 2, 2})));
  EXPECT_TRUE(tensorsMatch(out[1], i64({2, 3}, {1, 3, 2, 3, 0, 1})));
}

TEST(OnnxTopK, SmallestAlongTheFirstAxisOfIntegers) {
  OnnxModel m(11);
  m.input("x", kInt32, {3, 2});
  m.int64s("k", {2});
  auto &node = m.node("TopK", {"x", "k"}, {"values", "indices"});
  OnnxModel::intAttr(node, "axis", 0);
  OnnxModel::intAttr(node, "largest", 0);
  m.output("values", {2, 2}, kInt32);
  m.output("indices", {2, 2}, kInt64);
  Tensor x = tensor(DType::I32, {3, 2}, {5, -2147483648.0, -1, 4, 5, 0});
  std::vector<Tensor> out = run(m, {x});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(tensorsMatch(
      out[0], tensor(DType::I32, {2, 2}, {-1, -2147483648.0, 5, 0})));
  EXPECT_TRUE(tensorsMatch(out[1], i64({2, 2}, {1, 0, 0, 2})));
}

TEST(OnnxCumSum, AxisKnownOnlyAtRunTimeSelectsAmongTheAxes) {
  OnnxModel m(14);
  m.input("x", kFloat, {2, 3});
  m.input("axis", kInt32, {});
  OnnxModel::intAttr(m.node("CumSum", {"x", "axis"}, {"y"}), "exclusive", 1);
  m.output("y", {2, 3});
  Tensor x = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_TRUE(tensorsMatch(runOne(m, {x, tensor(DType::I32, {}, {-1})}),
                           f32({2, 3}, {0, 1, 3, 0, 4, 9})));
  EXPECT_TRUE(tensorsMatch(runOne(m, {x, tensor(DType::I32, {}, {0})}),
                           f32({2, 3}, {0, 0, 0, 1, 2, 3})));
}

// ---- Errors ----

// Imports a one-node model and returns the error it must give.
absl::Status importError(OnnxModel &m) {
  absl::Status s = importStatus(m);
  EXPECT_FALSE(s.ok());
  return s;
}

::testing::AssertionResult mentions(const absl::Status &s,
                                    const std::string &text) {
  if (std::string(s.message()).find(text) != std::string::npos)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << s << " does not mention " << text;
}

TEST(OnnxNnErrors, MalformedNodesSayWhatWasFoundAndExpected) {
  {
    OnnxModel m(12);
    m.input("a", kFloat, {2, 2});
    OnnxModel::stringAttr(m.node("Einsum", {"a"}, {"y"}), "equation",
                          "ij,jk->ik");
    m.output("y", {2, 2});
    absl::Status s = importError(m);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(mentions(s, "has 2 operand terms for 1 inputs"));
  }
  {
    OnnxModel m(13);
    m.input("x", kFloat, {1, 1, 4, 4});
    m.floats("w", {1, 1, 3, 3}, std::vector<float>(9, 1.0f));
    OnnxModel::intsAttr(m.node("Conv", {"x", "w"}, {"y"}), "kernel_shape",
                        {2, 2});
    m.output("y", {1, 1, 3, 3});
    EXPECT_TRUE(mentions(importError(m),
                         "attribute 'kernel_shape' is [2, 2] but the weight "
                         "is f32[1,1,3,3]; expected them to agree"));
  }
  {
    OnnxModel m(13);
    m.input("x", kFloat, {1, 1, 4});
    auto &node = m.node("MaxPool", {"x"}, {"y"});
    OnnxModel::intsAttr(node, "kernel_shape", {2});
    OnnxModel::stringAttr(node, "auto_pad", "SAME");
    m.output("y", {1, 1, 4});
    EXPECT_TRUE(mentions(importError(m), "attribute 'auto_pad' is \"SAME\"; "
                                         "expected NOTSET, SAME_UPPER"));
  }
  {
    OnnxModel m(13);
    m.input("x", kFloat, {2, 3});
    m.input("t", kInt64, {3});
    m.node("NegativeLogLikelihoodLoss", {"x", "t"}, {"y"});
    m.output("y", {});
    EXPECT_TRUE(mentions(importError(m), "the target is i64[3] for scores "
                                         "f32[2,3]; expected integers of "
                                         "shape [2]"));
  }
}

TEST(OnnxNnErrors, CasesTheIrCannotExpressAreUnsupported) {
  {
    OnnxModel m(13);
    m.input("x", kFloat, {1, 1, 2, 2, 2, 2});
    OnnxModel::intsAttr(m.node("MaxPool", {"x"}, {"y"}), "kernel_shape",
                        {1, 1, 1, 1});
    m.output("y", {1, 1, 2, 2, 2, 2});
    absl::Status s = importError(m);
    EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
    EXPECT_TRUE(mentions(s, "MaxPool is not supported with 4 spatial axes"));
  }
  {
    OnnxModel m(13);
    m.input("x", kFloat, {1, 1, 4, 4});
    auto &node = m.node("MaxPool", {"x"}, {"y", "indices"});
    OnnxModel::intsAttr(node, "kernel_shape", {2, 2});
    m.output("y", {1, 1, 3, 3});
    m.output("indices", {1, 1, 3, 3}, kInt64);
    absl::Status s = importError(m);
    EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
    EXPECT_TRUE(mentions(s, "output 'Indices'"));
  }
  {
    OnnxModel m(13);
    m.input("x", kFloat, {3});
    m.input("r", kFloat, {});
    m.input("t", TensorProto::BOOL, {});
    m.node("Dropout", {"x", "r", "t"}, {"y"});
    m.output("y", {3});
    absl::Status s = importError(m);
    EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
    EXPECT_TRUE(mentions(s, "(training_mode) computed at run time"));
  }
}

} // namespace
} // namespace nyx::onnx_import
