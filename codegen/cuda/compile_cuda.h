// compileObject for the CUDA targets.
#pragma once

#include "codegen/codegen.h"

namespace nyx::codegen::cuda {

absl::StatusOr<std::unique_ptr<CompiledModel>>
compileCudaObject(const ObjectSpec &spec);

} // namespace nyx::codegen::cuda
