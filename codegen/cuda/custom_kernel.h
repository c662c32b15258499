// custom_cuda ops: the user's CUDA C++ compiled to PTX by NVRTC when the
// model is compiled (libnvrtc, opened with dlopen from the CUDA toolkit).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "codegen/cuda/target.h"
#include "ir/module.h"

namespace nyx::codegen::cuda {

struct CustomKernel {
  std::string kernel; // the extern "C" __global__ function
  int64_t grid = 1, block = 1;
  std::string ptx;
};

// Compiles the op's `source` for `target` with NVRTC (-I<toolkit>/include,
// C++17). Errors carry NVRTC's log.
absl::StatusOr<CustomKernel> compileCustomKernel(const ir::Op &op,
                                                 const CudaTarget &target);

} // namespace nyx::codegen::cuda
