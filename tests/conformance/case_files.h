// What a conformance case's directory holds: the parsed model.onnx, what
// its graph declares about inputs and outputs, the tolerances, and the
// tensors of its test_data_set_N directories.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "frontends/onnx/importer.h"
#include "ir/tensor.h"
#include "onnx/onnx_pb.h"
#include "tests/conformance/case_result.h"
#include "tests/conformance/compare.h"
#include "tests/conformance/discover.h"

namespace nyx::conformance {

struct CaseFiles {
  onnx::ModelProto model;
  std::string modelPath;
  // The graph inputs that are not initializers (the test data's inputs, in
  // order) and the graph outputs.
  std::vector<std::string> inputNames, outputNames;
  // Their declared element types (TensorProto::DataType; 0 when not a
  // tensor).
  std::vector<int32_t> inputElemTypes, outputElemTypes;
  // The inputs' declared shapes, -1 for a dimension that is not a number;
  // nullopt for an input declared without a shape.
  std::vector<std::optional<ir::Shape>> inputShapes;
  Tolerance tolerance;
  std::vector<DataSet> dataSets;
};

// One data set's tensors, in the order of their file numbers.
struct DataValues {
  std::vector<ir::Tensor> inputs, outputs;
};

std::string modelPathOf(const TestCase &testCase);

// Parses the case's model.onnx and fills in the rest of `files` but the
// tensors.
absl::Status readCaseFiles(const TestCase &testCase, CaseFiles &files);

// The distinct op types of the graph, sorted; "domain:Op" outside the
// default domain.
std::vector<std::string> opTypesOf(const onnx::GraphProto &graph);

// Binds the dynamic dimensions of graph inputs to the shapes of the first
// data set's inputs (the models of the backend tests are almost all
// static).
onnx_import::ImportOptions importOptionsFor(const CaseFiles &files);

// Every data set's tensors. NumPy has no bfloat16, so the backend tests
// store a bfloat16 tensor's bits as uint16; where the graph declares
// bfloat16 they are read as such.
absl::StatusOr<std::vector<DataValues>> readData(const CaseFiles &files);

} // namespace nyx::conformance
