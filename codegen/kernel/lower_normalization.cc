#include "codegen/kernel/lowering.h"

namespace nyx::kernel {

void registerNormalizationLowerings(LoweringRegistry &r) {}

} // namespace nyx::kernel
