#include "stdlib/models.h"

#include "ir/status_macros.h"
#include "ir/strings.h"
#include "stdlib/layers.h"

namespace nyx::stdlib {

namespace {

absl::Status checkBatch(int64_t batch) {
  if (batch < 1)
    return absl::InvalidArgumentError(
        strCat("batch size ", batch, "; expected at least 1"));
  return absl::OkStatus();
}

} // namespace

absl::StatusOr<Model> mlp(int64_t batch) {
  NYX_RETURN_IF_ERROR(checkBatch(batch));
  ModelBuilder b("mlp");
  Value *h = b.input("x", {ir::DType::F32, {batch, 784}});
  h = relu(b, linear(b, h, 512, "fc1"));
  h = relu(b, linear(b, h, 512, "fc2"));
  b.ret({linear(b, h, 10, "fc3")});
  return b.finishModel();
}

absl::StatusOr<Model> resnet18(int64_t batch) {
  NYX_RETURN_IF_ERROR(checkBatch(batch));
  ModelBuilder b("resnet18");
  Value *y = b.input("x", {ir::DType::F32, {batch, 3, 224, 224}});
  y = conv2d(b, y, {64, 7, 2, 3}, "conv1");
  y = relu(b, batchNorm(b, y, "bn1"));
  y = maxPool2d(b, y, 3, 2, 1);
  const int64_t channels[] = {64, 128, 256, 512};
  for (int stage = 0; stage < 4; ++stage)
    for (int block = 0; block < 2; ++block) {
      int64_t stride = stage > 0 && block == 0 ? 2 : 1;
      y = basicBlock(b, y, channels[stage], stride,
                     strCat("layer", stage + 1, ".", block));
    }
  y = globalAvgPool(b, y);
  b.ret({linear(b, y, 1000, "fc")});
  return b.finishModel();
}

absl::StatusOr<Model> gpt2Block(const Gpt2BlockConfig &c) {
  NYX_RETURN_IF_ERROR(checkBatch(c.batch));
  ModelBuilder b("gpt2_block");
  Value *x = b.input("x", {ir::DType::F32, {c.batch, c.seq, c.dModel}});
  b.ret({transformerBlock(b, x, c.heads, c.hidden, "")});
  return b.finishModel();
}

std::vector<std::string_view> modelNames() {
  return {"mlp", "resnet18", "gpt2_block"};
}

absl::StatusOr<Model> buildModel(std::string_view name, int64_t batch) {
  if (name == "mlp")
    return mlp(batch);
  if (name == "resnet18")
    return resnet18(batch);
  if (name == "gpt2_block") {
    Gpt2BlockConfig config;
    config.batch = batch;
    return gpt2Block(config);
  }
  return absl::InvalidArgumentError(strCat("unknown model '", name,
                                           "'; expected one of ",
                                           strJoin(modelNames(), ", ")));
}

} // namespace nyx::stdlib
