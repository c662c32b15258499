// The ONNX Resize and Upsample converters (convert_resize.cc): each test
// builds a small model, imports it, runs the interpreter and checks values
// worked out by hand from the ONNX definition, or printed next to the NumPy
// reference in ONNX's backend test generators
// (onnx/backend/test/case/node/resize.py).
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

Tensor f32(Shape shape, const std::vector<double> &values) {
  return tensor(DType::F32, std::move(shape), values);
}

// 1, 2, 3, ... as f32: the inputs of ONNX's examples.
Tensor counting(Shape shape) {
  Tensor t(ir::TensorType{DType::F32, std::move(shape)});
  for (int64_t i = 0; i < t.numElements(); ++i)
    t.setDouble(i, static_cast<double>(i + 1));
  return t;
}

absl::StatusOr<ImportedModel> import(OnnxModel &m,
                                     const ImportOptions &options = {}) {
  return importModel(m.proto(), "resize.onnx", options);
}

Tensor runOne(OnnxModel &m, std::vector<Tensor> args,
              const ImportOptions &options = {}) {
  return test::runModelOne(m.proto(), std::move(args), options);
}

// How many ops named `name` the entry function of `m` has.
int countOps(OnnxModel &m, std::string_view name) {
  absl::StatusOr<ImportedModel> imported = import(m);
  EXPECT_TRUE(imported.ok()) << imported.status();
  if (!imported.ok())
    return -1;
  auto entry = imported->module->entry();
  int count = 0;
  for (const auto &op : (*entry)->ops)
    count += op->name() == name;
  return count;
}

// A Resize node over input x [1, 1, H, W] with constant scales or sizes.
struct ResizeModel {
  OnnxModel m;
  onnx::NodeProto *node = nullptr;

  ResizeModel(int64_t opset, Shape in, Shape out, const std::string &mode,
              const std::vector<float> &scales,
              const std::vector<int64_t> &sizes = {})
      : m(opset) {
    m.input("x", kFloat, in);
    std::vector<std::string> inputs = {"x", ""};
    if (!scales.empty()) {
      m.floats("scales", {static_cast<int64_t>(scales.size())}, scales);
      inputs.push_back("scales");
    } else {
      inputs.push_back("");
      m.int64s("sizes", sizes);
      inputs.push_back("sizes");
    }
    node = &m.node("Resize", inputs, {"y"});
    OnnxModel::stringAttr(*node, "mode", mode);
    m.output("y", out);
  }
};

// ---- nearest ----

TEST(OnnxResizeNearest, UpsamplingRepeatsElements) {
  ResizeModel r(13, {1, 1, 2, 2}, {1, 1, 4, 6}, "nearest", {1, 1, 2, 3});
  Tensor y = runOne(r.m, {counting({1, 1, 2, 2})});
  EXPECT_TRUE(
      tensorsMatch(y, f32({1, 1, 4, 6}, {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2,
                                         3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4})));
  // One gather per resized axis; the axes of scale 1 are left alone.
  EXPECT_EQ(countOps(r.m, "gather"), 2);
}

// Source coordinates (x + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, ... and x / 2 =
// 0, 0.5, 1, ... (ties) for an axis doubled from 4 to 8.
TEST(OnnxResizeNearest, NearestModeRoundsTheSourceCoordinate) {
  struct Case {
    const char *transform, *nearestMode;
    std::vector<double> picked;
  };
  const Case cases[] = {
      {"half_pixel", "round_prefer_floor", {0, 0, 1, 1, 2, 2, 3, 3}},
      {"half_pixel", "floor", {0, 0, 0, 1, 1, 2, 2, 3}},
      {"half_pixel", "ceil", {0, 1, 1, 2, 2, 3, 3, 3}},
      {"asymmetric", "round_prefer_floor", {0, 0, 1, 1, 2, 2, 3, 3}},
      {"asymmetric", "round_prefer_ceil", {0, 1, 1, 2, 2, 3, 3, 3}},
      {"align_corners", "round_prefer_floor", {0, 0, 1, 1, 2, 2, 3, 3}},
  };
  for (const Case &c : cases) {
    ResizeModel r(13, {4}, {8}, "nearest", {}, {8});
    OnnxModel::stringAttr(*r.node, "coordinate_transformation_mode",
                          c.transform);
    OnnxModel::stringAttr(*r.node, "nearest_mode", c.nearestMode);
    Tensor y = runOne(r.m, {f32({4}, {10, 20, 30, 40})});
    std::vector<double> want;
    for (double i : c.picked)
      want.push_back(10 * (i + 1));
    EXPECT_TRUE(tensorsMatch(y, f32({8}, want)))
        << c.transform << " " << c.nearestMode;
  }
}

TEST(OnnxResizeNearest, DownsamplingPicksEveryFewElements) {
  // 0.6: sizes floor(2 * 0.6) = 1 and floor(4 * 0.6) = 2; the columns are
  // (x + 0.5) / 0.6 - 0.5 = 0.33, 2.0.
  ResizeModel r(13, {1, 1, 2, 4}, {1, 1, 1, 2}, "nearest", {1, 1, 0.6f, 0.6f});
  Tensor y = runOne(r.m, {counting({1, 1, 2, 4})});
  EXPECT_TRUE(tensorsMatch(y, f32({1, 1, 1, 2}, {1, 3})));
}

TEST(OnnxResizeNearest, WorksOnIntegers) {
  OnnxModel m(13);
  m.input("x", TensorProto::INT64, {2, 2});
  m.int64s("sizes", {3, 2});
  m.node("Resize", {"x", "", "", "sizes"}, {"y"});
  m.output("y", {3, 2}, TensorProto::INT64);
  Tensor y = runOne(m, {tensor(DType::I64, {2, 2}, {7, 8, -9, 10})});
  // Rows (x + 0.5) / 1.5 - 0.5 = -0.17, 0.5, 1.17: rows 0, 0, 1.
  EXPECT_TRUE(
      tensorsMatch(y, tensor(DType::I64, {3, 2}, {7, 8, 7, 8, -9, 10})));
}

// ---- linear ----

TEST(OnnxResizeLinear, HalfPixelUpsampling) {
  ResizeModel r(13, {1, 1, 2, 2}, {1, 1, 4, 4}, "linear", {1, 1, 2, 2});
  Tensor y = runOne(r.m, {counting({1, 1, 2, 2})});
  EXPECT_TRUE(tensorsMatch(
      y, f32({1, 1, 4, 4}, {1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75,
                            3.25, 3.5, 3, 3.25, 3.75, 4})));
}

TEST(OnnxResizeLinear, AlignCornersUpsampling) {
  ResizeModel r(13, {1, 1, 2, 2}, {1, 1, 4, 4}, "linear", {1, 1, 2, 2});
  OnnxModel::stringAttr(*r.node, "coordinate_transformation_mode",
                        "align_corners");
  Tensor y = runOne(r.m, {counting({1, 1, 2, 2})});
  const double t = 1.0 / 3;
  std::vector<double> want;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j)
      want.push_back(1 + 2 * i * t + j * t);
  EXPECT_TRUE(tensorsMatch(y, f32({1, 1, 4, 4}, want)));
}

// With scales, align_corners divides by scale * width - 1 (here 4 * 0.6 - 1
// = 1.4), not by the rounded output size - 1, as the reference does: column
// 1 reads 3 / 1.4 = 2.14, between 3 and 4.
TEST(OnnxResizeLinear, AlignCornersUsesTheUnroundedOutputWidth) {
  ResizeModel r(13, {1, 1, 2, 4}, {1, 1, 1, 2}, "linear", {1, 1, 0.6f, 0.6f});
  OnnxModel::stringAttr(*r.node, "coordinate_transformation_mode",
                        "align_corners");
  Tensor y = runOne(r.m, {counting({1, 1, 2, 4})});
  EXPECT_TRUE(tensorsMatch(y, f32({1, 1, 1, 2}, {1, 1 + 3 / 1.4})));
}

TEST(OnnxResizeLinear, PytorchHalfPixelMapsASizeOneAxisToMinusAHalf) {
  // Rows: (x + 0.5) * 4 / 3 - 0.5 = 0.17, 1.5, 2.83; the one column reads
  // -0.5, which clamps to column 0.
  ResizeModel r(13, {1, 1, 4, 4}, {1, 1, 3, 1}, "linear", {}, {1, 1, 3, 1});
  OnnxModel::stringAttr(*r.node, "coordinate_transformation_mode",
                        "pytorch_half_pixel");
  Tensor y = runOne(r.m, {counting({1, 1, 4, 4})});
  EXPECT_TRUE(
      tensorsMatch(y, f32({1, 1, 3, 1}, {1 + 4.0 * (1.0 / 6), 1 + 4 * 1.5,
                                         1 + 4 * (2 + 5.0 / 6)})));
}

// f16 is a storage type: the weights and the lerp are in f32, rounded once.
TEST(OnnxResizeLinear, HalfPrecisionIsInterpolatedInF32) {
  OnnxModel m(13);
  m.input("x", TensorProto::FLOAT16, {2});
  m.floats("scales", {1}, {4});
  auto &node = m.node("Resize", {"x", "", "scales"}, {"y"});
  OnnxModel::stringAttr(node, "mode", "linear");
  OnnxModel::stringAttr(node, "coordinate_transformation_mode",
                        "align_corners");
  m.output("y", {8}, TensorProto::FLOAT16);
  Tensor y = runOne(m, {tensor(DType::F16, {2}, {1, 1000})});
  std::vector<double> want;
  for (int i = 0; i < 8; ++i)
    want.push_back(1 + 999.0 * i / 7);
  EXPECT_TRUE(tensorsMatch(y, tensor(DType::F16, {8}, want)));
  EXPECT_EQ(countOps(m, "cast"), 2);
}

TEST(OnnxResizeLinear, ExcludeOutsideDropsTheClampedNeighbour) {
  // half_pixel, 2 -> 4: column 0 reads -0.25, between -1 (outside) and 0.
  // With exclude_outside the outside neighbour has no weight, so edges are
  // copied as without it, and the inner columns are unchanged.
  ResizeModel r(13, {2}, {4}, "linear", {2});
  OnnxModel::intAttr(*r.node, "exclude_outside", 1);
  Tensor y = runOne(r.m, {f32({2}, {10, 20})});
  EXPECT_TRUE(tensorsMatch(y, f32({4}, {10, 12.5, 17.5, 20})));
}

// ---- cubic ----

TEST(OnnxResizeCubic, DownsamplingHalfPixel) {
  ResizeModel r(13, {1, 1, 4, 4}, {1, 1, 3, 3}, "cubic", {1, 1, 0.8f, 0.8f});
  Tensor y = runOne(r.m, {counting({1, 1, 4, 4})});
  EXPECT_TRUE(
      tensorsMatch(y,
                   f32({1, 1, 3, 3},
                       {1.47119141, 2.78125, 4.08251953, 6.71142578, 8.02148438,
                        9.32275391, 11.91650391, 13.2265625, 14.52783203}),
                   1e-6, 1e-6));
}

TEST(OnnxResizeCubic, CoefficientAAndExcludeOutside) {
  ResizeModel r(13, {1, 1, 4, 4}, {1, 1, 3, 3}, "cubic", {1, 1, 0.8f, 0.8f});
  OnnxModel::floatAttr(*r.node, "cubic_coeff_a", -0.5f);
  OnnxModel::intAttr(*r.node, "exclude_outside", 1);
  Tensor y = runOne(r.m, {counting({1, 1, 4, 4})});
  EXPECT_TRUE(tensorsMatch(
      y,
      f32({1, 1, 3, 3}, {1.36812675, 2.6695014, 4.0133367, 6.57362535, 7.875,
                         9.2188353, 11.94896657, 13.25034122, 14.59417652}),
      1e-6, 1e-6));
}

// Asymmetric x / 2 puts every other output exactly on an input: those
// columns read one input element, the others four (clamped at the edges).
TEST(OnnxResizeCubic, AsymmetricUpsampling) {
  ResizeModel r(13, {1, 1, 4, 4}, {1, 1, 8, 8}, "cubic", {1, 1, 2, 2});
  OnnxModel::stringAttr(*r.node, "coordinate_transformation_mode",
                        "asymmetric");
  Tensor y = runOne(r.m, {counting({1, 1, 4, 4})});
  const std::vector<double> rows = {0, 0.40625, 1, 1.5, 2, 2.59375, 3, 3.09375};
  std::vector<double> want;
  for (double i : rows)
    for (double j : rows)
      want.push_back(1 + 4 * i + j);
  EXPECT_TRUE(tensorsMatch(y, f32({1, 1, 8, 8}, want)));
}

// ---- tf_crop_and_resize ----

// The ONNX example: roi rows [0.4, 0.6] and columns [0.6, 0.8] of a 4x4
// input, resized to 3x3.
TEST(OnnxResizeCrop, SamplesTheRegionOfInterest) {
  ResizeModel r(13, {1, 1, 4, 4}, {1, 1, 3, 3}, "linear", {}, {1, 1, 3, 3});
  r.m.floats("roi", {8}, {0, 0, 0.4f, 0.6f, 1, 1, 0.6f, 0.8f});
  r.node->set_input(1, "roi");
  OnnxModel::stringAttr(*r.node, "coordinate_transformation_mode",
                        "tf_crop_and_resize");
  Tensor y = runOne(r.m, {counting({1, 1, 4, 4})});
  EXPECT_TRUE(tensorsMatch(
      y, f32({1, 1, 3, 3}, {7.6, 7.9, 8.2, 8.8, 9.1, 9.4, 10, 10.3, 10.6}),
      1e-5, 1e-5));
}

TEST(OnnxResizeCrop, OutsideTheInputTakesTheExtrapolationValue) {
  ResizeModel r(13, {1, 1, 4, 4}, {1, 1, 3, 3}, "linear", {}, {1, 1, 3, 3});
  r.m.floats("roi", {8}, {0, 0, 0.4f, 0.6f, 1, 1, 1.2f, 1.7f});
  r.node->set_input(1, "roi");
  OnnxModel::stringAttr(*r.node, "coordinate_transformation_mode",
                        "tf_crop_and_resize");
  OnnxModel::floatAttr(*r.node, "extrapolation_value", 10);
  Tensor y = runOne(r.m, {counting({1, 1, 4, 4})});
  EXPECT_TRUE(tensorsMatch(
      y, f32({1, 1, 3, 3}, {7.6, 10, 10, 12.4, 10, 10, 10, 10, 10}), 1e-5,
      1e-5));
}

// ---- opset differences ----

// Resize-11 takes an empty scales when sizes is given, and has
// tf_half_pixel_for_nn: (x + 0.5) / scale.
TEST(OnnxResizeOpsets, Opset11EmptyScalesAndTfHalfPixelForNn) {
  OnnxModel m(11);
  m.input("x", kFloat, {1, 1, 4, 4});
  m.floats("roi", {0}, {});
  m.floats("scales", {0}, {});
  m.int64s("sizes", {1, 1, 3, 2});
  auto &node = m.node("Resize", {"x", "roi", "scales", "sizes"}, {"y"});
  OnnxModel::stringAttr(node, "coordinate_transformation_mode",
                        "tf_half_pixel_for_nn");
  m.output("y", {1, 1, 3, 2});
  Tensor y = runOne(m, {counting({1, 1, 4, 4})});
  EXPECT_TRUE(tensorsMatch(y, f32({1, 1, 3, 2}, {6, 8, 10, 12, 14, 16})));
}

// Resize-10 and Upsample: asymmetric coordinates, and nearest takes the
// floor when an axis grows and the ceiling when it shrinks (ONNX's opset-10
// test data: [1, 2, 3, 4] scaled by 0.6 reads columns 0 and ceil(1.67) = 2).
TEST(OnnxResizeOpsets, Opset10NearestAndLinear) {
  {
    OnnxModel m(10);
    m.input("x", kFloat, {1, 1, 2, 4});
    m.floats("scales", {4}, {1, 1, 0.6f, 0.6f});
    m.node("Resize", {"x", "scales"}, {"y"});
    m.output("y", {1, 1, 1, 2});
    EXPECT_TRUE(tensorsMatch(runOne(m, {counting({1, 1, 2, 4})}),
                             f32({1, 1, 1, 2}, {1, 3})));
  }
  {
    OnnxModel m(10);
    m.input("x", kFloat, {3});
    m.floats("scales", {1}, {3});
    m.node("Resize", {"x", "scales"}, {"y"});
    m.output("y", {9});
    EXPECT_TRUE(tensorsMatch(runOne(m, {f32({3}, {1, 2, 3})}),
                             f32({9}, {1, 1, 1, 2, 2, 2, 3, 3, 3})));
  }
  {
    OnnxModel m(10);
    m.input("x", kFloat, {1, 1, 2, 2});
    m.floats("scales", {4}, {1, 1, 2, 2});
    auto &node = m.node("Resize", {"x", "scales"}, {"y"});
    OnnxModel::stringAttr(node, "mode", "linear");
    m.output("y", {1, 1, 4, 4});
    EXPECT_TRUE(tensorsMatch(runOne(m, {counting({1, 1, 2, 2})}),
                             f32({1, 1, 4, 4}, {1, 1.5, 2, 2, 2, 2.5, 3, 3, 3,
                                                3.5, 4, 4, 3, 3.5, 4, 4})));
  }
}

TEST(OnnxResizeOpsets, UpsampleScalesAttributeAndInput) {
  const std::vector<double> want = {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2,
                                    3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4};
  {
    OnnxModel m(7);
    m.input("x", kFloat, {1, 1, 2, 2});
    auto &node = m.node("Upsample", {"x"}, {"y"});
    OnnxModel::floatsAttr(node, "scales", {1, 1, 2, 3});
    m.output("y", {1, 1, 4, 6});
    EXPECT_TRUE(tensorsMatch(runOne(m, {counting({1, 1, 2, 2})}),
                             f32({1, 1, 4, 6}, want)));
  }
  {
    OnnxModel m(9);
    m.input("x", kFloat, {1, 1, 2, 2});
    m.floats("scales", {4}, {1, 1, 2, 3});
    m.node("Upsample", {"x", "scales"}, {"y"});
    m.output("y", {1, 1, 4, 6});
    EXPECT_TRUE(tensorsMatch(runOne(m, {counting({1, 1, 2, 2})}),
                             f32({1, 1, 4, 6}, want)));
  }
}

// ---- shapes known only with bound inputs, and errors ----

TEST(OnnxResizeErrors, ScalesFromAGraphInputMustBeBound) {
  OnnxModel m(13);
  m.input("x", kFloat, {1, 1, 2, 2});
  m.input("scales", kFloat, {4});
  m.node("Resize", {"x", "", "scales"}, {"y"});
  m.output("y", {1, 1, 4, 6});
  absl::Status s = import(m).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented) << s;
  EXPECT_NE(s.message().find("scales computed at run time"),
            std::string_view::npos)
      << s;
  ImportOptions options;
  options.inputValues.emplace("scales", f32({4}, {1, 1, 2, 3}));
  Tensor y = runOne(m, {counting({1, 1, 2, 2})}, options);
  EXPECT_EQ(y.type().str(), "f32[1,1,4,6]");
}

TEST(OnnxResizeErrors, BadAttributesAndInputs) {
  auto status = [](ResizeModel &r) { return import(r.m).status(); };
  {
    ResizeModel r(13, {2}, {4}, "bicubic", {2});
    absl::Status s = status(r);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("mode is 'bicubic'; expected nearest, linear "
                               "or cubic"),
              std::string_view::npos)
        << s;
  }
  {
    ResizeModel r(13, {2}, {4}, "nearest", {2});
    OnnxModel::stringAttr(*r.node, "coordinate_transformation_mode",
                          "tf_half_pixel_for_nn"); // Resize-11 only
    EXPECT_EQ(status(r).code(), absl::StatusCode::kInvalidArgument);
  }
  {
    ResizeModel r(13, {2}, {4}, "nearest", {2});
    OnnxModel::stringAttr(*r.node, "nearest_mode", "round");
    EXPECT_EQ(status(r).code(), absl::StatusCode::kInvalidArgument);
  }
  {
    ResizeModel r(13, {2, 2}, {4, 4}, "nearest", {2});
    absl::Status s = status(r);
    EXPECT_NE(s.message().find("scales has 1 elements; expected 2"),
              std::string_view::npos)
        << s;
  }
  {
    ResizeModel r(13, {2}, {4}, "nearest", {-2});
    EXPECT_EQ(status(r).code(), absl::StatusCode::kInvalidArgument);
  }
  {
    ResizeModel r(13, {2}, {4}, "nearest", {2});
    r.m.int64s("sizes", {4});
    r.node->add_input("sizes");
    absl::Status s = status(r);
    EXPECT_NE(s.message().find("both scales and sizes are given"),
              std::string_view::npos)
        << s;
  }
  {
    ResizeModel r(13, {2}, {4}, "linear", {}, {4});
    OnnxModel::stringAttr(*r.node, "coordinate_transformation_mode",
                          "tf_crop_and_resize");
    EXPECT_NE(status(r).message().find("roi is not given"),
              std::string_view::npos);
  }
  {
    OnnxModel m(9);
    m.input("x", kFloat, {2});
    m.floats("scales", {1}, {0.5f});
    m.node("Upsample", {"x", "scales"}, {"y"});
    m.output("y", {1});
    absl::Status s = import(m).status();
    EXPECT_NE(s.message().find("expected a finite scale >= 1"),
              std::string_view::npos)
        << s;
  }
}

TEST(OnnxResizeErrors, InterpolatingIntegersIsUnsupported) {
  OnnxModel m(13);
  m.input("x", TensorProto::INT32, {2});
  m.floats("scales", {1}, {2});
  auto &node = m.node("Resize", {"x", "", "scales"}, {"y"});
  OnnxModel::stringAttr(node, "mode", "linear");
  m.output("y", {4}, TensorProto::INT32);
  absl::Status s = import(m).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented) << s;
}

} // namespace
} // namespace nyx::onnx_import
