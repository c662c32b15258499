// Tensors in files: NumPy .npy (runtime/include/nyx/npy.h) and safetensors
// files holding any named tensors.
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "ir/tensor.h"

namespace nyx::compiler {

// Errors name the file: "x.npy: error: ...".
absl::StatusOr<ir::Tensor> readNpy(const std::string &path);
absl::Status writeNpy(const std::string &path, const ir::Tensor &t);

// Every tensor of a safetensors file, by name.
absl::StatusOr<std::map<std::string, ir::Tensor, std::less<>>>
readSafetensors(const std::string &path);

} // namespace nyx::compiler
