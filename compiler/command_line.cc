#include "compiler/command_line.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>

#include "ir/strings.h"

namespace nyx::compiler {

void CommandLine::option(std::string name, std::string valueName,
                         std::string help, Apply apply) {
  entries_.push_back({std::move(name), std::move(valueName), std::move(help),
                      std::move(apply), nullptr});
}

void CommandLine::flag(std::string name, std::string help,
                       std::function<void()> apply) {
  entries_.push_back(
      {std::move(name), "", std::move(help), nullptr, std::move(apply)});
}

const CommandLine::Entry *CommandLine::find(std::string_view name) const {
  for (const Entry &e : entries_)
    if (e.name == name)
      return &e;
  return nullptr;
}

absl::Status CommandLine::parse(int argc, char **argv,
                                std::vector<std::string> &positional) const {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.size() < 2 || arg[0] != '-') {
      positional.emplace_back(arg);
      continue;
    }
    std::string_view body = arg.substr(arg[1] == '-' ? 2 : 1);
    std::string_view name = body.substr(0, body.find('='));
    bool inlineValue = name.size() < body.size();
    const Entry *e = find(name);
    if (!e)
      return absl::InvalidArgumentError(
          strCat("unknown argument '", arg, "'; see --help"));
    if (!e->apply) {
      if (inlineValue)
        return absl::InvalidArgumentError(
            strCat("'-", name, "' does not take a value"));
      e->set();
      continue;
    }
    std::string_view value;
    if (inlineValue) {
      value = body.substr(name.size() + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return absl::InvalidArgumentError(
          strCat("'", arg, "' needs a value: ", arg, " ", e->valueName));
    }
    if (absl::Status s = e->apply(value); !s.ok())
      return absl::InvalidArgumentError(
          strCat("bad value for '-", name, "': ", s.message()));
  }
  return absl::OkStatus();
}

std::string CommandLine::help(std::string_view usage,
                              std::string_view overview) const {
  std::ostringstream os;
  os << "OVERVIEW: " << overview << "\n\nUSAGE: " << usage << "\n\nOPTIONS:\n";
  std::vector<std::pair<std::string, std::string>> rows;
  size_t width = 0;
  for (const Entry &e : entries_) {
    std::string left = strCat(e.name.size() <= 2 ? "-" : "--", e.name);
    if (e.apply)
      left += (e.name.size() <= 2 ? " " : "=") + e.valueName;
    width = std::max(width, left.size());
    rows.emplace_back(left, e.help);
  }
  for (const auto &[left, text] : rows)
    os << "  " << left << std::string(width + 2 - left.size(), ' ') << text
       << "\n";
  return os.str();
}

void splitList(std::string_view list,
               std::set<std::string, std::less<>> &into) {
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = std::min(list.find(',', start), list.size());
    if (end > start)
      into.emplace(list.substr(start, end - start));
    start = end + 1;
  }
}

absl::StatusOr<double> parseNumber(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(),
                                   value, std::chars_format::general);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
      !std::isfinite(value) || value < 0)
    return absl::InvalidArgumentError(strCat(
        "'", text, "'; expected a non-negative number, e.g. 0.9 or 1e-4"));
  return value;
}

} // namespace nyx::compiler
