#include "ir/op_registry.h"

namespace nyx::ir {

void registerNormalizationOps(OpRegistry &r) {}

} // namespace nyx::ir
