#include "ir/op_registry.h"

namespace nyx::ir {

void registerElementwiseOps(OpRegistry &r) {}

} // namespace nyx::ir
