// What a compiled model consists of, independent of LLVM: its inputs and
// outputs with their C names, the weights and constants it embeds, where
// every value lives, and the kernels to call in order.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "codegen/codegen.h"
#include "codegen/kernel/loop_ir.h"
#include "ir/module.h"
#include "ir/op_registry.h"
#include "ir/tensor.h"

namespace nyx::codegen {

struct TensorInfo {
  std::string irName;    // the value's name without '%'
  std::string macroName; // "X" in MLP_INPUT_X_SHAPE
  std::string paramName; // the C parameter name in the prototypes
  ir::TensorType type;
  // Inputs: the run writes an output over this buffer (it is not const).
  bool updated = false;
  // Outputs: the input whose buffer holds this output (-1: its own
  // argument).
  int inputAlias = -1;
};

struct WeightSlot {
  std::string name; // the module param's name
  ir::TensorType type;
  uint64_t offset = 0;              // in the weights blob
  const ir::Tensor *data = nullptr; // embedded mode only
};

// Where a value's elements are during a run.
struct Location {
  enum class Kind { Input, Output, Weight, Constant, Arena };
  Kind kind = Kind::Arena;
  int64_t index = 0;   // Input/Output position, Constant index
  uint64_t offset = 0; // Weight/Arena byte offset
};

struct KernelCall {
  kernel::Kernel kernel;
  std::vector<const ir::Value *> buffers; // operands then results
  const ir::Op *op = nullptr; // the op (or fusion) the kernel computes
};

// An output whose value is not written in place (a param, constant, input,
// or a value already written to an earlier output).
struct OutputCopy {
  int output = 0;
  const ir::Value *source = nullptr;
};

struct ModelPlan {
  std::string name;    // the C prefix of macros and symbols
  std::string runName; // the exported entry point (<name>_run)
  bool externalWeights = false;
  std::vector<TensorInfo> inputs, outputs;
  std::vector<WeightSlot> weights;
  uint64_t weightsBytes = 0;
  std::vector<std::shared_ptr<const ir::Tensor>> constants;
  uint64_t arenaBytes = 0;
  std::map<const ir::Value *, Location> locations;
  std::vector<KernelCall> calls;
  std::vector<OutputCopy> copies;
};

// The entry point's arguments before the arena: every input, then each
// output that is not written over an input. Per output, its argument's
// position (an aliased output's is its input's).
size_t runArgumentCount(const ModelPlan &plan);
std::vector<int> outputArguments(const ModelPlan &plan);

// Lowers every op of `entry` and lays out weights and the arena. Errors name
// the op (with its location) that has no lowering or cannot be compiled.
absl::StatusOr<ModelPlan> planModel(const ir::Module &module,
                                    const ir::Function &entry,
                                    const ir::WeightMap &weights,
                                    const Options &options);

} // namespace nyx::codegen
