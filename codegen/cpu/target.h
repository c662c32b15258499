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

  // The f32 lanes of the vectors code generation uses: 16 with AVX-512, 8
  // with AVX2, 4 otherwise.
  int vectorLanes() const {
    return avx512 ? 16 : features.find("+avx2") != std::string::npos ? 8 : 4;
  }
};

// The target names compileModel accepts, in the order errors list them.
std::vector<std::string> knownTargetNames();

absl::StatusOr<TargetSpec> resolveTarget(std::string_view name);

// optLevel is 0..3 like clang's -O.
absl::StatusOr<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const TargetSpec &spec, int optLevel);

} // namespace nyx::codegen::cpu
