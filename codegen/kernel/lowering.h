// Lowering of one graph-IR op to a Kernel. Each op family registers its
// lowering in codegen/kernel/lower_*.cc; the table is keyed by op name,
// mirroring the op registry (a test checks the two cover the same ops).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "codegen/kernel/loop_ir.h"
#include "ir/module.h"

namespace nyx::kernel {

// The kernel's buffers are the op's operands (in order) then its results,
// each a dense row-major array of its type; `name` is the kernel name.
using LowerFn =
    std::function<absl::StatusOr<Kernel>(const ir::Op &op, std::string name)>;

// Null for ops that produce no kernel (`param`, `call` after inlining,
// `constant`, whose data is emitted directly).
const LowerFn *lookupLowering(std::string_view opName);
bool hasLowering(std::string_view opName);

class LoweringRegistry {
public:
  void add(std::string_view opName, LowerFn fn);
  std::map<std::string, LowerFn, std::less<>> fns;
};

void registerElementwiseLowerings(LoweringRegistry &r);
void registerReductionLowerings(LoweringRegistry &r);
void registerNormalizationLowerings(LoweringRegistry &r);
void registerLinalgLowerings(LoweringRegistry &r);
void registerShapeLowerings(LoweringRegistry &r);
void registerConvLowerings(LoweringRegistry &r);

} // namespace nyx::kernel
