// Importing and interpreting small ONNX models in tests: the converter
// tests build a model (tests/support/onnx_model.h), import it, run the
// reference interpreter on it and check the values.
#pragma once

#include <vector>

#include "frontends/onnx/importer.h"
#include "ir/interpreter.h"
#include "ir/tensor.h"
#include "onnx/onnx_pb.h"
#include "gtest/gtest.h"

namespace nyx::test {

// A tensor of `dtype` holding `values` (one per element, in order).
inline ir::Tensor tensor(ir::DType dtype, ir::Shape shape,
                         const std::vector<double> &values) {
  ir::Tensor t(ir::TensorType{dtype, std::move(shape)});
  EXPECT_EQ(t.numElements(), static_cast<int64_t>(values.size()));
  for (size_t i = 0; i < values.size() && i < size_t(t.numElements()); ++i)
    t.setDouble(static_cast<int64_t>(i), values[i]);
  return t;
}

// Imports `model` and runs it on `args`; empty (with a test failure) when
// either step fails.
inline std::vector<ir::Tensor>
runModel(const onnx::ModelProto &model, std::vector<ir::Tensor> args,
         const onnx_import::ImportOptions &options = {}) {
  auto imported = onnx_import::importModel(model, "test.onnx", options);
  EXPECT_TRUE(imported.ok()) << imported.status();
  if (!imported.ok())
    return {};
  auto entry = imported->module->entry();
  EXPECT_TRUE(entry.ok()) << entry.status();
  ir::Interpreter interp(*imported->module, &imported->weights);
  auto results = interp.run(**entry, std::move(args));
  EXPECT_TRUE(results.ok()) << results.status();
  if (!results.ok())
    return {};
  return std::move(*results);
}

// The one result of runModel.
inline ir::Tensor runModelOne(const onnx::ModelProto &model,
                              std::vector<ir::Tensor> args,
                              const onnx_import::ImportOptions &options = {}) {
  std::vector<ir::Tensor> results = runModel(model, std::move(args), options);
  EXPECT_EQ(results.size(), 1u);
  return results.empty() ? ir::Tensor() : std::move(results.front());
}

} // namespace nyx::test
