// Loss functions built from differentiable IR ops, with the semantics of
// PyTorch 1.13's losses. Each returns a rank-0 value of the prediction's
// float dtype, reduced as PyTorch reduces by default ("mean" over the
// batch unless noted). Like the layers, a loss returns null once the
// builder holds an error, and records an error (saying what it found and
// what it expected) when its arguments do not fit.
//
// A training step differentiates the loss with respect to the model's
// outputs, so every op here is one with a gradient rule; labels (class
// indices, targets) get no gradient.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/builder.h"

namespace nyx::stdlib::losses {

using ir::Value;

// mean((pred - target)^2), torch.nn.MSELoss. Same types.
Value *mse(ir::Builder &b, Value *pred, Value *target);
// mean(|pred - target|), torch.nn.L1Loss. Same types.
Value *l1(ir::Builder &b, Value *pred, Value *target);
// torch.nn.HuberLoss: with d = pred - target, the mean of 0.5 d^2 where
// |d| < delta and delta (|d| - 0.5 delta) elsewhere. delta > 0.
Value *huber(ir::Builder &b, Value *pred, Value *target, double delta = 1.0);

struct CrossEntropyOptions {
  // In [0, 1]: the target mixes the one-hot label (1 - labelSmoothing) with
  // the uniform distribution over the C classes.
  double labelSmoothing = 0;
  // Empty, or one weight per class (C of them).
  std::vector<double> classWeights;
};

// torch.nn.functional.cross_entropy(logits, labels, weight, label_smoothing)
// for logits [N, C] and labels i64[N] holding class indices in [0, C).
// With logp = log_softmax(logits), w the class weights (all 1 when none)
// and s = labelSmoothing:
//   nll    = sum_i -w[y_i] logp[i, y_i]          / sum_i w[y_i]
//   smooth = sum_i sum_c -w[c] logp[i, c]         / sum_i w[y_i]
//   loss   = (1 - s) nll + (s / C) smooth
// (torch normalizes the smoothing term by the label weights too). A label
// outside [0, C) picks a log-probability of 0 and a weight of 0 where
// torch would raise an error.
Value *crossEntropyWithLogits(ir::Builder &b, Value *logits, Value *labels,
                              const CrossEntropyOptions &options = {});

// torch.nn.BCEWithLogitsLoss: the mean of (1 - t) x + softplus(-x), which
// is -[t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))] without overflow.
// logits and targets have the same type.
Value *binaryCrossEntropyWithLogits(ir::Builder &b, Value *logits,
                                    Value *targets);

// Softmax focal loss (Lin et al., 2017) for logits [N, C] and labels
// i64[N]: with p_t = softmax(logits)[i, y_i] (taken as exp(log_softmax)),
//   loss = mean_i -alpha (1 - p_t)^gamma log(p_t)
// where alpha = 1 when `alpha` is empty. gamma >= 0; gamma = 0 and no
// alpha is cross-entropy.
Value *focal(ir::Builder &b, Value *logits, Value *labels, double gamma = 2,
             std::optional<double> alpha = 0.25);

// torch.nn.functional.kl_div(logProbs, target, reduction="batchmean"):
//   sum(target (log(target) - logProbs)) / N,  N = logProbs.shape[0],
// where elements with target = 0 contribute 0 (torch's xlogy). Same types,
// rank >= 1.
Value *klDiv(ir::Builder &b, Value *logProbs, Value *target);

// torch.nn.CosineEmbeddingLoss for x1, x2 [N, D] and y [N] (the float
// dtype of x1) holding +1 or -1: with
//   cos = sum(x1 x2) / sqrt((sum(x1^2) + 1e-12) (sum(x2^2) + 1e-12))
// over D, the mean over N of 1 - cos where y = 1, max(0, cos - margin)
// where y = -1, and 0 for any other y.
Value *cosineEmbedding(ir::Builder &b, Value *x1, Value *x2, Value *y,
                       double margin = 0);

// torch.nn.TripletMarginLoss (swap = false) for anchor, positive, negative
// [N, D]: the mean over N of max(0, margin + d(a, pos) - d(a, neg)) with
// d(x, z) = || x - z + eps ||_p over D (torch's pairwise_distance adds eps
// to the difference). p > 0, or infinity for the max norm.
Value *tripletMargin(ir::Builder &b, Value *anchor, Value *positive,
                     Value *negative, double margin = 1, double p = 2,
                     double eps = 1e-6);

// What labels a loss picked by name takes besides the model outputs.
enum class LossLabels {
  LikeOutput,   // targets of the output's type (any float shape)
  ClassIndices, // i64[N] for logits [N, C]
  RowSigns,     // [N] of +1/-1 in the outputs' dtype, for outputs [N, D]
  None,         // nothing: the outputs alone make the loss
};

// The hyperparameters of the losses picked by name; each loss reads those
// marked with its name and ignores the rest. The defaults are PyTorch's.
struct LossOptions {
  double delta = 1.0;                 // huber
  double labelSmoothing = 0;          // cross-entropy
  double gamma = 2;                   // focal
  std::optional<double> alpha = 0.25; // focal
  // cosine-embedding (0 when empty) and triplet-margin (1 when empty).
  std::optional<double> margin;
  double p = 2, eps = 1e-6; // triplet-margin
};

// A loss picked by name on the command line (`nyxc --train --loss=NAME`),
// built with `LossOptions`. A training step feeds it the first
// `modelOutputs` results of the model and label inputs of the types that
// labelTypes() derives from theirs.
struct LossEntry {
  std::string_view name;
  // How many model outputs the loss consumes: 1, or 2 for
  // cosine-embedding, 3 for triplet-margin (all [N, D] of one type).
  int modelOutputs;
  LossLabels labels;
  // What the labels are, for help text: "class indices i64[N] for logits
  // [N, C]".
  std::string_view labelsDescription;
  Value *(*buildLoss)(ir::Builder &b, std::span<Value *const> outputs,
                      std::span<Value *const> labels,
                      const LossOptions &options);

  // The types of the label inputs (none for triplet-margin) for model
  // outputs of types `outputs`, or an error saying why those outputs do
  // not suit the loss.
  absl::StatusOr<std::vector<ir::TensorType>>
  labelTypes(std::span<const ir::TensorType> outputs) const;
  // Builds the loss from the model outputs and the labels (in the order of
  // labelTypes()); null once the builder fails.
  Value *build(ir::Builder &b, std::span<Value *const> outputs,
               std::span<Value *const> labels,
               const LossOptions &options = {}) const;
};

// The entry for "mse", "l1", "huber", "cross-entropy", "bce", "focal",
// "kl-div", "cosine-embedding" or "triplet-margin"; an error listing these
// for any other name.
absl::StatusOr<const LossEntry *> lossByName(std::string_view name);
// Every loss name, in the order above.
std::vector<std::string_view> lossNames();

} // namespace nyx::stdlib::losses
