#include "codegen/kernel/lowering.h"

namespace nyx::kernel {

void registerReductionLowerings(LoweringRegistry &r) {}

} // namespace nyx::kernel
