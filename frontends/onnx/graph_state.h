// The importer's view of the ONNX values defined so far: each is an IR value,
// a tensor known at import time, or both. Shared by the importer and
// NodeContext; not part of the public API.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "ir/builder.h"
#include "ir/op_registry.h"
#include "ir/tensor.h"
#include <map>

namespace nyx::onnx_import {

// Known tensors up to this many elements become `constant` ops where they
// are used; larger ones that are not splats become named weights (module
// params), so the IR text stays readable and the weights stay in one place.
inline constexpr int64_t kMaxInlineConstantElements = 64;

// A node whose inputs are all known is evaluated at import time unless one
// of its outputs is larger than this; then it is computed at run time.
inline constexpr size_t kMaxFoldedBytes = size_t(1) << 24;

class GraphState {
public:
  struct Entry {
    ir::Value *value = nullptr;
    std::shared_ptr<const ir::Tensor> constant;
  };

  // With `inlineAll`, every known tensor becomes a `constant` op (used when
  // a node is evaluated at import time).
  GraphState(ir::Builder &builder, std::string baseDir, bool inlineAll)
      : builder_(builder), baseDir_(std::move(baseDir)), inlineAll_(inlineAll) {
  }

  ir::Builder &builder() { return builder_; }
  ir::WeightMap &weights() { return weights_; }
  // The model's folder: external tensor data is relative to it.
  const std::string &baseDir() const { return baseDir_; }

  const Entry *find(std::string_view name) const;
  void defineValue(const std::string &name, ir::Value *value);
  void defineConstant(const std::string &name, ir::Tensor value);
  // The IR value of `name`, emitting a constant or param op for a known
  // tensor on first use. Null if `name` is not defined.
  ir::Value *valueOf(const std::string &name);

private:
  ir::Builder &builder_;
  std::string baseDir_;
  bool inlineAll_;
  std::map<std::string, Entry, std::less<>> entries_;
  ir::WeightMap weights_;
};

} // namespace nyx::onnx_import
