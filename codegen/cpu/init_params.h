// <name>_init_params: the generated function that fills a model's
// parameters with their initial values (nyx_fill_uniform, one stream per
// parameter), for objects whose parameters the caller owns (training).
#pragma once

#include <string>
#include <vector>

#include "codegen/codegen.h"
#include "codegen/cpu/target.h"
#include "llvm/IR/Module.h"

namespace nyx::codegen::cpu {

// Adds `<name>_init_params(uint64_t seed, float *p...)` and
// `<name>_init_params_packed(uint64_t seed, void **params)` to `module`.
void emitInitParams(llvm::Module &module, const std::string &name,
                    const std::vector<ParamInit> &params,
                    const TargetSpec &target);

} // namespace nyx::codegen::cpu
