#include "ir/buffer_rules.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "ir/op_registry.h"

namespace nyx::ir {

uint64_t alignedBytes(uint64_t bytes) {
  return (bytes + kArenaAlign - 1) / kArenaAlign * kArenaAlign;
}

bool computesResults(const Op &op) {
  return op.name() != "constant" && op.name() != "param";
}

absl::flat_hash_map<const Value *, int> directOutputs(const Function &f) {
  absl::flat_hash_map<const Value *, int> slots;
  for (size_t j = 0; j < f.returns.size(); ++j) {
    const Value *v = f.returns[j];
    if (v->definingOp && computesResults(*v->definingOp))
      slots.try_emplace(v, static_cast<int>(j));
  }
  return slots;
}

bool isArenaValue(const Value &v,
                  const absl::flat_hash_map<const Value *, int> &direct) {
  return v.definingOp && computesResults(*v.definingOp) && !direct.contains(&v);
}

absl::flat_hash_map<const Value *, LiveRange> liveRanges(const Function &f) {
  absl::flat_hash_map<const Value *, LiveRange> ranges;
  for (size_t i = 0; i < f.ops.size(); ++i) {
    int64_t pos = static_cast<int64_t>(i);
    for (const Value *v : f.ops[i]->operands)
      if (auto it = ranges.find(v); it != ranges.end())
        it->second.last = pos;
    for (const Value *r : f.ops[i]->results)
      ranges[r] = {pos, pos};
  }
  for (const Value *v : f.returns)
    if (auto it = ranges.find(v); it != ranges.end())
      it->second.last = static_cast<int64_t>(f.ops.size());
  return ranges;
}

namespace {

bool sameElementLayout(const TensorType &a, const TensorType &b) {
  return a.shape == b.shape && dtypeSize(a.dtype) == dtypeSize(b.dtype);
}

// Only Elementwise and Injective ops (and constants): one loop over the
// shape of the returned values, every value computed per element.
bool isLoopGroup(const Function &kernel) {
  return std::all_of(kernel.ops.begin(), kernel.ops.end(), [](const auto &op) {
    return op->def->fusion == FusionKind::Elementwise ||
           op->def->fusion == FusionKind::Injective || op->name() == "constant";
  });
}

// For the kernel parameters in `params` (all of one shape): true when every
// op reading them, directly or through other values, is Elementwise with
// results of that shape, and no returned value but the one at `result`
// depends on them (so no other store of an iteration reads them after the
// result's store).
bool readsOnlyAtIdentity(const Function &kernel,
                         const absl::flat_hash_set<const Value *> &params,
                         const Shape &shape, int result) {
  absl::flat_hash_set<const Value *> dependent(params.begin(), params.end());
  for (const auto &op : kernel.ops) {
    bool reads =
        std::any_of(op->operands.begin(), op->operands.end(),
                    [&](const Value *v) { return dependent.contains(v); });
    if (!reads)
      continue;
    if (op->def->fusion != FusionKind::Elementwise)
      return false;
    for (const Value *r : op->results) {
      if (r->type.shape != shape)
        return false;
      dependent.insert(r);
    }
  }
  for (size_t j = 0; j < kernel.returns.size(); ++j) {
    const Value *v = kernel.returns[j];
    // A returned parameter is a copy, not an Elementwise read.
    if (params.contains(v))
      return false;
    if (dependent.contains(v) && static_cast<int>(j) != result)
      return false;
  }
  return true;
}

bool fusionMayWriteOver(const Module &m, const Op &op, int result,
                        const Value *operand) {
  auto callee = op.getSymbol("callee");
  if (!callee.ok())
    return false;
  const Function *kernel = m.lookupFunction(*callee);
  if (!kernel || !kernel->isKernel ||
      kernel->params.size() != op.operands.size() || !isLoopGroup(*kernel))
    return false;
  absl::flat_hash_set<const Value *> params;
  for (size_t k = 0; k < op.operands.size(); ++k)
    if (op.operands[k] == operand)
      params.insert(kernel->params[k]);
  return readsOnlyAtIdentity(*kernel, params, operand->type.shape, result);
}

} // namespace

bool mayWriteOver(const Module &m, const Op &op, int result,
                  const Value *operand) {
  if (result < 0 || static_cast<size_t>(result) >= op.results.size() ||
      std::find(op.operands.begin(), op.operands.end(), operand) ==
          op.operands.end() ||
      !sameElementLayout(op.results[result]->type, operand->type))
    return false;
  if (op.def->fusion == FusionKind::Elementwise)
    return op.results.size() == 1;
  if (op.name() == "fusion")
    return fusionMayWriteOver(m, op, result, operand);
  return false;
}

} // namespace nyx::ir
