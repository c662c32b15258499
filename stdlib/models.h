// The benchmark models, built with the stdlib layers. Each takes one f32
// input %x and returns one f32 output, in function @main.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "stdlib/model_builder.h"

namespace nyx::stdlib {

// An MLP 784-512-512-10 with ReLU between the layers (fc1, fc2, fc3):
// x [batch, 784] -> logits [batch, 10]; 669,706 weights.
absl::StatusOr<Model> mlp(int64_t batch);

// ResNet-18 for inference, weights named as in torchvision (conv1, bn1,
// layer1.0.conv1, ..., fc; batch_norm with stored statistics):
// x [batch, 3, 224, 224] NCHW -> logits [batch, 1000]. 11,689,512 weights
// as PyTorch counts them, plus 9,600 running statistics.
absl::StatusOr<Model> resnet18(int64_t batch);

// One GPT-2-small transformer block (pre-norm, causal attention, GELU MLP),
// weights named as in Hugging Face's GPT-2 (ln_1, attn.c_attn, attn.c_proj,
// ln_2, mlp.c_fc, mlp.c_proj): x [batch, seq, dModel] -> [batch, seq,
// dModel]; 7,087,872 weights at the default sizes.
struct Gpt2BlockConfig {
  int64_t batch = 1;
  int64_t seq = 128;
  int64_t dModel = 768;
  int64_t heads = 12;
  int64_t hidden = 3072;
};
absl::StatusOr<Model> gpt2Block(const Gpt2BlockConfig &config = {});

// The models above by name, for tools: "mlp", "resnet18", "gpt2_block"
// (the batch applies to each; gpt2_block keeps the other defaults).
std::vector<std::string_view> modelNames();
absl::StatusOr<Model> buildModel(std::string_view name, int64_t batch);

} // namespace nyx::stdlib
