#include "tests/conformance/case_files.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "frontends/onnx/tensor_proto.h"
#include "ir/strings.h"
#include "nlohmann/json.hpp"

namespace nyx::conformance {

namespace {

namespace fs = std::filesystem;

absl::Status readModel(const std::string &path, onnx::ModelProto &model) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::NotFoundError(strCat(path, ": cannot read the file"));
  if (!model.ParseFromIstream(&in))
    return absl::InvalidArgumentError(
        strCat(path, ": not a serialized ModelProto"));
  return absl::OkStatus();
}

// The tolerances of a `real` case's data.json; the runner's defaults for
// the other suites, which have none.
Tolerance toleranceOf(const std::string &caseDir) {
  Tolerance tol;
  std::ifstream in(fs::path(caseDir) / "data.json");
  if (!in)
    return tol;
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_object()) {
    if (j.contains("rtol") && j["rtol"].is_number())
      tol.rtol = j["rtol"].get<double>();
    if (j.contains("atol") && j["atol"].is_number())
      tol.atol = j["atol"].get<double>();
  }
  return tol;
}

absl::StatusOr<onnx::TensorProto> readTensorProto(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  onnx::TensorProto proto;
  if (!in || !proto.ParseFromIstream(&in))
    return absl::InvalidArgumentError(
        strCat(path, ": not a serialized TensorProto"));
  return proto;
}

int32_t elemTypeOf(const onnx::ValueInfoProto &info) {
  return info.type().has_tensor_type() ? info.type().tensor_type().elem_type()
                                       : 0;
}

std::optional<ir::Shape> declaredShape(const onnx::ValueInfoProto &info) {
  if (!info.type().has_tensor_type() || !info.type().tensor_type().has_shape())
    return std::nullopt;
  ir::Shape shape;
  for (const auto &dim : info.type().tensor_type().shape().dim())
    shape.push_back(dim.has_dim_value() ? dim.dim_value() : -1);
  return shape;
}

} // namespace

std::string modelPathOf(const TestCase &testCase) {
  return (fs::path(testCase.dir) / "model.onnx").string();
}

absl::Status readCaseFiles(const TestCase &testCase, CaseFiles &files) {
  files.modelPath = modelPathOf(testCase);
  if (absl::Status s = readModel(files.modelPath, files.model); !s.ok())
    return s;
  const onnx::GraphProto &graph = files.model.graph();
  std::set<std::string> initializers;
  for (const onnx::TensorProto &init : graph.initializer())
    initializers.insert(init.name());
  for (const onnx::ValueInfoProto &info : graph.input()) {
    if (initializers.count(info.name()))
      continue;
    files.inputNames.push_back(info.name());
    files.inputElemTypes.push_back(elemTypeOf(info));
    files.inputShapes.push_back(declaredShape(info));
  }
  for (const onnx::ValueInfoProto &info : graph.output()) {
    files.outputNames.push_back(info.name());
    files.outputElemTypes.push_back(elemTypeOf(info));
  }
  files.tolerance = toleranceOf(testCase.dir);
  files.dataSets = findDataSets(testCase.dir);
  return absl::OkStatus();
}

std::vector<std::string> opTypesOf(const onnx::GraphProto &graph) {
  std::set<std::string> ops;
  for (const onnx::NodeProto &node : graph.node()) {
    bool standard = node.domain().empty() || node.domain() == "ai.onnx";
    ops.insert(standard ? node.op_type()
                        : strCat(node.domain(), ":", node.op_type()));
  }
  return {ops.begin(), ops.end()};
}

onnx_import::ImportOptions importOptionsFor(const CaseFiles &files) {
  onnx_import::ImportOptions options;
  options.moduleName = "conformance";
  if (files.dataSets.empty())
    return options;
  const DataSet &first = files.dataSets.front();
  for (size_t k = 0; k < files.inputNames.size(); ++k) {
    const std::optional<ir::Shape> &declared = files.inputShapes[k];
    bool dynamic =
        !declared || std::count(declared->begin(), declared->end(), -1) > 0;
    // Only tensors can be bound; the importer refuses the other kinds.
    if (!dynamic || files.inputElemTypes[k] == 0 || k >= first.inputs.size())
      continue;
    auto proto = readTensorProto(first.inputs[k]);
    if (proto.ok())
      options.inputShapes[files.inputNames[k]] = {proto->dims().begin(),
                                                  proto->dims().end()};
  }
  return options;
}

absl::StatusOr<std::vector<DataValues>> readData(const CaseFiles &files) {
  std::vector<DataValues> values;
  for (const DataSet &set : files.dataSets) {
    DataValues v;
    struct Side {
      const std::vector<std::string> *paths;
      const std::vector<int32_t> *declared;
      std::vector<ir::Tensor> *tensors;
    };
    for (const Side &side :
         {Side{&set.inputs, &files.inputElemTypes, &v.inputs},
          Side{&set.outputs, &files.outputElemTypes, &v.outputs}}) {
      for (size_t k = 0; k < side.paths->size(); ++k) {
        const std::string &path = (*side.paths)[k];
        auto proto = readTensorProto(path);
        if (!proto.ok())
          return proto.status();
        if (proto->data_type() == onnx::TensorProto::UINT16 &&
            k < side.declared->size() &&
            (*side.declared)[k] == onnx::TensorProto::BFLOAT16)
          proto->set_data_type(onnx::TensorProto::BFLOAT16);
        auto t = onnx_import::tensorFromProto(*proto, set.dir);
        if (!t.ok())
          return absl::Status(t.status().code(),
                              strCat(path, ": ", t.status().message()));
        side.tensors->push_back(std::move(*t));
      }
    }
    values.push_back(std::move(v));
  }
  return values;
}

} // namespace nyx::conformance
