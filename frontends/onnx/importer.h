// The ONNX front end: reads a ModelProto (opsets 6 to 17 of the default
// domain) into an ir::Module whose entry function is @main, and the model's
// initializers into named weights. docs/onnx.md describes the mapping.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/module.h"
#include "ir/op_registry.h"
#include "ir/tensor.h"

namespace onnx {
class ModelProto;
}

namespace nyx::onnx_import {

// The opsets of the default domain the importer understands.
inline constexpr int64_t kMinOpset = 6;
inline constexpr int64_t kMaxOpset = 17;

struct ImportOptions {
  // Binds the dimensions of graph inputs: "x" -> {1, 3, 224, 224}. An input
  // with a dynamic (named or unknown) dimension must be bound here.
  std::map<std::string, std::vector<int64_t>, std::less<>> inputShapes;
  // Graph inputs whose values are fixed when the model is compiled: they
  // become constants, not inputs of @main. Shapes are static in the IR, so
  // an input that decides a shape (Reshape's shape, Slice's starts, ...)
  // must be bound this way.
  std::map<std::string, ir::Tensor, std::less<>> inputValues;
  // The module's name; "" takes the graph's name (or "model").
  std::string moduleName;
};

struct ImportedModel {
  std::unique_ptr<ir::Module> module;
  // One tensor per declared module param (an initializer), by param name.
  ir::WeightMap weights;
};

// Reads the file at `path`. Errors are "path: error: ..." and name the node
// (op type, node name, opset) they come from.
absl::StatusOr<ImportedModel> importFile(const std::string &path,
                                         const ImportOptions &options);

// Imports a parsed model; `path` names it in errors and locates external
// tensor data (relative to its directory).
absl::StatusOr<ImportedModel> importModel(const onnx::ModelProto &model,
                                          const std::string &path,
                                          const ImportOptions &options);

// Parses "x=1x3x224x224" (the --input-shape flag) into `shapes`.
absl::Status parseInputShape(
    std::string_view text,
    std::map<std::string, std::vector<int64_t>, std::less<>> &shapes);

} // namespace nyx::onnx_import
