#include "stdlib/layers.h"

#include <cmath>
#include <limits>

#include "ir/strings.h"

namespace nyx::stdlib {

namespace {

const ir::Shape &shapeOf(const Value *v) { return v->type.shape; }

int64_t lastDim(const Value *v) { return shapeOf(v).back(); }

// Checks that `x` has rank `rank` (or at least `rank` when `orMore`); on a
// mismatch records "LAYER expects ...; found ..." and returns false.
bool checkRank(ModelBuilder &b, const Value *x, std::string_view layer,
               int64_t rank, bool orMore = false) {
  if (!b.ok())
    return false;
  int64_t r = x->type.rank();
  if (r == rank || (orMore && r > rank))
    return true;
  b.fail(strCat(layer, " expects an input of rank ", rank,
                orMore ? " or more" : "", "; found ", x->type.str()));
  return false;
}

} // namespace

Value *linear(ModelBuilder &b, Value *x, int64_t outFeatures,
              std::string_view name, bool bias) {
  if (!checkRank(b, x, "linear", 2, /*orMore=*/true))
    return nullptr;
  auto scope = b.scope(name);
  int64_t in = lastDim(x);
  Uniform init = Uniform::fanIn(in);
  Value *y = b.op("matmul", {x, b.weight("weight", {in, outFeatures}, init)});
  if (bias)
    y = b.op("add", {y, b.weight("bias", {outFeatures}, init)});
  return y;
}

Value *conv2d(ModelBuilder &b, Value *x, const Conv2dSpec &spec,
              std::string_view name, bool bias) {
  if (!checkRank(b, x, "conv2d", 4))
    return nullptr;
  auto scope = b.scope(name);
  int64_t in = shapeOf(x)[1];
  Uniform init = Uniform::fanIn(in * spec.kernel * spec.kernel);
  std::vector<Value *> operands = {
      x, b.weight("weight", {spec.outChannels, in, spec.kernel, spec.kernel},
                  init)};
  if (bias)
    operands.push_back(b.weight("bias", {spec.outChannels}, init));
  int64_t s = spec.stride, p = spec.padding;
  return b.op("conv2d", operands,
              {{"strides", {s, s}}, {"padding", {p, p, p, p}}});
}

Value *batchNorm(ModelBuilder &b, Value *x, std::string_view name) {
  if (!checkRank(b, x, "batch_norm", 2, /*orMore=*/true))
    return nullptr;
  auto scope = b.scope(name);
  int64_t c = shapeOf(x)[1];
  // Statistics near those of a trained network, so every channel is used.
  return b.op("batch_norm", {x, b.weight("weight", {c}, {0.8, 1.2}),
                             b.weight("bias", {c}, {-0.1, 0.1}),
                             b.weight("running_mean", {c}, {-0.1, 0.1}),
                             b.weight("running_var", {c}, {0.5, 1.5})});
}

Value *layerNorm(ModelBuilder &b, Value *x, std::string_view name,
                 double epsilon) {
  if (!checkRank(b, x, "layer_norm", 1, /*orMore=*/true))
    return nullptr;
  auto scope = b.scope(name);
  int64_t d = lastDim(x);
  return b.op("layer_norm",
              {x, b.weight("weight", {d}, {0.8, 1.2}),
               b.weight("bias", {d}, {-0.1, 0.1})},
              {{"axis", -1}, {"epsilon", epsilon}});
}

Value *relu(ModelBuilder &b, Value *x) { return b.op("relu", {x}); }

Value *gelu(ModelBuilder &b, Value *x, bool tanhApproximation) {
  return b.op("gelu", {x},
              {{"approximate", tanhApproximation ? "tanh" : "none"}});
}

Value *add(ModelBuilder &b, Value *x, Value *y) { return b.op("add", {x, y}); }

Value *maxPool2d(ModelBuilder &b, Value *x, int64_t kernel, int64_t stride,
                 int64_t padding) {
  int64_t p = padding;
  return b.op("max_pool2d", {x},
              {{"kernel", {kernel, kernel}},
               {"strides", {stride, stride}},
               {"padding", {p, p, p, p}}});
}

Value *globalAvgPool(ModelBuilder &b, Value *x) {
  if (!checkRank(b, x, "global average pooling", 4))
    return nullptr;
  const ir::Shape &s = shapeOf(x);
  Value *pooled = b.op("avg_pool2d", {x}, {{"kernel", {s[2], s[3]}}});
  return b.op("reshape", {pooled}, {{"shape", {s[0], s[1]}}});
}

Value *basicBlock(ModelBuilder &b, Value *x, int64_t outChannels,
                  int64_t stride, std::string_view name) {
  if (!checkRank(b, x, "basic block", 4))
    return nullptr;
  auto scope = b.scope(name);
  Value *y = conv2d(b, x, {outChannels, 3, stride, 1}, "conv1");
  y = relu(b, batchNorm(b, y, "bn1"));
  y = conv2d(b, y, {outChannels, 3, 1, 1}, "conv2");
  y = batchNorm(b, y, "bn2");
  Value *skip = x;
  if (stride != 1 || shapeOf(x)[1] != outChannels) {
    auto down = b.scope("downsample");
    skip = conv2d(b, x, {outChannels, 1, stride, 0}, "0");
    skip = batchNorm(b, skip, "1");
  }
  return relu(b, add(b, y, skip));
}

Value *causalMask(ModelBuilder &b, int64_t seq) {
  ir::Tensor mask(ir::TensorType{ir::DType::F32, {seq, seq}});
  float *m = mask.data<float>();
  for (int64_t i = 0; i < seq; ++i)
    for (int64_t j = 0; j < seq; ++j)
      m[i * seq + j] = j <= i ? 0.0f : -std::numeric_limits<float>::infinity();
  return b.constant(std::move(mask));
}

Value *causalSelfAttention(ModelBuilder &b, Value *x, int64_t heads,
                           std::string_view name) {
  if (!checkRank(b, x, "causal self-attention", 3))
    return nullptr;
  auto scope = b.scope(name);
  const int64_t batch = shapeOf(x)[0], seq = shapeOf(x)[1], d = shapeOf(x)[2];
  if (heads <= 0 || d % heads != 0) {
    b.fail(strCat("causal self-attention over width ", d, " with ", heads,
                  " heads; expected a positive head count dividing the "
                  "width"));
    return nullptr;
  }
  const int64_t dh = d / heads;
  Value *qkv = linear(b, x, 3 * d, "c_attn");
  // Part `i` of qkv as [B, heads, T, dh], axes then ordered by `perm`.
  auto headsOf = [&](int64_t i, std::vector<int64_t> perm) {
    Value *part =
        b.op("slice", {qkv},
             {{"starts", {i * d}}, {"ends", {(i + 1) * d}}, {"axes", {2}}});
    part = b.op("reshape", {part}, {{"shape", {batch, seq, heads, dh}}});
    return b.op("transpose", {part}, {{"perm", std::move(perm)}});
  };
  Value *q = headsOf(0, {0, 2, 1, 3}); // [B, H, T, dh]
  Value *k = headsOf(1, {0, 2, 3, 1}); // [B, H, dh, T]
  Value *v = headsOf(2, {0, 2, 1, 3}); // [B, H, T, dh]
  Value *scores = b.op("matmul", {q, k});
  scores = b.op("mul", {scores, b.scalar(1.0 / std::sqrt(double(dh)))});
  scores = b.op("add", {scores, causalMask(b, seq)});
  Value *probs = b.op("softmax", {scores}, {{"axis", -1}});
  Value *att = b.op("matmul", {probs, v}); // [B, H, T, dh]
  att = b.op("transpose", {att}, {{"perm", {0, 2, 1, 3}}});
  att = b.op("reshape", {att}, {{"shape", {batch, seq, d}}});
  return linear(b, att, d, "c_proj");
}

Value *transformerBlock(ModelBuilder &b, Value *x, int64_t heads,
                        int64_t hidden, std::string_view name) {
  if (!checkRank(b, x, "transformer block", 3))
    return nullptr;
  auto scope = b.scope(name);
  int64_t d = lastDim(x);
  Value *h =
      add(b, x, causalSelfAttention(b, layerNorm(b, x, "ln_1"), heads, "attn"));
  Value *m = layerNorm(b, h, "ln_2");
  auto mlp = b.scope("mlp");
  m = gelu(b, linear(b, m, hidden, "c_fc"));
  return add(b, h, linear(b, m, d, "c_proj"));
}

} // namespace nyx::stdlib
