#include "ir/op_registry.h"

namespace nyx::ir {

void registerShapeOps(OpRegistry &r) {}

} // namespace nyx::ir
