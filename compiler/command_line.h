// A table-driven command-line parser in the style of LLVM's tools: flags
// are written `--name=value`, `--name value` or with a single dash; `-o`
// takes the next argument; anything else that does not start with '-' is a
// positional argument.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace nyx::compiler {

class CommandLine {
public:
  using Apply = std::function<absl::Status(std::string_view value)>;

  // A flag that takes a value; `valueName` shows in --help ("<file>").
  void option(std::string name, std::string valueName, std::string help,
              Apply apply);
  // A flag without a value.
  void flag(std::string name, std::string help, std::function<void()> apply);

  absl::Status parse(int argc, char **argv,
                     std::vector<std::string> &positional) const;
  std::string help(std::string_view usage, std::string_view overview) const;

private:
  struct Entry {
    std::string name, valueName, help;
    Apply apply; // null for flags
    std::function<void()> set;
  };
  const Entry *find(std::string_view name) const;
  std::vector<Entry> entries_;
};

// Adds the non-empty items of a comma-separated list ("a,b,,c") to `into`.
void splitList(std::string_view list, std::set<std::string, std::less<>> &into);

// A flag's value that is a finite number >= 0: "0.9", "1e-4".
absl::StatusOr<double> parseNumber(std::string_view text);

} // namespace nyx::compiler
