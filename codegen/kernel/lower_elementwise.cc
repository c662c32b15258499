#include "codegen/kernel/lowering.h"

namespace nyx::kernel {

void registerElementwiseLowerings(LoweringRegistry &r) {}

} // namespace nyx::kernel
