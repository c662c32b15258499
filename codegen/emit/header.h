// The C header of a compiled model (docs/abi.md).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "codegen/emit/model_plan.h"

namespace nyx::codegen {

// The C type of an element as the ABI passes it ("float", "uint16_t", ...).
std::string_view cElementType(ir::DType t);
// The nyx_dtype enumerator ("NYX_F32", ...).
std::string_view cDTypeEnum(ir::DType t);

// The `int <name>_run(...)` prototype, without the trailing ';'.
std::string runPrototype(const ModelPlan &plan);

// What an object adds to its header beyond its entry points (the
// parameter initializer of a training object): text for the leading
// comment (lines starting " * "), macros, and declarations.
struct HeaderExtras {
  std::string comment, macros, declarations;
};

// The header of an object with one entry point.
std::string emitHeader(const ModelPlan &plan);
// The header of an object named `objectName` (its guard) holding the entry
// points `plans`.
std::string emitHeader(std::string_view objectName,
                       const std::vector<const ModelPlan *> &plans,
                       const HeaderExtras &extras);

} // namespace nyx::codegen
