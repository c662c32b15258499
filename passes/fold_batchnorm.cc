// Folds per-channel affine maps that follow a conv2d or matmul into the
// contraction's weights and bias:
//
//   conv2d(x, W[, b]) -> batch_norm(axis 1)   =>  conv2d(x, W * s[o], b')
//   matmul(x, W) -> batch_norm(last axis)     =>  add(matmul(x, W * s[n]), b')
//
// with s = scale / sqrt(var + epsilon) and b' = (b - mean) * s + bias. A
// `mul` by, `add` of or `sub` of a vector that varies only along the output
// channel (a "scale/shift") folds the same way, and a chain of them folds
// into one contraction. The rewrite emits ordinary ops computing W' and b'
// from the original operands; const-fold turns them into constants when the
// weights are known at compile time, and otherwise they run as they are.
//
// A chain folds only where each value in it, the contraction's result
// included, has no other use, and where the weights and the per-channel
// vectors are computed from constants and params alone (folding a run-time
// value into the weights would cost a pass over the weights on every run).
#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "ir/conv_filter.h"
#include "ir/op_registry.h"
#include "ir/rewrite.h"
#include "ir/status_macros.h"
#include "ir/strings.h"
#include "passes/pass.h"

namespace nyx::passes {
namespace {

// One per-channel affine step after the contraction.
struct Step {
  enum Kind { BatchNorm, Mul, Add, Sub } kind;
  ir::Op *op;
  ir::Value *vector = nullptr; // Mul/Add/Sub: the per-channel operand
};

// A contraction and the steps that fold into it, in program order; each
// step consumes the previous value (the contraction's result first).
struct Chain {
  ir::Op *anchor;
  bool conv; // conv2d (channel axis 1) or matmul (channel axis last)
  std::vector<Step> steps;
};

class FunctionFolder {
public:
  FunctionFolder(const ir::Module &m, ir::Function &fn) : m_(m), fn_(fn) {}

  // Folds every chain of the function; returns the number of steps folded.
  absl::StatusOr<int64_t> run();

private:
  void analyze();
  bool known(const ir::Value *v) const { return known_.contains(v); }
  // The single op that uses `v`, when `v` has exactly one use and is not
  // returned.
  ir::Op *soleUser(const ir::Value *v) const;
  std::optional<Chain> chainAt(ir::Op *anchor) const;
  std::optional<Step> stepAt(ir::Op *op, const ir::Value *cur,
                             int64_t axis) const;
  bool perChannel(const ir::Value *v, const ir::Shape &out, int64_t axis) const;
  absl::Status rewrite(const Chain &chain);

  // Inserts `opName(operands) {attrs}` where the rewrite inserts ops.
  absl::StatusOr<ir::Value *> emit(std::string_view opName,
                                   std::vector<ir::Value *> operands,
                                   ir::Attributes attrs = {}) {
    return at_->emit(opName, std::move(operands), std::move(attrs));
  }
  absl::StatusOr<ir::Value *> reshaped(ir::Value *v, ir::Shape shape);

  const ir::Module &m_;
  ir::Function &fn_;
  // Values computed from constants and params only.
  absl::flat_hash_set<const ir::Value *> known_;
  // Number of operand slots and returns that use each value, and one user.
  absl::flat_hash_map<const ir::Value *, int> uses_;
  absl::flat_hash_map<const ir::Value *, ir::Op *> user_;
  // Set for each rewrite, before the op that ends its chain.
  std::optional<ir::OpInserter> at_;
};

void FunctionFolder::analyze() {
  known_.clear();
  uses_.clear();
  user_.clear();
  for (const auto &op : fn_.ops) {
    for (ir::Value *v : op->operands) {
      ++uses_[v];
      user_[v] = op.get();
    }
    const ir::FusionKind kind = op->def->fusion;
    bool isKnown = op->name() == "constant" || op->name() == "param";
    if (kind == ir::FusionKind::Elementwise ||
        kind == ir::FusionKind::Injective)
      isKnown = !op->operands.empty() &&
                std::all_of(op->operands.begin(), op->operands.end(),
                            [&](const ir::Value *v) { return known(v); });
    if (isKnown)
      for (const ir::Value *r : op->results)
        known_.insert(r);
  }
  for (const ir::Value *v : fn_.returns)
    ++uses_[v];
}

ir::Op *FunctionFolder::soleUser(const ir::Value *v) const {
  auto n = uses_.find(v);
  if (n == uses_.end() || n->second != 1)
    return nullptr;
  auto u = user_.find(v);
  return u == user_.end() ? nullptr : u->second; // else: returned
}

// `v` varies at most along `axis` of `out`: its shape, aligned to the
// trailing dimensions of `out`, is 1 everywhere else.
bool FunctionFolder::perChannel(const ir::Value *v, const ir::Shape &out,
                                int64_t axis) const {
  const ir::Shape &s = v->type.shape;
  if (!known(v) || s.size() > out.size())
    return false;
  const size_t lead = out.size() - s.size();
  for (size_t d = 0; d < s.size(); ++d) {
    const int64_t dim = s[d];
    if (dim != 1 &&
        !(static_cast<int64_t>(d + lead) == axis && dim == out[axis]))
      return false;
  }
  return true;
}

std::optional<Step> FunctionFolder::stepAt(ir::Op *op, const ir::Value *cur,
                                           int64_t axis) const {
  if (op->results.size() != 1 || op->result()->type != cur->type)
    return std::nullopt;
  const ir::Shape &out = cur->type.shape;
  const std::string_view name = op->name();
  if (name == "batch_norm") {
    auto a = op->getInt("axis", 1);
    if (op->operand(0) != cur || !a.ok() ||
        (*a < 0 ? *a + static_cast<int64_t>(out.size()) : *a) != axis)
      return std::nullopt;
    for (int i = 1; i < 5; ++i)
      if (!known(op->operand(i)))
        return std::nullopt;
    return Step{Step::BatchNorm, op};
  }
  if (op->numOperands() != 2)
    return std::nullopt;
  if (name == "mul" || name == "add") {
    const int other = op->operand(0) == cur ? 1 : 0;
    if (op->operand(1 - other) != cur ||
        !perChannel(op->operand(other), out, axis))
      return std::nullopt;
    return Step{name == "mul" ? Step::Mul : Step::Add, op, op->operand(other)};
  }
  if (name == "sub" && op->operand(0) == cur &&
      perChannel(op->operand(1), out, axis))
    return Step{Step::Sub, op, op->operand(1)};
  return std::nullopt;
}

std::optional<Chain> FunctionFolder::chainAt(ir::Op *anchor) const {
  Chain chain{anchor, anchor->name() == "conv2d", {}};
  if (!chain.conv && anchor->name() != "matmul")
    return std::nullopt;
  // An i8 product's i32 scale cannot fold into its i8 weights.
  if (anchor->operand(0)->type.dtype != anchor->result()->type.dtype)
    return std::nullopt;
  // The scale multiplies the filter's output-channel axis, axis 0 in the
  // default layout.
  if (chain.conv) {
    auto layout = ir::filterLayout(*anchor);
    if (!layout.ok() || layout->kind != ir::FilterLayout::OIHW)
      return std::nullopt;
  }
  for (int i = 1; i < anchor->numOperands(); ++i)
    if (!known(anchor->operand(i)))
      return std::nullopt;
  const ir::Value *cur = anchor->result();
  const int64_t axis = chain.conv ? 1 : cur->type.rank() - 1;
  while (ir::Op *user = soleUser(cur)) {
    std::optional<Step> step = stepAt(user, cur, axis);
    if (!step)
      break;
    chain.steps.push_back(*step);
    cur = user->result();
  }
  // A matmul followed by one add is already the form this pass produces.
  if (chain.steps.empty() || (!chain.conv && chain.steps.size() == 1 &&
                              chain.steps[0].kind == Step::Add))
    return std::nullopt;
  return chain;
}

absl::StatusOr<ir::Value *> FunctionFolder::reshaped(ir::Value *v,
                                                     ir::Shape shape) {
  if (v->type.shape == shape)
    return v;
  return emit("reshape", {v}, {{"shape", shape}});
}

absl::Status FunctionFolder::rewrite(const Chain &chain) {
  ir::Op *anchor = chain.anchor;
  ir::Op *last = chain.steps.back().op;
  ir::Value *end = last->result();
  const std::string endName = end->name;
  const ir::DType dt = end->type.dtype;
  at_.emplace(m_, fn_,
              std::find_if(fn_.ops.begin(), fn_.ops.end(),
                           [&](const auto &op) { return op.get() == last; }) -
                  fn_.ops.begin(),
              last->loc, "fold-batchnorm");

  // The chain computes contraction * scale + shift, each a per-channel
  // vector of shape [channels] or [1]; null stands for 1 and 0.
  ir::Value *scale = nullptr;
  ir::Value *shift =
      chain.conv && anchor->numOperands() > 2 ? anchor->operand(2) : nullptr;
  // scale * c, where a null scale stands for 1.
  auto times = [&](ir::Value *a, ir::Value *c) -> absl::StatusOr<ir::Value *> {
    if (!a)
      return c;
    return emit("mul", {a, c});
  };
  for (const Step &step : chain.steps) {
    if (step.kind == Step::BatchNorm) {
      ir::Op &bn = *step.op;
      NYX_ASSIGN_OR_RETURN(double eps, bn.getFloat("epsilon", 1e-5));
      NYX_ASSIGN_OR_RETURN(ir::Value * epsilon, at_->scalar(dt, eps));
      NYX_ASSIGN_OR_RETURN(ir::Value * shifted,
                           emit("add", {bn.operand(4), epsilon}));
      NYX_ASSIGN_OR_RETURN(ir::Value * root, emit("sqrt", {shifted}));
      NYX_ASSIGN_OR_RETURN(ir::Value * s, emit("div", {bn.operand(1), root}));
      NYX_ASSIGN_OR_RETURN(scale, times(scale, s));
      if (shift) {
        NYX_ASSIGN_OR_RETURN(ir::Value * centered,
                             emit("sub", {shift, bn.operand(3)}));
        NYX_ASSIGN_OR_RETURN(ir::Value * scaled, emit("mul", {centered, s}));
        NYX_ASSIGN_OR_RETURN(shift, emit("add", {scaled, bn.operand(2)}));
      } else {
        NYX_ASSIGN_OR_RETURN(ir::Value * scaledMean,
                             emit("mul", {bn.operand(3), s}));
        NYX_ASSIGN_OR_RETURN(shift, emit("sub", {bn.operand(2), scaledMean}));
      }
      continue;
    }
    NYX_ASSIGN_OR_RETURN(
        ir::Value * c,
        reshaped(step.vector, {step.vector->type.numElements()}));
    if (step.kind == Step::Mul) {
      NYX_ASSIGN_OR_RETURN(scale, times(scale, c));
      if (shift) {
        NYX_ASSIGN_OR_RETURN(shift, emit("mul", {shift, c}));
      }
    } else if (!shift) {
      if (step.kind == Step::Add) {
        shift = c;
      } else {
        NYX_ASSIGN_OR_RETURN(shift, emit("neg", {c}));
      }
    } else {
      NYX_ASSIGN_OR_RETURN(
          shift, emit(step.kind == Step::Add ? "add" : "sub", {shift, c}));
    }
  }

  // The weights scaled along their output-channel dimension: dim 0 of a
  // conv2d's [M, C/groups, kH, kW]; for matmul the last dim of W, or the
  // second to last with transpose_b.
  ir::Value *w = anchor->operand(1);
  if (scale) {
    const int64_t n = scale->type.numElements();
    ir::Shape along = {n};
    if (chain.conv)
      along = {n, 1, 1, 1};
    else if (anchor->getBool("transpose_b", false).value_or(false))
      along = {n, 1};
    NYX_ASSIGN_OR_RETURN(ir::Value * s, reshaped(scale, along));
    NYX_ASSIGN_OR_RETURN(w, emit("mul", {w, s}));
  }
  at_->setLoc(anchor->loc);
  ir::Value *result;
  if (chain.conv) {
    std::vector<ir::Value *> operands = {anchor->operand(0), w};
    if (shift) {
      const ir::Shape channels = {end->type.shape[1]};
      if (shift->type.shape != channels) {
        NYX_ASSIGN_OR_RETURN(
            shift, emit("broadcast_to", {shift}, {{"shape", channels}}));
      }
      operands.push_back(shift);
    }
    NYX_ASSIGN_OR_RETURN(result, emit("conv2d", operands, anchor->attrs));
  } else {
    NYX_ASSIGN_OR_RETURN(
        result, emit("matmul", {anchor->operand(0), w}, anchor->attrs));
    if (shift) {
      NYX_ASSIGN_OR_RETURN(result, emit("add", {result, shift}));
    }
  }
  if (result->type != end->type)
    return absl::InternalError(strCat("fold-batchnorm: the folded value is ",
                                      result->type.str(), "; expected ",
                                      end->type.str()));

  ir::replaceAllUses(fn_, end, result);
  std::vector<ir::Op *> dead = {anchor};
  for (const Step &step : chain.steps)
    dead.push_back(step.op);
  // Users first, so each erased op has no remaining uses.
  for (auto it = dead.rbegin(); it != dead.rend(); ++it) {
    auto at = std::find_if(fn_.ops.begin(), fn_.ops.end(),
                           [&](const auto &op) { return op.get() == *it; });
    ir::eraseOp(fn_, at - fn_.ops.begin());
  }
  // The chain's end is gone: its name now belongs to the value that
  // replaces it.
  result->name = endName;
  return absl::OkStatus();
}

absl::StatusOr<int64_t> FunctionFolder::run() {
  analyze();
  // Chains are disjoint (each step has a single use and every vector is
  // computed from constants and params, never from a contraction), so they
  // are found first and rewritten one after another.
  std::vector<Chain> chains;
  for (const auto &op : fn_.ops)
    if (std::optional<Chain> chain = chainAt(op.get()))
      chains.push_back(std::move(*chain));
  int64_t folded = 0;
  for (const Chain &chain : chains) {
    NYX_RETURN_IF_ERROR(rewrite(chain));
    folded += static_cast<int64_t>(chain.steps.size());
  }
  return folded;
}

} // namespace

absl::Status runFoldBatchNorm(ir::Module &m, const Options &o) {
  int64_t folded = 0;
  for (auto &fn : m.functions) {
    // A kernel's body keeps the group form the fuse pass gave it.
    if (fn->isKernel)
      continue;
    NYX_ASSIGN_OR_RETURN(int64_t n, FunctionFolder(m, *fn).run());
    folded += n;
  }
  o.count("fold-batchnorm.folded", folded);
  return absl::OkStatus();
}

} // namespace nyx::passes
