#include "ir/diagnostic.h"

#include "ir/strings.h"

namespace nyx::ir {

std::string formatDiagnostic(std::string_view file, Loc loc,
                             std::string_view message) {
  std::string where = file.empty() ? "<input>" : std::string(file);
  if (loc.known())
    absl::StrAppend(&where, ":", loc.line, ":", loc.col);
  return strCat(where, ": error: ", message);
}

absl::Status errorAt(std::string_view file, Loc loc, std::string_view message) {
  return absl::InvalidArgumentError(formatDiagnostic(file, loc, message));
}

} // namespace nyx::ir
