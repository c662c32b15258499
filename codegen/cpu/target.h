// Named CPU targets and the LLVM TargetMachine for each.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace llvm {
class TargetMachine;
} // namespace llvm

namespace nyx::codegen::cpu {

struct TargetSpec {
  std::string name;     // as the user wrote it: "host", "x86-64-avx2", ...
  std::string triple;   // "x86_64-unknown-linux-gnu"
  std::string cpu;      // LLVM CPU name: "haswell", "skylake-avx512", ...
  std::string features; // "+avx2,+fma,..." (every feature, explicitly)
  bool avx512 = false;  // 512-bit vectors are preferred
};

// The target names compileModel accepts, in the order errors list them.
std::vector<std::string> knownTargetNames();

absl::StatusOr<TargetSpec> resolveTarget(std::string_view name);

// optLevel is 0..3 like clang's -O.
absl::StatusOr<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const TargetSpec &spec, int optLevel);

} // namespace nyx::codegen::cpu
