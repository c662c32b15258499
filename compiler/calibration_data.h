// Calibration inputs for `nyxc --calibrate=DATA` (docs/quantization.md):
// batches of a function's arguments, from a directory of .npy files or a
// safetensors file.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/module.h"
#include "ir/tensor.h"

namespace nyx::compiler {

// Each input of `fn` is given as tensors of its own type (one batch each)
// or of that type with a leading axis of batches ([n, ...]):
// - a safetensors file holds one tensor per input, named as the input;
// - a directory holds .npy files, taken in name order. With one input any
//   name will do; with several, a file's name up to its first '.' names the
//   input it belongs to (x.npy, x.1.npy, mask.1.npy).
// Every input must get the same number of batches. Errors name the file.
absl::StatusOr<std::vector<std::vector<ir::Tensor>>>
loadCalibrationData(const std::string &path, const ir::Function &fn);

} // namespace nyx::compiler
