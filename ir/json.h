// The JSON form of a module, for tools and machines (docs/ir.md, "JSON
// form"). It carries everything the text does: names, types, attributes
// tagged by kind, tensors element by element, and source locations.
#pragma once

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "ir/module.h"
#include "nlohmann/json.hpp"

namespace nyx::ir {

nlohmann::json moduleToJson(const Module &module);

// Builds the module and checks it with verifyModule. Errors name `filename`
// (which becomes Module::filename), the JSON path of the offending field,
// and the op's recorded location when it has one.
absl::StatusOr<std::unique_ptr<Module>>
moduleFromJson(const nlohmann::json &json, std::string_view filename);

} // namespace nyx::ir
