// The CUDA toolkit's command-line tools, when installed: ptxas turns PTX
// into a cubin (and so also checks it), cuobjdump prints a cubin's SASS.
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace nyx::codegen::cuda {

// The path of a toolkit tool (bin/<name> under cudaToolkitPath()), or
// nullopt when it is not there.
std::optional<std::string> findCudaTool(const std::string &name);

// The cubin ptxas makes of `ptx` for `arch` ("sm_90a"). ptxas's own
// messages are in the error when it rejects the PTX.
absl::StatusOr<std::string> assembleCubin(const std::string &ptx,
                                          const std::string &arch);

// The SASS of `cubin`, from cuobjdump -sass.
absl::StatusOr<std::string> disassembleCubin(const std::string &cubin);

} // namespace nyx::codegen::cuda
