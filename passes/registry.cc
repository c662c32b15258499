#include "passes/pass.h"

namespace nyx::passes {

const std::vector<PassInfo> &allPasses() {
  static const std::vector<PassInfo> passes = {
      {"verify", "check the module's invariants (SSA, types, calls)",
       runVerify},
      {"shape-infer", "recompute every result type from the op's shape rule",
       runShapeInfer},
      {"inline", "inline every call into its caller", runInline},
  };
  return passes;
}

const PassInfo *lookupPass(std::string_view name) {
  for (const PassInfo &p : allPasses())
    if (p.name == name)
      return &p;
  return nullptr;
}

} // namespace nyx::passes
