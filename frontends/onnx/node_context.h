// What a converter sees of the ONNX node it turns into IR ops: its inputs
// as IR values (or as tensors known at import time), its attributes with the
// spec's defaults, and a builder for the ops it emits.
//
//   absl::Status convertLeakyRelu(NodeContext &n) {
//     ir::Value *x = n.input(0);
//     ir::Value *alpha = n.scalarLike(n.attrFloat("alpha", 0.01), x);
//     ir::Value *neg = n.op("mul", {x, alpha});
//     n.setOutput(0, n.op("select", {n.op("ge", {x, n.scalarLike(0, x)}),
//                                    x, neg}));
//     return n.status();
//   }
//
// Errors are sticky, as in ir::Builder: the first one is kept, later calls
// return null or a default, and the converter returns n.status() at the end.
// The importer prefixes every error with the node (op type, name, opset).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "ir/builder.h"
#include "ir/tensor.h"

namespace onnx {
class NodeProto;
class AttributeProto;
} // namespace onnx

namespace nyx::onnx_import {

class GraphState;

class NodeContext {
public:
  NodeContext(GraphState &graph, const onnx::NodeProto &node, int64_t opset);

  const onnx::NodeProto &node() const { return node_; }
  // The model's opset of the default domain.
  int64_t opset() const { return opset_; }

  // Inputs as listed by the node; an optional input may be absent (past the
  // end or named ""), which hasInput tells.
  int numInputs() const;
  bool hasInput(int i) const;
  int numOutputs() const;
  bool hasOutput(int i) const;

  // The IR value of input i. A missing required input is an error (null).
  ir::Value *input(int i);
  // The type of input i (also for inputs known only as constants).
  const ir::TensorType *inputType(int i);
  // The value of input i when it is known at import time (an initializer, a
  // Constant, or computed from those and from static shapes); null
  // otherwise, with no error.
  const ir::Tensor *constantInput(int i);
  // Like constantInput, but an input that is not known is an error that
  // says what it is for: "input 'shape' must be a constant".
  const ir::Tensor *requireConstant(int i, std::string_view what);
  // A known integer input read as int64 values (shape, axes, pads...).
  std::optional<std::vector<int64_t>> constantInts(int i,
                                                   std::string_view what);

  // Attributes. A missing attribute yields the default; one of another kind
  // is an error.
  bool hasAttr(std::string_view name) const;
  int64_t attrInt(std::string_view name, int64_t dflt);
  double attrFloat(std::string_view name, double dflt);
  std::string attrString(std::string_view name, std::string dflt);
  std::vector<int64_t> attrInts(std::string_view name,
                                std::vector<int64_t> dflt);
  std::vector<double> attrFloats(std::string_view name,
                                 std::vector<double> dflt);
  // A required attribute (a tensor, or ints) that is missing is an error.
  std::optional<ir::Tensor> attrTensor(std::string_view name);
  std::optional<std::vector<int64_t>> requireInts(std::string_view name);

  // Emits an IR op (see ir::Builder::op); null after an error.
  ir::Value *op(std::string_view opName, std::vector<ir::Value *> operands,
                const ir::Attrs &attrs = {});
  ir::Value *constant(ir::Tensor value);
  // A rank-0 constant with the dtype of `like` holding `v`.
  ir::Value *scalarLike(double v, const ir::Value *like);
  // A rank-1 i64 constant.
  ir::Value *int64s(const std::vector<int64_t> &values);

  // Output i of the node is `value`.
  void setOutput(int i, ir::Value *value);
  // Output i is known at import time (Constant, Shape, ...): later nodes
  // may read it with constantInput, and it becomes an IR value only where
  // one is used as an operand.
  void setConstantOutput(int i, ir::Tensor value);

  // Records an error (the first one wins) and returns the recorded one; a
  // caller that goes on (returning null, say) need not use it.
  const absl::Status &fail(std::string message);
  // Records "op type ... is not supported: <what>" as an Unimplemented
  // error, for a case the importer cannot express (an attribute value, a
  // dtype); the conformance harness counts these as unsupported.
  const absl::Status &unsupported(std::string what);
  const absl::Status &status() const { return status_; }

  // Normalizes axis `axis` of a rank-`rank` tensor (negative counts from
  // the end); an out-of-range axis is an error (returns 0).
  int64_t axis(int64_t axis, int64_t rank);

private:
  GraphState &graph_;
  const onnx::NodeProto &node_;
  int64_t opset_;
  absl::Status status_;
};

// Converts one node; returns n.status() (or an earlier error).
using Converter = absl::Status (*)(NodeContext &n);

// The converters of the default domain, by op type. A converter handles
// every supported opset of its op; it reads n.opset() where the op's
// definition changed.
const Converter *findConverter(std::string_view opType);
std::vector<std::string_view> supportedOpTypes();

} // namespace nyx::onnx_import
