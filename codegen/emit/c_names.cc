#include "codegen/emit/c_names.h"

#include "ir/strings.h"

#include <algorithm>
#include <cctype>

namespace nyx::codegen {
namespace {

constexpr std::string_view kKeywords[] = {
    "auto",     "break",    "case",     "char",   "const",    "continue",
    "default",  "do",       "double",   "else",   "enum",     "extern",
    "float",    "for",      "goto",     "if",     "inline",   "int",
    "long",     "register", "restrict", "return", "short",    "signed",
    "sizeof",   "static",   "struct",   "switch", "typedef",  "union",
    "unsigned", "void",     "volatile", "while",  "bool",     "true",
    "false",    "class",    "delete",   "new",    "operator", "private",
    "public",   "template", "this",     "throw",  "try",      "virtual"};

// Type names a prototype spells: a parameter of that name would shadow the
// type for the parameters after it.
constexpr std::string_view kPrototypeTypes[] = {
    "int8_t", "int32_t", "int64_t", "uint8_t", "uint16_t", "uint64_t"};

bool isKeyword(std::string_view s) {
  return std::find(std::begin(kKeywords), std::end(kKeywords), s) !=
         std::end(kKeywords);
}

bool isPrototypeType(std::string_view s) {
  return std::find(std::begin(kPrototypeTypes), std::end(kPrototypeTypes), s) !=
         std::end(kPrototypeTypes);
}

bool startsIdentifier(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}

std::string sanitize(std::string_view name, bool upper) {
  std::string out;
  for (char c : name) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '_')
      out += static_cast<char>(upper ? std::toupper(u) : std::tolower(u));
    else
      out += '_';
  }
  return out;
}

bool contains(const std::vector<std::string> &v, const std::string &s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

} // namespace

bool isCIdentifier(std::string_view s) {
  return isIdentifier(s) && !isKeyword(s);
}

std::vector<std::string> macroNames(const std::vector<std::string> &irNames) {
  std::vector<std::string> out;
  for (size_t i = 0; i < irNames.size(); ++i) {
    std::string name = irNames[i].empty() || !startsIdentifier(irNames[i][0])
                           ? std::to_string(i)
                           : sanitize(irNames[i], true);
    if (contains(out, name))
      name += "_" + std::to_string(i);
    while (contains(out, name))
      name += "_";
    out.push_back(name);
  }
  return out;
}

std::vector<std::string> parameterNames(const std::vector<std::string> &irNames,
                                        std::string_view prefix,
                                        std::vector<std::string> &used) {
  std::vector<std::string> out;
  for (size_t i = 0; i < irNames.size(); ++i) {
    std::string name = irNames[i].empty() || !startsIdentifier(irNames[i][0])
                           ? sanitize(prefix, false) + std::to_string(i)
                           : sanitize(irNames[i], false);
    if (isKeyword(name) || isPrototypeType(name) || name == "arena" ||
        contains(used, name))
      name += "_" + std::to_string(i);
    while (contains(used, name))
      name += "_";
    used.push_back(name);
    out.push_back(name);
  }
  return out;
}

} // namespace nyx::codegen
