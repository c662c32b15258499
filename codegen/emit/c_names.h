// C identifiers derived from IR names for the generated header.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace nyx::codegen {

// True for [A-Za-z_][A-Za-z0-9_]* that is not a C keyword.
bool isCIdentifier(std::string_view s);

// Macro-name parts for a list of values (inputs or outputs): the IR name
// upper-cased with other characters turned into '_'; a name that does not
// start with a letter or '_' (like `%0`) becomes its position, so the macro
// reads `MLP_INPUT_0_SHAPE`; duplicates get `_<index>` appended.
std::vector<std::string> macroNames(const std::vector<std::string> &irNames);

// Parameter names for the prototypes: the lower-case IR name, or `<prefix>N`
// for a name like `%0` ("in0", "out0"); never a C keyword, never `arena`,
// unique across `used` (names already taken are appended to it).
std::vector<std::string> parameterNames(const std::vector<std::string> &irNames,
                                        std::string_view prefix,
                                        std::vector<std::string> &used);

} // namespace nyx::codegen
