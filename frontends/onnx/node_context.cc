#include "frontends/onnx/node_context.h"

#include <algorithm>
#include <cctype>

#include "frontends/onnx/graph_state.h"
#include "frontends/onnx/tensor_proto.h"
#include "ir/strings.h"
#include "onnx/onnx_pb.h"

namespace nyx::onnx_import {

using onnx::AttributeProto;

NodeContext::NodeContext(GraphState &graph, const onnx::NodeProto &node,
                         int64_t opset)
    : graph_(graph), node_(node), opset_(opset) {}

int NodeContext::numInputs() const { return node_.input_size(); }

bool NodeContext::hasInput(int i) const {
  return i >= 0 && i < node_.input_size() && !node_.input(i).empty();
}

int NodeContext::numOutputs() const { return node_.output_size(); }

bool NodeContext::hasOutput(int i) const {
  return i >= 0 && i < node_.output_size() && !node_.output(i).empty();
}

ir::Value *NodeContext::input(int i) {
  if (!status_.ok())
    return nullptr;
  if (!hasInput(i)) {
    fail(strCat("input ", i, " is missing; expected it to be given"));
    return nullptr;
  }
  ir::Value *v = graph_.valueOf(node_.input(i));
  if (!v)
    fail(strCat("input '", node_.input(i),
                "' is not defined before this node (by a graph input, an "
                "initializer or an earlier node)"));
  return v;
}

const ir::TensorType *NodeContext::inputType(int i) {
  if (!status_.ok())
    return nullptr;
  if (hasInput(i))
    if (const GraphState::Entry *e = graph_.find(node_.input(i)))
      return e->value ? &e->value->type : &e->constant->type();
  ir::Value *v = input(i); // reports the error
  return v ? &v->type : nullptr;
}

const ir::Tensor *NodeContext::constantInput(int i) {
  if (!status_.ok() || !hasInput(i))
    return nullptr;
  const GraphState::Entry *e = graph_.find(node_.input(i));
  return e ? e->constant.get() : nullptr;
}

const ir::Tensor *NodeContext::requireConstant(int i, std::string_view what) {
  if (!status_.ok())
    return nullptr;
  if (const ir::Tensor *t = constantInput(i))
    return t;
  if (!hasInput(i))
    fail(strCat("input ", i, " (", what, ") is missing"));
  else
    unsupported(strCat("input '", node_.input(i), "' (", what,
                       ") computed at run time; it must be known when the "
                       "model is compiled"));
  return nullptr;
}

std::optional<std::vector<int64_t>>
NodeContext::constantInts(int i, std::string_view what) {
  const ir::Tensor *t = requireConstant(i, what);
  if (!t)
    return std::nullopt;
  if (!ir::isInteger(t->dtype())) {
    fail(strCat("input ", i, " (", what, ") is ", t->type().str(),
                "; expected an integer tensor"));
    return std::nullopt;
  }
  std::vector<int64_t> values;
  for (int64_t k = 0; k < t->numElements(); ++k)
    values.push_back(t->getInt(k));
  return values;
}

namespace {

const AttributeProto *findAttr(const onnx::NodeProto &node,
                               std::string_view name) {
  for (const AttributeProto &a : node.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

std::string_view kindName(int type) {
  switch (type) {
  case AttributeProto::INT:
    return "an int";
  case AttributeProto::FLOAT:
    return "a float";
  case AttributeProto::STRING:
    return "a string";
  case AttributeProto::INTS:
    return "a list of ints";
  case AttributeProto::FLOATS:
    return "a list of floats";
  case AttributeProto::TENSOR:
    return "a tensor";
  default:
    return "another kind";
  }
}

} // namespace

bool NodeContext::hasAttr(std::string_view name) const {
  return findAttr(node_, name) != nullptr;
}

#define NYX_ATTR_OR_DEFAULT(kind)                                              \
  const AttributeProto *a = findAttr(node_, name);                             \
  if (!a || !status_.ok())                                                     \
    return dflt;                                                               \
  if (a->type() != AttributeProto::kind) {                                     \
    fail(strCat("attribute '", name, "' is ", kindName(a->type()),             \
                "; expected ", kindName(AttributeProto::kind)));               \
    return dflt;                                                               \
  }

int64_t NodeContext::attrInt(std::string_view name, int64_t dflt) {
  NYX_ATTR_OR_DEFAULT(INT)
  return a->i();
}

double NodeContext::attrFloat(std::string_view name, double dflt) {
  NYX_ATTR_OR_DEFAULT(FLOAT)
  return a->f();
}

std::string NodeContext::attrString(std::string_view name, std::string dflt) {
  NYX_ATTR_OR_DEFAULT(STRING)
  return a->s();
}

std::vector<int64_t> NodeContext::attrInts(std::string_view name,
                                           std::vector<int64_t> dflt) {
  NYX_ATTR_OR_DEFAULT(INTS)
  return {a->ints().begin(), a->ints().end()};
}

std::vector<double> NodeContext::attrFloats(std::string_view name,
                                            std::vector<double> dflt) {
  NYX_ATTR_OR_DEFAULT(FLOATS)
  return {a->floats().begin(), a->floats().end()};
}

#undef NYX_ATTR_OR_DEFAULT

std::optional<ir::Tensor> NodeContext::attrTensor(std::string_view name) {
  if (!status_.ok())
    return std::nullopt;
  const AttributeProto *a = findAttr(node_, name);
  if (!a) {
    fail(strCat("attribute '", name, "' is missing; expected a tensor"));
    return std::nullopt;
  }
  if (a->type() != AttributeProto::TENSOR) {
    fail(strCat("attribute '", name, "' is ", kindName(a->type()),
                "; expected a tensor"));
    return std::nullopt;
  }
  auto t = tensorFromProto(a->t(), graph_.baseDir());
  if (!t.ok()) {
    status_ = t.status();
    return std::nullopt;
  }
  return std::move(*t);
}

std::optional<std::vector<int64_t>>
NodeContext::requireInts(std::string_view name) {
  if (!status_.ok())
    return std::nullopt;
  if (!hasAttr(name)) {
    fail(strCat("attribute '", name, "' is missing; expected a list of ints"));
    return std::nullopt;
  }
  std::vector<int64_t> v = attrInts(name, {});
  if (!status_.ok())
    return std::nullopt;
  return v;
}

ir::Value *NodeContext::op(std::string_view opName,
                           std::vector<ir::Value *> operands,
                           const ir::Attrs &attrs) {
  if (!status_.ok())
    return nullptr;
  ir::Builder &b = graph_.builder();
  ir::Value *v = b.op(opName, std::move(operands), attrs);
  if (!v && status_.ok())
    status_ = b.status();
  return v;
}

ir::Value *NodeContext::constant(ir::Tensor value) {
  if (!status_.ok())
    return nullptr;
  ir::Value *v = graph_.builder().constant(std::move(value));
  if (!v)
    status_ = graph_.builder().status();
  return v;
}

ir::Value *NodeContext::scalarLike(double v, const ir::Value *like) {
  if (!like || !status_.ok())
    return nullptr;
  ir::Tensor t(ir::TensorType{like->type.dtype, {}});
  t.setDouble(0, v);
  return constant(std::move(t));
}

ir::Value *NodeContext::int64s(const std::vector<int64_t> &values) {
  ir::Tensor t(
      ir::TensorType{ir::DType::I64, {static_cast<int64_t>(values.size())}});
  for (size_t i = 0; i < values.size(); ++i)
    t.setInt(static_cast<int64_t>(i), values[i]);
  return constant(std::move(t));
}

void NodeContext::setOutput(int i, ir::Value *value) {
  if (!status_.ok() || !hasOutput(i))
    return;
  if (!value) {
    fail(strCat("output ", i, " has no value"));
    return;
  }
  // Values the builder named (%12) take the ONNX name; a value that already
  // has a name (a graph input passed through) keeps it.
  if (std::all_of(value->name.begin(), value->name.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
      }))
    graph_.builder().rename(value, node_.output(i));
  graph_.defineValue(node_.output(i), value);
}

void NodeContext::setConstantOutput(int i, ir::Tensor value) {
  if (status_.ok() && hasOutput(i))
    graph_.defineConstant(node_.output(i), std::move(value));
}

const absl::Status &NodeContext::fail(std::string message) {
  if (status_.ok())
    status_ = absl::InvalidArgumentError(std::move(message));
  return status_;
}

const absl::Status &NodeContext::unsupported(std::string what) {
  if (status_.ok())
    status_ = absl::UnimplementedError(
        strCat(node_.op_type(), " is not supported with ", what));
  return status_;
}

int64_t NodeContext::axis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank) {
    fail(strCat("axis ", axis, " is out of range for rank ", rank,
                "; expected it in [", -rank, ", ", rank - 1, "]"));
    return 0;
  }
  return axis < 0 ? axis + rank : axis;
}

} // namespace nyx::onnx_import
