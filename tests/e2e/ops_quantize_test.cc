// Compiled quantize, dequantize, requantize and fake_quantize against the
// interpreter, bit for bit: every float dtype, per tensor and per channel,
// sizes that run the vectorized loop and its scalar remainder, the edge values
// of docs/ops.md (ties, saturation, NaN, infinities), and a
// dequantize-compute-quantize chain fused into one kernel.
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "harness.h"
#include "ir/printer.h"
#include "ir/strings.h"

namespace nyx {
namespace {

using e2e::typeText;
using ir::DType;

constexpr DType kFloats[] = {DType::F32, DType::F64, DType::F16, DType::BF16};
constexpr int64_t kSizes[] = {1, 7, 33, 1000};

// Outputs equal bit for bit; integer inputs span i8 unless a test widens
// them.
e2e::HarnessOptions bitExact() {
  e2e::HarnessOptions o;
  o.bitExact = true;
  o.intMin = -128;
  o.intMax = 127;
  return o;
}

ir::Tensor filled(const ir::TensorType &type, const std::vector<double> &v) {
  ir::Tensor t(type);
  for (int64_t i = 0; i < t.numElements(); ++i)
    t.setDouble(i, v[i % v.size()]);
  return t;
}

TEST(Quantize, PerTensorAndPerChannel) {
  for (const char *op : {"quantize", "fake_quantize"})
    for (DType t : kFloats)
      for (int64_t n : kSizes) {
        // Quotients up to about 4 / 0.05 = 80 and beyond where the random
        // scale is nearer zero, so some saturate.
        e2e::HarnessOptions o = bitExact();
        const std::string call = strCat(op, "(%x, %s, %z)");
        e2e::expectOpMatchesInterpreter(strCat("%x: ", typeText(t, {n}),
                                               ", %s: ", typeText(t, {}),
                                               ", %z: i8[]"),
                                        call, o);
        e2e::expectOpMatchesInterpreter(strCat("%x: ", typeText(t, {3, n}),
                                               ", %s: ", typeText(t, {3, 1}),
                                               ", %z: i8[3,1]"),
                                        call, o);
      }
}

TEST(Quantize, EdgeValues) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const std::vector<double> edges = {
      0.375, 0.625, -0.125, -0.375, 31.875, -32.125, 31.625, -31.375,
      1e30,  -1e30, kInf,   -kInf,  NAN,    0.0,     -0.0,   0.35};
  for (DType t : kFloats) {
    const ir::TensorType x{t, {3, 33}}, s{t, {3, 1}}, z{DType::I8, {3, 1}};
    e2e::HarnessOptions o = bitExact();
    // Scale 0 makes x / 0 infinite and 0 / 0 NaN.
    o.inputs = {filled(x, edges), filled(s, {0.25, 0.1, 0}),
                filled(z, {0, -3, 5})};
    e2e::expectOpMatchesInterpreter(
        strCat("%x: ", x.str(), ", %s: ", s.str(), ", %z: ", z.str()),
        "quantize(%x, %s, %z)", o);
  }
}

TEST(Dequantize, EveryScaleTypeFromI8AndI32) {
  for (DType t : kFloats)
    for (DType q : {DType::I8, DType::I32})
      for (int64_t n : kSizes) {
        e2e::HarnessOptions o = bitExact();
        // i32 values wide enough that converting them rounds.
        o.intMin = q == DType::I8 ? -128 : -2147483647 - 1;
        o.intMax = q == DType::I8 ? 127 : 2147483647;
        e2e::expectOpMatchesInterpreter(strCat("%q: ", typeText(q, {2, n}),
                                               ", %s: ", typeText(t, {2, 1}),
                                               ", %z: ", typeText(q, {2, 1})),
                                        "dequantize(%q, %s, %z)", o);
      }
}

TEST(Requantize, WideAccumulators) {
  for (int64_t n : kSizes) {
    e2e::HarnessOptions o = bitExact();
    o.intMin = -2147483647 - 1;
    o.intMax = 2147483647;
    // Products up to about 2^31 * 2e-7 = 430: in range and saturating.
    o.minValue = -2e-7;
    o.maxValue = 2e-7;
    e2e::expectOpMatchesInterpreter(strCat("%a: ", typeText(DType::I32, {4, n}),
                                           ", %m: f32[4,1], %z: i8[4,1]"),
                                    "requantize(%a, %m, %z)", o);
  }
  // Ties of the product: 2.5, -1.5, 0.5, 3.5.
  e2e::HarnessOptions o = bitExact();
  o.inputs = {filled({DType::I32, {7}}, {5, -3, 1, 7, 1000, -1000, 0}),
              filled({DType::F32, {}}, {0.5}), filled({DType::I8, {}}, {-2})};
  e2e::expectOpMatchesInterpreter("%a: i32[7], %m: f32[], %z: i8[]",
                                  "requantize(%a, %m, %z)", o);
}

// dequantize -> add -> relu -> quantize is one loop kernel after `fuse`.
TEST(Quantize, FusedChain) {
  const std::string text =
      R"(func @main(%q: i8[4,50], %s: f32[4,1], %z: i8[4,1], %b: f32[4,50], %t: f32[], %u: i8[]) -> (i8[4,50]) {
  %x = dequantize(%q, %s, %z) : f32[4,50]
  %y = add(%x, %b) : f32[4,50]
  %r = relu(%y) : f32[4,50]
  %o = quantize(%r, %t, %u) : i8[4,50]
  return %o
}
)";
  e2e::HarnessOptions o = bitExact();
  o.pipeline = "verify,shape-infer,inline,fuse,dce";
  e2e::expectCompiledMatchesInterpreter(text, o);
  auto fused = e2e::parseWithPipeline(text, o.pipeline);
  ASSERT_TRUE(fused.ok()) << fused.status().message();
  int kernels = 0;
  for (const auto &fn : (*fused)->functions)
    kernels += fn->isKernel;
  EXPECT_EQ(kernels, 1);
}

// A quantized linear layer with asymmetric activations, as static
// quantization would emit it: activations quantized with a zero point, i8
// weights, the i32 product less the zero point's share (zx * column sums
// of w, a constant), dequantized per output column. After `fuse` the
// subtraction is the product's epilogue; dequantize, which changes the
// dtype, is a kernel of its own.
TEST(Quantize, LinearLayer) {
  const std::string text =
      R"(func @main(%x: f32[8,64], %w: i8[64,32], %sx: f32[], %zx: i8[], %comp: i32[32], %sy: f32[32]) -> (f32[8,32]) {
  %xq = quantize(%x, %sx, %zx) : i8[8,64]
  %acc = matmul(%xq, %w) : i32[8,32]
  %c = sub(%acc, %comp) : i32[8,32]
  %zero = constant() {value = dense<0>} : i32[]
  %y = dequantize(%c, %sy, %zero) : f32[8,32]
  return %y
}
)";
  e2e::HarnessOptions o = bitExact();
  for (const char *pipeline : {"", "verify,shape-infer,inline,fuse,dce"}) {
    o.pipeline = pipeline;
    e2e::expectCompiledMatchesInterpreter(text, o);
  }
}

// quantize-dynamic on a two-layer MLP with embedded weights, compiled,
// against the interpreter's f32 run of the module as written: the int8
// result stays within the quantization error. With inputs and weights in
// [-1, 1] the largest difference was 0.33 on outputs up to about 25; the
// test allows twice that.
TEST(QuantizeDynamic, MlpWithinTheQuantizationError) {
  const std::string text = R"(param @w1 : f32[128,64]
param @w2 : f32[64,10]
func @main(%x: f32[8,128]) -> (f32[8,10]) {
  %w1 = param() {name = @w1} : f32[128,64]
  %w2 = param() {name = @w2} : f32[64,10]
  %h = matmul(%x, %w1) : f32[8,64]
  %r = relu(%h) : f32[8,64]
  %y = matmul(%r, %w2) : f32[8,10]
  return %y
}
)";
  e2e::HarnessOptions o;
  o.minValue = -1;
  o.maxValue = 1;
  o.rtol = 0;
  o.atol = 0.6;
  o.pipeline = "verify,shape-infer,inline,quantize-dynamic,const-fold,dce,"
               "fuse,dce";
  std::mt19937_64 rng(7);
  o.weights.emplace("w1", e2e::randomTensor({DType::F32, {128, 64}}, rng, o));
  o.weights.emplace("w2", e2e::randomTensor({DType::F32, {64, 10}}, rng, o));
  e2e::expectCompiledMatchesInterpreter(text, o);
  // Both products became i8 x i8 -> i32.
  auto quantized = e2e::parseWithPipeline(text, o.pipeline, &o.weights);
  ASSERT_TRUE(quantized.ok()) << quantized.status().message();
  int i8Products = 0;
  for (const auto &fn : (*quantized)->functions)
    for (const auto &op : fn->ops)
      i8Products += op->name() == "matmul" &&
                    op->operand(0)->type.dtype == DType::I8 &&
                    op->operand(1)->type.dtype == DType::I8;
  EXPECT_EQ(i8Products, 2);
}

// Static int8 of `text`, its input calibrated on `batches` random inputs
// drawn like the test's (o.weights holds its weights), with asymmetric and
// symmetric activations: the compiled model within o's tolerance of the
// f32 interpreter, and equal bit for bit to the interpreter of the
// quantized module. `check` looks at each quantized module and the ranges
// it used.
void checkCalibrated(
    const std::string &text, e2e::HarnessOptions o, int batches,
    const std::function<void(const ir::Module &, const passes::QuantProfile &)>
        &check) {
  auto parsed = ir::parseModule(text, "test.nyx");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const ir::TensorType input = (*(*parsed)->entry())->params[0]->type;
  std::mt19937_64 rng(17);
  passes::CalibrationSettings calibration;
  for (int b = 0; b < batches; ++b)
    calibration.batches.push_back({e2e::randomTensor(input, rng, o)});
  for (int symmetric : {0, 1}) {
    SCOPED_TRACE(symmetric ? "symmetric" : "asymmetric");
    passes::Int8QuantizeSettings quantize;
    quantize.calibration = &calibration;
    o.quantize = &quantize;
    const std::string pass =
        strCat("verify,shape-infer,inline,quantize-int8{symmetric=", symmetric,
               "},const-fold,dce");
    o.pipeline = pass + ",fuse,dce";
    e2e::expectCompiledMatchesInterpreter(text, o);
    auto quantized = e2e::parseWithPipeline(text, pass, &o.weights, &quantize);
    ASSERT_TRUE(quantized.ok()) << quantized.status().message();
    check(**quantized, quantize.used);
    e2e::HarnessOptions exact = bitExact();
    exact.minValue = -1.5; // some inputs saturate
    exact.maxValue = 1.5;
    exact.pipeline = "verify,shape-infer,fuse,dce";
    e2e::expectCompiledMatchesInterpreter(ir::printModule(**quantized), exact);
  }
}

int countOps(const ir::Module &m, std::string_view name) {
  int n = 0;
  for (const auto &op : m.functions[0]->ops)
    n += op->name() == name;
  return n;
}

e2e::HarnessOptions calibratedOptions(
    double atol,
    const std::vector<std::pair<std::string, ir::Shape>> &weights) {
  e2e::HarnessOptions o;
  o.minValue = -1;
  o.maxValue = 1;
  o.rtol = 0;
  o.atol = atol;
  std::mt19937_64 rng(11);
  for (const auto &[name, shape] : weights)
    o.weights.emplace(name, e2e::randomTensor({DType::F32, shape}, rng, o));
  return o;
}

TEST(QuantizeInt8, MlpCalibrated) {
  const std::string text = R"(param @w1 : f32[128,64]
param @b1 : f32[64]
param @w2 : f32[64,10]
func @main(%x: f32[8,128]) -> (f32[8,10]) {
  %w1 = param() {name = @w1} : f32[128,64]
  %b1 = param() {name = @b1} : f32[64]
  %w2 = param() {name = @w2} : f32[64,10]
  %h = matmul(%x, %w1) : f32[8,64]
  %hb = add(%h, %b1) : f32[8,64]
  %r = relu(%hb) : f32[8,64]
  %y = matmul(%r, %w2) : f32[8,10]
  return %y
}
)";
  checkCalibrated(text,
                  calibratedOptions(
                      0.5, {{"w1", {128, 64}}, {"b1", {64}}, {"w2", {64, 10}}}),
                  8,
                  [](const ir::Module &m, const passes::QuantProfile &ranges) {
                    EXPECT_EQ(countOps(m, "matmul"), 2);
                    ASSERT_EQ(ranges.ranges.size(), 2u);
                    EXPECT_GE(ranges.ranges.at("r").min, 0); // after the relu
                  });
}

// Convolutions become im2col and an int8 matmul; the input's padding is
// its zero point. Strides, dilations and a bias.
TEST(QuantizeInt8, ConvNetCalibrated) {
  const std::string text = R"(param @w1 : f32[8,3,3,3]
param @b1 : f32[8]
param @w2 : f32[6,8,3,2]
func @main(%x: f32[2,3,11,10]) -> (f32[2,6,3,6]) {
  %w1 = param() {name = @w1} : f32[8,3,3,3]
  %b1 = param() {name = @b1} : f32[8]
  %w2 = param() {name = @w2} : f32[6,8,3,2]
  %c1 = conv2d(%x, %w1, %b1) {strides = [2, 2], padding = [1, 1, 1, 1]} : f32[2,8,6,5]
  %r = relu(%c1) : f32[2,8,6,5]
  %c2 = conv2d(%r, %w2) {padding = [1, 1, 0, 1], dilations = [2, 1]} : f32[2,6,3,6]
  return %c2
}
)";
  // Outputs reach about 8.
  checkCalibrated(
      text,
      calibratedOptions(
          0.3, {{"w1", {8, 3, 3, 3}}, {"b1", {8}}, {"w2", {6, 8, 3, 2}}}),
      4, [](const ir::Module &m, const passes::QuantProfile &) {
        EXPECT_EQ(countOps(m, "im2col"), 2);
        EXPECT_EQ(countOps(m, "conv2d"), 0);
      });
}

} // namespace
} // namespace nyx
