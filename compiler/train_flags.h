// The training and derivative flags of nyxc: --train, --loss, --optimizer
// and the hyperparameters, --init; --derivative and --wrt-input.
#pragma once

#include "compiler/command_line.h"
#include "compiler/options.h"

namespace nyx::compiler {

void addTrainFlags(CommandLine &cl, CompileOptions &o);

} // namespace nyx::compiler
