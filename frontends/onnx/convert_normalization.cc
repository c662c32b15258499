// Converters of ONNX's normalizations (BatchNormalization,
// InstanceNormalization, LayerNormalization, MeanVarianceNormalization,
// LRN), of Softmax, LogSoftmax and Hardmax, and of the two inference-time
// simple ops Dropout and PRelu. Most map onto one IR op; the rest are small
// compositions of IR ops, described where they are built.
#include <algorithm>
#include <cstdint>
#include <string_view>
#include <vector>

#include "frontends/onnx/convert_helpers.h"
#include "frontends/onnx/converters.h"
#include "frontends/onnx/tensor_proto.h"
#include "ir/strings.h"

namespace nyx::onnx_import {
namespace {

using ir::DType;
using ir::Shape;
using ir::Value;

// ---- Normalizations ----

absl::Status convertBatchNormalization(NodeContext &n) {
  Value *x = n.input(0);
  if (!x)
    return n.status();
  if (n.opset() >= 14 && n.attrInt("training_mode", 0) != 0)
    return n.unsupported("training_mode = 1");
  // Before opset 7, is_test = 0 (the default) asks for training mode.
  if (n.opset() < 7 && n.attrInt("is_test", 0) == 0)
    return n.unsupported("is_test = 0 (training mode)");
  for (int i = 1; i < 5; ++i)
    if (n.hasOutput(i))
      return n.unsupported(
          "the training outputs (running and saved statistics)");
  if (!requireFloat(n, x))
    return n.status();
  if (x->type.rank() < 2)
    return n.fail(
        strCat("input 0 is ", x->type.str(), "; expected [N, C, ...]"));
  const double epsilon = n.attrFloat("epsilon", 1e-5);
  const DType dtype = x->type.dtype;
  // Opset 15 lets the statistics and the affine parameters have their own
  // float types.
  std::vector<Value *> params;
  for (int i = 1; i < 5; ++i)
    params.push_back(castTo(n, n.input(i), dtype));
  if (!n.status().ok())
    return n.status();
  // Opsets 7 and 8: spatial = 0 keeps one statistic per element of
  // x.shape[1:] instead of one per channel.
  if (n.opset() < 9 && n.attrInt("spatial", 1) == 0) {
    Value *scale = n.op(
        "mul",
        {params[0],
         n.op("rsqrt", {n.op("add", {params[3], n.scalarLike(epsilon, x)})})});
    Value *centered = n.op("sub", {x, params[2]});
    n.setOutput(0, n.op("add", {n.op("mul", {centered, scale}), params[1]}));
    return n.status();
  }
  const int64_t channels = x->type.shape[1];
  for (Value *&p : params) {
    if (p->type.numElements() != channels)
      return n.fail(strCat("a statistic or parameter is ", p->type.str(),
                           " for input ", x->type.str(), "; expected ",
                           channels, " elements (one per channel)"));
    p = reshape(n, p, {channels});
  }
  n.setOutput(0, n.op("batch_norm",
                      {x, params[0], params[1], params[2], params[3]},
                      {{"axis", 1}, {"epsilon", epsilon}}));
  return n.status();
}

// Per (n, c), normalized over the spatial axes: a layer_norm of [N, C, S]
// over S, then the per-channel scale and bias.
absl::Status convertInstanceNormalization(NodeContext &n) {
  Value *x = n.input(0);
  Value *scale = n.input(1);
  Value *bias = n.input(2);
  if (!x || !scale || !bias)
    return n.status();
  if (!requireFloat(n, x))
    return n.status();
  const Shape shape = x->type.shape;
  if (shape.size() < 3)
    return n.fail(
        strCat("input 0 is ", x->type.str(), "; expected [N, C, spatial...]"));
  const int64_t channels = shape[1];
  if (scale->type.numElements() != channels ||
      bias->type.numElements() != channels)
    return n.fail(strCat("scale is ", scale->type.str(), " and B is ",
                         bias->type.str(), "; expected ", channels,
                         " elements each"));
  Value *flat =
      reshape(n, x, {shape[0], channels, product(shape, 2, shape.size())});
  Value *norm = n.op("layer_norm", {flat},
                     {{"axis", -1}, {"epsilon", n.attrFloat("epsilon", 1e-5)}});
  Shape perChannel(shape.size() - 1, 1);
  perChannel[0] = channels;
  Value *y =
      n.op("mul", {reshape(n, norm, shape), reshape(n, scale, perChannel)});
  n.setOutput(0, n.op("add", {y, reshape(n, bias, perChannel)}));
  return n.status();
}

absl::Status convertLayerNormalization(NodeContext &n) {
  Value *x = n.input(0);
  Value *scale = n.input(1);
  if (!x || !scale)
    return n.status();
  Value *bias = n.hasInput(2) ? n.input(2) : nullptr;
  if (!requireFloat(n, x))
    return n.status();
  const int64_t rank = x->type.rank();
  const int64_t axis = n.axis(n.attrInt("axis", -1), rank);
  const double epsilon = n.attrFloat("epsilon", 1e-5);
  if (!n.status().ok())
    return n.status();
  if (rank == 0)
    return n.fail("input 0 is a scalar; expected rank >= 1");
  const Shape normShape(x->type.shape.begin() + axis, x->type.shape.end());
  auto fits = [&](const Value *p) {
    return !p || (p->type.shape == normShape && p->type.dtype == x->type.dtype);
  };
  Value *y;
  if (fits(scale) && fits(bias)) {
    std::vector<Value *> operands = {x, scale};
    if (bias)
      operands.push_back(bias);
    y = n.op("layer_norm", operands, {{"axis", axis}, {"epsilon", epsilon}});
  } else {
    // Scale and B broadcast like the spec's Mul and Add.
    y = n.op("layer_norm", {x}, {{"axis", axis}, {"epsilon", epsilon}});
    y = n.op("mul", {y, scale});
    if (bias)
      y = n.op("add", {y, bias});
    if (y && y->type != x->type)
      return n.fail(strCat("Scale and B give ", y->type.str(), " for X ",
                           x->type.str(), "; expected X's type"));
  }
  n.setOutput(0, y);
  if (!n.hasOutput(1) && !n.hasOutput(2))
    return n.status();
  // Mean and InvStdDev, in the stash type, with the normalized axes kept.
  const int64_t stashType = n.attrInt("stash_type", 1);
  auto stash = dtypeFromOnnx(static_cast<int32_t>(stashType));
  if (!stash.ok() || !ir::isFloat(*stash))
    return n.fail(strCat("attribute 'stash_type' is ", stashType,
                         "; expected a float type (1 for float)"));
  Value *xs = castTo(n, x, *stash);
  const std::vector<int64_t> axes = allAxesFrom(axis, rank);
  ir::Attrs reduceAttrs{{"axes", axes}, {"keepdims", true}};
  Value *mean = n.op("reduce_mean", {xs}, reduceAttrs);
  Value *d = n.op("sub", {xs, mean});
  Value *var = n.op("reduce_mean", {n.op("mul", {d, d})}, reduceAttrs);
  n.setOutput(1, mean);
  n.setOutput(2,
              n.op("rsqrt", {n.op("add", {var, n.scalarLike(epsilon, var)})}));
  return n.status();
}

// The spec's function: (x - E[x]) / (sqrt(E[x^2] - E[x]^2) + 1e-9).
absl::Status convertMeanVarianceNormalization(NodeContext &n) {
  Value *x = n.input(0);
  if (!x || !requireFloat(n, x))
    return n.status();
  const int64_t rank = x->type.rank();
  std::vector<int64_t> axes;
  for (int64_t a : n.attrInts("axes", {0, 2, 3})) {
    int64_t axis = n.axis(a, rank);
    if (std::find(axes.begin(), axes.end(), axis) != axes.end())
      return n.fail(strCat("attribute 'axes' names axis ", axis,
                           " twice; expected distinct axes"));
    axes.push_back(axis);
  }
  if (!n.status().ok())
    return n.status();
  ir::Attrs reduceAttrs{{"axes", axes}, {"keepdims", true}};
  Value *mean = n.op("reduce_mean", {x}, reduceAttrs);
  Value *meanOfSquares =
      n.op("reduce_mean", {n.op("mul", {x, x})}, reduceAttrs);
  Value *var = n.op("sub", {meanOfSquares, n.op("mul", {mean, mean})});
  Value *deviation = n.op("add", {n.op("sqrt", {var}), n.scalarLike(1e-9, x)});
  n.setOutput(0, n.op("div", {n.op("sub", {x, mean}), deviation}));
  return n.status();
}

// y = x / (bias + alpha / size * sum of x^2 over a window of channels)^beta.
// The window sum is an average pool over the channel axis of [N, 1, C, S]
// (count_include_pad, so it divides by size exactly).
absl::Status convertLRN(NodeContext &n) {
  Value *x = n.input(0);
  if (!x || !requireFloat(n, x))
    return n.status();
  if (!n.hasAttr("size"))
    return n.fail("attribute 'size' is missing; expected the window size");
  const int64_t size = n.attrInt("size", 1);
  if (size < 1)
    return n.fail(strCat("attribute 'size' is ", size, "; expected >= 1"));
  const Shape shape = x->type.shape;
  if (shape.size() < 2)
    return n.fail(
        strCat("input 0 is ", x->type.str(), "; expected [N, C, ...]"));
  const int64_t before = (size - 1) / 2, after = size - 1 - before;
  Value *squares =
      reshape(n, n.op("mul", {x, x}),
              {shape[0], 1, shape[1], product(shape, 2, shape.size())});
  Value *mean = n.op("avg_pool2d", {squares},
                     {{"kernel", {size, 1}},
                      {"strides", {1, 1}},
                      {"padding", {before, 0, after, 0}},
                      {"count_include_pad", true}});
  Value *scaled = n.op("mul", {reshape(n, mean, shape),
                               n.scalarLike(n.attrFloat("alpha", 1e-4), x)});
  Value *base =
      n.op("add", {scaled, n.scalarLike(n.attrFloat("bias", 1.0), x)});
  Value *denom =
      n.op("pow", {base, n.scalarLike(n.attrFloat("beta", 0.75), x)});
  n.setOutput(0, n.op("div", {x, denom}));
  return n.status();
}

// ---- Softmax, LogSoftmax, Hardmax ----

// One-hot of the first maximal element along `axis`.
Value *hardmax(NodeContext &n, Value *x, int64_t axis) {
  Value *index = n.op("argmax", {x}, {{"axis", axis}, {"keepdims", true}});
  Value *iota = iotaAlong(n, x->type.shape[axis], axis, x->type.rank());
  return castTo(n, n.op("eq", {index, iota}), x->type.dtype);
}

// Before opset 13 these ops flatten the input to 2-D at `axis` (default 1)
// and normalize each row; from 13 they normalize along `axis` (default -1).
absl::Status convertSoftmaxLike(NodeContext &n, std::string_view kind) {
  Value *x = n.input(0);
  if (!x || !requireFloat(n, x))
    return n.status();
  const int64_t rank = x->type.rank();
  if (rank == 0)
    return n.fail("input 0 is a scalar; expected rank >= 1");
  const bool flatten = n.opset() < 13;
  const int64_t axis = n.axis(n.attrInt("axis", flatten ? 1 : -1), rank);
  if (!n.status().ok())
    return n.status();
  auto apply = [&](Value *v, int64_t a) {
    if (kind == "hardmax")
      return hardmax(n, v, a);
    return n.op(kind, {v}, {{"axis", a}});
  };
  if (!flatten || axis == rank - 1) {
    n.setOutput(0, apply(x, axis));
    return n.status();
  }
  const Shape &shape = x->type.shape;
  Value *rows = reshape(
      n, x, {product(shape, 0, axis), product(shape, axis, shape.size())});
  n.setOutput(0, reshape(n, apply(rows, 1), shape));
  return n.status();
}

absl::Status convertSoftmax(NodeContext &n) {
  return convertSoftmaxLike(n, "softmax");
}
absl::Status convertLogSoftmax(NodeContext &n) {
  return convertSoftmaxLike(n, "log_softmax");
}
absl::Status convertHardmax(NodeContext &n) {
  return convertSoftmaxLike(n, "hardmax");
}

// ---- Dropout ----

// Inference: the identity, with a mask of all ones. Training mode is
// supported only where it is an identity too (ratio 0).
absl::Status convertDropout(NodeContext &n) {
  Value *x = n.input(0);
  if (!x)
    return n.status();
  // Before opset 7, is_test = 0 (the default) asks for a random mask.
  if (n.opset() < 7 && n.attrInt("is_test", 0) == 0 &&
      n.attrFloat("ratio", 0.5) != 0.0)
    return n.unsupported("is_test = 0 (a random mask)");
  // From opset 12 ratio and training_mode are inputs; a zero ratio is an
  // identity in either mode.
  const ir::Tensor *ratio = n.hasInput(1) ? n.constantInput(1) : nullptr;
  const bool zeroRatio =
      ratio && ratio->numElements() == 1 && ratio->getDouble(0) == 0.0;
  if (n.opset() >= 12 && n.hasInput(2) && !zeroRatio) {
    const ir::Tensor *training = n.requireConstant(2, "training_mode");
    if (!training)
      return n.status();
    if (training->numElements() != 1)
      return n.fail(strCat("training_mode is ", training->type().str(),
                           "; expected a scalar"));
    if (training->getInt(0) != 0)
      return n.unsupported("training_mode = true and a ratio other than 0 "
                           "(a random mask)");
  }
  n.setOutput(0, x);
  if (n.hasOutput(1)) {
    // The mask is bool from opset 10, of x's type before.
    ir::Tensor one(
        ir::TensorType{n.opset() >= 10 ? DType::Bool : x->type.dtype, {}});
    one.setDouble(0, 1);
    n.setOutput(1, n.op("broadcast_to", {n.constant(std::move(one))},
                        {{"shape", x->type.shape}}));
  }
  return n.status();
}

// ---- PRelu ----

absl::Status convertPRelu(NodeContext &n) {
  Value *x = n.input(0);
  Value *slope = n.input(1);
  if (!x || !slope)
    return n.status();
  // Before opset 7 a 1-D slope holds one value per channel (axis 1).
  const int64_t rank = x->type.rank();
  if (n.opset() < 7 && rank >= 2 && slope->type.rank() == 1 &&
      slope->type.shape[0] == x->type.shape[1]) {
    Shape perChannel(rank - 1, 1);
    perChannel[0] = x->type.shape[1];
    slope = reshape(n, slope, perChannel);
  }
  Value *negative = n.op("lt", {x, n.scalarLike(0, x)});
  Value *y = n.op("select", {negative, n.op("mul", {x, slope}), x});
  if (y && y->type.shape != x->type.shape)
    return n.fail(strCat("slope is ", slope->type.str(), " for X ",
                         x->type.str(),
                         "; expected a slope that broadcasts "
                         "to X's shape"));
  n.setOutput(0, y);
  return n.status();
}

constexpr ConverterEntry kTable[] = {
    {"BatchNormalization", convertBatchNormalization},
    {"Dropout", convertDropout},
    {"Hardmax", convertHardmax},
    {"InstanceNormalization", convertInstanceNormalization},
    {"LRN", convertLRN},
    {"LayerNormalization", convertLayerNormalization},
    {"LogSoftmax", convertLogSoftmax},
    {"MeanVarianceNormalization", convertMeanVarianceNormalization},
    {"PRelu", convertPRelu},
    {"Softmax", convertSoftmax},
};

} // namespace

std::span<const ConverterEntry> normalizationConverters() { return kTable; }

} // namespace nyx::onnx_import
