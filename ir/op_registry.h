// The op registry: one entry per op, holding everything the compiler knows
// about that op. Nothing outside an entry switches on op names.
#pragma once

#include <functional>
#include <initializer_list>
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
class Builder;

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

// The attribute on matmul and conv2d where the autotune pass (or the
// source) records how code generation tiles the op as a GEMM; its value is
// described in codegen/kernel/gemm_schedule.h.
inline constexpr std::string_view kScheduleAttr = "schedule";

// How an op combines with its neighbours into one kernel (the fuse pass and
// the fused-kernel lowering read this; nothing else may switch on names).
enum class FusionKind {
  Opaque,        // no kernel of its own: constant, param, call, fusion
  Elementwise,   // each result element from the operand elements at the
                 // same (broadcast) position: unary, binary, compare, select,
                 // cast
  Injective,     // moves data: each result element is one operand element
                 // (reshape, transpose, broadcast_to, slice)
  Reduction,     // reads each operand element once into accumulators
  Normalization, // a few passes over each row (softmax, layer_norm, ...)
  Contraction,   // reads each operand element many times (matmul, conv2d,
                 // pooling)
  Other,         // a kernel of its own that takes no part in fusion
};

// A gradient rule (reverse mode). `resultGrads` holds the gradient of the
// differentiated output with respect to each result of `op` (null where
// none reaches it); the rule appends, through `b`, the ops that compute the
// gradient with respect to each operand and stores them in `operandGrads`
// (already sized, all null; a rule leaves null the operands that get no
// gradient, such as indices). `b` appends to the function that holds `op`,
// after it, so a rule may use `op`'s operands and results. The ops a rule
// emits must be differentiable themselves, so gradients can be taken again
// (Hessians). Attribute errors come back as the status.
using GradFn = std::function<absl::Status(Builder &b, const Op &op,
                                          std::span<Value *const> resultGrads,
                                          std::span<Value *> operandGrads)>;

struct OpDef {
  std::string name;
  FusionKind fusion = FusionKind::Other;
  bool commutative = false; // binary, f(a, b) == f(b, a) bit for bit
  // Injective ops: whether consecutive result elements along the last axis
  // read consecutive operand elements (null means they do). A kernel that
  // reads such an op's result many times (a GEMM) may read through it
  // without losing its memory locality.
  std::function<bool(const Op &)> keepsInnermostAxis = nullptr;
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
  // The gradient rule (ir/grad/*.cc); null when the op has none, and then
  // a gradient that must flow through it is an error naming the op.
  GradFn grad = nullptr;
  // Piecewise constant (floor, sign, ...): the gradient through the op is
  // zero, so the autodiff stops there without an error. Ops whose results
  // are not floats need no mark: no gradient ever reaches them.
  bool zeroGradient = false;
};

// Registers every op; safe to call more than once.
const OpDef *lookupOp(std::string_view name);
std::vector<const OpDef *> allOps();

// Used by the ops/*.cc files, called from the registry's initializer.
class OpRegistry {
public:
  void add(OpDef def);
  // Sets traits of ops already added (each family file marks its own).
  void setFusionKind(std::initializer_list<std::string_view> names,
                     FusionKind kind);
  void setCommutative(std::initializer_list<std::string_view> names);
  void setGrad(std::string_view name, GradFn rule);
  void setZeroGradient(std::initializer_list<std::string_view> names);
  std::map<std::string, OpDef, std::less<>> defs;
};

void registerElementwiseOps(OpRegistry &r);
void registerElementwiseMathOps(OpRegistry &r);
void registerLogicalOps(OpRegistry &r);
void registerReductionOps(OpRegistry &r);
void registerNormalizationOps(OpRegistry &r);
void registerLinalgOps(OpRegistry &r);
void registerShapeOps(OpRegistry &r);
void registerGatherElementsOp(OpRegistry &r);
void registerGatherNdOp(OpRegistry &r);
void registerScatterOps(OpRegistry &r);
void registerScanOps(OpRegistry &r);
void registerConvOps(OpRegistry &r);
void registerWinogradOps(OpRegistry &r);
void registerQuantizeOps(OpRegistry &r);
void registerStructuralOps(OpRegistry &r);
void registerCustomCudaOps(OpRegistry &r);

// Gradient rules (ir/grad/), set on ops already registered.
void registerElementwiseGrads(OpRegistry &r);
void registerReductionGrads(OpRegistry &r);
void registerNormalizationGrads(OpRegistry &r);
void registerLinalgGrads(OpRegistry &r);
void registerShapeGrads(OpRegistry &r);
void registerConvGrads(OpRegistry &r);
void registerQuantizeGrads(OpRegistry &r);

} // namespace nyx::ir
