// The pass-inspection flags nyxc and nyx-opt share: --print-before=,
// --print-after=, --print-before-all, --print-after-all, --time-passes,
// --dump-dir=.
#pragma once

#include "compiler/command_line.h"
#include "passes/pass_manager.h"

namespace nyx::compiler {

void addPassInstrumentationFlags(CommandLine &cl,
                                 passes::Instrumentation &inst);

} // namespace nyx::compiler
