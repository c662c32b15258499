// One run of the compiler: front end -> pass pipeline -> code generation ->
// output files. The steps read top to bottom in compilation.cc.
#pragma once

#include <memory>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "compiler/options.h"
#include "ir/module.h"

namespace nyx::compiler {

// The pipeline nyxc runs when none is given.
std::string standardPipeline(int optLevel);

// Reads a module from text IR (.nyx) or its JSON form (.json).
absl::StatusOr<std::unique_ptr<ir::Module>> loadModule(const std::string &path);

// The counters of `--stats`, one per line, in name order.
void printStatistics(const passes::Statistics &stats, std::ostream &out);

// Compiles per `options` and writes the requested outputs (all or none).
absl::Status compile(const CompileOptions &options);

} // namespace nyx::compiler
