#include "codegen/kernel/lowering.h"

namespace nyx::kernel {

void registerShapeLowerings(LoweringRegistry &r) {}

} // namespace nyx::kernel
