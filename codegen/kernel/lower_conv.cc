#include "codegen/kernel/lowering.h"

namespace nyx::kernel {

void registerConvLowerings(LoweringRegistry &r) {}

} // namespace nyx::kernel
