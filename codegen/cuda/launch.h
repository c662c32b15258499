// One kernel launch of a CUDA object: a loop nest mapped onto threads
// (kernel/gpu_map.h) or a tensor-core GEMM (mma_gemm.h). Its arguments are
// the buffers of the KernelCall it belongs to, in order.
#pragma once

#include <string>
#include <variant>

#include "codegen/cuda/mma_gemm.h"
#include "codegen/kernel/gpu_map.h"

namespace nyx::codegen::cuda {

struct Launch {
  std::variant<kernel::GpuLaunch, MmaGemm> code;

  const std::string &name() const {
    if (auto *nest = std::get_if<kernel::GpuLaunch>(&code))
      return nest->kernel.name;
    return std::get<MmaGemm>(code).name;
  }
  int64_t blocks() const {
    if (auto *nest = std::get_if<kernel::GpuLaunch>(&code))
      return nest->blocks();
    return std::get<MmaGemm>(code).blocks();
  }
  int64_t blockSize() const {
    if (auto *nest = std::get_if<kernel::GpuLaunch>(&code))
      return nest->blockSize;
    return MmaGemm::kThreads;
  }
};

} // namespace nyx::codegen::cuda
