// The C header of a compiled model (docs/abi.md).
#pragma once

#include <string>

#include "codegen/emit/model_plan.h"

namespace nyx::codegen {

// The C type of an element as the ABI passes it ("float", "uint16_t", ...).
std::string_view cElementType(ir::DType t);
// The nyx_dtype enumerator ("NYX_F32", ...).
std::string_view cDTypeEnum(ir::DType t);

// The `int <name>_run(...)` prototype, without the trailing ';'.
std::string runPrototype(const ModelPlan &plan);

std::string emitHeader(const ModelPlan &plan);

} // namespace nyx::codegen
