#include "stdlib/losses.h"

#include <cmath>
#include <limits>

#include "ir/strings.h"

namespace nyx::stdlib::losses {

namespace {

using ir::DType;
using ir::TensorType;

// ---- argument checks: each records "LOSS ...; expected ..." and fails ----

bool checkFloat(ir::Builder &b, std::string_view loss, std::string_view what,
                const Value *v) {
  if (!b.ok())
    return false;
  if (!v) {
    b.fail(strCat(loss, ": ", what, " is null; expected a value"));
    return false;
  }
  if (ir::isFloat(v->type.dtype))
    return true;
  b.fail(strCat(loss, ": ", what, " is ", v->type.str(),
                "; expected a float tensor"));
  return false;
}

bool checkSameType(ir::Builder &b, std::string_view loss, std::string_view what,
                   const Value *v, std::string_view refWhat, const Value *ref) {
  if (!b.ok())
    return false;
  if (!v) {
    b.fail(strCat(loss, ": ", what, " is null; expected a value"));
    return false;
  }
  if (v->type == ref->type)
    return true;
  b.fail(strCat(loss, ": ", what, " is ", v->type.str(), "; expected ",
                ref->type.str(), ", the type of the ", refWhat));
  return false;
}

// A float [N, D]-like value of rank exactly `rank`.
bool checkFloatRank(ir::Builder &b, std::string_view loss,
                    std::string_view what, const Value *v, int64_t rank,
                    std::string_view layout) {
  if (!checkFloat(b, loss, what, v))
    return false;
  if (v->type.rank() == rank)
    return true;
  b.fail(strCat(loss, ": ", what, " is ", v->type.str(), "; expected rank ",
                rank, " (", layout, ")"));
  return false;
}

// Class indices i64[N] for logits [N, C].
bool checkLabels(ir::Builder &b, std::string_view loss, const Value *logits,
                 const Value *labels) {
  if (!checkFloatRank(b, loss, "logits", logits, 2, "[N, C]"))
    return false;
  if (!labels) {
    b.fail(strCat(loss, ": labels are null; expected a value"));
    return false;
  }
  TensorType want{DType::I64, {logits->type.shape[0]}};
  if (labels->type == want)
    return true;
  b.fail(strCat(loss, ": labels are ", labels->type.str(), "; expected ",
                want.str(), ", one class index per row of the logits ",
                logits->type.str()));
  return false;
}

// ---- small builders ----

Value *scalarLike(ir::Builder &b, double v, const Value *like) {
  return b.scalar(v, like->type.dtype);
}

Value *sumOver(ir::Builder &b, Value *x, int64_t axis) {
  return b.op("reduce_sum", {x}, {{"axes", {axis}}});
}

Value *meanOfAll(ir::Builder &b, Value *x) { return b.op("reduce_mean", {x}); }

// logp[i, labels[i]] for logp [N, C] and labels i64[N]: [N].
Value *pickLabels(ir::Builder &b, Value *logp, Value *labels) {
  int64_t n = logp->type.shape[0];
  Value *column = b.op("reshape", {labels}, {{"shape", {n, 1}}});
  Value *picked = b.op("gather_elements", {logp, column}, {{"axis", 1}});
  return b.op("reshape", {picked}, {{"shape", {n}}});
}

// || d ||_p over the last axis of d [N, D]: [N].
Value *pNorm(ir::Builder &b, Value *d, double p) {
  Value *a = b.op("abs", {d});
  if (std::isinf(p))
    return b.op("reduce_max", {a}, {{"axes", {-1}}});
  if (p == 1)
    return sumOver(b, a, -1);
  if (p == 2)
    return b.op("sqrt", {sumOver(b, b.op("mul", {d, d}), -1)});
  Value *powered = b.op("pow", {a, scalarLike(b, p, d)});
  return b.op("pow", {sumOver(b, powered, -1), scalarLike(b, 1 / p, d)});
}

} // namespace

Value *mse(ir::Builder &b, Value *pred, Value *target) {
  if (!checkFloat(b, "mse", "the prediction", pred) ||
      !checkSameType(b, "mse", "the target", target, "prediction", pred))
    return nullptr;
  Value *d = b.op("sub", {pred, target});
  return meanOfAll(b, b.op("mul", {d, d}));
}

Value *l1(ir::Builder &b, Value *pred, Value *target) {
  if (!checkFloat(b, "l1", "the prediction", pred) ||
      !checkSameType(b, "l1", "the target", target, "prediction", pred))
    return nullptr;
  return meanOfAll(b, b.op("abs", {b.op("sub", {pred, target})}));
}

Value *huber(ir::Builder &b, Value *pred, Value *target, double delta) {
  if (!checkFloat(b, "huber", "the prediction", pred) ||
      !checkSameType(b, "huber", "the target", target, "prediction", pred))
    return nullptr;
  if (!(delta > 0)) {
    b.fail(strCat("huber: delta is ", delta, "; expected a positive number"));
    return nullptr;
  }
  Value *d = b.op("sub", {pred, target});
  Value *a = b.op("abs", {d});
  Value *quadratic = b.op("mul", {scalarLike(b, 0.5, d), b.op("mul", {d, d})});
  Value *linear =
      b.op("mul", {scalarLike(b, delta, d),
                   b.op("sub", {a, scalarLike(b, 0.5 * delta, d)})});
  Value *inside = b.op("lt", {a, scalarLike(b, delta, d)});
  return meanOfAll(b, b.op("select", {inside, quadratic, linear}));
}

Value *crossEntropyWithLogits(ir::Builder &b, Value *logits, Value *labels,
                              const CrossEntropyOptions &options) {
  constexpr std::string_view kName = "cross-entropy";
  if (!checkLabels(b, kName, logits, labels))
    return nullptr;
  const double s = options.labelSmoothing;
  if (!(s >= 0 && s <= 1)) {
    b.fail(strCat(kName, ": label smoothing is ", s,
                  "; expected a number in [0, 1]"));
    return nullptr;
  }
  const int64_t c = logits->type.shape[1];
  const std::vector<double> &weights = options.classWeights;
  if (!weights.empty() && static_cast<int64_t>(weights.size()) != c) {
    b.fail(strCat(kName, ": ", weights.size(), " class weights for logits ",
                  logits->type.str(), "; expected ", c,
                  ", one per class, or none"));
    return nullptr;
  }
  Value *logp = b.op("log_softmax", {logits}, {{"axis", 1}});
  Value *picked = pickLabels(b, logp, labels); // [N]

  // Without weights both terms are means over the rows; with weights they
  // are sums divided by the total weight of the labels, as torch does.
  Value *w = nullptr;      // [C]
  Value *labelW = nullptr; // [N]
  Value *norm = nullptr;   // sum of labelW
  if (!weights.empty()) {
    ir::Tensor t(TensorType{logits->type.dtype, {c}});
    for (int64_t i = 0; i < c; ++i)
      t.setDouble(i, weights[i]);
    w = b.constant(std::move(t));
    labelW = b.op("gather", {w, labels}, {{"axis", 0}});
    picked = b.op("mul", {picked, labelW});
    norm = b.op("reduce_sum", {labelW});
  }
  auto reduce = [&](Value *perRow) {
    return norm ? b.op("div", {b.op("reduce_sum", {perRow}), norm})
                : meanOfAll(b, perRow);
  };
  Value *loss = b.op("neg", {reduce(picked)});
  if (s == 0)
    return loss;
  Value *weighted = w ? b.op("mul", {logp, w}) : logp;
  Value *smooth = b.op("neg", {reduce(sumOver(b, weighted, 1))});
  return b.op("add",
              {b.op("mul", {scalarLike(b, 1 - s, logits), loss}),
               b.op("mul", {scalarLike(b, s / double(c), logits), smooth})});
}

Value *binaryCrossEntropyWithLogits(ir::Builder &b, Value *logits,
                                    Value *targets) {
  constexpr std::string_view kName = "bce";
  if (!checkFloat(b, kName, "the logits", logits) ||
      !checkSameType(b, kName, "the targets", targets, "logits", logits))
    return nullptr;
  Value *oneMinusT = b.op("sub", {scalarLike(b, 1, logits), targets});
  Value *perElement = b.op("add", {b.op("mul", {oneMinusT, logits}),
                                   b.op("softplus", {b.op("neg", {logits})})});
  return meanOfAll(b, perElement);
}

Value *focal(ir::Builder &b, Value *logits, Value *labels, double gamma,
             std::optional<double> alpha) {
  constexpr std::string_view kName = "focal";
  if (!checkLabels(b, kName, logits, labels))
    return nullptr;
  if (!(gamma >= 0) || std::isinf(gamma)) {
    b.fail(
        strCat(kName, ": gamma is ", gamma, "; expected a finite number >= 0"));
    return nullptr;
  }
  Value *logp = b.op("log_softmax", {logits}, {{"axis", 1}});
  Value *logpT = pickLabels(b, logp, labels);
  Value *pT = b.op("exp", {logpT});
  Value *modulating = b.op("pow", {b.op("sub", {scalarLike(b, 1, logits), pT}),
                                   scalarLike(b, gamma, logits)});
  Value *perRow = b.op("mul", {modulating, logpT});
  return b.op("mul", {scalarLike(b, -alpha.value_or(1.0), logits),
                      meanOfAll(b, perRow)});
}

Value *klDiv(ir::Builder &b, Value *logProbs, Value *target) {
  constexpr std::string_view kName = "kl-div";
  if (!checkFloat(b, kName, "the log-probabilities", logProbs) ||
      !checkSameType(b, kName, "the target", target, "log-probabilities",
                     logProbs))
    return nullptr;
  if (logProbs->type.rank() < 1) {
    b.fail(strCat(kName, ": the log-probabilities are ", logProbs->type.str(),
                  "; expected rank >= 1 (the batch is axis 0)"));
    return nullptr;
  }
  // xlogy(t, t): t log t, and 0 where t = 0 (log reads 1 there, so neither
  // the value nor its gradient sees log(0)).
  Value *zero = scalarLike(b, 0, target);
  Value *positive = b.op("gt", {target, zero});
  Value *safeT = b.op("select", {positive, target, scalarLike(b, 1, target)});
  Value *tLogT = b.op("mul", {target, b.op("log", {safeT})});
  Value *perElement = b.op("sub", {tLogT, b.op("mul", {target, logProbs})});
  double n = static_cast<double>(logProbs->type.shape[0]);
  return b.op("div",
              {b.op("reduce_sum", {perElement}), scalarLike(b, n, logProbs)});
}

Value *cosineEmbedding(ir::Builder &b, Value *x1, Value *x2, Value *y,
                       double margin) {
  constexpr std::string_view kName = "cosine-embedding";
  if (!checkFloatRank(b, kName, "x1", x1, 2, "[N, D]") ||
      !checkSameType(b, kName, "x2", x2, "x1", x1))
    return nullptr;
  if (!y) {
    b.fail(strCat(kName, ": y is null; expected a value"));
    return nullptr;
  }
  TensorType yType{x1->type.dtype, {x1->type.shape[0]}};
  if (y->type != yType) {
    b.fail(strCat(kName, ": y is ", y->type.str(), "; expected ", yType.str(),
                  ", +1 or -1 for each row of x1 ", x1->type.str()));
    return nullptr;
  }
  constexpr double kEpsilon = 1e-12; // torch's EPSILON in cosine_embedding
  Value *dot = sumOver(b, b.op("mul", {x1, x2}), 1);
  Value *sq1 = b.op("add", {sumOver(b, b.op("mul", {x1, x1}), 1),
                            scalarLike(b, kEpsilon, x1)});
  Value *sq2 = b.op("add", {sumOver(b, b.op("mul", {x2, x2}), 1),
                            scalarLike(b, kEpsilon, x1)});
  Value *cos = b.op("div", {dot, b.op("sqrt", {b.op("mul", {sq1, sq2})})});
  Value *zero = scalarLike(b, 0, x1);
  Value *similar = b.op("sub", {scalarLike(b, 1, x1), cos});
  Value *dissimilar =
      b.op("relu", {b.op("sub", {cos, scalarLike(b, margin, x1)})});
  Value *isPos = b.op("eq", {y, scalarLike(b, 1, x1)});
  Value *isNeg = b.op("eq", {y, scalarLike(b, -1, x1)});
  Value *perRow = b.op("add", {b.op("select", {isPos, similar, zero}),
                               b.op("select", {isNeg, dissimilar, zero})});
  return meanOfAll(b, perRow);
}

Value *tripletMargin(ir::Builder &b, Value *anchor, Value *positive,
                     Value *negative, double margin, double p, double eps) {
  constexpr std::string_view kName = "triplet-margin";
  if (!checkFloatRank(b, kName, "the anchor", anchor, 2, "[N, D]") ||
      !checkSameType(b, kName, "the positive", positive, "anchor", anchor) ||
      !checkSameType(b, kName, "the negative", negative, "anchor", anchor))
    return nullptr;
  if (!(p > 0)) {
    b.fail(strCat(kName, ": p is ", p, "; expected a number > 0 or infinity"));
    return nullptr;
  }
  auto distance = [&](Value *other) {
    Value *d = b.op("sub", {anchor, other});
    return pNorm(b, b.op("add", {d, scalarLike(b, eps, anchor)}), p);
  };
  Value *gap = b.op("sub", {distance(positive), distance(negative)});
  Value *perRow =
      b.op("relu", {b.op("add", {gap, scalarLike(b, margin, anchor)})});
  return meanOfAll(b, perRow);
}

// ---- by name ----

namespace {

using Values = std::span<Value *const>;

using Options = const LossOptions &;

const LossEntry kLosses[] = {
    {"mse", 1, LossLabels::LikeOutput, "targets of the output's type",
     [](ir::Builder &b, Values o, Values l, Options) {
       return mse(b, o[0], l[0]);
     }},
    {"l1", 1, LossLabels::LikeOutput, "targets of the output's type",
     [](ir::Builder &b, Values o, Values l, Options) {
       return l1(b, o[0], l[0]);
     }},
    {"huber", 1, LossLabels::LikeOutput, "targets of the output's type",
     [](ir::Builder &b, Values o, Values l, Options opt) {
       return huber(b, o[0], l[0], opt.delta);
     }},
    {"cross-entropy", 1, LossLabels::ClassIndices,
     "class indices i64[N] for logits [N, C]",
     [](ir::Builder &b, Values o, Values l, Options opt) {
       return crossEntropyWithLogits(b, o[0], l[0], {opt.labelSmoothing, {}});
     }},
    {"bce", 1, LossLabels::LikeOutput, "targets in [0, 1] of the logits' type",
     [](ir::Builder &b, Values o, Values l, Options) {
       return binaryCrossEntropyWithLogits(b, o[0], l[0]);
     }},
    {"focal", 1, LossLabels::ClassIndices,
     "class indices i64[N] for logits [N, C]",
     [](ir::Builder &b, Values o, Values l, Options opt) {
       return focal(b, o[0], l[0], opt.gamma, opt.alpha);
     }},
    {"kl-div", 1, LossLabels::LikeOutput,
     "target probabilities of the type of the output (log-probabilities)",
     [](ir::Builder &b, Values o, Values l, Options) {
       return klDiv(b, o[0], l[0]);
     }},
    {"cosine-embedding", 2, LossLabels::RowSigns,
     "y [N] of +1 (similar) or -1 (dissimilar) for two embeddings [N, D]",
     [](ir::Builder &b, Values o, Values l, Options opt) {
       return cosineEmbedding(b, o[0], o[1], l[0], opt.margin.value_or(0));
     }},
    {"triplet-margin", 3, LossLabels::None,
     "no labels: the outputs are anchor, positive and negative [N, D]",
     [](ir::Builder &b, Values o, Values, Options opt) {
       return tripletMargin(b, o[0], o[1], o[2], opt.margin.value_or(1), opt.p,
                            opt.eps);
     }},
};

int labelCount(LossLabels labels) { return labels == LossLabels::None ? 0 : 1; }

} // namespace

absl::StatusOr<std::vector<TensorType>>
LossEntry::labelTypes(std::span<const TensorType> outputs) const {
  if (static_cast<int>(outputs.size()) < modelOutputs)
    return absl::InvalidArgumentError(
        strCat("loss '", name, "' takes ", modelOutputs,
               " model outputs; the model returns ", outputs.size()));
  const TensorType &first = outputs[0];
  auto unsuited = [&](const TensorType &found, std::string_view expected) {
    return absl::InvalidArgumentError(strCat("loss '", name, "' takes ",
                                             expected, "; the model returns ",
                                             found.str()));
  };
  switch (labels) {
  case LossLabels::LikeOutput:
    if (!ir::isFloat(first.dtype))
      return unsuited(first, "a float output");
    return std::vector<TensorType>{first};
  case LossLabels::ClassIndices:
    if (!ir::isFloat(first.dtype) || first.rank() != 2)
      return unsuited(first, "float logits [N, C]");
    return std::vector<TensorType>{TensorType{DType::I64, {first.shape[0]}}};
  case LossLabels::RowSigns:
  case LossLabels::None:
    for (int i = 0; i < modelOutputs; ++i)
      if (!ir::isFloat(outputs[i].dtype) || outputs[i].rank() != 2 ||
          outputs[i] != first)
        return unsuited(outputs[i],
                        strCat(modelOutputs,
                               " float embeddings [N, D] of one type (the "
                               "first is ",
                               first.str(), ")"));
    if (labels == LossLabels::None)
      return std::vector<TensorType>{};
    return std::vector<TensorType>{TensorType{first.dtype, {first.shape[0]}}};
  }
  return absl::InternalError("unhandled label kind");
}

Value *LossEntry::build(ir::Builder &b, std::span<Value *const> outputs,
                        std::span<Value *const> labelValues,
                        const LossOptions &options) const {
  if (!b.ok())
    return nullptr;
  if (static_cast<int>(outputs.size()) != modelOutputs ||
      static_cast<int>(labelValues.size()) != labelCount(labels)) {
    b.fail(strCat("loss '", name, "' is given ", outputs.size(),
                  " model outputs and ", labelValues.size(),
                  " labels; expected ", modelOutputs, " and ",
                  labelCount(labels)));
    return nullptr;
  }
  return buildLoss(b, outputs, labelValues, options);
}

absl::StatusOr<const LossEntry *> lossByName(std::string_view name) {
  for (const LossEntry &e : kLosses)
    if (e.name == name)
      return &e;
  return absl::InvalidArgumentError(strCat("unknown loss '", name,
                                           "'; expected one of ",
                                           strJoin(lossNames(), ", ")));
}

std::vector<std::string_view> lossNames() {
  std::vector<std::string_view> names;
  for (const LossEntry &e : kLosses)
    names.push_back(e.name);
  return names;
}

} // namespace nyx::stdlib::losses
