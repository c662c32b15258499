// The device half of a CUDA object: every GPU launch of a model as a PTX
// kernel, built as LLVM IR for nvptx64-nvidia-cuda and turned into PTX by
// LLVM's NVPTX backend.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "codegen/cuda/launch.h"
#include "codegen/cuda/target.h"

namespace nyx::codegen::cuda {

struct DeviceCode {
  std::string llvmIR; // after optimization
  std::string ptx;
  // The kernels' names in the PTX, in launch order.
  std::vector<std::string> kernelNames;
};

// Each launch becomes a `.entry` taking one global pointer per buffer of its
// kernel call. Math functions the f32 polynomials do not cover come from CUDA's
// libdevice (nvvm/libdevice/libdevice.10.bc under $NYX_CUDA_PATH, else
// /usr/local/cuda), linked when a kernel calls one.
absl::StatusOr<DeviceCode>
compileDeviceCode(const std::string &moduleName,
                  const std::vector<const Launch *> &launches,
                  const CudaTarget &target, int optLevel);

// The CUDA toolkit's root: $NYX_CUDA_PATH, else /usr/local/cuda.
std::string cudaToolkitPath();

} // namespace nyx::codegen::cuda
