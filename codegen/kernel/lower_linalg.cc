#include "codegen/kernel/lowering.h"

namespace nyx::kernel {

void registerLinalgLowerings(LoweringRegistry &r) {}

} // namespace nyx::kernel
