// The autotuning flags of nyxc: --autotune, --autotune-budget=SECONDS,
// --tuning-db=FILE (docs/autotuning.md).
#pragma once

#include "compiler/command_line.h"
#include "compiler/options.h"

namespace nyx::compiler {

void addTuningFlags(CommandLine &cl, CompileOptions &o);

// "60", "0.5", "1e2": a finite number of seconds from 0 to a million.
absl::StatusOr<double> parseBudgetSeconds(std::string_view text);

} // namespace nyx::compiler
