// The remat and remat-all passes. On training steps (stdlib/training.h) the
// arena the memory plan needs must not grow, and must shrink for an MLP,
// whose relu outputs the weight gradients read; the function must compute
// bit for bit what it did. On random graphs: results bit for bit, the most
// bytes live at once never more, each op copied at most once.
#include <iostream>
#include <random>

#include "ir/interpreter.h"
#include "ir/op_registry.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/strings.h"
#include "passes/pass_manager.h"
#include "stdlib/training.h"
#include "gtest/gtest.h"

namespace nyx {
namespace {

using ir::DType;
using ir::TensorType;

constexpr const char *kMlp = R"(
module @mlp
param @fc1.weight : f32[784, 512]
param @fc1.bias : f32[512]
param @fc2.weight : f32[512, 512]
param @fc2.bias : f32[512]
param @fc3.weight : f32[512, 10]
param @fc3.bias : f32[10]
func @main(%x: f32[32, 784]) -> (f32[32, 10]) {
  %w1 = param() {name = @fc1.weight} : f32[784, 512]
  %b1 = param() {name = @fc1.bias} : f32[512]
  %w2 = param() {name = @fc2.weight} : f32[512, 512]
  %b2 = param() {name = @fc2.bias} : f32[512]
  %w3 = param() {name = @fc3.weight} : f32[512, 10]
  %b3 = param() {name = @fc3.bias} : f32[10]
  %h1 = matmul(%x, %w1) : f32[32, 512]
  %a1 = add(%h1, %b1) : f32[32, 512]
  %r1 = relu(%a1) : f32[32, 512]
  %h2 = matmul(%r1, %w2) : f32[32, 512]
  %a2 = add(%h2, %b2) : f32[32, 512]
  %r2 = relu(%a2) : f32[32, 512]
  %h3 = matmul(%r2, %w3) : f32[32, 10]
  %y = add(%h3, %b3) : f32[32, 10]
  return %y
}
)";

// Two conv/relu/pool stages and a classifier.
constexpr const char *kCnn = R"(
module @cnn
param @conv1.weight : f32[8, 1, 3, 3]
param @conv1.bias : f32[8]
param @conv2.weight : f32[16, 8, 3, 3]
param @conv2.bias : f32[16]
param @fc.weight : f32[784, 10]
param @fc.bias : f32[10]
func @main(%x: f32[16, 1, 28, 28]) -> (f32[16, 10]) {
  %w1 = param() {name = @conv1.weight} : f32[8, 1, 3, 3]
  %b1 = param() {name = @conv1.bias} : f32[8]
  %c1 = conv2d(%x, %w1, %b1) {padding = [1, 1, 1, 1]} : f32[16, 8, 28, 28]
  %r1 = relu(%c1) : f32[16, 8, 28, 28]
  %p1 = max_pool2d(%r1) {kernel = [2, 2], strides = [2, 2]} : f32[16, 8, 14, 14]
  %w2 = param() {name = @conv2.weight} : f32[16, 8, 3, 3]
  %b2 = param() {name = @conv2.bias} : f32[16]
  %c2 = conv2d(%p1, %w2, %b2) {padding = [1, 1, 1, 1]} : f32[16, 16, 14, 14]
  %r2 = relu(%c2) : f32[16, 16, 14, 14]
  %p2 = max_pool2d(%r2) {kernel = [2, 2], strides = [2, 2]} : f32[16, 16, 7, 7]
  %f = reshape(%p2) {shape = [16, 784]} : f32[16, 784]
  %wf = param() {name = @fc.weight} : f32[784, 10]
  %bf = param() {name = @fc.bias} : f32[10]
  %h = matmul(%f, %wf) : f32[16, 10]
  %y = add(%h, %bf) : f32[16, 10]
  return %y
}
)";

// The MLP at a size the interpreter runs quickly, for the results check.
constexpr const char *kSmallMlp = R"(
module @small
param @fc1.weight : f32[24, 16]
param @fc1.bias : f32[16]
param @fc2.weight : f32[16, 16]
param @fc2.bias : f32[16]
param @fc3.weight : f32[16, 5]
param @fc3.bias : f32[5]
func @main(%x: f32[6, 24]) -> (f32[6, 5]) {
  %w1 = param() {name = @fc1.weight} : f32[24, 16]
  %b1 = param() {name = @fc1.bias} : f32[16]
  %w2 = param() {name = @fc2.weight} : f32[16, 16]
  %b2 = param() {name = @fc2.bias} : f32[16]
  %w3 = param() {name = @fc3.weight} : f32[16, 5]
  %b3 = param() {name = @fc3.bias} : f32[5]
  %h1 = matmul(%x, %w1) : f32[6, 16]
  %a1 = add(%h1, %b1) : f32[6, 16]
  %r1 = relu(%a1) : f32[6, 16]
  %h2 = matmul(%r1, %w2) : f32[6, 16]
  %a2 = add(%h2, %b2) : f32[6, 16]
  %r2 = gelu(%a2) : f32[6, 16]
  %h3 = matmul(%r2, %w3) : f32[6, 5]
  %y = add(%h3, %b3) : f32[6, 5]
  return %y
}
)";

constexpr const char *kSimplify = "verify,shape-infer,inline,canonicalize,"
                                  "const-fold,canonicalize,cse,dce";

// The train step of `model`: cross-entropy and SGD.
std::unique_ptr<ir::Module> trainStep(const char *model) {
  auto parsed = ir::parseModule(model, "model.nyx");
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  if (!parsed.ok())
    return nullptr;
  stdlib::TrainingOptions options;
  auto loss = stdlib::losses::lossByName("cross-entropy");
  auto optimizer = stdlib::optim::optimizerByName("sgd");
  EXPECT_TRUE(loss.ok() && optimizer.ok());
  if (!loss.ok() || !optimizer.ok())
    return nullptr;
  options.loss = *loss;
  options.optimizer = *optimizer;
  auto training =
      stdlib::buildTraining(**parsed, **(*parsed)->entry(), options);
  EXPECT_TRUE(training.ok()) << training.status().message();
  if (!training.ok())
    return nullptr;
  return std::move(training->trainStep);
}

absl::Status runPipeline(ir::Module &m, const std::string &pipeline,
                         passes::Statistics &stats,
                         std::string_view entry = "train_step") {
  auto pm = passes::PassManager::parse(pipeline);
  if (!pm.ok())
    return pm.status();
  passes::Options options;
  options.entry = std::string(entry);
  options.stats = &stats;
  passes::Instrumentation inst;
  inst.verifyEach = true;
  return pm->run(m, options, inst);
}

struct Planned {
  int64_t arena = 0;
  int64_t lowerBound = 0;
  int64_t recomputed = 0;
};

// The arena memory-plan reports for the train step of `model` after
// `remat` ("" for none, "remat" or "remat-all") and fusion.
Planned planTrainStep(const char *model, std::string_view remat) {
  std::unique_ptr<ir::Module> m = trainStep(model);
  if (!m)
    return {};
  std::string pipeline = kSimplify;
  if (!remat.empty())
    pipeline = strCat(pipeline, ",", remat);
  pipeline += ",fuse,dce,memory-plan";
  passes::Statistics stats;
  absl::Status s = runPipeline(*m, pipeline, stats);
  EXPECT_TRUE(s.ok()) << s.message();
  const auto &values = stats.values();
  auto get = [&](const std::string &name) -> int64_t {
    auto it = values.find(name);
    return it == values.end() ? 0 : it->second;
  };
  return {get("memory-plan.arena-bytes"), get("memory-plan.lower-bound-bytes"),
          get(strCat(remat, ".recomputed"))};
}

struct Comparison {
  Planned none, autoRemat, all;
};

Comparison compareArenas(const char *model, std::string_view name) {
  Comparison c{planTrainStep(model, ""), planTrainStep(model, "remat"),
               planTrainStep(model, "remat-all")};
  std::cout << name << " train step arena bytes: none " << c.none.arena
            << ", remat " << c.autoRemat.arena << " (" << c.autoRemat.recomputed
            << " recomputed), remat-all " << c.all.arena << " ("
            << c.all.recomputed << " recomputed)\n";
  EXPECT_GT(c.none.arena, 0);
  EXPECT_LE(c.autoRemat.arena, c.none.arena);
  EXPECT_LE(c.all.arena, c.autoRemat.arena);
  EXPECT_LE(c.autoRemat.lowerBound, c.none.lowerBound);
  EXPECT_LE(c.all.lowerBound, c.autoRemat.lowerBound);
  return c;
}

TEST(RematTrainStep, MlpArenaShrinks) {
  Comparison c = compareArenas(kMlp, "MLP 784-512-512-10, batch 32");
  // The relu outputs the weight gradients read are recomputed from the
  // pre-activations the relu masks keep alive anyway.
  EXPECT_GT(c.autoRemat.recomputed, 0);
  EXPECT_LT(c.autoRemat.arena, c.none.arena);
}

TEST(RematTrainStep, CnnArenaDoesNotGrow) {
  Comparison c = compareArenas(kCnn, "CNN conv8-pool-conv16-pool-fc, batch 16");
  EXPECT_GT(c.autoRemat.recomputed, 0);
}

// Random inputs for `fn`: floats in [-1, 1], class indices in [0, classes).
std::vector<ir::Tensor> randomInputs(const ir::Function &fn, uint64_t seed,
                                     int64_t classes) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(-1, 1);
  std::vector<ir::Tensor> inputs;
  for (const ir::Value *p : fn.params) {
    ir::Tensor t(p->type);
    for (int64_t e = 0; e < t.numElements(); ++e) {
      if (ir::isFloat(p->type.dtype))
        t.setDouble(e, p->name == "lr" ? 0.05 : uniform(rng));
      else
        t.setInt(e, static_cast<int64_t>(rng() % classes));
    }
    inputs.push_back(std::move(t));
  }
  return inputs;
}

// Runs `fn` of `m` in the interpreter.
std::vector<ir::Tensor> interpret(const ir::Module &m, const ir::Function &fn,
                                  const std::vector<ir::Tensor> &inputs) {
  ir::Interpreter interpreter(m, nullptr);
  auto results = interpreter.run(fn, inputs);
  EXPECT_TRUE(results.ok()) << results.status().message();
  return results.ok() ? *results : std::vector<ir::Tensor>{};
}

// The function `entry` of `m` computes bit for bit the same results after
// `remat` as before it; returns the number of ops it copied.
int64_t expectSameResults(ir::Module &m, std::string_view entry,
                          std::string_view remat, int64_t classes) {
  SCOPED_TRACE(remat);
  const ir::Function &fn = *m.lookupFunction(entry);
  std::vector<ir::Tensor> inputs = randomInputs(fn, 11, classes);
  std::vector<ir::Tensor> before = interpret(m, fn, inputs);
  size_t opsBefore = fn.ops.size();

  passes::Statistics stats;
  absl::Status s = runPipeline(m, std::string(remat), stats, entry);
  EXPECT_TRUE(s.ok()) << s.message();
  int64_t recomputed = stats.values().count(strCat(remat, ".recomputed"))
                           ? stats.values().at(strCat(remat, ".recomputed"))
                           : 0;
  // Each op is copied at most once; moving adds none.
  EXPECT_EQ(fn.ops.size(), opsBefore + static_cast<size_t>(recomputed));
  EXPECT_LE(fn.ops.size(), 2 * opsBefore);

  std::vector<ir::Tensor> after = interpret(m, fn, inputs);
  EXPECT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size() && i < after.size(); ++i)
    EXPECT_TRUE(before[i] == after[i]) << "result " << i << " changed";
  return recomputed;
}

TEST(RematTrainStep, SameResultsMlp) {
  for (std::string_view remat : {"remat", "remat-all"}) {
    std::unique_ptr<ir::Module> m = trainStep(kSmallMlp);
    ASSERT_TRUE(m);
    passes::Statistics stats;
    ASSERT_TRUE(runPipeline(*m, kSimplify, stats).ok());
    EXPECT_GT(expectSameResults(*m, "train_step", remat, 5), 0);
  }
}

TEST(RematTrainStep, SameResultsCnn) {
  for (std::string_view remat : {"remat", "remat-all"}) {
    std::unique_ptr<ir::Module> m = trainStep(kCnn);
    ASSERT_TRUE(m);
    passes::Statistics stats;
    ASSERT_TRUE(runPipeline(*m, kSimplify, stats).ok());
    EXPECT_GT(expectSameResults(*m, "train_step", remat, 10), 0);
  }
}

// Appends `name(operands) {attrs}` with the result types its shape rule
// gives; null when the rule rejects them.
ir::Value *append(ir::Module &m, ir::Function &f, std::string_view name,
                  std::vector<ir::Value *> operands,
                  ir::Attributes attrs = {}) {
  const ir::OpDef *def = ir::lookupOp(name);
  ir::Op probe;
  probe.def = def;
  probe.operands = operands;
  probe.attrs = attrs;
  auto types = def->inferTypes(probe, m);
  if (!types.ok())
    return nullptr;
  return f.appendOp(def, std::move(operands), std::move(attrs), *types)
      ->result();
}

// A random function over f32[6, 6] values: elementwise ops, transposes,
// softmax, matmul and reductions broadcast back, each reading values drawn
// from all those made so far, so values are read far from where they are
// made; a few are returned.
std::unique_ptr<ir::Module> randomModule(uint64_t seed, int numOps) {
  std::mt19937_64 rng(seed);
  auto m = std::make_unique<ir::Module>();
  m->name = "random";
  ir::Function &f = *m->addFunction("main");
  TensorType type{DType::F32, {6, 6}};
  std::vector<ir::Value *> values = {f.addParam("x", type),
                                     f.addParam("y", type)};
  auto pick = [&]() {
    // Mostly recent values, sometimes old ones: long gaps in the reads.
    size_t n = values.size();
    size_t back = rng() % 4 == 0 ? rng() % n : rng() % std::min<size_t>(n, 3);
    return values[n - 1 - back];
  };
  const char *unary[] = {"neg", "relu", "exp", "tanh", "abs", "sin"};
  const char *binary[] = {"add", "mul", "sub", "max"};
  while (static_cast<int>(f.ops.size()) < numOps) {
    ir::Value *v = nullptr;
    switch (rng() % 7) {
    case 0:
    case 1:
      v = append(*m, f, unary[rng() % 6], {pick()});
      break;
    case 2:
    case 3:
      v = append(*m, f, binary[rng() % 4], {pick(), pick()});
      break;
    case 4:
      v = append(*m, f, "transpose", {pick()},
                 {{"perm", std::vector<int64_t>{1, 0}}});
      break;
    case 5:
      v = append(*m, f, rng() % 2 ? "softmax" : "matmul",
                 rng() % 2 ? std::vector<ir::Value *>{pick()}
                           : std::vector<ir::Value *>{pick(), pick()});
      break;
    default: {
      ir::Value *sum =
          append(*m, f, "reduce_sum", {pick()},
                 {{"axes", std::vector<int64_t>{1}}, {"keepdims", true}});
      v = sum ? append(*m, f, "mul", {pick(), sum}) : nullptr;
    }
    }
    if (v)
      values.push_back(v);
  }
  for (int i = 0; i < 3; ++i) {
    f.returns.push_back(pick());
    f.resultTypes.push_back(type);
  }
  return m;
}

TEST(RematRandom, SameResultsAndNoMoreLiveBytes) {
  int64_t recomputed = 0;
  for (uint64_t seed = 1; seed <= 100; ++seed)
    for (std::string_view remat : {"remat", "remat-all"}) {
      SCOPED_TRACE(strCat("seed ", seed));
      std::unique_ptr<ir::Module> m = randomModule(seed, 60);
      passes::Statistics stats;
      ASSERT_TRUE(
          runPipeline(*m, "verify,dce,memory-plan", stats, "main").ok());
      int64_t bound = stats.values().at("memory-plan.lower-bound-bytes");
      recomputed += expectSameResults(*m, "main", remat, 1);
      ASSERT_TRUE(runPipeline(*m, "memory-plan", stats, "main").ok());
      EXPECT_LE(stats.values().at("memory-plan.lower-bound-bytes"), bound)
          << ir::printModule(*m);
    }
  EXPECT_GT(recomputed, 0);
}

} // namespace
} // namespace nyx
