// Diagnostics in the form compilers use: `file:line:col: error: message`.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "ir/module.h"

namespace nyx::ir {

// "file:line:col" (or just the file when the location is unknown).
std::string formatLocation(std::string_view file, Loc loc);
std::string formatDiagnostic(std::string_view file, Loc loc,
                             std::string_view message);
// An InvalidArgument status whose message is a formatted diagnostic.
absl::Status errorAt(std::string_view file, Loc loc, std::string_view message);

} // namespace nyx::ir
