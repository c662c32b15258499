#include "ir/verifier.h"
#include "passes/pass.h"

namespace nyx::passes {

absl::Status runVerify(ir::Module &m, const Options &) {
  return ir::verifyModule(m);
}

} // namespace nyx::passes
