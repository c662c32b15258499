#include "ir/diagnostic.h"

#include "ir/strings.h"

namespace nyx::ir {

std::string formatLocation(std::string_view file, Loc loc) {
  std::string where = file.empty() ? "<input>" : std::string(file);
  if (loc.known())
    where = strCat(where, ":", loc.line, ":", loc.col);
  return where;
}

std::string formatDiagnostic(std::string_view file, Loc loc,
                             std::string_view message) {
  return strCat(formatLocation(file, loc), ": error: ", message);
}

absl::Status errorAt(std::string_view file, Loc loc, std::string_view message) {
  return absl::InvalidArgumentError(formatDiagnostic(file, loc, message));
}

} // namespace nyx::ir
