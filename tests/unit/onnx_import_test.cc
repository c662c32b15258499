// The ONNX importer's core: tensors, graph inputs and outputs, weights,
// import-time evaluation of shape computations, and its errors.
#include <fstream>

#include "frontends/onnx/importer.h"
#include "frontends/onnx/tensor_proto.h"
#include "ir/interpreter.h"
#include "ir/printer.h"
#include "tests/support/onnx_model.h"
#include "tests/support/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nyx::onnx_import {
namespace {

using onnx::TensorProto;
using test::OnnxModel;
using testing::HasSubstr;

absl::StatusOr<ImportedModel> import(OnnxModel &m,
                                     const ImportOptions &options = {}) {
  return importModel(m.proto(), "m.onnx", options);
}

std::vector<ir::Tensor> run(const ImportedModel &model,
                            std::vector<ir::Tensor> args) {
  ir::Interpreter interp(*model.module, &model.weights);
  auto fn = model.module->entry();
  EXPECT_TRUE(fn.ok());
  auto out = interp.run(**fn, std::move(args));
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : std::vector<ir::Tensor>{};
}

ir::Tensor floats(ir::Shape shape, std::vector<float> values) {
  ir::Tensor t(ir::TensorType{ir::DType::F32, std::move(shape)});
  for (size_t i = 0; i < values.size(); ++i)
    t.data<float>()[i] = values[i];
  return t;
}

TEST(OnnxTensor, RawAndTypedPayloads) {
  TensorProto raw;
  raw.set_name("r");
  raw.set_data_type(TensorProto::FLOAT);
  raw.add_dims(2);
  float values[] = {1.5f, -2};
  raw.set_raw_data(std::string(reinterpret_cast<char *>(values), 8));
  auto t = tensorFromProto(raw, ".");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->data<float>()[1], -2);

  TensorProto flags;
  flags.set_data_type(TensorProto::BOOL);
  flags.add_dims(3);
  for (int v : {1, 0, 1})
    flags.add_int32_data(v);
  auto b = tensorFromProto(flags, ".");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->getInt(0), 1);
  EXPECT_EQ(b->getInt(1), 0);

  TensorProto half;
  half.set_data_type(TensorProto::FLOAT16);
  half.add_int32_data(0x3C00); // 1.0 as binary16 bits
  auto h = tensorFromProto(half, ".");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->getDouble(0), 1.0);
}

TEST(OnnxTensor, PayloadErrors) {
  TensorProto p;
  p.set_name("w");
  p.set_data_type(TensorProto::FLOAT);
  p.add_dims(3);
  p.add_float_data(1);
  EXPECT_THAT(std::string(tensorFromProto(p, ".").status().message()),
              HasSubstr("tensor 'w' holds 1 values; its shape f32[3] needs 3"));
  p.clear_float_data();
  p.set_raw_data("abcd");
  EXPECT_THAT(std::string(tensorFromProto(p, ".").status().message()),
              HasSubstr("has 4 bytes of raw data; its shape f32[3] needs 12"));

  TensorProto u16;
  u16.set_name("u");
  u16.set_data_type(TensorProto::UINT16);
  auto s = tensorFromProto(u16, ".").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(s.message()), HasSubstr("element type uint16"));
}

class OnnxExternalData : public test::TempDirTest {};

TEST_F(OnnxExternalData, ReadsOffsetsAndRejectsShortOrEscapingFiles) {
  {
    std::ofstream f(path("w.bin"), std::ios::binary);
    float v[] = {0, 7, 8};
    f.write(reinterpret_cast<char *>(v), sizeof v);
  }
  TensorProto p;
  p.set_name("w");
  p.set_data_type(TensorProto::FLOAT);
  p.add_dims(2);
  p.set_data_location(TensorProto::EXTERNAL);
  auto *loc = p.add_external_data();
  loc->set_key("location");
  loc->set_value("w.bin");
  auto *off = p.add_external_data();
  off->set_key("offset");
  off->set_value("4");
  auto t = tensorFromProto(p, dir_);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->data<float>()[0], 7);
  EXPECT_EQ(t->data<float>()[1], 8);

  off->set_value("8");
  EXPECT_THAT(std::string(tensorFromProto(p, dir_).status().message()),
              HasSubstr("ends before 8 bytes at offset 8"));
  loc->set_value("../w.bin");
  EXPECT_THAT(std::string(tensorFromProto(p, dir_).status().message()),
              HasSubstr("expected a path relative to the model's folder"));
}

TEST(OnnxImport, InputsOutputsAndWeightsKeepTheirNames) {
  OnnxModel m(13);
  m.input("x", TensorProto::FLOAT, {2, 40});
  std::vector<float> w(40 * 3);
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = (i % 3 + 1) * 0.5f; // column j holds (j + 1) / 2
  m.floats("fc.weight", {40, 3}, w);
  m.floats("bias", {3}, {1, 2, 3});
  m.node("MatMul", {"x", "fc.weight"}, {"h"});
  m.node("Add", {"h", "bias"}, {"logits"});
  m.output("logits", {2, 3});
  auto model = import(m);
  ASSERT_TRUE(model.ok()) << model.status();
  // The large initializer is a named weight; the 3-element one a constant.
  ASSERT_EQ(model->module->params.size(), 1u);
  EXPECT_EQ(model->module->params[0].name, "fc.weight");
  EXPECT_TRUE(model->weights.contains("fc.weight"));
  std::string text = ir::printModule(*model->module);
  EXPECT_THAT(text, HasSubstr("func @main(%x: f32[2,40])"));
  EXPECT_THAT(text, HasSubstr("return %logits"));

  std::vector<float> x(80, 1.0f);
  auto out = run(*model, {floats({2, 40}, x)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data<float>()[0], 20 + 1);
  EXPECT_EQ(out[0].data<float>()[5], 60 + 3);
}

TEST(OnnxImport, ShapeComputationsFoldIntoAttributes) {
  // Flatten written the way exporters write it: Shape -> Gather -> Concat
  // -> Reshape.
  OnnxModel m(13);
  m.input("x", TensorProto::FLOAT, {2, 3, 4});
  m.int64s("zero", {0});
  m.int64s("minus_one", {-1});
  m.node("Shape", {"x"}, {"shape"});
  m.node("Gather", {"shape", "zero"}, {"batch"});
  m.node("Concat", {"batch", "minus_one"}, {"target"});
  OnnxModel::intAttr(m.proto().mutable_graph()->mutable_node(2)[0], "axis", 0);
  m.node("Reshape", {"x", "target"}, {"y"});
  m.output("y", {2, 12});
  auto model = import(m);
  ASSERT_TRUE(model.ok()) << model.status();
  auto fn = model->module->entry();
  ASSERT_TRUE(fn.ok());
  ASSERT_EQ((*fn)->ops.size(), 1u) << ir::printModule(*model->module);
  EXPECT_EQ((*fn)->ops[0]->name(), "reshape");
  EXPECT_EQ((*fn)->returns[0]->type.str(), "f32[2,12]");
}

TEST(OnnxImport, DynamicDimensionsNeedABinding) {
  OnnxModel m(13);
  m.input("x", TensorProto::FLOAT, {-1, 4}, "batch");
  m.node("Relu", {"x"}, {"y"});
  m.output("y", {8, 4});
  auto unbound = import(m);
  EXPECT_THAT(std::string(unbound.status().message()),
              HasSubstr("graph input 'x' has a dynamic dimension ('batch', "
                        "axis 0); bind it with --input-shape x=D0xD1x..."));

  ImportOptions options;
  ASSERT_TRUE(parseInputShape("x=8x4", options.inputShapes).ok());
  auto bound = import(m, options);
  ASSERT_TRUE(bound.ok()) << bound.status();
  EXPECT_EQ((*bound->module->entry())->params[0]->type.str(), "f32[8,4]");

  ImportOptions wrong;
  ASSERT_TRUE(parseInputShape("x=8x5", wrong.inputShapes).ok());
  EXPECT_THAT(std::string(import(m, wrong).status().message()),
              HasSubstr("gives input 'x' size 5 on axis 1; the model "
                        "declares 4"));
  ImportOptions other;
  ASSERT_TRUE(parseInputShape("x=8x4", other.inputShapes).ok());
  ASSERT_TRUE(parseInputShape("z=1", other.inputShapes).ok());
  EXPECT_THAT(std::string(import(m, other).status().message()),
              HasSubstr("'z', which is not an input of the graph"));
}

TEST(OnnxImport, ParseInputShape) {
  std::map<std::string, std::vector<int64_t>, std::less<>> shapes;
  EXPECT_TRUE(parseInputShape("input.1=1x3x224x224", shapes).ok());
  EXPECT_EQ(shapes["input.1"], (std::vector<int64_t>{1, 3, 224, 224}));
  EXPECT_TRUE(parseInputShape("s=", shapes).ok());
  EXPECT_TRUE(shapes["s"].empty());
  for (const char *bad : {"x", "=1x2", "x=1x", "x=1xx2", "x=-1", "x=a"})
    EXPECT_FALSE(parseInputShape(bad, shapes).ok()) << bad;
  EXPECT_FALSE(parseInputShape("s=2", shapes).ok()); // given twice
}

TEST(OnnxImport, BoundInputValuesBecomeConstants) {
  OnnxModel m(13);
  m.input("x", TensorProto::FLOAT, {2, 6});
  m.input("shape", TensorProto::INT64, {2});
  m.node("Reshape", {"x", "shape"}, {"y"});
  m.output("y", {3, 4});
  EXPECT_EQ(import(m).status().code(), absl::StatusCode::kUnimplemented);
  ImportOptions options;
  ir::Tensor shape(ir::TensorType{ir::DType::I64, {2}});
  shape.setInt(0, 3);
  shape.setInt(1, 4);
  options.inputValues.emplace("shape", shape);
  auto model = import(m, options);
  ASSERT_TRUE(model.ok()) << model.status();
  auto fn = model->module->entry();
  EXPECT_EQ((*fn)->params.size(), 1u);
  EXPECT_EQ((*fn)->returns[0]->type.str(), "f32[3,4]");
}

TEST(OnnxImport, ErrorsNameTheNodeAndWhatWasExpected) {
  {
    OnnxModel m(13);
    m.input("x", TensorProto::FLOAT, {2});
    m.node("NonZero", {"x"}, {"y"}, "nz1");
    m.output("y", {1, 2}, TensorProto::INT64);
    auto s = import(m).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
    EXPECT_EQ(s.message(), "m.onnx: error: node 'nz1' (NonZero, opset "
                           "13): op type 'NonZero' is not supported");
  }
  for (int64_t opset : {5, 18}) {
    OnnxModel m(opset);
    m.input("x", TensorProto::FLOAT, {2});
    m.output("x", {2});
    EXPECT_THAT(std::string(import(m).status().message()),
                HasSubstr("expected an opset from 6 to 17"));
  }
  {
    OnnxModel m(13);
    m.input("x", TensorProto::FLOAT, {2});
    m.node("Add", {"x", "missing"}, {"y"});
    m.output("y", {2});
    EXPECT_THAT(std::string(import(m).status().message()),
                HasSubstr("the model is not valid ONNX: Nodes in a graph must "
                          "be topologically sorted, however input 'missing' "
                          "of node: name: OpType: Add is not output of any "
                          "previous nodes."));
  }
  {
    OnnxModel m(13);
    m.input("x", TensorProto::UINT8, {2});
    m.output("x", {2}, TensorProto::UINT8);
    auto s = import(m).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
    EXPECT_THAT(std::string(s.message()),
                HasSubstr("graph input 'x' has element type uint8"));
  }
}

TEST(OnnxImport, OutputTypesMustMatchTheDeclaredOnes) {
  OnnxModel m(13);
  m.input("x", TensorProto::FLOAT, {2, 6});
  m.node("Flatten", {"x"}, {"y"});
  m.output("y", {2, 5});
  EXPECT_THAT(std::string(import(m).status().message()),
              HasSubstr("graph output 'y' is f32[2,6] after import; the "
                        "model declares float[2,5]"));
}

class OnnxFiles : public test::TempDirTest {};

TEST_F(OnnxFiles, NotOnnxTruncatedAndMissingFilesAreErrors) {
  EXPECT_THAT(std::string(importFile(path("none.onnx"), {}).status().message()),
              HasSubstr("cannot read the file"));
  {
    std::ofstream f(path("text.onnx"));
    f << "graph main { relu }\n";
  }
  EXPECT_THAT(std::string(importFile(path("text.onnx"), {}).status().message()),
              HasSubstr("not an ONNX model"));

  OnnxModel m(13);
  m.input("x", TensorProto::FLOAT, {2});
  m.node("Relu", {"x"}, {"y"});
  m.output("y", {2});
  std::string bytes = m.proto().SerializeAsString();
  {
    std::ofstream f(path("cut.onnx"), std::ios::binary);
    f << bytes.substr(0, bytes.size() - 5);
  }
  EXPECT_THAT(std::string(importFile(path("cut.onnx"), {}).status().message()),
              HasSubstr("not an ONNX model"));
  {
    std::ofstream f(path("ok.onnx"), std::ios::binary);
    f << bytes;
  }
  EXPECT_TRUE(importFile(path("ok.onnx"), {}).ok());
}

} // namespace
} // namespace nyx::onnx_import
