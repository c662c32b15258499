// The ONNX elementwise converters on one-node models built here: each test
// imports the model, runs the interpreter and checks values computed by hand
// (or the error the import must give).
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "frontends/onnx/importer.h"
#include "ir/interpreter.h"
#include "onnx/onnx_pb.h"
#include "tests/support/onnx_run.h"

namespace nyx::onnx_import {
namespace {

using onnx::TensorProto;
using test::tensor;

constexpr int32_t kFloat = TensorProto::FLOAT;
constexpr int32_t kInt8 = TensorProto::INT8;
constexpr int32_t kInt32 = TensorProto::INT32;
constexpr int32_t kInt64 = TensorProto::INT64;
constexpr int32_t kBool = TensorProto::BOOL;

struct Io {
  std::string name;
  int32_t elemType;
  std::vector<int64_t> shape;
};

void setType(onnx::ValueInfoProto *info, const Io &io) {
  info->set_name(io.name);
  auto *tt = info->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(io.elemType);
  auto *shape = tt->mutable_shape();
  for (int64_t d : io.shape)
    shape->add_dim()->set_dim_value(d);
}

// A model of one node `opType` reading `inputs` (graph inputs, or "" for an
// absent optional input) and writing output "y".
class OneNode {
public:
  OneNode(std::string opType, int64_t opset) {
    model_.set_ir_version(8);
    auto *entry = model_.add_opset_import();
    entry->set_domain("");
    entry->set_version(opset);
    model_.mutable_graph()->set_name("g");
    node_ = model_.mutable_graph()->add_node();
    node_->set_op_type(std::move(opType));
    node_->add_output("y");
  }

  OneNode &input(const Io &io) {
    node_->add_input(io.name);
    setType(model_.mutable_graph()->add_input(), io);
    return *this;
  }
  OneNode &absentInput() {
    node_->add_input("");
    return *this;
  }
  // An initializer (a tensor known at import time) as the next input.
  OneNode &int64Initializer(std::string name, std::vector<int64_t> shape,
                            std::vector<int64_t> values) {
    node_->add_input(name);
    TensorProto *t = model_.mutable_graph()->add_initializer();
    t->set_name(std::move(name));
    t->set_data_type(kInt64);
    for (int64_t d : shape)
      t->add_dims(d);
    for (int64_t v : values)
      t->add_int64_data(v);
    return *this;
  }
  OneNode &attr(std::string name, int64_t v) {
    auto *a = node_->add_attribute();
    a->set_name(std::move(name));
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
    return *this;
  }
  OneNode &attr(std::string name, float v) {
    auto *a = node_->add_attribute();
    a->set_name(std::move(name));
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
    return *this;
  }
  OneNode &output(int32_t elemType, std::vector<int64_t> shape) {
    setType(model_.mutable_graph()->add_output(), {"y", elemType, shape});
    return *this;
  }

  absl::StatusOr<ImportedModel> import() const {
    return importModel(model_, "one_node.onnx", {});
  }

  // Imports and runs the model on `args`; its one result.
  ir::Tensor run(std::vector<ir::Tensor> args) const {
    return test::runModelOne(model_, std::move(args));
  }

private:
  onnx::ModelProto model_;
  onnx::NodeProto *node_;
};

ir::Tensor ints(ir::DType dtype, ir::Shape shape,
                const std::vector<int64_t> &values) {
  ir::Tensor t(ir::TensorType{dtype, std::move(shape)});
  EXPECT_EQ(t.numElements(), static_cast<int64_t>(values.size()));
  for (size_t i = 0; i < values.size(); ++i)
    t.setInt(static_cast<int64_t>(i), values[i]);
  return t;
}

std::vector<int64_t> intsOf(const ir::Tensor &t) {
  std::vector<int64_t> v;
  for (int64_t i = 0; i < t.numElements(); ++i)
    v.push_back(t.getInt(i));
  return v;
}

std::vector<double> doublesOf(const ir::Tensor &t) {
  std::vector<double> v;
  for (int64_t i = 0; i < t.numElements(); ++i)
    v.push_back(t.getDouble(i));
  return v;
}

// ---- Pow ------------------------------------------------------------------

TEST(OnnxPow, IntegerBaseAndRuntimeIntegerExponentMultiplyExactly) {
  OneNode node("Pow", 15);
  node.input({"x", kInt32, {6}}).input({"e", kInt32, {6}}).output(kInt32, {6});
  // 3^20 fits in i32; 3^21 = 10460353203 wraps to 10460353203 - 2^33.
  ir::Tensor y = node.run({ints(ir::DType::I32, {6}, {2, -3, 3, 3, 7, -5}),
                           ints(ir::DType::I32, {6}, {10, 3, 20, 21, 0, 1})});
  EXPECT_EQ(y.dtype(), ir::DType::I32);
  EXPECT_EQ(intsOf(y),
            (std::vector<int64_t>{1024, -27, 3486784401 - (1LL << 32),
                                  10460353203LL - (1LL << 33), 1, -5}));
}

TEST(OnnxPow, NegativeIntegerExponentGivesTheIntegerPartOfTheRealPower) {
  OneNode node("Pow", 15);
  node.input({"x", kInt64, {4}}).input({"e", kInt64, {4}}).output(kInt64, {4});
  ir::Tensor y = node.run({ints(ir::DType::I64, {4}, {2, 1, -1, -1}),
                           ints(ir::DType::I64, {4}, {-1, -5, -3, -2})});
  EXPECT_EQ(intsOf(y), (std::vector<int64_t>{0, 1, -1, 1}));
}

TEST(OnnxPow, KnownSplatExponentIsAChainOfProducts) {
  // A scalar base against a known exponent of shape [3]: the result takes
  // the broadcast shape although the products only touch the base.
  OneNode node("Pow", 13);
  node.input({"x", kInt64, {}})
      .int64Initializer("e", {3}, {3, 3, 3})
      .output(kInt64, {3});
  ir::Tensor y = node.run({ints(ir::DType::I64, {}, {-4})});
  EXPECT_EQ(y.shape(), (ir::Shape{3}));
  EXPECT_EQ(intsOf(y), (std::vector<int64_t>{-64, -64, -64}));
}

TEST(OnnxPow, KnownZeroExponentGivesOnesOfTheBroadcastShape) {
  OneNode node("Pow", 13);
  node.input({"x", kInt64, {2}})
      .int64Initializer("e", {2, 1}, {0, 0})
      .output(kInt64, {2, 2});
  ir::Tensor y = node.run({ints(ir::DType::I64, {2}, {5, -7})});
  EXPECT_EQ(y.shape(), (ir::Shape{2, 2}));
  EXPECT_EQ(intsOf(y), (std::vector<int64_t>{1, 1, 1, 1}));
}

TEST(OnnxPow, KnownMixedExponentWraps) {
  // 2^63 wraps to the minimum of i64; 2^64 to 0.
  OneNode node("Pow", 13);
  node.input({"x", kInt64, {4}})
      .int64Initializer("e", {4}, {62, 63, 64, 5})
      .output(kInt64, {4});
  ir::Tensor y = node.run({ints(ir::DType::I64, {4}, {2, 2, 2, 3})});
  EXPECT_EQ(intsOf(y), (std::vector<int64_t>{
                           int64_t(1) << 62,
                           std::numeric_limits<int64_t>::min(), 0, 243}));
}

TEST(OnnxPow, IntegerBaseAndFloatExponentTruncateTheF64Power) {
  OneNode node("Pow", 15);
  node.input({"x", kInt32, {4}}).input({"e", kFloat, {4}}).output(kInt32, {4});
  ir::Tensor y = node.run({ints(ir::DType::I32, {4}, {9, 2, 2, -8}),
                           tensor(ir::DType::F32, {4}, {0.5, 0.5, 10, 1})});
  EXPECT_EQ(y.dtype(), ir::DType::I32);
  EXPECT_EQ(intsOf(y), (std::vector<int64_t>{3, 1, 1024, -8}));
}

TEST(OnnxPow, FloatBaseCastsAnIntegerExponent) {
  OneNode node("Pow", 15);
  node.input({"x", kFloat, {3}}).input({"e", kInt64, {3}}).output(kFloat, {3});
  ir::Tensor y = node.run({tensor(ir::DType::F32, {3}, {1.5, -2, 4}),
                           ints(ir::DType::I64, {3}, {2, 3, -1})});
  EXPECT_EQ(y.dtype(), ir::DType::F32);
  EXPECT_EQ(doublesOf(y), (std::vector<double>{2.25, -8, 0.25}));
}

TEST(OnnxPow, DifferentDTypesBeforeOpset12AreMalformed) {
  OneNode node("Pow", 11);
  node.input({"x", kFloat, {3}}).input({"e", kInt64, {3}}).output(kFloat, {3});
  absl::StatusOr<ImportedModel> m = node.import();
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(m.status().message().find("have dtypes f32 and i64"),
            std::string::npos)
      << m.status();
}

// ---- Clip -----------------------------------------------------------------

TEST(OnnxClip, Opset6AttributesDefaultToTheFloatRange) {
  // Only `min` is given; `max` defaults to FLT_MAX, which clips +inf.
  OneNode node("Clip", 7);
  node.input({"x", kFloat, {4}}).attr("min", 0.5f).output(kFloat, {4});
  const double inf = std::numeric_limits<double>::infinity();
  ir::Tensor y = node.run({tensor(ir::DType::F32, {4}, {-inf, 0.25, 3, inf})});
  EXPECT_EQ(doublesOf(y), (std::vector<double>{
                              0.5, 0.5, 3, std::numeric_limits<float>::max()}));
}

TEST(OnnxClip, Opset11AbsentMinLeavesTheLowSideOpen) {
  OneNode node("Clip", 13);
  node.input({"x", kFloat, {3}})
      .absentInput()
      .input({"hi", kFloat, {}})
      .output(kFloat, {3});
  const double inf = std::numeric_limits<double>::infinity();
  ir::Tensor y = node.run({tensor(ir::DType::F32, {3}, {-inf, 1, 7}),
                           tensor(ir::DType::F32, {}, {2})});
  EXPECT_EQ(doublesOf(y), (std::vector<double>{-inf, 1, 2}));
}

TEST(OnnxClip, IntegerBoundsInTheWrongOrderGiveTheMaximum) {
  // NumPy's clip: min(max(x, lo), hi), so lo > hi gives hi everywhere.
  OneNode node("Clip", 12);
  node.input({"x", kInt8, {3}})
      .input({"lo", kInt8, {}})
      .input({"hi", kInt8, {}})
      .output(kInt8, {3});
  ir::Tensor y =
      node.run({ints(ir::DType::I8, {3}, {-100, 0, 100}),
                ints(ir::DType::I8, {}, {5}), ints(ir::DType::I8, {}, {-5})});
  EXPECT_EQ(intsOf(y), (std::vector<int64_t>{-5, -5, -5}));
}

TEST(OnnxClip, OneElementBoundKeepsTheRankOfAScalar) {
  OneNode node("Clip", 13);
  node.input({"x", kFloat, {}}).input({"lo", kFloat, {1}}).output(kFloat, {});
  ir::Tensor y = node.run(
      {tensor(ir::DType::F32, {}, {-3}), tensor(ir::DType::F32, {1}, {-1})});
  EXPECT_EQ(y.shape(), ir::Shape{});
  EXPECT_EQ(doublesOf(y), (std::vector<double>{-1}));
}

TEST(OnnxClip, BoundOfAnotherDTypeIsMalformed) {
  OneNode node("Clip", 13);
  node.input({"x", kFloat, {2}}).input({"lo", kInt64, {}}).output(kFloat, {2});
  absl::StatusOr<ImportedModel> m = node.import();
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
}

// ---- Cast -----------------------------------------------------------------

TEST(OnnxCast, TypeTheIRLacksIsUnsupportedByName) {
  OneNode node("Cast", 13);
  node.input({"x", kFloat, {2}})
      .attr("to", int64_t{TensorProto::UINT8})
      .output(TensorProto::UINT8, {2});
  absl::StatusOr<ImportedModel> m = node.import();
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(m.status().message().find("dtype uint8"), std::string::npos)
      << m.status();
}

TEST(OnnxCast, FloatToIntTruncatesAndToBoolTestsNonZero) {
  OneNode toInt("Cast", 13);
  toInt.input({"x", kFloat, {3}})
      .attr("to", int64_t{kInt32})
      .output(kInt32, {3});
  EXPECT_EQ(intsOf(toInt.run({tensor(ir::DType::F32, {3}, {2.9, -2.9, 0})})),
            (std::vector<int64_t>{2, -2, 0}));
  OneNode toBool("Cast", 9);
  toBool.input({"x", kFloat, {3}})
      .attr("to", int64_t{kBool})
      .output(kBool, {3});
  EXPECT_EQ(intsOf(toBool.run({tensor(ir::DType::F32, {3}, {0.5, 0, -1})})),
            (std::vector<int64_t>{1, 0, 1}));
}

TEST(OnnxCastLike, TakesTheDTypeOfItsSecondInput) {
  OneNode node("CastLike", 15);
  node.input({"x", kInt64, {2}})
      .input({"like", kFloat, {}})
      .output(kFloat, {2});
  ir::Tensor y = node.run(
      {ints(ir::DType::I64, {2}, {3, -4}), tensor(ir::DType::F32, {}, {0})});
  EXPECT_EQ(y.dtype(), ir::DType::F32);
  EXPECT_EQ(doublesOf(y), (std::vector<double>{3, -4}));
}

// ---- Variadic -------------------------------------------------------------

TEST(OnnxVariadic, SumAndMeanBroadcastThreeInputs) {
  for (const char *op : {"Sum", "Mean"}) {
    OneNode node(op, 13);
    node.input({"a", kFloat, {2, 1}})
        .input({"b", kFloat, {3}})
        .input({"c", kFloat, {}})
        .output(kFloat, {2, 3});
    ir::Tensor y = node.run({tensor(ir::DType::F32, {2, 1}, {0, 30}),
                             tensor(ir::DType::F32, {3}, {1, 2, 3}),
                             tensor(ir::DType::F32, {}, {5})});
    std::vector<double> sum = {6, 7, 8, 36, 37, 38};
    if (std::string(op) == "Mean")
      for (double &v : sum)
        v = static_cast<float>(v / 3); // one f32 rounding of the quotient
    EXPECT_EQ(y.shape(), (ir::Shape{2, 3})) << op;
    EXPECT_EQ(doublesOf(y), sum) << op;
  }
}

TEST(OnnxVariadic, MaxOfOneInputIsThatInput) {
  OneNode node("Max", 13);
  node.input({"a", kInt32, {2}}).output(kInt32, {2});
  EXPECT_EQ(intsOf(node.run({ints(ir::DType::I32, {2}, {4, -9})})),
            (std::vector<int64_t>{4, -9}));
}

TEST(OnnxVariadic, MinPropagatesNaN) {
  OneNode node("Min", 13);
  node.input({"a", kFloat, {2}}).input({"b", kFloat, {2}}).output(kFloat, {2});
  const double nan = std::numeric_limits<double>::quiet_NaN();
  ir::Tensor y = node.run({tensor(ir::DType::F32, {2}, {nan, 1}),
                           tensor(ir::DType::F32, {2}, {0, nan})});
  EXPECT_TRUE(std::isnan(y.getDouble(0)));
  EXPECT_TRUE(std::isnan(y.getDouble(1)));
}

TEST(OnnxVariadic, InputsOfDifferentDTypesAreMalformed) {
  OneNode node("Sum", 13);
  node.input({"a", kFloat, {2}}).input({"b", kInt32, {2}}).output(kFloat, {2});
  absl::StatusOr<ImportedModel> m = node.import();
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(m.status().message().find("inputs 0 and 1 have dtypes f32 and i32"),
            std::string::npos)
      << m.status();
}

// ---- Activations and selections -----------------------------------------

TEST(OnnxShrink, IntegerInputComparesWithTheRoundedThreshold) {
  // lambd 1.5 on integers: x < -1.5 means x <= -2, x > 1.5 means x >= 2.
  OneNode node("Shrink", 9);
  node.input({"x", kInt32, {5}})
      .attr("lambd", 1.5f)
      .attr("bias", 1.0f)
      .output(kInt32, {5});
  ir::Tensor y = node.run({ints(ir::DType::I32, {5}, {-3, -2, -1, 1, 2})});
  EXPECT_EQ(intsOf(y), (std::vector<int64_t>{-2, -1, 0, 0, 1}));
}

TEST(OnnxShrink, FractionalBiasOnIntegersIsUnsupported) {
  OneNode node("Shrink", 9);
  node.input({"x", kInt32, {2}}).attr("bias", 0.5f).output(kInt32, {2});
  absl::StatusOr<ImportedModel> m = node.import();
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kUnimplemented);
}

TEST(OnnxThresholdedRelu, NaNStaysNaNAndTheThresholdItselfGivesZero) {
  OneNode node("ThresholdedRelu", 10);
  node.input({"x", kFloat, {4}}).attr("alpha", 2.0f).output(kFloat, {4});
  const double nan = std::numeric_limits<double>::quiet_NaN();
  ir::Tensor y = node.run({tensor(ir::DType::F32, {4}, {nan, 2, 2.5, -3})});
  EXPECT_TRUE(std::isnan(y.getDouble(0)));
  EXPECT_EQ(y.getDouble(1), 0);
  EXPECT_EQ(y.getDouble(2), 2.5);
  EXPECT_EQ(y.getDouble(3), 0);
}

TEST(OnnxHardSwish, IsXTimesTheClippedLine) {
  OneNode node("HardSwish", 14);
  node.input({"x", kFloat, {4}}).output(kFloat, {4});
  ir::Tensor y = node.run({tensor(ir::DType::F32, {4}, {-4, 0, 1.5, 4})});
  // x * clip(x / 6 + 0.5, 0, 1): 0, 0, 1.5 * 0.75, 4.
  EXPECT_EQ(y.getDouble(0), 0);
  EXPECT_EQ(y.getDouble(1), 0);
  EXPECT_NEAR(y.getDouble(2), 1.125, 1e-6);
  EXPECT_EQ(y.getDouble(3), 4);
}

TEST(OnnxCelu, MatchesTheDefinitionOnBothSides) {
  OneNode node("Celu", 12);
  node.input({"x", kFloat, {2}}).attr("alpha", 2.0f).output(kFloat, {2});
  ir::Tensor y = node.run({tensor(ir::DType::F32, {2}, {-2, 3})});
  EXPECT_NEAR(y.getDouble(0), 2 * (std::exp(-1.0) - 1), 1e-6);
  EXPECT_EQ(y.getDouble(1), 3);
}

TEST(OnnxWhere, ConditionMustBeBool) {
  OneNode node("Where", 16);
  node.input({"c", kInt32, {2}})
      .input({"a", kFloat, {2}})
      .input({"b", kFloat, {2}})
      .output(kFloat, {2});
  absl::StatusOr<ImportedModel> m = node.import();
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("condition has dtype i32"),
            std::string::npos)
      << m.status();
}

TEST(OnnxWhere, BroadcastsAllThree) {
  OneNode node("Where", 9);
  node.input({"c", kBool, {2, 1}})
      .input({"a", kInt64, {2}})
      .input({"b", kInt64, {}})
      .output(kInt64, {2, 2});
  ir::Tensor y = node.run({ints(ir::DType::Bool, {2, 1}, {1, 0}),
                           ints(ir::DType::I64, {2}, {1, 2}),
                           ints(ir::DType::I64, {}, {-1})});
  EXPECT_EQ(intsOf(y), (std::vector<int64_t>{1, 2, -1, -1}));
}

// ---- Mod, IsInf ----------------------------------------------------------

TEST(OnnxMod, FmodChoosesTheSignOfTheRemainder) {
  for (int64_t fmod : {0, 1}) {
    OneNode node("Mod", 13);
    node.input({"a", kInt32, {4}})
        .input({"b", kInt32, {4}})
        .attr("fmod", fmod)
        .output(kInt32, {4});
    ir::Tensor y = node.run({ints(ir::DType::I32, {4}, {7, -7, 7, -7}),
                             ints(ir::DType::I32, {4}, {3, 3, -3, -3})});
    std::vector<int64_t> want = fmod ? std::vector<int64_t>{1, -1, 1, -1}
                                     : std::vector<int64_t>{1, 2, -2, -1};
    EXPECT_EQ(intsOf(y), want) << "fmod " << fmod;
  }
}

TEST(OnnxIsInf, DetectsOnlyTheRequestedSign) {
  OneNode node("IsInf", 10);
  node.input({"x", kFloat, {4}})
      .attr("detect_negative", int64_t{0})
      .output(kBool, {4});
  const double inf = std::numeric_limits<double>::infinity();
  ir::Tensor y = node.run({tensor(ir::DType::F32, {4}, {inf, -inf, 0, NAN})});
  EXPECT_EQ(intsOf(y), (std::vector<int64_t>{1, 0, 0, 0}));
}

} // namespace
} // namespace nyx::onnx_import
