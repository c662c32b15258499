// The host half of a CUDA object: the embedded PTX (and cubin), the
// model's weights and constants, and the entry points that launch the
// kernels through libnyxrt (nyx/cuda.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "codegen/cuda/launch.h"
#include "codegen/emit/model_plan.h"
#include "llvm/IR/Module.h"

namespace nyx::codegen::cuda {

struct DeviceImage {
  std::string ptx;   // NUL-terminated in the object
  std::string cubin; // empty when ptxas was not found
  std::vector<std::string> kernelNames;
};

// `launches[k]` are the launches of plan.calls[k]. images[0] holds the
// generated kernels in launch order; images[1...] one custom_cuda kernel
// each, in launch order. The module gets:
//   int <run>_cuda(inputs..., outputs..., void *device_arena, nyx_stream *)
//   int <run>_cuda_packed(void **buffers, void *device_arena, nyx_stream *)
//   int <run>(inputs..., outputs..., void *arena)  (host buffers; the
//       arena is unused: device memory comes from the runtime's cache)
//   int <run>_packed(void **buffers, void *arena)
std::unique_ptr<llvm::Module>
buildHostModule(const ModelPlan &plan,
                const std::vector<std::vector<Launch>> &launches,
                const std::vector<DeviceImage> &images, llvm::LLVMContext &ctx,
                const llvm::DataLayout &layout, const std::string &triple);

} // namespace nyx::codegen::cuda
