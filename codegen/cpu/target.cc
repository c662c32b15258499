#include "codegen/cpu/target.h"

#include <algorithm>
#include <mutex>

#include "codegen/codegen.h"
#include "codegen/cuda/target.h"
#include "ir/strings.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/X86TargetParser.h"

namespace nyx::codegen::cpu {
namespace {

constexpr const char *kX86Triple = "x86_64-unknown-linux-gnu";

void initializeX86() {
  static std::once_flag once;
  std::call_once(once, [] {
    LLVMInitializeX86TargetInfo();
    LLVMInitializeX86Target();
    LLVMInitializeX86TargetMC();
    LLVMInitializeX86AsmPrinter();
  });
}

// The features a named CPU implies, spelled out so the per-function
// "target-features" attribute says exactly what the code may use.
std::string featuresOfCpu(llvm::StringRef cpu) {
  llvm::SmallVector<llvm::StringRef, 64> features;
  llvm::X86::getFeaturesForCPU(cpu, features, /*NeedPlus=*/true);
  std::vector<std::string> names(features.begin(), features.end());
  return strJoin(names, ",");
}

std::string hostFeatures() {
  std::vector<std::string> features;
  for (const auto &entry : llvm::sys::getHostCPUFeatures())
    features.push_back((entry.second ? "+" : "-") + entry.first().str());
  std::sort(features.begin(), features.end());
  return strJoin(features, ",");
}

} // namespace

std::vector<std::string> knownTargetNames() {
  return {"host", "x86-64-avx2", "x86-64-avx512"};
}

absl::StatusOr<TargetSpec> resolveTarget(std::string_view name) {
  TargetSpec spec;
  spec.name = std::string(name);
  spec.triple = kX86Triple;
  if (name == "host") {
    spec.triple = llvm::sys::getProcessTriple();
    spec.cpu = llvm::sys::getHostCPUName().str();
    spec.features = hostFeatures();
    spec.avx512 = spec.features.find("+avx512f") != std::string::npos;
  } else if (name == "x86-64-avx2") {
    spec.cpu = "haswell";
    spec.features = featuresOfCpu(spec.cpu);
  } else if (name == "x86-64-avx512") {
    spec.cpu = "skylake-avx512";
    spec.features = featuresOfCpu(spec.cpu);
    spec.avx512 = true;
  } else {
    return absl::InvalidArgumentError(
        strCat("unknown target '", name,
               "'; expected one of: ", strJoin(knownTargetNames(), ", "), ", ",
               strJoin(cuda::knownCudaTargetNames(), ", ")));
  }
  return spec;
}

absl::StatusOr<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const TargetSpec &spec, int optLevel) {
  initializeX86();
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(spec.triple, error);
  if (!target)
    return absl::InternalError(
        strCat("no LLVM backend for triple '", spec.triple, "': ", error));
  llvm::CodeGenOptLevel level = optLevel <= 0   ? llvm::CodeGenOptLevel::None
                                : optLevel == 1 ? llvm::CodeGenOptLevel::Less
                                : optLevel == 2
                                    ? llvm::CodeGenOptLevel::Default
                                    : llvm::CodeGenOptLevel::Aggressive;
  llvm::TargetOptions options;
  std::unique_ptr<llvm::TargetMachine> tm(
      target->createTargetMachine(spec.triple, spec.cpu, spec.features, options,
                                  llvm::Reloc::PIC_, std::nullopt, level));
  if (!tm)
    return absl::InternalError(
        strCat("LLVM could not create a target machine for '", spec.name, "'"));
  return tm;
}

} // namespace nyx::codegen::cpu

namespace nyx::codegen {

absl::Status checkTarget(std::string_view target) {
  if (cuda::isCudaTarget(target))
    return cuda::resolveCudaTarget(target).status();
  return cpu::resolveTarget(target).status();
}

} // namespace nyx::codegen
