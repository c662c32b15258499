// The benchmark models (stdlib/models.h, at small sizes) compiled for every
// GPU architecture through the standard pipeline: fused kernels, the
// memory plan, PTX assembled by ptxas. Where a GPU is found, each runs
// against the interpreter; everywhere, the same kernels in GPU form run on
// the CPU against it. Also a
// custom_cuda kernel between generated ones, against values computed here.
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "compiler/compilation.h"
#include "harness.h"
#include "ir/printer.h"
#include "stdlib/model_builder.h"
#include "stdlib/models.h"

namespace nyx {
namespace {

// The CUDA toolkit's root, as nyxc finds it.
std::string toolkit() {
  const char *env = std::getenv("NYX_CUDA_PATH");
  return env && *env ? env : "/usr/local/cuda";
}

// Options of a model run: the GPU pipeline (no autotune), the model's own
// weight scales, inputs in [-1, 1].
e2e::HarnessOptions modelOptions(const stdlib::Model &model,
                                 const std::string &target, double atol) {
  e2e::HarnessOptions o;
  o.target = target;
  o.pipeline = compiler::standardPipeline(2, "cuda-sm90");
  o.weights = stdlib::randomWeights(model, 7);
  o.minValue = -1;
  o.maxValue = 1;
  o.atol = atol;
  o.rtol = 1e-4;
  return o;
}

// The model through the GPU pipeline (fused kernels included) with every
// kernel in its GPU form, each launch's threads run in order on the CPU,
// against the interpreter: the thread mapping checked without a GPU.
void checkEmulated(const stdlib::Model &model, double atol) {
  e2e::HarnessOptions o = modelOptions(model, "host", atol);
  o.emulateGpu = true;
  e2e::expectCompiledMatchesInterpreter(ir::printModule(*model.module), o);
}

void checkModel(const stdlib::Model &model, double atol) {
  if (!std::filesystem::exists(toolkit() + "/nvvm/libdevice/libdevice.10.bc"))
    GTEST_SKIP() << "no libdevice under " << toolkit();
  for (const char *target : {"cuda-sm80", "cuda-sm90", "cuda-sm90a"}) {
    SCOPED_TRACE(target);
    e2e::expectCompiledMatchesInterpreter(ir::printModule(*model.module),
                                          modelOptions(model, target, atol));
  }
}

TEST(CudaModels, Mlp) {
  auto model = stdlib::mlp(4);
  ASSERT_TRUE(model.ok()) << model.status().message();
  checkEmulated(*model, 1e-4);
  checkModel(*model, 1e-4);
}

TEST(CudaModels, Gpt2Block) {
  stdlib::Gpt2BlockConfig config;
  config.seq = 16;
  config.dModel = 64;
  config.heads = 4;
  config.hidden = 256;
  auto model = stdlib::gpt2Block(config);
  ASSERT_TRUE(model.ok()) << model.status().message();
  checkEmulated(*model, 1e-4);
  checkModel(*model, 1e-4);
}

TEST(CudaModels, CustomKernelBetweenGeneratedOnes) {
  if (!std::filesystem::exists(toolkit() + "/lib64/libnvrtc.so"))
    GTEST_SKIP() << "no NVRTC under " << toolkit() << " for custom_cuda";
  auto module = ir::parseModule(R"(module @custom
func @main(%x: f32[1000]) -> (f32[1000]) {
  %s = custom_cuda(%x) {source = "extern \"C\" __global__ void twice(const float *x, float *y) { int i = blockIdx.x * blockDim.x + threadIdx.x; if (i < 1000) y[i] = 2.0f * x[i]; }", kernel = "twice", grid = 4, block = 256, shape = [1000], dtype = f32}
  %t = tanh(%s)
  return %t
}
)",
                                "custom.nyx");
  ASSERT_TRUE(module.ok()) << module.status().message();
  auto entry = (*module)->entry();
  ASSERT_TRUE(entry.ok());
  std::vector<std::unique_ptr<e2e::LoadedModel>> models;
  for (const char *target : {"cuda-sm80", "cuda-sm90"}) {
    codegen::Options o;
    o.modelName = "custom";
    o.target = target;
    ir::WeightMap none;
    models.push_back(e2e::LoadedModel::build(**module, **entry, none, o));
    ASSERT_TRUE(models.back()) << target;
  }
  if (nyx_cuda_init() != NYX_OK)
    GTEST_SKIP() << "compiled only; no GPU to run on: " << nyx_last_error();
  std::mt19937_64 rng(3);
  std::vector<ir::Tensor> inputs = {
      e2e::randomTensor((*entry)->params[0]->type, rng, {})};
  for (const auto &model : models) {
    std::vector<ir::Tensor> outputs = {ir::Tensor((*entry)->resultTypes[0])};
    ASSERT_EQ(model->run(inputs, outputs), NYX_OK) << nyx_last_error();
    for (int64_t i = 0; i < 1000; ++i)
      EXPECT_NEAR(outputs[0].getDouble(i),
                  std::tanh(2.0f * static_cast<float>(inputs[0].getDouble(i))),
                  2e-7)
          << i;
  }
}

} // namespace
} // namespace nyx
