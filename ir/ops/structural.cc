#include "ir/op_registry.h"

namespace nyx::ir {

void registerStructuralOps(OpRegistry &r) {}

} // namespace nyx::ir
