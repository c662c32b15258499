// --derivative: adds the requested derivative of the entry function to the
// module (passes/autodiff.h), to be compiled as the entry instead.
#pragma once

#include "absl/status/statusor.h"
#include "compiler/options.h"
#include "ir/module.h"

namespace nyx::compiler {

// Adds @<f>_grad, @<f>_jacobian, @<f>_hessian or @<f>_hvp and returns it.
absl::StatusOr<ir::Function *>
addDerivative(ir::Module &m, const ir::Function &f, Derivative kind, int input);

} // namespace nyx::compiler
