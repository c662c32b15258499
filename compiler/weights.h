// Model weights at compile time: read from a safetensors file and checked
// against the parameters the module declares.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "ir/module.h"
#include "ir/op_registry.h"

namespace nyx::compiler {

// Reads every declared param of `module` from the safetensors file at
// `path`. Errors name the file and, for a mismatch, the declaration's
// location: "w.safetensors: error: tensor 'fc1.weight' is f32[10,5]; the
// model declares f32[10,4] at mlp.nyx:3:1".
absl::StatusOr<ir::WeightMap> loadWeights(const ir::Module &module,
                                          const std::string &path);

// The contents of a safetensors file holding `weights` in the order the
// module declares its params.
absl::StatusOr<std::string> serializeWeights(const ir::Module &module,
                                             const ir::WeightMap &weights);

} // namespace nyx::compiler
