// The CPU code generator: compiles one entry function of a graph-IR module
// (calls already inlined) into LLVM IR, an x86-64 object and a C header that
// follow the ABI in docs/abi.md.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ir/module.h"
#include "ir/op_registry.h"

namespace nyx::codegen {

struct Options {
  // C identifier prefix for symbols and macros ("mlp" -> mlp_run,
  // MLP_ARENA_BYTES).
  std::string modelName;
  // "host", "x86-64-avx2" (haswell-level features), "x86-64-avx512"
  // (skylake-avx512 / x86-64-v4 features), or an NVIDIA GPU: "cuda-sm80",
  // "cuda-sm90", "cuda-sm90a" (docs/cuda.md).
  std::string target = "host";
  int optLevel = 2; // 0..3, like clang -O
  // Weights loaded at run time by <name>_load_weights(path) instead of being
  // embedded in .rodata.
  bool externalWeights = false;
  // <name>_run calls the runtime's nyx_instrument with every value a kernel
  // computes, right after the kernel (nyx/instrument.h); off, no call is
  // emitted.
  bool instrument = false;
  // The exported entry point ("" = <modelName>_run).
  std::string runName;
  // Per output of the entry function: the input whose buffer it is written
  // over (updated in place, like a training step's parameters), or -1 for
  // an output of its own. Empty: every output has its own buffer.
  std::vector<int> outputAliases;
  // Compile for the CPU target, but with every kernel in the form the CUDA
  // target gives it: plain loop nests mapped onto GPU threads
  // (kernel/gpu_map.h), each launch's threads run one after another. What
  // the GPU computes, checked where there is no GPU.
  bool emulateGpu = false;
};

class CompiledModel {
public:
  virtual ~CompiledModel() = default;
  virtual std::string llvmIR() const = 0; // textual LLVM IR after optimization
  virtual absl::StatusOr<std::string> assembly() const = 0; // AT&T syntax
  virtual absl::StatusOr<std::string> object() const = 0;   // ELF relocatable
  virtual std::string header() const = 0;                   // the C header
  virtual std::string kernels() const = 0; // kernel::print of every loop nest
  // CUDA targets only: the PTX of the kernels, and the SASS of their cubin
  // (needs ptxas and cuobjdump). Other targets give an error.
  virtual absl::StatusOr<std::string> ptx() const;
  virtual absl::StatusOr<std::string> cudaAssembly() const;
};

// One entry point of an object: `function` of `module` compiled like a
// model, its symbols and macros prefixed by `options.modelName`.
struct EntryPoint {
  const ir::Module *module = nullptr;
  const ir::Function *function = nullptr;
  const ir::WeightMap *weights = nullptr; // embedded weights (may be empty)
  Options options;
};

// A parameter <name>_init_params fills: uniform on [lo, hi), or the
// constant lo when lo == hi.
struct ParamInit {
  std::string cName; // its parameter name in the prototype
  ir::TensorType type;
  double lo = 0, hi = 0;
  std::string name; // the module's name for it (nyxc --weights reads it)
};

// An object holding several entry points (a training object: <name>_run
// and <name>_train_step over the same parameters) and, when `params` is
// not empty, <name>_init_params. The target and optimization level are
// those of the first entry.
struct ObjectSpec {
  std::string name; // the header's name and the init function's prefix
  std::vector<EntryPoint> entries;
  std::vector<ParamInit> params;
};

// OK for a known target name; otherwise an error listing the valid ones.
absl::Status checkTarget(std::string_view target);

absl::StatusOr<std::unique_ptr<CompiledModel>>
compileModel(const ir::Module &module, const ir::Function &entry,
             const ir::WeightMap &weights, const Options &options);

absl::StatusOr<std::unique_ptr<CompiledModel>>
compileObject(const ObjectSpec &spec);

} // namespace nyx::codegen
