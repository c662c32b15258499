// Compiled training steps against the interpreter: a step of @train_step
// (forward, loss, gradients, optimizer update) compiled at -O2, with its
// parameters and optimizer state updated in place, must leave the same
// values in the caller's buffers as the interpreter computes.
#include "compiler/compilation.h"
#include "stdlib/training.h"
#include "tests/e2e/harness.h"

namespace nyx::e2e {
namespace {

constexpr const char *kMlp = R"(
module @mlp
param @fc1.weight : f32[12, 16]
param @fc1.bias : f32[16]
param @fc2.weight : f32[16, 5]
param @fc2.bias : f32[5]
func @main(%x: f32[6, 12]) -> (f32[6, 5]) {
  %w1 = param() {name = @fc1.weight} : f32[12, 16]
  %b1 = param() {name = @fc1.bias} : f32[16]
  %w2 = param() {name = @fc2.weight} : f32[16, 5]
  %b2 = param() {name = @fc2.bias} : f32[5]
  %h = matmul(%x, %w1) : f32[6, 16]
  %hb = add(%h, %b1) : f32[6, 16]
  %r = relu(%hb) : f32[6, 16]
  %o = matmul(%r, %w2) : f32[6, 5]
  %y = add(%o, %b2) : f32[6, 5]
  return %y
}
)";

// conv, pooling, layer_norm and gelu on the gradient's path.
constexpr const char *kCnn = R"(
module @cnn
param @conv.weight : f32[4, 1, 3, 3]
param @conv.bias : f32[4]
param @ln.weight : f32[16]
param @ln.bias : f32[16]
param @fc.weight : f32[16, 3]
func @main(%x: f32[2, 1, 6, 6]) -> (f32[2, 3]) {
  %w = param() {name = @conv.weight} : f32[4, 1, 3, 3]
  %b = param() {name = @conv.bias} : f32[4]
  %c = conv2d(%x, %w, %b) {padding = [1, 1, 1, 1]} : f32[2, 4, 6, 6]
  %a = gelu(%c) : f32[2, 4, 6, 6]
  %p = max_pool2d(%a) {kernel = [3, 3], strides = [3, 3]} : f32[2, 4, 2, 2]
  %f = reshape(%p) {shape = [2, 16]} : f32[2, 16]
  %g = param() {name = @ln.weight} : f32[16]
  %be = param() {name = @ln.bias} : f32[16]
  %n = layer_norm(%f, %g, %be) : f32[2, 16]
  %wf = param() {name = @fc.weight} : f32[16, 3]
  %y = matmul(%n, %wf) : f32[2, 3]
  return %y
}
)";

// One compiled step against one interpreted step, from the same random
// parameters, state and batch.
struct StepOptions {
  double clipNorm = 0;
  ir::DType compute = ir::DType::F32;
  double lossScale = 1;
  double rtol = 2e-4, atol = 2e-5;
  std::string remat = "none"; // compiler::trainingPipeline's setting
};

// One compiled step against the interpreter's; `after` (when given) gets
// the compiled step's inputs as it left them, then its loss.
void expectStepMatches(const char *model, std::string_view loss,
                       std::string_view optimizer, const StepOptions &so = {},
                       std::vector<ir::Tensor> *after = nullptr) {
  SCOPED_TRACE(strCat(loss, " + ", optimizer));
  auto parsed = ir::parseModule(model, "model.nyx");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  stdlib::TrainingOptions options;
  auto lossEntry = stdlib::losses::lossByName(loss);
  ASSERT_TRUE(lossEntry.ok());
  options.loss = *lossEntry;
  auto config = stdlib::optim::optimizerByName(optimizer);
  ASSERT_TRUE(config.ok());
  options.optimizer = *config;
  options.optimizer.clipNorm = so.clipNorm;
  options.computeType = so.compute;
  options.lossScale = so.lossScale;
  options.optimizer.weightDecay = 0.01;
  auto training =
      stdlib::buildTraining(**parsed, **(*parsed)->entry(), options);
  ASSERT_TRUE(training.ok()) << training.status().message();
  ir::Module &step = *training->trainStep;
  const ir::Function &fn = *step.lookupFunction("train_step");

  // Inputs: params and batch random, state small and positive (second
  // moments), the step counter 3, labels valid classes.
  std::mt19937_64 rng(7);
  HarnessOptions random;
  random.minValue = -1;
  random.maxValue = 1;
  size_t k = training->params.size();
  size_t states = k * stdlib::optim::stateNames(options.optimizer).size();
  std::vector<ir::Tensor> inputs;
  for (const ir::Value *p : fn.params) {
    ir::Tensor t = randomTensor(p->type, rng, random);
    size_t i = p->index;
    if (!ir::isFloat(p->type.dtype)) // class indices
      for (int64_t e = 0; e < t.numElements(); ++e)
        t.setInt(e, std::abs(t.getInt(e)) % 3);
    else if (p->name == "step")
      t.setDouble(0, 3);
    else if (p->name == "lr")
      t.setDouble(0, 0.05);
    else if (i >= k && i < k + states) // second moments must be >= 0
      for (int64_t e = 0; e < t.numElements(); ++e)
        t.setDouble(e, std::abs(t.getDouble(e)) * 0.01);
    inputs.push_back(std::move(t));
  }
  ir::Interpreter interpreter(step, nullptr);
  auto expected = interpreter.run(fn, inputs);
  ASSERT_TRUE(expected.ok()) << expected.status().message();

  compiler::CompileOptions o;
  absl::Status piped = compiler::runPipeline(
      o, step, "train_step", nullptr, compiler::trainingPipeline(2, so.remat));
  ASSERT_TRUE(piped.ok()) << piped.message();
  codegen::Options copts;
  copts.modelName = "nyx_step";
  copts.outputAliases = training->outputAliases;
  auto loaded =
      LoadedModel::build(step, *step.lookupFunction("train_step"), {}, copts);
  ASSERT_TRUE(loaded);
  std::vector<ir::Tensor> loss = {ir::Tensor(fn.resultTypes.back())};
  ASSERT_EQ(loaded->run(inputs, loss), 0);

  for (size_t j = 0; j + 1 < expected->size(); ++j) {
    int input = training->outputAliases[j];
    EXPECT_TRUE(tensorsMatch(inputs[input], (*expected)[j], so.rtol, so.atol))
        << "updated %" << fn.params[input]->name;
  }
  EXPECT_TRUE(tensorsMatch(loss[0], expected->back(), so.rtol, so.atol));
  if (after) {
    *after = inputs;
    after->push_back(loss[0]);
  }
}

TEST(TrainStep, MlpCrossEntropySgdMomentum) {
  expectStepMatches(kMlp, "cross-entropy", "sgd");
}
TEST(TrainStep, MlpAdamWithClipping) {
  expectStepMatches(kMlp, "cross-entropy", "adam", {.clipNorm = 0.5});
}
TEST(TrainStep, MlpMseAdamW) { expectStepMatches(kMlp, "mse", "adamw"); }
TEST(TrainStep, MlpLion) { expectStepMatches(kMlp, "huber", "lion"); }
TEST(TrainStep, MlpLamb) { expectStepMatches(kMlp, "cross-entropy", "lamb"); }
TEST(TrainStep, MlpRmspropAdagrad) {
  expectStepMatches(kMlp, "l1", "rmsprop");
  expectStepMatches(kMlp, "focal", "adagrad");
}
TEST(TrainStep, CnnAdam) { expectStepMatches(kCnn, "cross-entropy", "adam"); }

// Rematerialized steps compute the same values.
TEST(TrainStep, Rematerialized) {
  for (const char *remat : {"auto", "all"}) {
    SCOPED_TRACE(remat);
    expectStepMatches(kMlp, "cross-entropy", "sgd", {.remat = remat});
    expectStepMatches(kCnn, "cross-entropy", "adam", {.remat = remat});
  }
}

// bf16 compute rounds differently in compiled code (f32 then bf16) and the
// interpreter (f64 then bf16) once in a while: a bf16 ulp of tolerance.
TEST(TrainStep, MixedPrecisionBf16WithLossScaling) {
  expectStepMatches(kMlp, "cross-entropy", "adam",
                    {.compute = ir::DType::BF16,
                     .lossScale = 256,
                     .rtol = 1e-2,
                     .atol = 1e-3});
  expectStepMatches(
      kCnn, "cross-entropy", "sgd",
      {.compute = ir::DType::F16, .lossScale = 64, .rtol = 2e-2, .atol = 2e-3});
}

// A loss scale that makes the f16 gradients overflow skips the update:
// every parameter and state buffer keeps its value.
TEST(TrainStep, OverflowingStepLeavesEverythingUnchanged) {
  std::vector<ir::Tensor> fine, over;
  expectStepMatches(kMlp, "mse", "adam",
                    {.compute = ir::DType::F16, .rtol = 2e-2, .atol = 2e-3},
                    &fine);
  expectStepMatches(kMlp, "mse", "adam",
                    {.compute = ir::DType::F16,
                     .lossScale = 1e30,
                     .rtol = 2e-2,
                     .atol = 2e-3},
                    &over);
  ASSERT_EQ(fine.size(), over.size());
  ASSERT_FALSE(fine.empty());
  // Same random start (same seed), so "unchanged" is checked against a run
  // that did change the first parameter.
  std::mt19937_64 rng(7);
  HarnessOptions random;
  random.minValue = -1;
  random.maxValue = 1;
  ir::Tensor start =
      randomTensor(ir::TensorType{ir::DType::F32, {12, 16}}, rng, random);
  EXPECT_TRUE(over[0] == start);
  EXPECT_FALSE(fine[0] == start);
}

} // namespace
} // namespace nyx::e2e
