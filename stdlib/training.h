// A compiled training step from a model: the forward function, a loss, its
// gradient (passes/autodiff.h) and an optimizer update, as ordinary IR that
// the pass pipeline then optimizes like any model.
//
// From a model @main(inputs...) -> outputs that reads params p1..pk, it
// builds two modules over the same parameters, which the caller owns:
//   inference   @main(p1..pk, inputs...) -> outputs
//   train step  @train_step(p1..pk, state..., [step], inputs..., labels...,
//                           lr) -> (p1'..pk', state'..., [step'], loss)
// where the state is each parameter's optimizer tensors in order
// (`<param>.<state>`: p1.m, p1.v, p2.m, ...), `step` counts the steps
// taken (optimizers with bias correction), `lr` is a rank-0 input and
// `loss` the batch's loss. Each updated value is written over the input it
// replaces (outputAliases), so a step updates the caller's buffers in place.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/module.h"
#include "stdlib/losses.h"
#include "stdlib/optimizers.h"

namespace nyx::stdlib {

// How initial parameter values are drawn (TrainingParam::lo/hi).
enum class ParamInitScheme {
  Kaiming, // U(-b, b), b = sqrt(6 / fan_in): He et al., for ReLU networks
  Xavier,  // U(-b, b), b = sqrt(6 / (fan_in + fan_out)): Glorot & Bengio
};

struct TrainingOptions {
  const losses::LossEntry *loss = nullptr;
  losses::LossOptions lossOptions;
  optim::OptimizerConfig optimizer;
  ParamInitScheme init = ParamInitScheme::Kaiming;
  // Mixed precision: with bf16 or f16, the forward and backward passes
  // compute in that dtype on copies of the f32 parameters, which stay the
  // optimizer's master weights (the loss and the update are f32).
  ir::DType computeType = ir::DType::F32;
  // Loss scaling: the loss is multiplied by this before differentiating and
  // the gradients divided by it after, so small f16 gradients do not flush
  // to zero. With a scale other than 1, or mixed precision, a step whose
  // gradients are not all finite leaves the parameters and the optimizer
  // state as they were (the loss still reports the batch).
  double lossScale = 1;
};

// A parameter and its initial distribution: weights (rank >= 2) uniform
// per the scheme; biases and shifts zero; the scales of normalizations
// one (lo == hi).
struct TrainingParam {
  std::string name;
  ir::TensorType type;
  double lo = 0, hi = 0;
};

struct Training {
  std::unique_ptr<ir::Module> inference;
  std::unique_ptr<ir::Module> trainStep;
  // Per output of @train_step: the input it is written over, or -1.
  std::vector<int> outputAliases;
  std::vector<TrainingParam> params;
};

// Errors name what does not fit: a model with no params, a param that is
// not f32, outputs the loss cannot take, an op on the gradient's path with
// no gradient rule (with its location).
absl::StatusOr<Training> buildTraining(const ir::Module &module,
                                       const ir::Function &model,
                                       const TrainingOptions &options);

} // namespace nyx::stdlib
