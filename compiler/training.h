// nyxc --train: builds the inference and training-step functions of a
// model (stdlib/training.h), runs the pipeline over each, and compiles them
// into one object with <name>_run, <name>_train_step and
// <name>_init_params (docs/training.md).
#pragma once

#include "absl/status/status.h"
#include "compiler/options.h"
#include "ir/module.h"

namespace nyx::compiler {

absl::Status compileTraining(const CompileOptions &o, ir::Module &m);

} // namespace nyx::compiler
