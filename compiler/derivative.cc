#include "compiler/derivative.h"

#include "passes/autodiff.h"

namespace nyx::compiler {

absl::StatusOr<ir::Function *> addDerivative(ir::Module &m,
                                             const ir::Function &f,
                                             Derivative kind, int input) {
  switch (kind) {
  case Derivative::Grad:
    return passes::addGradFunction(m, f, {}, f.name + "_grad");
  case Derivative::Jacobian:
    return passes::addJacobianFunction(m, f, input, f.name + "_jacobian");
  case Derivative::Hessian:
    return passes::addHessianFunction(m, f, input, f.name + "_hessian");
  case Derivative::Hvp:
    return passes::addHvpFunction(m, f, input, f.name + "_hvp");
  case Derivative::None:
    break;
  }
  return absl::InvalidArgumentError("no derivative asked for");
}

} // namespace nyx::compiler
