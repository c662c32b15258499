// The CPU code generator: compiles one entry function of a graph-IR module
// (calls already inlined) into LLVM IR, an x86-64 object and a C header that
// follow the ABI in docs/abi.md.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ir/module.h"
#include "ir/op_registry.h"

namespace nyx::codegen {

struct Options {
  // C identifier prefix for symbols and macros ("mlp" -> mlp_run,
  // MLP_ARENA_BYTES).
  std::string modelName;
  // "host", "x86-64-avx2" (haswell-level features) or "x86-64-avx512"
  // (skylake-avx512 / x86-64-v4 features).
  std::string target = "host";
  int optLevel = 2; // 0..3, like clang -O
  // Weights loaded at run time by <name>_load_weights(path) instead of being
  // embedded in .rodata.
  bool externalWeights = false;
  // <name>_run calls the runtime's nyx_instrument with every value a kernel
  // computes, right after the kernel (nyx/instrument.h); off, no call is
  // emitted.
  bool instrument = false;
};

class CompiledModel {
public:
  virtual ~CompiledModel() = default;
  virtual std::string llvmIR() const = 0; // textual LLVM IR after optimization
  virtual absl::StatusOr<std::string> assembly() const = 0; // AT&T syntax
  virtual absl::StatusOr<std::string> object() const = 0;   // ELF relocatable
  virtual std::string header() const = 0;                   // the C header
  virtual std::string kernels() const = 0; // kernel::print of every loop nest
};

// OK for a known target name; otherwise an error listing the valid ones.
absl::Status checkTarget(std::string_view target);

absl::StatusOr<std::unique_ptr<CompiledModel>>
compileModel(const ir::Module &module, const ir::Function &entry,
             const ir::WeightMap &weights, const Options &options);

} // namespace nyx::codegen
