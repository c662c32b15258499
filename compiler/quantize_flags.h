// The quantization flags of nyxc: --quantize=dynamic|int8, --calibrate,
// --calibration-observer, --calibration-percentile, --quant-profile,
// --quant-activations, --quantize-exclude (docs/quantization.md).
#pragma once

#include "compiler/command_line.h"
#include "compiler/options.h"

namespace nyx::compiler {

void addQuantizeFlags(CommandLine &cl, CompileOptions &o);

// After parsing: checks that the flags fit together and puts the
// quantization pass into the standard pipeline.
absl::Status applyQuantizeFlags(CompileOptions &o);

} // namespace nyx::compiler
