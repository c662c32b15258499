#include "frontends/onnx/importer.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "frontends/onnx/graph_state.h"
#include "frontends/onnx/node_context.h"
#include "frontends/onnx/tensor_proto.h"
#include "ir/interpreter.h"
#include "ir/strings.h"
#include "onnx/checker.h"
#include "onnx/onnx_pb.h"

namespace nyx::onnx_import {

namespace {

using onnx::NodeProto;

absl::Status withPrefix(const absl::Status &s, std::string_view prefix) {
  return absl::Status(s.code(), strCat(prefix, s.message()));
}

// "node 'conv1' (Conv, opset 13): " — how every node error starts.
std::string describeNode(const NodeProto &node, int64_t index, int64_t opset) {
  std::string name =
      node.name().empty() ? strCat("#", index) : strCat("'", node.name(), "'");
  return strCat("node ", name, " (", node.op_type(), ", opset ", opset, "): ");
}

bool isDefaultDomain(std::string_view domain) {
  return domain.empty() || domain == "ai.onnx";
}

absl::StatusOr<int64_t> defaultOpset(const onnx::ModelProto &model) {
  for (const auto &entry : model.opset_import()) {
    if (!isDefaultDomain(entry.domain()))
      continue;
    int64_t v = entry.version();
    if (v < kMinOpset || v > kMaxOpset)
      return absl::UnimplementedError(
          strCat("the model uses opset ", v,
                 " of the default domain; expected an opset from ", kMinOpset,
                 " to ", kMaxOpset));
    return v;
  }
  std::vector<std::string> domains;
  for (const auto &entry : model.opset_import())
    domains.push_back(strCat("'", entry.domain(), "'"));
  // A model of other domains alone (training ops, ai.onnx.ml) is valid ONNX
  // that Nyx does not support; one that imports nothing is malformed.
  if (!domains.empty())
    return absl::UnimplementedError(
        strCat("the model uses only the op domains ", strJoin(domains, ", "),
               "; only the default ONNX domain is supported"));
  return absl::InvalidArgumentError(
      "the model imports no opset (opset_import is empty)");
}

// The static type of a graph input: its declared element type and shape,
// with dimensions bound by `--input-shape` where given.
absl::StatusOr<ir::TensorType> inputType(const onnx::ValueInfoProto &info,
                                         const ImportOptions &options) {
  if (!info.type().has_tensor_type())
    return absl::UnimplementedError(
        strCat("graph input '", info.name(),
               "' is not a tensor (sequences, maps and optionals are not "
               "supported)"));
  const auto &tt = info.type().tensor_type();
  auto dtype = dtypeFromOnnx(tt.elem_type());
  if (!dtype.ok())
    return withPrefix(dtype.status(),
                      strCat("graph input '", info.name(), "' has "));
  ir::TensorType type{*dtype, {}};
  auto bound = options.inputShapes.find(info.name());
  if (bound != options.inputShapes.end()) {
    if (tt.has_shape() &&
        tt.shape().dim_size() != static_cast<int>(bound->second.size()))
      return absl::InvalidArgumentError(
          strCat("--input-shape gives input '", info.name(), "' rank ",
                 bound->second.size(), "; the model declares rank ",
                 tt.shape().dim_size()));
    for (size_t i = 0; i < bound->second.size(); ++i) {
      int64_t d = bound->second[i];
      const auto *declared = tt.has_shape() ? &tt.shape().dim(i) : nullptr;
      if (declared && declared->has_dim_value() && declared->dim_value() != d)
        return absl::InvalidArgumentError(strCat(
            "--input-shape gives input '", info.name(), "' size ", d,
            " on axis ", i, "; the model declares ", declared->dim_value()));
      type.shape.push_back(d);
    }
  } else {
    if (!tt.has_shape())
      return absl::InvalidArgumentError(
          strCat("graph input '", info.name(),
                 "' has no shape; give one with --input-shape ", info.name(),
                 "=D0xD1x..."));
    for (int i = 0; i < tt.shape().dim_size(); ++i) {
      const auto &dim = tt.shape().dim(i);
      if (!dim.has_dim_value() || dim.dim_value() < 0) {
        std::string what = dim.has_dim_param()
                               ? strCat("'", dim.dim_param(), "'")
                               : std::string("unknown");
        return absl::InvalidArgumentError(
            strCat("graph input '", info.name(), "' has a dynamic dimension (",
                   what, ", axis ", i, "); bind it with --input-shape ",
                   info.name(), "=D0xD1x..."));
      }
      type.shape.push_back(dim.dim_value());
    }
  }
  if (absl::Status s = ir::checkTensorType(type); !s.ok())
    return withPrefix(s, strCat("graph input '", info.name(), "': "));
  return type;
}

// Op types whose outputs must not be computed at import time even when
// their inputs are known.
bool isRandom(std::string_view opType) {
  return opType.starts_with("Random") || opType == "Bernoulli";
}

// Runs `convert` on `node` whose inputs are all known tensors, in a module
// of its own, and records its outputs in `graph` as known tensors. Returns
// false (and records nothing) when an output would be larger than a
// constant may be: such a node is computed at run time instead.
absl::StatusOr<bool> foldNode(GraphState &graph, const NodeProto &node,
                              int64_t opset, Converter convert) {
  ir::Builder b("fold");
  GraphState scratch(b, graph.baseDir(), /*inlineAll=*/true);
  for (const std::string &name : node.input())
    if (!name.empty())
      scratch.defineConstant(name, *graph.find(name)->constant);
  NodeContext n(scratch, node, opset);
  if (absl::Status s = convert(n); !s.ok())
    return s;
  if (!n.status().ok())
    return n.status();
  std::vector<int> computed;
  std::vector<ir::Value *> values;
  for (int i = 0; i < node.output_size(); ++i) {
    if (node.output(i).empty())
      continue;
    const GraphState::Entry *e = scratch.find(node.output(i));
    if (!e)
      return absl::InternalError(strCat("the converter defined no output ", i));
    if (e->constant) {
      graph.defineConstant(node.output(i), *e->constant);
    } else {
      computed.push_back(i);
      values.push_back(e->value);
    }
  }
  for (const ir::Value *v : values)
    if (v->type.byteSize() > kMaxFoldedBytes)
      return false;
  if (values.empty())
    return true;
  b.ret(values);
  auto module = b.finish();
  if (!module.ok())
    return module.status();
  ir::Interpreter interpreter(**module, nullptr);
  auto results = interpreter.run(*(*module)->functions[0], {});
  if (!results.ok())
    return results.status();
  for (size_t k = 0; k < computed.size(); ++k)
    graph.defineConstant(node.output(computed[k]), std::move((*results)[k]));
  return true;
}

absl::Status importNode(GraphState &graph, const NodeProto &node,
                        int64_t opset) {
  if (!isDefaultDomain(node.domain()))
    return absl::UnimplementedError(
        strCat("op type '", node.op_type(), "' of domain '", node.domain(),
               "' is not supported (only the default ONNX domain is)"));
  const Converter *convert = findConverter(node.op_type());
  if (!convert)
    return absl::UnimplementedError(
        strCat("op type '", node.op_type(), "' is not supported"));
  bool known = !isRandom(node.op_type());
  bool anyInput = false;
  for (const std::string &name : node.input()) {
    if (name.empty())
      continue;
    const GraphState::Entry *e = graph.find(name);
    if (!e)
      return absl::InvalidArgumentError(
          strCat("input '", name,
                 "' is not defined before this node (by a graph input, an "
                 "initializer or an earlier node)"));
    anyInput = true;
    known &= e->constant != nullptr;
  }
  if (known && anyInput) {
    auto folded = foldNode(graph, node, opset, *convert);
    if (!folded.ok() || *folded)
      return folded.status();
  }
  NodeContext n(graph, node, opset);
  if (absl::Status s = (*convert)(n); !s.ok())
    return s;
  if (!n.status().ok())
    return n.status();
  for (int i = 0; i < node.output_size(); ++i)
    if (!node.output(i).empty() && !graph.find(node.output(i)))
      return absl::InternalError(strCat("the converter defined no output ", i));
  return absl::OkStatus();
}

// The type a graph output got must be the one the model declares (where it
// declares one): a difference means a converter or the model is wrong, and
// a program built against the model's declared shapes would misread it.
absl::Status checkDeclaredType(const onnx::ValueInfoProto &info,
                               const ir::TensorType &got) {
  if (!info.type().has_tensor_type())
    return absl::OkStatus();
  const auto &tt = info.type().tensor_type();
  bool same = true;
  if (tt.elem_type() != 0) {
    auto dtype = dtypeFromOnnx(tt.elem_type());
    same = dtype.ok() && *dtype == got.dtype;
  }
  if (tt.has_shape()) {
    same &= tt.shape().dim_size() == got.rank();
    for (int i = 0; same && i < tt.shape().dim_size(); ++i)
      if (tt.shape().dim(i).has_dim_value())
        same = tt.shape().dim(i).dim_value() == got.shape[i];
  }
  if (same)
    return absl::OkStatus();
  std::string declared = onnxTypeName(tt.elem_type());
  if (tt.has_shape()) {
    std::vector<std::string> dims;
    for (const auto &d : tt.shape().dim())
      dims.push_back(d.has_dim_value()       ? strCat(d.dim_value())
                     : d.dim_param().empty() ? "?"
                                             : d.dim_param());
    declared += strCat("[", strJoin(dims, ","), "]");
  }
  return absl::InvalidArgumentError(
      strCat("graph output '", info.name(), "' is ", got.str(),
             " after import; the model declares ", declared));
}

absl::Status checkModel(const onnx::ModelProto &model) {
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception &e) {
    // One line: the checker's messages span several.
    std::string message;
    for (char c : std::string_view(e.what())) {
      bool space = std::isspace(static_cast<unsigned char>(c));
      if (!space || (!message.empty() && message.back() != ' '))
        message += space ? ' ' : c;
    }
    while (!message.empty() && message.back() == ' ')
      message.pop_back();
    return absl::InvalidArgumentError(
        strCat("the model is not valid ONNX: ", message));
  }
  return absl::OkStatus();
}

absl::StatusOr<ImportedModel> importGraph(const onnx::ModelProto &model,
                                          const std::string &baseDir,
                                          const ImportOptions &options) {
  if (!model.has_graph())
    return absl::InvalidArgumentError("the model has no graph");
  auto opset = defaultOpset(model);
  if (!opset.ok())
    return opset.status();
  if (absl::Status s = checkModel(model); !s.ok())
    return s;
  const onnx::GraphProto &g = model.graph();
  std::string name = !options.moduleName.empty() ? options.moduleName
                     : !g.name().empty()         ? g.name()
                                                 : std::string("model");
  ir::Builder b(name);
  GraphState graph(b, baseDir, /*inlineAll=*/false);

  for (const onnx::TensorProto &init : g.initializer()) {
    auto t = tensorFromProto(init, baseDir);
    if (!t.ok())
      return withPrefix(t.status(), "initializer: ");
    graph.defineConstant(init.name(), std::move(*t));
  }
  for (const onnx::SparseTensorProto &sparse : g.sparse_initializer())
    return absl::UnimplementedError(strCat(
        "sparse initializer '", sparse.values().name(), "' is not supported"));
  std::set<std::string, std::less<>> bound;
  for (const onnx::ValueInfoProto &info : g.input()) {
    if (graph.find(info.name())) // an initializer listed as an input
      continue;
    auto type = inputType(info, options);
    if (!type.ok())
      return type.status();
    if (auto value = options.inputValues.find(info.name());
        value != options.inputValues.end()) {
      if (value->second.type() != *type)
        return absl::InvalidArgumentError(
            strCat("the value bound to graph input '", info.name(), "' is ",
                   value->second.type().str(), "; the input is ", type->str()));
      graph.defineConstant(info.name(), value->second);
      bound.insert(info.name());
      continue;
    }
    ir::Value *v = b.input(info.name(), *type);
    if (!v)
      return b.status();
    graph.defineValue(info.name(), v);
    bound.insert(info.name());
  }
  for (const auto &[input, shape] : options.inputShapes)
    if (!bound.contains(input))
      return absl::InvalidArgumentError(
          strCat("--input-shape names '", input,
                 "', which is not an input of the graph"));
  for (const auto &[input, value] : options.inputValues)
    if (!bound.contains(input))
      return absl::InvalidArgumentError(
          strCat("a value is bound to '", input,
                 "', which is not an input of the graph"));

  for (int i = 0; i < g.node_size(); ++i) {
    const NodeProto &node = g.node(i);
    if (absl::Status s = importNode(graph, node, *opset); !s.ok())
      return withPrefix(s, describeNode(node, i, *opset));
  }

  std::vector<ir::Value *> outputs;
  for (const onnx::ValueInfoProto &info : g.output()) {
    ir::Value *v = graph.valueOf(info.name());
    if (!v)
      return b.ok() ? absl::InvalidArgumentError(strCat(
                          "graph output '", info.name(),
                          "' is not computed by any node or initializer"))
                    : b.status();
    if (absl::Status s = checkDeclaredType(info, v->type); !s.ok())
      return s;
    outputs.push_back(v);
  }
  if (outputs.empty())
    return absl::InvalidArgumentError("the graph has no outputs");
  b.ret(outputs);
  auto module = b.finish();
  if (!module.ok())
    return module.status();
  return ImportedModel{std::move(*module), std::move(graph.weights())};
}

} // namespace

absl::StatusOr<ImportedModel> importModel(const onnx::ModelProto &model,
                                          const std::string &path,
                                          const ImportOptions &options) {
  std::string baseDir = std::filesystem::path(path).parent_path().string();
  auto imported = importGraph(model, baseDir, options);
  if (!imported.ok())
    return withPrefix(imported.status(), strCat(path, ": error: "));
  (*imported).module->filename = path;
  return imported;
}

absl::StatusOr<ImportedModel> importFile(const std::string &path,
                                         const ImportOptions &options) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::NotFoundError(strCat(path, ": error: cannot read the file"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string bytes = buffer.str();
  onnx::ModelProto model;
  if (!model.ParseFromString(bytes))
    return absl::InvalidArgumentError(
        strCat(path, ": error: not an ONNX model (the protobuf does not "
                     "parse as a ModelProto; is the file truncated?)"));
  if (!model.has_graph() || model.opset_import_size() == 0)
    return absl::InvalidArgumentError(strCat(
        path, ": error: not an ONNX model (it has no graph or no opset)"));
  return importModel(model, path, options);
}

absl::Status parseInputShape(
    std::string_view text,
    std::map<std::string, std::vector<int64_t>, std::less<>> &shapes) {
  size_t eq = text.rfind('=');
  auto bad = [&] {
    return absl::InvalidArgumentError(
        strCat("--input-shape '", text,
               "' is malformed; expected NAME=D0xD1x... (e.g. "
               "x=1x3x224x224, or x= for a scalar)"));
  };
  if (eq == std::string_view::npos || eq == 0)
    return bad();
  std::string name(text.substr(0, eq));
  std::vector<int64_t> dims;
  std::string_view rest = text.substr(eq + 1);
  while (!rest.empty()) {
    size_t x = rest.find('x');
    std::string_view part = rest.substr(0, x);
    if (part.empty() || part.size() > 15 ||
        part.find_first_not_of("0123456789") != std::string_view::npos)
      return bad();
    dims.push_back(std::stoll(std::string(part)));
    if (x == std::string_view::npos)
      break;
    rest = rest.substr(x + 1);
    if (rest.empty())
      return bad();
  }
  if (!shapes.emplace(name, std::move(dims)).second)
    return absl::InvalidArgumentError(
        strCat("--input-shape gives '", name, "' twice"));
  return absl::OkStatus();
}

} // namespace nyx::onnx_import
