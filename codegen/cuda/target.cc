#include "codegen/cuda/target.h"

#include <mutex>

#include "ir/strings.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"

namespace nyx::codegen::cuda {
namespace {

void initializeNvptx() {
  static std::once_flag once;
  std::call_once(once, [] {
    LLVMInitializeNVPTXTargetInfo();
    LLVMInitializeNVPTXTarget();
    LLVMInitializeNVPTXTargetMC();
    LLVMInitializeNVPTXAsmPrinter();
  });
}

// The oldest PTX ISA each architecture needs (sm_90a: 8.0); CUDA 11.8's
// ptxas reads 7.8, and LLVM 19 writes up to 8.5.
const CudaTarget kTargets[] = {
    {"cuda-sm80", "sm_80", "+ptx78", 80},
    {"cuda-sm90", "sm_90", "+ptx78", 90},
    {"cuda-sm90a", "sm_90a", "+ptx80", 90},
};

} // namespace

bool isCudaTarget(std::string_view name) {
  return name.substr(0, 5) == "cuda-";
}

std::vector<std::string> knownCudaTargetNames() {
  std::vector<std::string> names;
  for (const CudaTarget &t : kTargets)
    names.push_back(t.name);
  return names;
}

absl::StatusOr<CudaTarget> resolveCudaTarget(std::string_view name) {
  for (const CudaTarget &t : kTargets)
    if (t.name == name)
      return t;
  return absl::InvalidArgumentError(
      strCat("unsupported GPU architecture in target '", name,
             "'; expected one of: ", strJoin(knownCudaTargetNames(), ", ")));
}

absl::StatusOr<std::unique_ptr<llvm::TargetMachine>>
createCudaTargetMachine(const CudaTarget &t, int optLevel) {
  initializeNvptx();
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(kNvptxTriple, error);
  if (!target)
    return absl::InternalError(
        strCat("no LLVM NVPTX backend in this LLVM build: ", error));
  llvm::CodeGenOptLevel level = optLevel <= 0
                                    ? llvm::CodeGenOptLevel::None
                                    : llvm::CodeGenOptLevel::Aggressive;
  llvm::TargetOptions options;
  std::unique_ptr<llvm::TargetMachine> tm(
      target->createTargetMachine(kNvptxTriple, t.arch, t.features, options,
                                  std::nullopt, std::nullopt, level));
  if (!tm)
    return absl::InternalError(
        strCat("LLVM could not create a target machine for '", t.name, "'"));
  return tm;
}

} // namespace nyx::codegen::cuda
