// The op registry: one entry per op, holding everything the compiler knows
// about that op. Nothing outside an entry switches on op names.
#pragma once

#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/module.h"
#include "ir/tensor.h"

namespace nyx::ir {

class Interpreter;

// Weights by parameter name.
using WeightMap = std::map<std::string, Tensor, std::less<>>;

// What an interpreter kernel may ask of its surroundings (weights, calls).
struct InterpContext {
  const Module *module = nullptr;
  const WeightMap *weights = nullptr;
  // Runs a function of `module` on arguments (used by `call`).
  std::function<absl::StatusOr<std::vector<Tensor>>(const Function &,
                                                    std::vector<Tensor>)>
      callFunction;
};

struct OpDef {
  std::string name;
  int minOperands = 0;
  int maxOperands = 0; // -1: any number
  // Verifier and shape rule in one: checks operand types and attributes and
  // returns the result types. Messages say what was found and what was
  // expected; the caller adds the location. `module` gives `call` and
  // `param` their signatures.
  std::function<absl::StatusOr<std::vector<TensorType>>(const Op &,
                                                        const Module &)>
      inferTypes;
  // Reference semantics: computes the results from the operands. The
  // results come in already allocated with the types inferTypes returned.
  std::function<absl::Status(const Op &, std::span<const Tensor *const>,
                             std::span<Tensor>, const InterpContext &)>
      interpret;
  // Gradient rule: set by the autodiff work; null means not differentiable.
  // (Kept here so the registry stays the one place that describes an op.)
};

// Registers every op; safe to call more than once.
const OpDef *lookupOp(std::string_view name);
std::vector<const OpDef *> allOps();

// Used by the ops/*.cc files, called from the registry's initializer.
class OpRegistry {
public:
  void add(OpDef def);
  std::map<std::string, OpDef, std::less<>> defs;
};

void registerElementwiseOps(OpRegistry &r);
void registerReductionOps(OpRegistry &r);
void registerNormalizationOps(OpRegistry &r);
void registerLinalgOps(OpRegistry &r);
void registerShapeOps(OpRegistry &r);
void registerConvOps(OpRegistry &r);
void registerStructuralOps(OpRegistry &r);

} // namespace nyx::ir
