// Compiled batch_norm against the interpreter: every float dtype, the
// channel on every axis (innermost too, where the loop over channels is the
// contiguous one), sizes from 1 to a few thousand, epsilon, NaN and
// negative variances; the shape of the loop nest the lowering builds; the
// verifier's messages for malformed batch_norm ops; and models that
// fold-batchnorm rewrote, compiled and held to the interpreter of the
// original.
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "codegen/kernel/lowering.h"
#include "harness.h"
#include "ir/strings.h"
#include "passes/pass.h"

namespace nyx {
namespace {

using e2e::expectOpMatchesInterpreter;
using e2e::typeText;
using ir::DType;

constexpr DType kFloats[] = {DType::F32, DType::F64, DType::F16, DType::BF16};

// Inputs for batch_norm(x, scale, bias, mean, var): x, scale, bias and mean
// uniform in [-4, 4], var in [0.05, 4] unless `varMin` says otherwise.
std::vector<ir::Tensor> batchNormInputs(DType t, const ir::Shape &x,
                                        int64_t axis, uint64_t seed,
                                        double varMin = 0.05) {
  std::mt19937_64 rng(seed);
  e2e::HarnessOptions any, variance;
  variance.positive = true;
  variance.positiveMin = varMin;
  const ir::Shape channels = {x[axis < 0 ? axis + x.size() : axis]};
  std::vector<ir::Tensor> in = {e2e::randomTensor({t, x}, rng, any)};
  for (int i = 0; i < 3; ++i)
    in.push_back(e2e::randomTensor({t, channels}, rng, any));
  in.push_back(e2e::randomTensor({t, channels}, rng, variance));
  return in;
}

// batch_norm of x: shape over `axis` (the attribute left out when empty).
void expectBatchNorm(DType t, const ir::Shape &x, int64_t axis,
                     const std::string &attrs, e2e::HarnessOptions o = {}) {
  const int64_t a = axis < 0 ? axis + static_cast<int64_t>(x.size()) : axis;
  const std::string v = typeText(t, {x[a]});
  if (o.inputs.empty())
    o.inputs = batchNormInputs(t, x, axis, o.seed);
  expectOpMatchesInterpreter(strCat("%x: ", typeText(t, x), ", %g: ", v,
                                    ", %b: ", v, ", %m: ", v, ", %v: ", v),
                             strCat("batch_norm(%x, %g, %b, %m, %v)", attrs),
                             o);
}

TEST(BatchNorm, EveryFloatDTypeOverNCHW) {
  for (DType t : kFloats)
    for (const ir::Shape &x :
         std::vector<ir::Shape>{{1, 3, 1, 1}, {2, 3, 4, 5}, {2, 16, 7, 9}})
      expectBatchNorm(t, x, 1, "");
}

TEST(BatchNorm, ChannelsLastAsAfterAMatmul) {
  for (DType t : kFloats)
    for (int64_t n : {1, 3, 33, 2500})
      expectBatchNorm(t, {4, n}, -1, " {axis = -1}");
}

TEST(BatchNorm, EveryAxis) {
  for (int64_t axis : {0, 1, 2, 3, -1, -2, -3, -4})
    for (DType t : {DType::F32, DType::BF16})
      expectBatchNorm(t, {3, 4, 5, 6}, axis, strCat(" {axis = ", axis, "}"));
}

TEST(BatchNorm, RankOneAndLargeInnerExtent) {
  expectBatchNorm(DType::F32, {17}, 0, " {axis = 0}");
  expectBatchNorm(DType::F64, {1, 5}, 1, "");
  expectBatchNorm(DType::F32, {1, 4, 50, 50}, 1, "");
}

TEST(BatchNorm, EpsilonAttribute) {
  // Variances near zero: epsilon decides the scale.
  for (const char *eps : {"0.5", "1e-3", "1"}) {
    e2e::HarnessOptions o;
    o.inputs = batchNormInputs(DType::F32, {2, 3, 4}, 1, 3, 0.0);
    for (int c = 0; c < 3; ++c)
      o.inputs[4].setDouble(c, 1e-7 * c);
    expectBatchNorm(DType::F32, {2, 3, 4}, 1, strCat(" {epsilon = ", eps, "}"),
                    o);
  }
}

TEST(BatchNorm, NaNStaysInItsElementAndNegativeVarianceGivesNaN) {
  e2e::HarnessOptions o;
  o.inputs = batchNormInputs(DType::F32, {2, 3, 5}, 1, 4);
  o.inputs[0].setDouble(7, NAN);
  o.inputs[4].setDouble(2, -1.0); // channel 2: sqrt of a negative number
  expectBatchNorm(DType::F32, {2, 3, 5}, 1, "", o);
}

// The lowered kernel of a one-op module.
std::string loweredKernel(const std::string &text) {
  auto parsed = ir::parseModule(text, "t.nyx");
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  if (!parsed.ok())
    return "";
  const ir::Op &op = *(*parsed)->functions[0]->ops[0];
  auto kernel = (*kernel::lookupLowering("batch_norm"))(op, "k");
  EXPECT_TRUE(kernel.ok()) << kernel.status().message();
  return kernel.ok() ? kernel::print(*kernel) : "";
}

TEST(BatchNormLowering, ChannelFactorIsHoistedOutOfTheContiguousLoop) {
  std::string k = loweredKernel(R"(
func @main(%x: f32[2,3,4,5], %g: f32[3], %b: f32[3], %m: f32[3], %v: f32[3]) -> (f32[2,3,4,5]) {
  %y = batch_norm(%x, %g, %b, %m, %v) {epsilon = 0.001} : f32[2,3,4,5]
  return %y
})");
  // A parallel loop over the outer axis, one over channels, then the
  // contiguous inner loop over H*W = 20 elements.
  EXPECT_NE(k.find("parallel for bn0"), std::string::npos) << k;
  EXPECT_NE(k.find("in 0..20"), std::string::npos) << k;
  const size_t factor = k.find("factor"), inner = k.find("in 0..20");
  EXPECT_LT(factor, inner) << k;
  EXPECT_NE(k.find("sqrt"), std::string::npos) << k;
  EXPECT_NE(k.find("0.001"), std::string::npos) << k;
}

TEST(BatchNormLowering, ChannelsLastLoopsOverChannelsInnermost) {
  std::string k = loweredKernel(R"(
func @main(%x: f16[8,6], %g: f16[6], %b: f16[6], %m: f16[6], %v: f16[6]) -> (f16[8,6]) {
  %y = batch_norm(%x, %g, %b, %m, %v) {axis = -1} : f16[8,6]
  return %y
})");
  EXPECT_NE(k.find("parallel for bn0"), std::string::npos) << k;
  EXPECT_NE(k.find("in 0..6"), std::string::npos) << k;
  // No loop of its own for a unit inner extent.
  EXPECT_EQ(k.find("for j"), std::string::npos) << k;
  EXPECT_NE(k.find(":f32"), std::string::npos) << k; // f16 computes in f32
}

// The message parsing `op` with `params` reports ("" when it parses).
std::string parseError(const std::string &params, const std::string &op) {
  auto parsed =
      ir::parseModule(strCat("func @main(", params, ") -> () {\n  %y = ", op,
                             "\n  return\n}\n"),
                      "t.nyx");
  return parsed.ok() ? "" : std::string(parsed.status().message());
}

TEST(BatchNormVerifier, NamesWhatIsWrongAndWhatWasExpected) {
  const struct {
    const char *params, *op, *message;
  } cases[] = {
      {"%x: f32[2,3], %v: f32[2]", "batch_norm(%x, %v, %v, %v, %v) : f32[2,3]",
       "'batch_norm' scale has shape [2]; expected [3] (x.shape[1])"},
      {"%x: f32[2,3], %v: f32[3], %w: f64[3]",
       "batch_norm(%x, %v, %v, %v, %w) : f32[2,3]",
       "'batch_norm' var has dtype f64; expected f32 (the dtype of x)"},
      {"%x: f32[2,3], %v: f32[3]", "batch_norm(%x, %v, %v, %v) : f32[2,3]",
       "'batch_norm' takes 5 operands; found 4"},
      {"%x: f32[2,3], %v: f32[3]",
       "batch_norm(%x, %v, %v, %v, %v) {axis = 2} : f32[2,3]",
       "'batch_norm' axis 2 is out of range for rank 2"},
      {"%x: f32[2,3], %v: f32[3]",
       "batch_norm(%x, %v, %v, %v, %v) {momentum = 0.9} : f32[2,3]",
       "'batch_norm' has no attribute 'momentum'; it takes: axis, epsilon"},
      {"%x: i32[2,3], %v: i32[3]", "batch_norm(%x, %v, %v, %v, %v) : i32[2,3]",
       "'batch_norm' operand 0 has dtype i32; expected a float dtype"},
      {"%x: f32[], %v: f32[1]", "batch_norm(%x, %v, %v, %v, %v) : f32[]",
       "'batch_norm' operand 0 has rank 0; expected rank >= 1"},
  };
  for (const auto &c : cases) {
    std::string message = parseError(c.params, c.op);
    EXPECT_NE(message.find(c.message), std::string::npos)
        << c.op << "\n  reported: " << message;
  }
  EXPECT_EQ(parseError("%x: f32[2,3,4], %v: f32[3]",
                       "batch_norm(%x, %v, %v, %v, %v) {axis = -2, epsilon = "
                       "0.1} : f32[2,3,4]"),
            "");
}

// Folds `text` with fold-batchnorm, compiles the result and expects it to
// compute what the interpreter computes for the original module, on random
// inputs and weights (variances, the params named *var, positive).
void expectFoldedMatchesOriginal(const std::string &text, int64_t folds) {
  auto original = ir::parseModule(text, "t.nyx");
  auto folded = ir::parseModule(text, "t.nyx");
  ASSERT_TRUE(original.ok() && folded.ok()) << original.status().message();
  passes::Statistics stats;
  passes::Options options;
  options.stats = &stats;
  ASSERT_TRUE(passes::runFoldBatchNorm(**folded, options).ok());
  EXPECT_EQ(stats.values().at("fold-batchnorm.folded"), folds);

  std::mt19937_64 rng(11);
  e2e::HarnessOptions any, variance;
  variance.positive = true;
  ir::WeightMap weights;
  for (const ir::Param &p : (*original)->params)
    weights.emplace(
        p.name, e2e::randomTensor(p.type, rng,
                                  p.name.ends_with("var") ? variance : any));
  const ir::Function &fn = **(*original)->entry();
  std::vector<ir::Tensor> inputs;
  for (const ir::Value *p : fn.params)
    inputs.push_back(e2e::randomTensor(p->type, rng, any));
  auto want = ir::Interpreter(**original, &weights).run(fn, inputs);
  ASSERT_TRUE(want.ok()) << want.status().message();

  codegen::Options copts;
  copts.modelName = "nyx_test";
  auto model =
      e2e::LoadedModel::build(**folded, **(*folded)->entry(), weights, copts);
  ASSERT_TRUE(model);
  std::vector<ir::Tensor> got;
  for (const ir::TensorType &t : fn.resultTypes)
    got.emplace_back(t);
  ASSERT_EQ(model->run(inputs, got), 0);
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_TRUE(e2e::tensorsMatch(got[i], (*want)[i], 1e-4, 1e-4))
        << "output " << i << "\nkernels:\n"
        << model->compiled().kernels();
}

TEST(FoldedBatchNorm, ConvAndMatmulModelCompiles) {
  expectFoldedMatchesOriginal(R"(
param @conv.w : f32[8,3,3,3]
param @bn.scale : f32[8]
param @bn.bias : f32[8]
param @bn.mean : f32[8]
param @bn.var : f32[8]
param @fc.w : f32[10,128]
param @fc.k : f32[10]
param @fc.t : f32[10]
func @main(%x: f32[2,3,6,6]) -> (f32[2,10]) {
  %w = param() {name = @conv.w} : f32[8,3,3,3]
  %g = param() {name = @bn.scale} : f32[8]
  %b = param() {name = @bn.bias} : f32[8]
  %m = param() {name = @bn.mean} : f32[8]
  %v = param() {name = @bn.var} : f32[8]
  %fw = param() {name = @fc.w} : f32[10,128]
  %k = param() {name = @fc.k} : f32[10]
  %t = param() {name = @fc.t} : f32[10]
  %c = conv2d(%x, %w) {padding = [1, 1, 1, 1], strides = [2, 2]} : f32[2,8,3,3]
  %n = batch_norm(%c, %g, %b, %m, %v) : f32[2,8,3,3]
  %r = relu(%n) : f32[2,8,3,3]
  %p = max_pool2d(%r) {kernel = [2, 2], strides = [1, 1]} : f32[2,8,2,2]
  %f = reshape(%p) {shape = [2, 32]} : f32[2,32]
  %f4 = concat(%f, %f, %f, %f) {axis = 1} : f32[2,128]
  %h = matmul(%f4, %fw) {transpose_b = true} : f32[2,10]
  %s = mul(%h, %k) : f32[2,10]
  %y = add(%s, %t) : f32[2,10]
  return %y
})",
                              3);
}

} // namespace
} // namespace nyx
