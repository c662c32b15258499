// Named NVIDIA GPU targets (cuda-sm80, cuda-sm90, cuda-sm90a) and the LLVM
// NVPTX TargetMachine for each.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace llvm {
class TargetMachine;
} // namespace llvm

namespace nyx::codegen::cuda {

struct CudaTarget {
  std::string name;          // as the user wrote it: "cuda-sm90"
  std::string arch;          // the PTX target and ptxas -arch: "sm_90"
  std::string features;      // the PTX ISA version LLVM emits: "+ptx78"
  int computeCapability = 0; // 80, 90
};

constexpr const char *kNvptxTriple = "nvptx64-nvidia-cuda";

bool isCudaTarget(std::string_view name);
std::vector<std::string> knownCudaTargetNames();
absl::StatusOr<CudaTarget> resolveCudaTarget(std::string_view name);

absl::StatusOr<std::unique_ptr<llvm::TargetMachine>>
createCudaTargetMachine(const CudaTarget &target, int optLevel);

} // namespace nyx::codegen::cuda
