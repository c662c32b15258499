// Optimizers as graph-level updates: IR that computes a training step's new
// parameters and optimizer state from the old ones and the gradients, with
// the update rules of torch.optim in PyTorch 1.13 (Lion as in lion-pytorch,
// LAMB as in the paper, neither being in torch.optim).
//
// The caller owns the state: for each parameter, the tensors that
// stateNames() lists (each of the parameter's type, all zeros before the
// first step, as torch initializes them), and a step counter (an f32
// scalar, 0 before the first step) when usesStep() says the optimizer
// needs one. The learning rate is a runtime input (a rank-0 float value),
// so a schedule can change it without recompiling.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/builder.h"

namespace nyx::stdlib::optim {

using ir::Value;

enum class Optimizer { Sgd, Adam, AdamW, RMSprop, Adagrad, Lion, Lamb };

struct OptimizerConfig {
  Optimizer kind = Optimizer::Sgd;
  // SGD: momentum (dampening 0) and Nesterov momentum. RMSprop: momentum.
  double momentum = 0;
  bool nesterov = false;
  // Adam, AdamW, LAMB: the moment decay rates. Lion: beta1 interpolates the
  // update, beta2 decays the momentum.
  double beta1 = 0.9, beta2 = 0.999;
  // RMSprop: the smoothing constant of the squared-gradient average, and
  // whether the gradient's mean is subtracted (centered).
  double alpha = 0.99;
  bool centered = false;
  // Added to the denominator (Adam, AdamW, RMSprop, Adagrad, LAMB).
  double eps = 1e-8;
  // SGD, Adam, RMSprop, Adagrad: L2, added to the gradient as wd * param.
  // AdamW, Lion: decoupled, param *= 1 - lr wd before the update. LAMB:
  // added to the update, inside the trust ratio.
  double weightDecay = 0;
  // When > 0, all gradients are scaled together first so that their global
  // L2 norm is at most clipNorm (torch.nn.utils.clip_grad_norm_: scale
  // clipNorm / (norm + 1e-6) when that is below 1).
  double clipNorm = 0;
};

// The configuration torch.optim (lion-pytorch, the LAMB paper) defaults to
// for "sgd", "adam", "adamw", "rmsprop", "adagrad", "lion" or "lamb"; an
// error listing these for any other name.
absl::StatusOr<OptimizerConfig> optimizerByName(std::string_view name);
std::string_view optimizerName(Optimizer kind);
// Every optimizer name, in the order above.
std::vector<std::string_view> optimizerNames();

// The state tensors each parameter carries, in order:
//   sgd: "momentum" when momentum != 0; adam, adamw, lamb: "m", "v";
//   rmsprop: "square_avg", then "momentum" when momentum > 0, then
//   "grad_avg" when centered; adagrad: "sum"; lion: "m".
std::vector<std::string> stateNames(const OptimizerConfig &config);
// Whether the optimizer keeps a step counter (Adam, AdamW and LAMB correct
// their moments' bias with it).
bool usesStep(const OptimizerConfig &config);

struct OptimizerStep {
  std::vector<Value *> params;             // the updated parameters
  std::vector<std::vector<Value *>> state; // per parameter, as stateNames()
  Value *step = nullptr;                   // step + 1, or null when !usesStep()
};

// Appends the update of `params` by `grads` (one per param, of its type)
// to `b`. `state[i]` holds param i's state tensors in stateNames() order;
// `step` is the f32 scalar counter of the steps taken so far (null when
// !usesStep()); `lr` is a rank-0 float (cast to each parameter's dtype).
// On bad arguments, or once the builder has failed, it records the error
// and returns an empty OptimizerStep.
OptimizerStep applyOptimizer(ir::Builder &b, const OptimizerConfig &config,
                             std::span<Value *const> params,
                             std::span<Value *const> grads,
                             std::span<const std::vector<Value *>> state,
                             Value *step, Value *lr);

// The gradients scaled as clip_grad_norm_(grads, maxNorm) scales them.
std::vector<Value *>
clipByGlobalNorm(ir::Builder &b, std::span<Value *const> grads, double maxNorm);

} // namespace nyx::stdlib::optim
