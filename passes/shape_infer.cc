// Recomputes result types from each op's shape rule, in order, so a change
// to an operand's type flows to everything that depends on it.
#include "ir/diagnostic.h"
#include "ir/op_registry.h"
#include "ir/strings.h"
#include "passes/pass.h"

namespace nyx::passes {

absl::Status runShapeInfer(ir::Module &m, const Options &) {
  for (auto &fn : m.functions) {
    for (auto &op : fn->ops) {
      auto types = op->def->inferTypes(*op, m);
      if (!types.ok())
        return ir::errorAt(m.filename, op->loc,
                           std::string(types.status().message()));
      if (types->size() != op->results.size())
        return ir::errorAt(m.filename, op->loc,
                           strCat("'", op->name(), "' produces ", types->size(),
                                  " results but has ", op->results.size()));
      for (size_t i = 0; i < types->size(); ++i)
        op->results[i]->type = (*types)[i];
    }
    for (size_t i = 0; i < fn->returns.size(); ++i)
      if (i < fn->resultTypes.size())
        fn->resultTypes[i] = fn->returns[i]->type;
  }
  return absl::OkStatus();
}

} // namespace nyx::passes
