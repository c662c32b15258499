// Converters of ONNX's losses, NegativeLogLikelihoodLoss and
// SoftmaxCrossEntropyLoss, built on one shared negative log-likelihood.
#include <cstdint>
#include <string>

#include "frontends/onnx/convert_helpers.h"
#include "frontends/onnx/converters.h"
#include "ir/strings.h"

namespace nyx::onnx_import {
namespace {

using ir::Shape;
using ir::Value;

// The negative log-likelihood of `logProb` [N, C, d...] at the classes
// `target` [N, d...], with the class weights and ignore_index of
// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss. The class's
// element is picked with a one-hot mask (target == iota over C), so no
// gather is needed and ignored or out-of-range targets pick nothing.
Value *nllLoss(NodeContext &n, Value *logProb, Value *target, Value *weight) {
  const Shape &shape = logProb->type.shape;
  const int64_t rank = logProb->type.rank();
  if (rank < 2) {
    n.fail(strCat("the scores are ", logProb->type.str(),
                  "; expected [N, C, d...]"))
        .IgnoreError();
    return nullptr;
  }
  Shape targetShape = shape;
  targetShape.erase(targetShape.begin() + 1);
  if (target->type.shape != targetShape || !ir::isInteger(target->type.dtype)) {
    n.fail(strCat("the target is ", target->type.str(), " for scores ",
                  logProb->type.str(), "; expected integers of shape [",
                  ir::shapeString(targetShape), "]"))
        .IgnoreError();
    return nullptr;
  }
  const std::string reduction = n.attrString("reduction", "mean");
  if (reduction != "none" && reduction != "sum" && reduction != "mean") {
    n.fail(strCat("attribute 'reduction' is \"", reduction,
                  "\"; expected none, sum or mean"))
        .IgnoreError();
    return nullptr;
  }
  const int64_t classes = shape[1];
  Shape withClassAxis = shape;
  withClassAxis[1] = 1;
  Value *hot = n.op("eq", {reshape(n, target, withClassAxis),
                           iotaAlong(n, classes, 1, rank, target->type.dtype)});
  Value *zero = n.scalarLike(0, logProb);
  auto pick = [&](Value *v) {
    return n.op("reduce_sum", {n.op("select", {hot, v, zero})},
                {{"axes", {1}}});
  };
  Value *loss = n.op("neg", {pick(logProb)});
  Value *weights = nullptr; // per target element; null means all 1
  if (weight) {
    if (weight->type.shape != Shape{classes}) {
      n.fail(strCat("the weight is ", weight->type.str(), "; expected [",
                    classes, "]"))
          .IgnoreError();
      return nullptr;
    }
    Shape perClass(rank, 1);
    perClass[1] = classes;
    weights = pick(reshape(n, weight, perClass));
    loss = n.op("mul", {loss, weights});
  }
  if (n.hasAttr("ignore_index")) {
    ir::Tensor ignored(ir::TensorType{target->type.dtype, {}});
    ignored.setInt(0, n.attrInt("ignore_index", 0));
    Value *kept = n.op("ne", {target, n.constant(std::move(ignored))});
    loss = n.op("select", {kept, loss, zero});
    weights = weights ? n.op("select", {kept, weights, zero})
                      : castTo(n, kept, logProb->type.dtype);
  }
  if (reduction == "none")
    return loss;
  Value *sum = n.op("reduce_sum", {loss});
  if (reduction == "sum")
    return sum;
  if (!weights)
    return n.op("reduce_mean", {loss});
  return n.op("div", {sum, n.op("reduce_sum", {weights})});
}

absl::Status convertNegativeLogLikelihoodLoss(NodeContext &n) {
  Value *input = n.input(0);
  Value *target = n.input(1);
  if (!input || !target || !requireFloat(n, input))
    return n.status();
  Value *weight = n.hasInput(2) ? n.input(2) : nullptr;
  n.setOutput(0, nllLoss(n, input, target, weight));
  return n.status();
}

absl::Status convertSoftmaxCrossEntropyLoss(NodeContext &n) {
  Value *scores = n.input(0);
  Value *labels = n.input(1);
  if (!scores || !labels || !requireFloat(n, scores))
    return n.status();
  if (scores->type.rank() < 2)
    return n.fail(strCat("the scores are ", scores->type.str(),
                         "; expected [N, C, d...]"));
  Value *weight = n.hasInput(2) ? n.input(2) : nullptr;
  Value *logProb = n.op("log_softmax", {scores}, {{"axis", 1}});
  if (!logProb)
    return n.status();
  n.setOutput(0, nllLoss(n, logProb, labels, weight));
  n.setOutput(1, logProb);
  return n.status();
}

constexpr ConverterEntry kTable[] = {
    {"NegativeLogLikelihoodLoss", convertNegativeLogLikelihoodLoss},
    {"SoftmaxCrossEntropyLoss", convertSoftmaxCrossEntropyLoss},
};

} // namespace

std::span<const ConverterEntry> lossConverters() { return kTable; }

} // namespace nyx::onnx_import
