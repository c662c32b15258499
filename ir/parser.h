// The parser of the `.nyx` text format; docs/ir.md has the grammar.
#pragma once

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "ir/attribute.h"
#include "ir/module.h"
#include "ir/tensor.h"

namespace nyx::ir {

// Parses a module. `filename` names the source in diagnostics, becomes
// Module::filename, and gives the module its name when the text has no
// `module @name` line (the file stem made a C identifier, else "model").
// Every op is checked with its shape rule as it is parsed, and the whole
// module with verifyModule at the end; the first error is returned as
// `file:line:col: error: ...`.
absl::StatusOr<std::unique_ptr<Module>> parseModule(std::string_view text,
                                                    std::string_view filename);
// Reads and parses a file ("-" reads standard input, named "<stdin>" in
// diagnostics); "cannot read FILE: reason" when it cannot be read.
absl::StatusOr<std::unique_ptr<Module>> parseModuleFile(std::string_view path);
// The whole text of a file ("-" is standard input), or "cannot read FILE:
// reason".
absl::StatusOr<std::string> readSourceFile(std::string_view path);

// The module name used when the text has none: the stem of `filename` with
// every character outside [A-Za-z0-9_] replaced by '_' (and a leading '_'
// before a digit), or "model" when that leaves nothing.
std::string defaultModuleName(std::string_view filename);

// One attribute value as written after `name =` in an op's attribute
// dictionary. A dense literal needs its type here: `dense<[1, 2]> : i32[2]`.
// Errors are located in "<attribute>".
absl::StatusOr<Attribute> parseAttribute(std::string_view text);

// Sets element `i` of `t` from one element of a dense literal, written as in
// the text format: a decimal integer, a float (`1.5`, `1e-3`, `inf`, `-inf`,
// `nan`, `-nan`), `0x...` raw bits for a float dtype, or true/false. The
// error message has no location.
absl::Status setElementFromText(Tensor &t, int64_t i, std::string_view text);

} // namespace nyx::ir
