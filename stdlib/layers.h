// Neural-network layers built from IR ops. Each layer declares its weights
// under the name it is given (`linear(b, x, 512, "fc1")` declares
// `fc1.weight` and `fc1.bias`) inside the builder's current scope, and
// returns its output value. Like the builder, a layer returns null once the
// builder holds an error, so models read as straight-line code.
//
// Weight layouts and names follow PyTorch where the ops allow:
// conv2d weights are [out, in, kH, kW]; batch_norm uses `weight`, `bias`,
// `running_mean`, `running_var`; layer_norm uses `weight` and `bias`. Linear
// weights are [in, out] (y = x @ weight, the layout of GPT-2's Conv1D), the
// transpose of torch.nn.Linear.weight.
#pragma once

#include <cstdint>
#include <string_view>

#include "stdlib/model_builder.h"

namespace nyx::stdlib {

using ir::Value;

// y = x @ weight + bias over the last axis of x (any rank >= 2);
// weight [in, out], bias [out].
Value *linear(ModelBuilder &b, Value *x, int64_t outFeatures,
              std::string_view name, bool bias = true);

struct Conv2dSpec {
  int64_t outChannels = 0;
  int64_t kernel = 1; // square kH = kW
  int64_t stride = 1;
  int64_t padding = 0; // on all four sides
};

// conv2d of NCHW x with `name.weight` [out, C, k, k] (and `name.bias`).
Value *conv2d(ModelBuilder &b, Value *x, const Conv2dSpec &spec,
              std::string_view name, bool bias = false);
// Inference batch_norm over axis 1 with stored statistics.
Value *batchNorm(ModelBuilder &b, Value *x, std::string_view name);
// layer_norm over the last axis with `name.weight` and `name.bias`.
Value *layerNorm(ModelBuilder &b, Value *x, std::string_view name,
                 double epsilon = 1e-5);

Value *relu(ModelBuilder &b, Value *x);
// GELU; `tanhApproximation` picks GPT-2's tanh form over the exact erf one.
Value *gelu(ModelBuilder &b, Value *x, bool tanhApproximation = true);
Value *add(ModelBuilder &b, Value *x, Value *y);

Value *maxPool2d(ModelBuilder &b, Value *x, int64_t kernel, int64_t stride,
                 int64_t padding);
// Averages each channel of NCHW x over H and W: [N, C, H, W] -> [N, C].
Value *globalAvgPool(ModelBuilder &b, Value *x);

// ResNet's basic block: two 3x3 conv + batch_norm, the first with `stride`
// and ReLU, added to the input (through a 1x1 conv + batch_norm named
// `downsample.0`/`downsample.1` when the shape changes), then ReLU. Weights
// are named as in torchvision: `conv1`, `bn1`, `conv2`, `bn2`.
Value *basicBlock(ModelBuilder &b, Value *x, int64_t outChannels,
                  int64_t stride, std::string_view name);

// [T, T] with 0 on and below the diagonal and -inf above: added to attention
// scores, it lets position t see only positions <= t.
Value *causalMask(ModelBuilder &b, int64_t seq);

// Causal multi-head self-attention over x [B, T, D] as in GPT-2:
// `name.c_attn` projects to q, k, v ([D, 3D]); each head computes
// softmax(q k^T / sqrt(D / heads) + mask) v; `name.c_proj` projects the
// concatenated heads back to D.
Value *causalSelfAttention(ModelBuilder &b, Value *x, int64_t heads,
                           std::string_view name);

// A pre-norm transformer block as in GPT-2, over x [B, T, D]:
//   h = x + attn(ln_1(x));  y = h + c_proj(gelu(c_fc(ln_2(h))))
// with weights `ln_1`, `attn.c_attn`, `attn.c_proj`, `ln_2`, `mlp.c_fc`,
// `mlp.c_proj` under `name`.
Value *transformerBlock(ModelBuilder &b, Value *x, int64_t heads,
                        int64_t hidden, std::string_view name);

} // namespace nyx::stdlib
