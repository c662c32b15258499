// fold-batchnorm: each folded module must compute what the original did
// (within float tolerance, since folding changes rounding), on random inputs
// and weights run through the interpreter; the chains that must not fold
// are left exactly as they were.
#include <random>
#include <string>

#include "ir/interpreter.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/strings.h"
#include "ir/verifier.h"
#include "passes/pass.h"
#include "tests/support/tensor_match.h"
#include "gtest/gtest.h"

namespace nyx::passes {
namespace {

int countOps(const ir::Function &fn, std::string_view name) {
  int n = 0;
  for (const auto &op : fn.ops)
    n += op->name() == name;
  return n;
}

// Random values: floats in [-2, 2], integers in [-50, 50]; a param whose
// name ends in "var" is a variance, in [0.1, 2].
ir::Tensor randomTensor(const ir::TensorType &type, std::mt19937_64 &rng,
                        bool variance = false) {
  ir::Tensor t(type);
  std::uniform_real_distribution<double> real(variance ? 0.1 : -2.0, 2.0);
  std::uniform_int_distribution<int64_t> integer(-50, 50);
  for (int64_t i = 0; i < t.numElements(); ++i) {
    if (ir::isFloat(type.dtype))
      t.setDouble(i, real(rng));
    else
      t.setInt(i, integer(rng));
  }
  return t;
}

struct Folded {
  std::unique_ptr<ir::Module> module;
  int64_t folded = -1;
  std::string before; // the module printed before the pass
};

// Parses `text`, runs the pass, checks that the result verifies and that
// @main computes what it did before, within `tol` (exactly for integers).
Folded foldAndCompare(const std::string &text, double tol = 1e-5) {
  Folded f;
  auto parsed = ir::parseModule(text, "t.nyx");
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  if (!parsed.ok())
    return f;
  f.module = std::move(*parsed);
  f.before = ir::printModule(*f.module);
  ir::Module &m = *f.module;
  const ir::Function &main = *m.lookupFunction("main");

  std::mt19937_64 rng(7);
  ir::WeightMap weights;
  for (const ir::Param &p : m.params)
    weights.emplace(p.name, randomTensor(p.type, rng, p.name.ends_with("var")));
  std::vector<ir::Tensor> inputs;
  for (const ir::Value *p : main.params)
    inputs.push_back(randomTensor(p->type, rng));
  auto want = ir::Interpreter(m, &weights).run(main, inputs);
  EXPECT_TRUE(want.ok()) << want.status().message();

  Statistics stats;
  Options options;
  options.stats = &stats;
  absl::Status s = runFoldBatchNorm(m, options);
  EXPECT_TRUE(s.ok()) << s.message();
  absl::Status valid = ir::verifyModule(m);
  EXPECT_TRUE(valid.ok()) << valid.message() << "\n" << ir::printModule(m);
  // The printed form must read back: new values got names of their own.
  EXPECT_TRUE(ir::parseModule(ir::printModule(m), "after.nyx").ok())
      << ir::printModule(m);
  auto it = stats.values().find("fold-batchnorm.folded");
  f.folded = it == stats.values().end() ? 0 : it->second;

  auto got = ir::Interpreter(m, &weights).run(main, inputs);
  EXPECT_TRUE(got.ok()) << got.status().message();
  if (want.ok() && got.ok()) {
    EXPECT_EQ(got->size(), want->size());
    for (size_t i = 0; i < got->size() && i < want->size(); ++i)
      EXPECT_TRUE(test::tensorsMatch((*got)[i], (*want)[i], tol, tol))
          << "result " << i << " of\n"
          << ir::printModule(m);
  }
  return f;
}

// True when `v` is computed from constants and params alone, so that
// const-fold can turn it into a constant when the weights are known.
bool fromWeightsOnly(const ir::Value *v) {
  if (!v->definingOp)
    return false;
  for (const ir::Value *operand : v->definingOp->operands)
    if (!fromWeightsOnly(operand))
      return false;
  return true;
}

// The op of @main that defines the returned value `i`.
const ir::Op &returned(const Folded &f, int i = 0) {
  return *f.module->lookupFunction("main")->returns[i]->definingOp;
}

TEST(FoldBatchNorm, ConvWithoutBiasGetsScaledWeightsAndABias) {
  Folded f = foldAndCompare(R"(
param @w : f32[4,3,3,3]
param @bn.scale : f32[4]
param @bn.bias : f32[4]
param @bn.mean : f32[4]
param @bn.var : f32[4]
func @main(%x: f32[2,3,6,6]) -> (f32[2,4,4,4]) {
  %w = param() {name = @w} : f32[4,3,3,3]
  %g = param() {name = @bn.scale} : f32[4]
  %b = param() {name = @bn.bias} : f32[4]
  %m = param() {name = @bn.mean} : f32[4]
  %v = param() {name = @bn.var} : f32[4]
  %c = conv2d(%x, %w) : f32[2,4,4,4]
  %y = batch_norm(%c, %g, %b, %m, %v) {epsilon = 0.001} : f32[2,4,4,4]
  return %y
})");
  ASSERT_TRUE(f.module);
  EXPECT_EQ(f.folded, 1);
  const ir::Function &main = *f.module->lookupFunction("main");
  EXPECT_EQ(countOps(main, "batch_norm"), 0);
  EXPECT_EQ(countOps(main, "conv2d"), 1);
  const ir::Op &conv = returned(f);
  ASSERT_EQ(conv.name(), "conv2d");
  ASSERT_EQ(conv.numOperands(), 3);
  EXPECT_EQ(conv.operand(0), main.params[0]);
  EXPECT_TRUE(fromWeightsOnly(conv.operand(1)));
  EXPECT_TRUE(fromWeightsOnly(conv.operand(2)));
  EXPECT_EQ(conv.result()->name, "y"); // the folded value keeps its name
}

TEST(FoldBatchNorm, ConvWithBiasGroupsStridesAndPadding) {
  Folded f = foldAndCompare(R"(
param @w : f32[6,2,3,3]
param @b : f32[6]
param @scale : f32[6]
param @shift : f32[6]
param @mean : f32[6]
param @var : f32[6]
func @main(%x: f32[1,4,7,7]) -> (f32[1,6,4,4]) {
  %w = param() {name = @w} : f32[6,2,3,3]
  %b = param() {name = @b} : f32[6]
  %g = param() {name = @scale} : f32[6]
  %s = param() {name = @shift} : f32[6]
  %m = param() {name = @mean} : f32[6]
  %v = param() {name = @var} : f32[6]
  %c = conv2d(%x, %w, %b) {groups = 2, strides = [2, 2], padding = [1, 1, 1, 1]} : f32[1,6,4,4]
  %y = batch_norm(%c, %g, %s, %m, %v) {axis = -3} : f32[1,6,4,4]
  return %y
})");
  ASSERT_TRUE(f.module);
  EXPECT_EQ(f.folded, 1);
  const ir::Op &conv = returned(f);
  ASSERT_EQ(conv.name(), "conv2d");
  EXPECT_EQ(conv.getInt("groups").value_or(0), 2);
  EXPECT_EQ(conv.getInts("strides").value_or(std::vector<int64_t>{}),
            (std::vector<int64_t>{2, 2}));
}

TEST(FoldBatchNorm, MatmulOverTheLastAxisBecomesMatmulPlusBias) {
  for (const char *transpose : {"false", "true"}) {
    SCOPED_TRACE(transpose);
    const bool t = std::string(transpose) == "true";
    const std::string w = t ? "f32[5,8]" : "f32[8,5]";
    Folded f = foldAndCompare(strCat(R"(
param @w : )",
                                     w, R"(
param @scale : f32[5]
param @bias : f32[5]
param @mean : f32[5]
param @var : f32[5]
func @main(%x: f32[2,3,8]) -> (f32[2,3,5]) {
  %w = param() {name = @w} : )",
                                     w, R"(
  %g = param() {name = @scale} : f32[5]
  %b = param() {name = @bias} : f32[5]
  %m = param() {name = @mean} : f32[5]
  %v = param() {name = @var} : f32[5]
  %h = matmul(%x, %w) {transpose_b = )",
                                     transpose, R"(} : f32[2,3,5]
  %y = batch_norm(%h, %g, %b, %m, %v) {axis = 2} : f32[2,3,5]
  return %y
})"));
    ASSERT_TRUE(f.module);
    EXPECT_EQ(f.folded, 1);
    const ir::Op &add = returned(f);
    ASSERT_EQ(add.name(), "add");
    const ir::Op *mm = add.operand(0)->definingOp;
    ASSERT_TRUE(mm);
    ASSERT_EQ(mm->name(), "matmul");
    EXPECT_EQ(mm->getBool("transpose_b").value_or(!t), t);
    EXPECT_TRUE(fromWeightsOnly(mm->operand(1)));
    EXPECT_TRUE(fromWeightsOnly(add.operand(1)));
  }
}

TEST(FoldBatchNorm, ScaleAndShiftChainsFoldIntoOneConv) {
  // mul by [M,1,1], add of [1,M,1,1] (as the left operand), sub of a
  // scalar constant, then batch_norm: one conv2d is left.
  Folded f = foldAndCompare(R"(
param @w : f32[3,2,1,1]
param @k : f32[3,1,1]
param @t : f32[1,3,1,1]
param @scale : f32[3]
param @mean : f32[3]
param @var : f32[3]
func @main(%x: f32[2,2,5,5]) -> (f32[2,3,5,5]) {
  %w = param() {name = @w} : f32[3,2,1,1]
  %k = param() {name = @k} : f32[3,1,1]
  %t = param() {name = @t} : f32[1,3,1,1]
  %g = param() {name = @scale} : f32[3]
  %m = param() {name = @mean} : f32[3]
  %v = param() {name = @var} : f32[3]
  %half = constant() {value = dense<0.5>} : f32[]
  %c = conv2d(%x, %w) : f32[2,3,5,5]
  %a = mul(%c, %k) : f32[2,3,5,5]
  %b = add(%t, %a) : f32[2,3,5,5]
  %d = sub(%b, %half) : f32[2,3,5,5]
  %y = batch_norm(%d, %g, %m, %m, %v) : f32[2,3,5,5]
  return %y
})");
  ASSERT_TRUE(f.module);
  EXPECT_EQ(f.folded, 4);
  const ir::Function &main = *f.module->lookupFunction("main");
  EXPECT_EQ(countOps(main, "batch_norm"), 0);
  const ir::Op &conv = returned(f);
  ASSERT_EQ(conv.name(), "conv2d");
  EXPECT_EQ(conv.operand(0), main.params[0]);
  EXPECT_TRUE(fromWeightsOnly(conv.operand(1)));
  EXPECT_TRUE(fromWeightsOnly(conv.operand(2)));
}

TEST(FoldBatchNorm, ShiftOnlyBecomesTheConvBias) {
  // No scale: the weights stay as they are; a scalar shift is broadcast
  // to the [M] bias.
  Folded f = foldAndCompare(R"(
param @w : f32[3,2,3,3]
func @main(%x: f32[1,2,5,5]) -> (f32[1,3,3,3]) {
  %w = param() {name = @w} : f32[3,2,3,3]
  %one = constant() {value = dense<1.0>} : f32[1]
  %c = conv2d(%x, %w) : f32[1,3,3,3]
  %y = add(%c, %one) : f32[1,3,3,3]
  return %y
})");
  ASSERT_TRUE(f.module);
  EXPECT_EQ(f.folded, 1);
  const ir::Op &conv = returned(f);
  ASSERT_EQ(conv.name(), "conv2d");
  ASSERT_EQ(conv.numOperands(), 3);
  EXPECT_EQ(conv.operand(1)->definingOp->name(), "param");
  EXPECT_EQ(conv.operand(2)->type.str(), "f32[3]");
}

TEST(FoldBatchNorm, MatmulScaleShiftAndBatchNormChain) {
  // matmul -> add(bias) -> mul(per-feature) -> batch_norm: one matmul and
  // one add are left.
  Folded f = foldAndCompare(R"(
param @w : f32[6,4]
param @b : f32[4]
param @k : f32[1,4]
param @scale : f32[4]
param @shift : f32[4]
param @mean : f32[4]
param @var : f32[4]
func @main(%x: f32[3,6]) -> (f32[3,4]) {
  %w = param() {name = @w} : f32[6,4]
  %b = param() {name = @b} : f32[4]
  %k = param() {name = @k} : f32[1,4]
  %g = param() {name = @scale} : f32[4]
  %s = param() {name = @shift} : f32[4]
  %m = param() {name = @mean} : f32[4]
  %v = param() {name = @var} : f32[4]
  %h = matmul(%x, %w) : f32[3,4]
  %hb = add(%h, %b) : f32[3,4]
  %hk = mul(%k, %hb) : f32[3,4]
  %y = batch_norm(%hk, %g, %s, %m, %v) {axis = -1} : f32[3,4]
  return %y
})");
  ASSERT_TRUE(f.module);
  EXPECT_EQ(f.folded, 3);
  const ir::Function &main = *f.module->lookupFunction("main");
  EXPECT_EQ(countOps(main, "matmul"), 1);
  EXPECT_EQ(countOps(main, "batch_norm"), 0);
  EXPECT_EQ(returned(f).name(), "add");
}

TEST(FoldBatchNorm, IntegerScaleAndShiftFoldExactly) {
  // Wrapping integer arithmetic distributes exactly: (x W) k + t equals
  // x (W k) + t bit for bit.
  Folded f = foldAndCompare(R"(
param @w : i32[5,3]
param @k : i32[3]
param @t : i32[3]
func @main(%x: i32[4,5]) -> (i32[4,3]) {
  %w = param() {name = @w} : i32[5,3]
  %k = param() {name = @k} : i32[3]
  %t = param() {name = @t} : i32[3]
  %h = matmul(%x, %w) : i32[4,3]
  %a = mul(%h, %k) : i32[4,3]
  %y = sub(%a, %t) : i32[4,3]
  return %y
})",
                            0);
  ASSERT_TRUE(f.module);
  EXPECT_EQ(f.folded, 2);
}

TEST(FoldBatchNorm, ConsecutiveLayersEachFold) {
  Folded f = foldAndCompare(R"(
param @w1 : f32[4,2,3,3]
param @w2 : f32[3,4,1,1]
param @g : f32[4]
param @var : f32[4]
param @g2 : f32[3]
param @var2 : f32[3]
func @main(%x: f32[1,2,6,6]) -> (f32[1,3,4,4]) {
  %w1 = param() {name = @w1} : f32[4,2,3,3]
  %w2 = param() {name = @w2} : f32[3,4,1,1]
  %g = param() {name = @g} : f32[4]
  %v = param() {name = @var} : f32[4]
  %g2 = param() {name = @g2} : f32[3]
  %v2 = param() {name = @var2} : f32[3]
  %c1 = conv2d(%x, %w1) {padding = [0, 0, 0, 0]} : f32[1,4,4,4]
  %n1 = batch_norm(%c1, %g, %g, %g, %v) : f32[1,4,4,4]
  %r1 = relu(%n1) : f32[1,4,4,4]
  %c2 = conv2d(%r1, %w2) : f32[1,3,4,4]
  %n2 = batch_norm(%c2, %g2, %g2, %g2, %v2) : f32[1,3,4,4]
  return %n2
})");
  ASSERT_TRUE(f.module);
  EXPECT_EQ(f.folded, 2);
  const ir::Function &main = *f.module->lookupFunction("main");
  EXPECT_EQ(countOps(main, "batch_norm"), 0);
  EXPECT_EQ(countOps(main, "conv2d"), 2);
}

TEST(FoldBatchNorm, ChainEndsAtAValueWithTwoUses) {
  // %n is returned and scaled: the batch_norm folds (%n keeps both of its
  // uses, now reading the conv), the mul after it does not.
  Folded f = foldAndCompare(R"(
param @w : f32[2,2,1,1]
param @g : f32[2]
param @var : f32[2]
param @k : f32[2,1,1]
func @main(%x: f32[1,2,3,3]) -> (f32[1,2,3,3], f32[1,2,3,3]) {
  %w = param() {name = @w} : f32[2,2,1,1]
  %g = param() {name = @g} : f32[2]
  %v = param() {name = @var} : f32[2]
  %k = param() {name = @k} : f32[2,1,1]
  %c = conv2d(%x, %w) : f32[1,2,3,3]
  %n = batch_norm(%c, %g, %g, %g, %v) : f32[1,2,3,3]
  %s = mul(%n, %k) : f32[1,2,3,3]
  return %n, %s
})");
  ASSERT_TRUE(f.module);
  EXPECT_EQ(f.folded, 1);
  const ir::Function &main = *f.module->lookupFunction("main");
  EXPECT_EQ(returned(f, 0).name(), "conv2d");
  EXPECT_EQ(returned(f, 1).name(), "mul");
  EXPECT_EQ(countOps(main, "batch_norm"), 0);
}

// Modules the pass must leave exactly as they were.
void expectUnchanged(const std::string &text) {
  Folded f = foldAndCompare(text);
  ASSERT_TRUE(f.module);
  EXPECT_EQ(f.folded, 0);
  EXPECT_EQ(ir::printModule(*f.module), f.before);
}

TEST(FoldBatchNorm, ContractionWithAnotherUserIsLeftAlone) {
  expectUnchanged(R"(
param @w : f32[2,2,1,1]
param @g : f32[2]
param @var : f32[2]
func @main(%x: f32[1,2,3,3]) -> (f32[1,2,3,3], f32[1,2,3,3]) {
  %w = param() {name = @w} : f32[2,2,1,1]
  %g = param() {name = @g} : f32[2]
  %v = param() {name = @var} : f32[2]
  %c = conv2d(%x, %w) : f32[1,2,3,3]
  %n = batch_norm(%c, %g, %g, %g, %v) : f32[1,2,3,3]
  return %c, %n
})");
}

TEST(FoldBatchNorm, NonChannelBroadcastIsLeftAlone) {
  // [3] broadcasts along the conv's width, [2,1] along a matmul's rows.
  expectUnchanged(R"(
param @w : f32[2,2,1,1]
param @k : f32[3]
func @main(%x: f32[1,2,3,3]) -> (f32[1,2,3,3]) {
  %w = param() {name = @w} : f32[2,2,1,1]
  %k = param() {name = @k} : f32[3]
  %c = conv2d(%x, %w) : f32[1,2,3,3]
  %y = mul(%c, %k) : f32[1,2,3,3]
  return %y
})");
  expectUnchanged(R"(
param @w : f32[4,3]
param @k : f32[2,1]
func @main(%x: f32[2,4]) -> (f32[2,3]) {
  %w = param() {name = @w} : f32[4,3]
  %k = param() {name = @k} : f32[2,1]
  %h = matmul(%x, %w) : f32[2,3]
  %y = mul(%h, %k) : f32[2,3]
  return %y
})");
}

TEST(FoldBatchNorm, BatchNormOverAnotherAxisIsLeftAlone) {
  expectUnchanged(R"(
param @w : f32[4,3]
param @g : f32[2]
param @var : f32[2]
func @main(%x: f32[2,4]) -> (f32[2,3]) {
  %w = param() {name = @w} : f32[4,3]
  %g = param() {name = @g} : f32[2]
  %v = param() {name = @var} : f32[2]
  %h = matmul(%x, %w) : f32[2,3]
  %y = batch_norm(%h, %g, %g, %g, %v) {axis = 0} : f32[2,3]
  return %y
})");
}

TEST(FoldBatchNorm, RunTimeVectorsAndWeightsAreLeftAlone) {
  // A scale that is an input, and weights that are an input: folding
  // would rescale the weights on every run.
  expectUnchanged(R"(
param @w : f32[2,2,1,1]
func @main(%x: f32[1,2,3,3], %k: f32[2,1,1]) -> (f32[1,2,3,3]) {
  %w = param() {name = @w} : f32[2,2,1,1]
  %c = conv2d(%x, %w) : f32[1,2,3,3]
  %y = mul(%c, %k) : f32[1,2,3,3]
  return %y
})");
  expectUnchanged(R"(
param @k : f32[3]
func @main(%x: f32[2,4], %w: f32[4,3]) -> (f32[2,3]) {
  %k = param() {name = @k} : f32[3]
  %h = matmul(%x, %w) : f32[2,3]
  %y = mul(%h, %k) : f32[2,3]
  return %y
})");
}

TEST(FoldBatchNorm, MatmulWithOneAddIsAlreadyFolded) {
  expectUnchanged(R"(
param @w : f32[4,3]
param @b : f32[3]
func @main(%x: f32[2,4]) -> (f32[2,3]) {
  %w = param() {name = @w} : f32[4,3]
  %b = param() {name = @b} : f32[3]
  %h = matmul(%x, %w) : f32[2,3]
  %y = add(%h, %b) : f32[2,3]
  return %y
})");
}

TEST(FoldBatchNorm, FoldsWithoutAStatisticsSink) {
  // Options without a Statistics sink: the pass still folds.
  auto m = ir::parseModule(R"(
param @w : f32[3,3]
param @k : f32[3]
func @main(%x: f32[2,3]) -> (f32[2,3]) {
  %w = param() {name = @w} : f32[3,3]
  %k = param() {name = @k} : f32[3]
  %h = matmul(%x, %w) : f32[2,3]
  %y = mul(%h, %k) : f32[2,3]
  return %y
})",
                           "t.nyx");
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_TRUE(runFoldBatchNorm(**m, {}).ok());
  const ir::Function &main = *(*m)->lookupFunction("main");
  EXPECT_EQ(main.returns[0]->definingOp->name(), "matmul");
}

} // namespace
} // namespace nyx::passes
