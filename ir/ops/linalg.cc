#include "ir/op_registry.h"

namespace nyx::ir {

void registerLinalgOps(OpRegistry &r) {}

} // namespace nyx::ir
