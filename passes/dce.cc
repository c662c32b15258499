// Dead code elimination: every op is pure, so an op none of whose results
// is used (by a later op or the function's return) is removed, and so, in
// the same backward walk, are the ops that fed only it. Then kernel
// functions that no op names any more (their `fusion` ops are gone) are
// removed; ordinary functions stay, since any of them may be an entry.
#include "absl/container/flat_hash_set.h"
#include "ir/op_registry.h"
#include "passes/pass.h"

namespace nyx::passes {
namespace {

int64_t removeDeadOps(ir::Function &fn) {
  absl::flat_hash_set<const ir::Value *> live(fn.returns.begin(),
                                              fn.returns.end());
  absl::flat_hash_set<const ir::Op *> dead;
  for (size_t i = fn.ops.size(); i-- > 0;) {
    const ir::Op &op = *fn.ops[i];
    bool used = false;
    for (const ir::Value *r : op.results)
      used |= live.contains(r);
    if (!used) {
      dead.insert(&op);
      continue;
    }
    live.insert(op.operands.begin(), op.operands.end());
  }
  std::erase_if(fn.ops, [&](const std::unique_ptr<ir::Op> &op) {
    return dead.contains(op.get());
  });
  return static_cast<int64_t>(dead.size());
}

// The functions some op names in a symbol attribute (`callee = @f`): the
// verifier treats those as the call edges, whatever the op.
absl::flat_hash_set<std::string> referencedFunctions(const ir::Module &m) {
  absl::flat_hash_set<std::string> names;
  for (const auto &fn : m.functions)
    for (const auto &op : fn->ops)
      for (const auto &[key, value] : op->attrs)
        if (const auto *ref = std::get_if<ir::SymbolRef>(&value))
          names.insert(ref->name);
  return names;
}

int64_t removeUnreferencedKernels(ir::Module &m) {
  // Kernels call nothing, so one round finds them all.
  absl::flat_hash_set<std::string> referenced = referencedFunctions(m);
  size_t before = m.functions.size();
  std::erase_if(m.functions, [&](const std::unique_ptr<ir::Function> &fn) {
    return fn->isKernel && !referenced.contains(fn->name);
  });
  return static_cast<int64_t>(before - m.functions.size());
}

} // namespace

absl::Status runDce(ir::Module &m, const Options &o) {
  int64_t removed = 0;
  for (auto &fn : m.functions)
    removed += removeDeadOps(*fn);
  o.count("dce.removed", removed);
  o.count("dce.removed-kernels", removeUnreferencedKernels(m));
  return absl::OkStatus();
}

} // namespace nyx::passes
