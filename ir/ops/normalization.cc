// softmax, log_softmax, layer_norm, rms_norm and batch_norm. Semantics:
// docs/ops.md.
//
// The interpreter computes these in f64 for every float dtype and rounds each
// result element once.
#include <cmath>
#include <span>

#include "ir/op_registry.h"
#include "ir/ops/op_helpers.h"
#include "ir/strings.h"

namespace nyx::ir {
namespace {

using namespace ops;

absl::StatusOr<int64_t> opAxis(const Op &op) {
  NYX_ASSIGN_OR_RETURN(int64_t axis, op.getInt("axis", -1));
  return normalizeAxis(op, axis, op.operand(0)->type.rank());
}

absl::StatusOr<std::vector<TensorType>> inferSoftmax(const Op &op) {
  NYX_RETURN_IF_ERROR(checkOpBasics(op, {"axis"}));
  NYX_RETURN_IF_ERROR(checkOperandDType(op, 0, DTypeClass::Float));
  NYX_RETURN_IF_ERROR(checkMinRank(op, 0, 1));
  NYX_RETURN_IF_ERROR(opAxis(op).status());
  return std::vector<TensorType>{op.operand(0)->type};
}

// softmax: exp(x - max) / sum(exp(x - max));
// log_softmax: x - max - log(sum(exp(x - max))).
absl::Status softmaxInto(const Op &op, bool logarithmic, const Tensor &x,
                         Tensor &out) {
  NYX_ASSIGN_OR_RETURN(int64_t axis, opAxis(op));
  ReductionLayout l = reductionLayout(x.shape(), {axis});
  std::vector<double> row(l.inner.size());
  for (int64_t base : l.base) {
    double max = -INFINITY;
    for (size_t k = 0; k < row.size(); ++k) {
      row[k] = x.getDouble(base + l.inner[k]);
      // NaN poisons the row through the sum below; +inf rows give NaN like
      // the formula does.
      if (row[k] > max)
        max = row[k];
    }
    double sum = 0;
    for (double v : row)
      sum += std::exp(v - max);
    for (size_t k = 0; k < row.size(); ++k) {
      double y = logarithmic ? row[k] - max - std::log(sum)
                             : std::exp(row[k] - max) / sum;
      storeRounded(out, base + l.inner[k], y);
    }
  }
  return absl::OkStatus();
}

void addSoftmax(OpRegistry &r, std::string name, bool logarithmic) {
  OpDef def;
  def.name = std::move(name);
  def.minOperands = def.maxOperands = 1;
  def.inferTypes = [](const Op &op, const Module &) {
    return inferSoftmax(op);
  };
  def.interpret = [logarithmic](const Op &op, std::span<const Tensor *const> in,
                                std::span<Tensor> out,
                                const InterpContext &) -> absl::Status {
    return softmaxInto(op, logarithmic, *in[0], out[0]);
  };
  r.add(std::move(def));
}

// layer_norm and rms_norm normalize over the trailing block axis..rank-1;
// their optional scale (and bias) operands have exactly that block's shape.
// Operands 1.. (named by `roles`) must have x's dtype and shape `want`,
// which `where` describes ("x.shape[1:]").
absl::Status checkSideOperands(const Op &op,
                               std::span<const std::string_view> roles,
                               const Shape &want, std::string_view where) {
  const TensorType &x = op.operand(0)->type;
  for (int i = 1; i < op.numOperands(); ++i) {
    const TensorType &t = op.operand(i)->type;
    if (t.dtype != x.dtype)
      return opError(op, strCat(roles[i], " has dtype ", dtypeName(t.dtype),
                                "; expected ", dtypeName(x.dtype),
                                " (the dtype of x)"));
    if (t.shape != want)
      return opError(op, strCat(roles[i], " has shape [", shapeString(t.shape),
                                "]; expected [", shapeString(want), "] (",
                                where, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<TensorType>> inferNorm(const Op &op) {
  NYX_RETURN_IF_ERROR(checkOpBasics(op, {"axis", "epsilon"}));
  NYX_RETURN_IF_ERROR(checkOperandDType(op, 0, DTypeClass::Float));
  NYX_RETURN_IF_ERROR(checkMinRank(op, 0, 1));
  NYX_ASSIGN_OR_RETURN(int64_t axis, opAxis(op));
  NYX_RETURN_IF_ERROR(op.getFloat("epsilon", 0.0).status());
  const TensorType &x = op.operand(0)->type;
  Shape block(x.shape.begin() + axis, x.shape.end());
  static constexpr std::string_view kRoles[] = {"x", "scale", "bias"};
  NYX_RETURN_IF_ERROR(
      checkSideOperands(op, kRoles, block, strCat("x.shape[", axis, ":]")));
  return std::vector<TensorType>{x};
}

// Normalizes each trailing block of `x`: y = (x - mean) * inv * scale + bias,
// with inv = 1 / sqrt(var + eps) for layer_norm (centered) and
// 1 / sqrt(mean(x^2) + eps) for rms_norm (not centered).
absl::Status normInto(const Op &op, bool centered, double defaultEps,
                      std::span<const Tensor *const> in, Tensor &out) {
  const Tensor &x = *in[0];
  const Tensor *scale = in.size() > 1 ? in[1] : nullptr;
  const Tensor *bias = in.size() > 2 ? in[2] : nullptr;
  NYX_ASSIGN_OR_RETURN(int64_t axis, opAxis(op));
  NYX_ASSIGN_OR_RETURN(double eps, op.getFloat("epsilon", defaultEps));
  Shape block(x.shape().begin() + axis, x.shape().end());
  const int64_t n = numElements(block);
  const int64_t rows = n == 0 ? 0 : x.numElements() / n;
  for (int64_t row = 0; row < rows; ++row) {
    const int64_t base = row * n;
    double mean = 0;
    if (centered) {
      for (int64_t k = 0; k < n; ++k)
        mean += x.getDouble(base + k);
      mean /= static_cast<double>(n);
    }
    double sq = 0;
    for (int64_t k = 0; k < n; ++k) {
      double d = x.getDouble(base + k) - mean;
      sq += d * d;
    }
    const double inv = 1.0 / std::sqrt(sq / static_cast<double>(n) + eps);
    for (int64_t k = 0; k < n; ++k) {
      double y = (x.getDouble(base + k) - mean) * inv;
      if (scale)
        y *= scale->getDouble(k);
      if (bias)
        y += bias->getDouble(k);
      storeRounded(out, base + k, y);
    }
  }
  return absl::OkStatus();
}

void addNorm(OpRegistry &r, std::string name, int maxOperands, bool centered,
             double defaultEps) {
  OpDef def;
  def.name = std::move(name);
  def.minOperands = 1;
  def.maxOperands = maxOperands;
  def.inferTypes = [](const Op &op, const Module &) { return inferNorm(op); };
  def.interpret = [centered,
                   defaultEps](const Op &op, std::span<const Tensor *const> in,
                               std::span<Tensor> out,
                               const InterpContext &) -> absl::Status {
    return normInto(op, centered, defaultEps, in, out[0]);
  };
  r.add(std::move(def));
}

// batch_norm(x, scale, bias, mean, var) {axis = 1, epsilon = 1e-5}: an
// inference-time affine map per channel (the index along `axis`); the four
// vectors have shape [x.shape[axis]] and x's dtype.
absl::StatusOr<int64_t> batchNormAxis(const Op &op) {
  NYX_ASSIGN_OR_RETURN(int64_t axis, op.getInt("axis", 1));
  return normalizeAxis(op, axis, op.operand(0)->type.rank());
}

absl::StatusOr<std::vector<TensorType>> inferBatchNorm(const Op &op) {
  NYX_RETURN_IF_ERROR(checkOpBasics(op, {"axis", "epsilon"}));
  NYX_RETURN_IF_ERROR(checkOperandDType(op, 0, DTypeClass::Float));
  NYX_RETURN_IF_ERROR(checkMinRank(op, 0, 1));
  NYX_ASSIGN_OR_RETURN(int64_t axis, batchNormAxis(op));
  NYX_RETURN_IF_ERROR(op.getFloat("epsilon", 1e-5).status());
  const TensorType &x = op.operand(0)->type;
  const Shape channels = {x.shape[axis]};
  static constexpr std::string_view kRoles[] = {"x", "scale", "bias", "mean",
                                                "var"};
  NYX_RETURN_IF_ERROR(
      checkSideOperands(op, kRoles, channels, strCat("x.shape[", axis, "]")));
  return std::vector<TensorType>{x};
}

// y = (x - mean[c]) * (scale[c] / sqrt(var[c] + epsilon)) + bias[c], where c
// is the element's index along `axis`.
absl::Status batchNormInto(const Op &op, std::span<const Tensor *const> in,
                           Tensor &out) {
  const Tensor &x = *in[0], &scale = *in[1], &bias = *in[2], &mean = *in[3],
               &var = *in[4];
  NYX_ASSIGN_OR_RETURN(int64_t axis, batchNormAxis(op));
  NYX_ASSIGN_OR_RETURN(double eps, op.getFloat("epsilon", 1e-5));
  const int64_t channels = x.shape()[axis];
  const int64_t inner = rowMajorStrides(x.shape())[axis];
  std::vector<double> factor(channels);
  for (int64_t c = 0; c < channels; ++c)
    factor[c] = scale.getDouble(c) / std::sqrt(var.getDouble(c) + eps);
  for (int64_t i = 0; i < x.numElements(); ++i) {
    const int64_t c = i / inner % channels;
    storeRounded(out, i,
                 (x.getDouble(i) - mean.getDouble(c)) * factor[c] +
                     bias.getDouble(c));
  }
  return absl::OkStatus();
}

void addBatchNorm(OpRegistry &r) {
  OpDef def;
  def.name = "batch_norm";
  def.minOperands = def.maxOperands = 5;
  def.inferTypes = [](const Op &op, const Module &) {
    return inferBatchNorm(op);
  };
  def.interpret = [](const Op &op, std::span<const Tensor *const> in,
                     std::span<Tensor> out,
                     const InterpContext &) -> absl::Status {
    return batchNormInto(op, in, out[0]);
  };
  r.add(std::move(def));
}

} // namespace

void registerNormalizationOps(OpRegistry &r) {
  addSoftmax(r, "softmax", /*logarithmic=*/false);
  addSoftmax(r, "log_softmax", /*logarithmic=*/true);
  addNorm(r, "layer_norm", 3, /*centered=*/true, 1e-5);
  addNorm(r, "rms_norm", 2, /*centered=*/false, 1e-6);
  r.setFusionKind({"softmax", "log_softmax", "layer_norm", "rms_norm"},
                  FusionKind::Normalization);
  addBatchNorm(r);
  // A per-channel affine map that fold-batchnorm removes where it follows a
  // conv2d or matmul; what is left runs as a kernel of its own.
  r.setFusionKind({"batch_norm"}, FusionKind::Other);
}

} // namespace nyx::ir
