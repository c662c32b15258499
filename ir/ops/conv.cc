#include "ir/op_registry.h"

namespace nyx::ir {

void registerConvOps(OpRegistry &r) {}

} // namespace nyx::ir
