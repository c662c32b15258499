#include "compiler/tuning_flags.h"

#include <charconv>
#include <cmath>
#include <filesystem>

#include "ir/strings.h"

namespace nyx::compiler {

// Longer budgets are surely a slip of the finger (a million seconds is
// eleven days).
constexpr double kMaxBudgetSeconds = 1e6;

absl::StatusOr<double> parseBudgetSeconds(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(),
                                   value, std::chars_format::general);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
      !std::isfinite(value))
    return absl::InvalidArgumentError(
        strCat("'", text,
               "' is not a number of seconds; expected e.g. 60 "
               "or 0.5"));
  if (value < 0 || value > kMaxBudgetSeconds)
    return absl::InvalidArgumentError(strCat(
        text, " seconds; expected 0 to ",
        static_cast<int64_t>(kMaxBudgetSeconds), " (0 measures nothing)"));
  return value;
}

void addTuningFlags(CommandLine &cl, CompileOptions &o) {
  cl.flag("autotune",
          "time candidate schedules of matmul and conv2d kernels on this "
          "machine and keep the fastest (see --autotune-budget, --tuning-db)",
          [&o] { o.autotune = true; });
  cl.option("autotune-budget", "<seconds>",
            "time all measuring of one compile may take (default 60; 0 "
            "measures nothing)",
            [&o](std::string_view v) -> absl::Status {
              auto seconds = parseBudgetSeconds(v);
              if (!seconds.ok())
                return seconds.status();
              o.autotuneBudget = *seconds;
              return absl::OkStatus();
            });
  cl.option("tuning-db", "<file>",
            "JSON file of measured schedules: used when it has the op, "
            "extended by --autotune",
            [&o](std::string_view v) -> absl::Status {
              if (v.empty())
                return absl::InvalidArgumentError(
                    "empty file name; expected a tuning database file");
              std::error_code ec;
              if (std::filesystem::is_directory(v, ec))
                return absl::InvalidArgumentError(
                    strCat("'", v,
                           "' is a directory; expected a tuning database "
                           "file"));
              o.tuningDb = v;
              return absl::OkStatus();
            });
}

} // namespace nyx::compiler
