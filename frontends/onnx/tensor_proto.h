// ONNX TensorProto <-> ir::Tensor: element types, raw and typed payloads,
// external data files.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "ir/tensor.h"

namespace onnx {
class TensorProto;
}

namespace nyx::onnx_import {

// The IR dtype of ONNX element type `elemType` (TensorProto::DataType), or
// an error naming the ONNX type ("uint16") when the IR has no such dtype.
absl::StatusOr<ir::DType> dtypeFromOnnx(int32_t elemType);
// The ONNX name of an element type: "float", "uint16", ...
std::string onnxTypeName(int32_t elemType);

// The tensor's value. External data is read relative to `baseDir`. Errors
// say what is wrong with the payload (size does not match the shape, file
// missing or too short).
absl::StatusOr<ir::Tensor> tensorFromProto(const onnx::TensorProto &proto,
                                           const std::string &baseDir);

// A serialized TensorProto file (the backend tests' input_N.pb).
absl::StatusOr<ir::Tensor> readTensorFile(const std::string &path);

} // namespace nyx::onnx_import
