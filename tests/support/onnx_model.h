// Small ONNX models built in C++ for importer tests: a graph of nodes over
// named values, with typed inputs, initializers and outputs.
//
//   OnnxModel m(13);
//   m.input("x", onnx::TensorProto::FLOAT, {2, 3});
//   m.node("Relu", {"x"}, {"y"});
//   m.output("y", {2, 3});
//   onnx::ModelProto proto = m.proto();
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "onnx/onnx_pb.h"

namespace nyx::test {

class OnnxModel {
public:
  explicit OnnxModel(int64_t opset) {
    model_.set_ir_version(8);
    auto *entry = model_.add_opset_import();
    entry->set_domain("");
    entry->set_version(opset);
    model_.mutable_graph()->set_name("test");
  }

  // A graph input; a dimension of -1 is dynamic (named by `dimParam`).
  void input(const std::string &name, int32_t elemType,
             const std::vector<int64_t> &shape,
             const std::string &dimParam = "N") {
    auto *info = model_.mutable_graph()->add_input();
    info->set_name(name);
    auto *tt = info->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(elemType);
    auto *s = tt->mutable_shape();
    for (int64_t d : shape) {
      if (d < 0)
        s->add_dim()->set_dim_param(dimParam);
      else
        s->add_dim()->set_dim_value(d);
    }
  }

  // A graph output; the ONNX checker wants its type and shape declared.
  void output(const std::string &name, const std::vector<int64_t> &shape,
              int32_t elemType = onnx::TensorProto::FLOAT) {
    auto *info = model_.mutable_graph()->add_output();
    info->set_name(name);
    auto *tt = info->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(elemType);
    auto *s = tt->mutable_shape();
    for (int64_t d : shape)
      s->add_dim()->set_dim_value(d);
  }

  onnx::TensorProto &floats(const std::string &name,
                            const std::vector<int64_t> &shape,
                            const std::vector<float> &values) {
    onnx::TensorProto &t = *model_.mutable_graph()->add_initializer();
    t.set_name(name);
    t.set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : shape)
      t.add_dims(d);
    for (float v : values)
      t.add_float_data(v);
    return t;
  }

  onnx::TensorProto &int64s(const std::string &name,
                            const std::vector<int64_t> &values) {
    onnx::TensorProto &t = *model_.mutable_graph()->add_initializer();
    t.set_name(name);
    t.set_data_type(onnx::TensorProto::INT64);
    t.add_dims(static_cast<int64_t>(values.size()));
    for (int64_t v : values)
      t.add_int64_data(v);
    return t;
  }

  onnx::NodeProto &node(const std::string &opType,
                        const std::vector<std::string> &inputs,
                        const std::vector<std::string> &outputs,
                        const std::string &name = "") {
    onnx::NodeProto &n = *model_.mutable_graph()->add_node();
    n.set_op_type(opType);
    n.set_name(name);
    for (const std::string &i : inputs)
      n.add_input(i);
    for (const std::string &o : outputs)
      n.add_output(o);
    return n;
  }

  static void intAttr(onnx::NodeProto &n, const std::string &name, int64_t v) {
    auto *a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }

  static void intsAttr(onnx::NodeProto &n, const std::string &name,
                       const std::vector<int64_t> &v) {
    auto *a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v)
      a->add_ints(x);
  }

  static void floatAttr(onnx::NodeProto &n, const std::string &name, float v) {
    auto *a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }

  static void stringAttr(onnx::NodeProto &n, const std::string &name,
                         const std::string &v) {
    auto *a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(v);
  }

  static void floatsAttr(onnx::NodeProto &n, const std::string &name,
                         const std::vector<float> &v) {
    auto *a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOATS);
    for (float f : v)
      a->add_floats(f);
  }

  onnx::ModelProto &proto() { return model_; }

private:
  onnx::ModelProto model_;
};

} // namespace nyx::test
