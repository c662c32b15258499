// String building for messages. Debian's Abseil is built with its own
// absl::string_view, so absl::StrCat does not accept std::string_view; use
// these instead.
#pragma once

#include <cctype>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace nyx {

template <class... Args> std::string strCat(const Args &...args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

template <class Range>
std::string strJoin(const Range &items, std::string_view sep) {
  std::ostringstream os;
  bool first = true;
  for (const auto &item : items) {
    if (!first)
      os << sep;
    os << item;
    first = false;
  }
  return os.str();
}

// Letters, digits and '_', not starting with a digit (a C identifier when
// it is not a keyword).
inline bool isIdentifier(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0])))
    return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
      return false;
  return true;
}

} // namespace nyx
