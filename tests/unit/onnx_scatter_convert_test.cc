// The ONNX GatherND, ScatterElements, Scatter and ScatterND converters
// (convert_scatter.cc): each test builds a small model, imports it, runs
// the interpreter and checks the values of ONNX's own examples (the
// operator docs and onnx/backend/test/case/node/{gathernd,scatter,
// scatterelements,scatternd}.py), and the opset rules of `reduction`
// ("max" and "min" are opset 18, past the importer's opsets for now).
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "frontends/onnx/importer.h"
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
constexpr int32_t kInt32 = TensorProto::INT32;
constexpr int32_t kInt64 = TensorProto::INT64;

Tensor f32(Shape shape, const std::vector<double> &values) {
  return tensor(DType::F32, std::move(shape), values);
}
Tensor i64(Shape shape, const std::vector<double> &values) {
  return tensor(DType::I64, std::move(shape), values);
}

// A model of one node `opType(data, indices[, updates])` over graph inputs
// of the given shapes; the output has data's shape (scatters) or `out`.
struct OneNode {
  OnnxModel model;
  onnx::NodeProto *node = nullptr;
  OneNode(int64_t opset, const std::string &opType, int32_t dataType,
          const Shape &data, int32_t indexType, const Shape &indices,
          const Shape *updates, const Shape &out)
      : model(opset) {
    model.input("data", dataType, data);
    model.input("indices", indexType, indices);
    std::vector<std::string> inputs = {"data", "indices"};
    if (updates) {
      model.input("updates", dataType, *updates);
      inputs.push_back("updates");
    }
    node = &model.node(opType, inputs, {"y"});
    model.output("y", out, dataType);
  }
};

OneNode scatter(int64_t opset, const std::string &opType, const Shape &data,
                const Shape &indices, const Shape &updates) {
  return OneNode(opset, opType, kFloat, data, kInt64, indices, &updates, data);
}

void expectValues(const Tensor &got, const Tensor &want) {
  EXPECT_TRUE(tensorsMatch(got, want, 1e-6, 1e-6));
}

TEST(OnnxGatherNd, Opset11Int32AndFloat) {
  // gathernd.py: example_int32 and example_float32.
  OneNode m(11, "GatherND", kInt32, {2, 2}, kInt64, {2, 2}, nullptr, {2});
  Tensor got = test::runModelOne(
      m.model.proto(),
      {tensor(DType::I32, {2, 2}, {0, 1, 2, 3}), i64({2, 2}, {0, 0, 1, 1})});
  expectValues(got, tensor(DType::I32, {2}, {0, 3}));

  OneNode f(11, "GatherND", kFloat, {2, 2, 2}, kInt64, {2, 1, 1}, nullptr,
            {2, 1, 2, 2});
  got = test::runModelOne(
      f.model.proto(),
      {f32({2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7}), i64({2, 1, 1}, {1, 0})});
  expectValues(got, f32({2, 1, 2, 2}, {4, 5, 6, 7, 0, 1, 2, 3}));
}

TEST(OnnxGatherNd, Opset12BatchDims) {
  // gathernd.py: example_int32_batch_dim1.
  OneNode m(12, "GatherND", kInt32, {2, 2, 2}, kInt64, {2, 1}, nullptr, {2, 2});
  OnnxModel::intAttr(*m.node, "batch_dims", 1);
  Tensor got = test::runModelOne(
      m.model.proto(), {tensor(DType::I32, {2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7}),
                        i64({2, 1}, {1, 0})});
  expectValues(got, tensor(DType::I32, {2, 2}, {2, 3, 4, 5}));
}

TEST(OnnxScatterElements, Opset11AxisAndNegativeIndices) {
  // scatterelements.py: with_axis and with_negative_indices.
  OneNode m = scatter(11, "ScatterElements", {1, 5}, {1, 2}, {1, 2});
  OnnxModel::intAttr(*m.node, "axis", 1);
  Tensor data = f32({1, 5}, {1, 2, 3, 4, 5});
  Tensor updates = f32({1, 2}, {1.1, 2.1});
  expectValues(
      test::runModelOne(m.model.proto(), {data, i64({1, 2}, {1, 3}), updates}),
      f32({1, 5}, {1, 1.1, 3, 2.1, 5}));
  expectValues(
      test::runModelOne(m.model.proto(), {data, i64({1, 2}, {1, -3}), updates}),
      f32({1, 5}, {1, 1.1, 2.1, 4, 5}));
}

TEST(OnnxScatterElements, Opset16ReductionsOnDuplicates) {
  // scatterelements.py: with_duplicate_indices ("add"), and "mul".
  Tensor data = f32({1, 5}, {1, 2, 3, 4, 5});
  Tensor indices = i64({1, 2}, {1, 1});
  Tensor updates = f32({1, 2}, {1.1, 2.1});
  OneNode add = scatter(16, "ScatterElements", {1, 5}, {1, 2}, {1, 2});
  OnnxModel::intAttr(*add.node, "axis", -1);
  OnnxModel::stringAttr(*add.node, "reduction", "add");
  expectValues(test::runModelOne(add.model.proto(), {data, indices, updates}),
               f32({1, 5}, {1, 5.2, 3, 4, 5}));
  OneNode mul = scatter(16, "ScatterElements", {1, 5}, {1, 2}, {1, 2});
  OnnxModel::intAttr(*mul.node, "axis", 1);
  OnnxModel::stringAttr(*mul.node, "reduction", "mul");
  expectValues(test::runModelOne(mul.model.proto(), {data, indices, updates}),
               f32({1, 5}, {1, 2 * 1.1f * 2.1f, 3, 4, 5}));
}

TEST(OnnxScatter, Opset9WithoutAxis) {
  // scatter.py: scatter_without_axis (axis 0).
  OneNode m = scatter(9, "Scatter", {3, 3}, {2, 3}, {2, 3});
  Tensor got = test::runModelOne(m.model.proto(),
                                 {f32({3, 3}, {0, 0, 0, 0, 0, 0, 0, 0, 0}),
                                  i64({2, 3}, {1, 0, 2, 0, 2, 1}),
                                  f32({2, 3}, {1.0, 1.1, 1.2, 2.0, 2.1, 2.2})});
  expectValues(got, f32({3, 3}, {2.0, 1.1, 0, 1.0, 0, 2.2, 0, 2.1, 1.2}));
}

TEST(OnnxScatterNd, Opset11AndReductions) {
  // The ScatterND operator doc's first example, then "add" and "mul"
  // (opset 16) with a duplicate index.
  Tensor data = f32({8}, {1, 2, 3, 4, 5, 6, 7, 8});
  Tensor updates = f32({4}, {9, 10, 11, 12});
  OneNode m = scatter(11, "ScatterND", {8}, {4, 1}, {4});
  expectValues(test::runModelOne(m.model.proto(),
                                 {data, i64({4, 1}, {4, 3, 1, 7}), updates}),
               f32({8}, {1, 11, 3, 10, 9, 6, 7, 12}));
  Tensor dup = i64({4, 1}, {4, 4, 1, -1});
  OneNode add = scatter(16, "ScatterND", {8}, {4, 1}, {4});
  OnnxModel::stringAttr(*add.node, "reduction", "add");
  expectValues(test::runModelOne(add.model.proto(), {data, dup, updates}),
               f32({8}, {1, 13, 3, 4, 24, 6, 7, 20}));
  OneNode mul = scatter(16, "ScatterND", {8}, {4, 1}, {4});
  OnnxModel::stringAttr(*mul.node, "reduction", "mul");
  expectValues(test::runModelOne(mul.model.proto(), {data, dup, updates}),
               f32({8}, {1, 22, 3, 4, 450, 6, 7, 96}));
}

TEST(OnnxScatterNd, SliceUpdates) {
  // The ScatterND operator doc's second example: whole [4, 4] slices.
  OneNode m = scatter(13, "ScatterND", {4, 4, 4}, {2, 1}, {2, 4, 4});
  Tensor data(ir::TensorType{DType::F32, {4, 4, 4}});
  Tensor updates(ir::TensorType{DType::F32, {2, 4, 4}});
  for (int64_t i = 0; i < 64; ++i)
    data.setDouble(i, static_cast<double>(i));
  for (int64_t i = 0; i < 32; ++i)
    updates.setDouble(i, static_cast<double>(100 + i));
  Tensor got =
      test::runModelOne(m.model.proto(), {data, i64({2, 1}, {0, 2}), updates});
  Tensor want = data;
  for (int64_t i = 0; i < 16; ++i) {
    want.setDouble(i, 100 + i);
    want.setDouble(32 + i, 116 + i);
  }
  expectValues(got, want);
}

TEST(OnnxScatter, ReductionsTheOpsetDoesNotDefine) {
  OneNode max16 = scatter(16, "ScatterND", {8}, {4, 1}, {4});
  OnnxModel::stringAttr(*max16.node, "reduction", "max");
  auto imported = importModel(max16.model.proto(), "scatter.onnx", {});
  ASSERT_FALSE(imported.ok());
  EXPECT_NE(std::string(imported.status().message())
                .find("reduction is \"max\"; expected \"none\", \"add\" or "
                      "\"mul\""),
            std::string::npos)
      << imported.status();
  OneNode sum17 = scatter(17, "ScatterElements", {8}, {4}, {4});
  OnnxModel::stringAttr(*sum17.node, "reduction", "sum");
  imported = importModel(sum17.model.proto(), "scatter.onnx", {});
  ASSERT_FALSE(imported.ok());
  EXPECT_NE(std::string(imported.status().message())
                .find("reduction is \"sum\"; expected \"none\", \"add\" or "
                      "\"mul\""),
            std::string::npos)
      << imported.status();
}

} // namespace
} // namespace nyx::onnx_import
