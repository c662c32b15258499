// The C++ builder (ir/builder.h), the stdlib layers and the benchmark
// models: shapes, weight counts, round trips through the text format, and
// numbers from the interpreter checked against plain loops written here.
#include <cmath>
#include <limits>

#include "ir/builder.h"
#include "ir/interpreter.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "stdlib/layers.h"
#include "stdlib/models.h"
#include "tests/support/tensor_match.h"
#include "gtest/gtest.h"

namespace nyx {
namespace {

using ir::DType;
using ir::Tensor;
using ir::TensorType;

TensorType f32(ir::Shape shape) { return {DType::F32, std::move(shape)}; }

Tensor tensorOf(ir::Shape shape, std::vector<float> values) {
  Tensor t(f32(std::move(shape)));
  EXPECT_EQ(static_cast<int64_t>(values.size()), t.numElements());
  for (size_t i = 0; i < values.size(); ++i)
    t.data<float>()[i] = values[i];
  return t;
}

// Runs @main of `model` on `x` with `weights`.
Tensor run(const stdlib::Model &model, const ir::WeightMap &weights, Tensor x) {
  ir::Interpreter interp(*model.module, &weights);
  auto fn = model.module->entry();
  EXPECT_TRUE(fn.ok());
  auto out = interp.run(**fn, {std::move(x)});
  EXPECT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(out->size(), 1u);
  return std::move((*out)[0]);
}

// The text form parses back to a module that prints the same.
void expectRoundTrip(const ir::Module &m) {
  std::string text = ir::printModule(m);
  auto parsed = ir::parseModule(text, "roundtrip.nyx");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(ir::printModule(**parsed), text);
}

int64_t countWhere(const ir::Module &m, bool (*pred)(const std::string &)) {
  int64_t n = 0;
  for (const ir::Param &p : m.params)
    if (pred(p.name))
      n += p.type.numElements();
  return n;
}

bool isRunningStat(const std::string &name) {
  return name.ends_with(".running_mean") || name.ends_with(".running_var");
}

// ---- builder ---------------------------------------------------------------

TEST(Builder, InfersTypesAndNamesParams) {
  ir::Builder b("m");
  ir::Value *x = b.input("x", f32({2, 3}));
  ir::Value *w = nullptr;
  {
    auto s = b.scope("fc");
    w = b.param("weight", f32({3, 4}));
  }
  ir::Value *y = b.op("matmul", {x, w}, {}, "y");
  ir::Value *z = b.op("softmax", {y}, {{"axis", -1}});
  b.ret({z});
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(y->type, f32({2, 4}));
  EXPECT_EQ(y->name, "y");
  EXPECT_EQ(w->name, "fc.weight");
  auto m = b.finish();
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_EQ((*m)->params.size(), 1u);
  EXPECT_EQ((*m)->params[0].name, "fc.weight");
  EXPECT_EQ((*m)->functions[0]->resultTypes, std::vector{f32({2, 4})});
  expectRoundTrip(**m);
}

TEST(Builder, AttributesOfEveryKindReachTheOp) {
  ir::Builder b("m");
  ir::Value *x = b.input("x", f32({1, 2, 6, 6}));
  ir::Value *p = b.op(
      "max_pool2d", {x},
      {{"kernel", {3, 3}}, {"strides", {2, 2}}, {"padding", {1, 1, 1, 1}}});
  ir::Value *c = b.op("cast", {p}, {{"to", DType::F16}});
  ir::Value *g = b.op("gelu", {b.op("cast", {c}, {{"to", DType::F32}})},
                      {{"approximate", "tanh"}});
  ir::Value *n = b.op("layer_norm", {g}, {{"epsilon", 1e-3}});
  ir::Value *s = b.op("reduce_sum", {n}, {{"axes", {1}}, {"keepdims", true}});
  b.ret({s});
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(p->type, f32({1, 2, 3, 3}));
  EXPECT_EQ(c->type.dtype, DType::F16);
  EXPECT_EQ(s->type, f32({1, 1, 3, 3}));
  const ir::Op &gelu = *g->definingOp;
  EXPECT_EQ(*gelu.getString("approximate"), "tanh");
  EXPECT_EQ(*n->definingOp->getFloat("epsilon"), 1e-3);
  auto m = b.finish();
  ASSERT_TRUE(m.ok()) << m.status().message();
  expectRoundTrip(**m);
}

TEST(Builder, KeepsTheFirstErrorWithItsScope) {
  ir::Builder b("m");
  ir::Value *x = b.input("x", f32({2, 3}));
  ir::Value *bad = nullptr;
  {
    auto s = b.scope("block");
    bad = b.op("matmul", {x, x});
  }
  EXPECT_EQ(bad, nullptr);
  EXPECT_FALSE(b.ok());
  // Later calls do nothing and keep the first message.
  EXPECT_EQ(b.op("relu", {bad}), nullptr);
  EXPECT_EQ(b.op("no_such_op", {x}), nullptr);
  std::string msg(b.status().message());
  EXPECT_NE(msg.find("@main (in block): 'matmul'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("inner dimensions"), std::string::npos) << msg;
  auto m = b.finish();
  EXPECT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), msg);
}

TEST(Builder, RejectsUnknownOpsAndBadOperandCounts) {
  {
    ir::Builder b("m");
    ir::Value *x = b.input("x", f32({2}));
    b.op("frobnicate", {x});
    EXPECT_EQ(b.status().message(), "@main: unknown op 'frobnicate'");
  }
  {
    ir::Builder b("m");
    ir::Value *x = b.input("x", f32({2}));
    b.op("add", {x});
    EXPECT_EQ(b.status().message(), "@main: 'add' takes 2 operands; found 1");
  }
}

TEST(Builder, ParamsMayBeSharedOnlyWithTheSameType) {
  ir::Builder b("m");
  ir::Value *w1 = b.param("w", f32({4}));
  ir::Value *w2 = b.param("w", f32({4}));
  ASSERT_TRUE(b.ok());
  EXPECT_NE(w1, w2);
  EXPECT_EQ(b.module().params.size(), 1u);
  b.param("w", f32({5}));
  EXPECT_EQ(b.status().message(),
            "@main: param @w is declared as f32[4]; it is asked for again as "
            "f32[5], expected the same type");
}

TEST(Builder, NeedsAReturnAndOnlyOne) {
  {
    ir::Builder b("m");
    b.input("x", f32({2}));
    auto m = b.finish();
    EXPECT_EQ(m.status().message(),
              "@main: no return; expected ret() before finish()");
  }
  {
    ir::Builder b("m");
    ir::Value *x = b.input("x", f32({2}));
    b.ret({x});
    b.op("relu", {x});
    EXPECT_EQ(b.status().message(), "@main: 'relu' added after the return");
  }
}

TEST(Builder, ScalarsAreFloatConstants) {
  ir::Builder b("m");
  ir::Value *s = b.scalar(0.125);
  EXPECT_EQ(s->type, f32({}));
  auto t = s->definingOp->getTensor("value");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)->getDouble(0), 0.125);
  b.scalar(1, DType::I32);
  EXPECT_EQ(b.status().message(),
            "@main: scalar 1 of dtype i32; expected a float dtype");
}

// ---- layers ----------------------------------------------------------------

// A two-layer MLP with weights chosen so the result can be worked out by
// hand: x = [1, -2];
//   fc1: x @ [[1, 0, 2], [0, 1, -1]] + [0.5, 0, -1] = [1.5, -2, 3]
//   relu: [1.5, 0, 3]
//   fc2: 1.5*2 + 0*5 + 3*(-1) + 0.25 = 0.25
TEST(Layers, TinyMlpByHand) {
  stdlib::ModelBuilder b("tiny");
  ir::Value *x = b.input("x", f32({1, 2}));
  ir::Value *h = stdlib::relu(b, stdlib::linear(b, x, 3, "fc1"));
  b.ret({stdlib::linear(b, h, 1, "fc2")});
  auto model = b.finishModel();
  ASSERT_TRUE(model.ok()) << model.status().message();
  ir::WeightMap w;
  w["fc1.weight"] = tensorOf({2, 3}, {1, 0, 2, 0, 1, -1});
  w["fc1.bias"] = tensorOf({3}, {0.5, 0, -1});
  w["fc2.weight"] = tensorOf({3, 1}, {2, 5, -1});
  w["fc2.bias"] = tensorOf({1}, {0.25});
  Tensor y = run(*model, w, tensorOf({1, 2}, {1, -2}));
  EXPECT_TRUE(test::tensorsMatch(y, tensorOf({1, 1}, {0.25})));
}

TEST(Layers, LinearInitIsFanInUniform) {
  stdlib::ModelBuilder b("m");
  b.ret({stdlib::linear(b, b.input("x", f32({1, 16})), 4, "fc")});
  auto model = b.finishModel();
  ASSERT_TRUE(model.ok());
  EXPECT_DOUBLE_EQ(model->init.at("fc.weight").hi, 0.25);
  EXPECT_DOUBLE_EQ(model->init.at("fc.bias").lo, -0.25);
}

TEST(Layers, RankErrorsNameTheLayer) {
  stdlib::ModelBuilder b("m");
  ir::Value *x = b.input("x", f32({8}));
  EXPECT_EQ(stdlib::conv2d(b, x, {4, 3}, "c"), nullptr);
  EXPECT_EQ(b.status().message(),
            "@main: conv2d expects an input of rank 4; found f32[8]");
}

TEST(Layers, AttentionHeadsMustDivideTheWidth) {
  stdlib::ModelBuilder b("m");
  ir::Value *x = b.input("x", f32({1, 4, 6}));
  EXPECT_EQ(stdlib::causalSelfAttention(b, x, 4, "attn"), nullptr);
  EXPECT_EQ(b.status().message(),
            "@main (in attn): causal self-attention over width 6 with 4 "
            "heads; expected a positive head count dividing the width");
}

TEST(Layers, CausalMaskHidesTheFuture) {
  stdlib::ModelBuilder b("m");
  ir::Value *mask = stdlib::causalMask(b, 3);
  auto t = mask->definingOp->getTensor("value");
  ASSERT_TRUE(t.ok());
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_TRUE(test::tensorsMatch(
      **t, tensorOf({3, 3}, {0, -inf, -inf, 0, 0, -inf, 0, 0, 0})));
}

// Plain-loop causal self-attention over x [B, T, D] with GPT-2's weights
// (c_attn [D, 3D] + bias, c_proj [D, D] + bias), in double.
std::vector<double> referenceAttention(const ir::WeightMap &w,
                                       const std::string &prefix,
                                       const Tensor &x, int64_t heads) {
  const int64_t B = x.shape()[0], T = x.shape()[1], D = x.shape()[2];
  const int64_t dh = D / heads;
  const Tensor &wa = w.at(prefix + "c_attn.weight");
  const Tensor &ba = w.at(prefix + "c_attn.bias");
  const Tensor &wp = w.at(prefix + "c_proj.weight");
  const Tensor &bp = w.at(prefix + "c_proj.bias");
  std::vector<double> out(B * T * D);
  for (int64_t b = 0; b < B; ++b) {
    std::vector<double> qkv(T * 3 * D);
    for (int64_t t = 0; t < T; ++t)
      for (int64_t j = 0; j < 3 * D; ++j) {
        double s = ba.getDouble(j);
        for (int64_t i = 0; i < D; ++i)
          s += x.getDouble((b * T + t) * D + i) * wa.getDouble(i * 3 * D + j);
        qkv[t * 3 * D + j] = s;
      }
    std::vector<double> att(T * D);
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t t = 0; t < T; ++t) {
        // Scores against positions 0..t only.
        std::vector<double> p(t + 1);
        double mx = -INFINITY, sum = 0;
        for (int64_t u = 0; u <= t; ++u) {
          double s = 0;
          for (int64_t c = 0; c < dh; ++c)
            s += qkv[t * 3 * D + h * dh + c] * qkv[u * 3 * D + D + h * dh + c];
          p[u] = s / std::sqrt(double(dh));
          mx = std::max(mx, p[u]);
        }
        for (double &v : p)
          sum += (v = std::exp(v - mx));
        for (int64_t c = 0; c < dh; ++c) {
          double s = 0;
          for (int64_t u = 0; u <= t; ++u)
            s += p[u] / sum * qkv[u * 3 * D + 2 * D + h * dh + c];
          att[t * D + h * dh + c] = s;
        }
      }
    for (int64_t t = 0; t < T; ++t)
      for (int64_t j = 0; j < D; ++j) {
        double s = bp.getDouble(j);
        for (int64_t i = 0; i < D; ++i)
          s += att[t * D + i] * wp.getDouble(i * D + j);
        out[(b * T + t) * D + j] = s;
      }
  }
  return out;
}

// Inputs spread over [-1, 1] without a pattern the layers could hide.
Tensor spreadInput(ir::Shape shape, double phase) {
  Tensor t(f32(std::move(shape)));
  for (int64_t i = 0; i < t.numElements(); ++i)
    t.setDouble(i, std::sin(0.37 * double(i) + phase));
  return t;
}

TEST(Layers, CausalSelfAttentionMatchesPlainLoops) {
  const int64_t heads = 2;
  stdlib::ModelBuilder b("attn");
  ir::Value *x = b.input("x", f32({2, 5, 8}));
  b.ret({stdlib::causalSelfAttention(b, x, heads, "attn")});
  auto model = b.finishModel();
  ASSERT_TRUE(model.ok()) << model.status().message();
  ir::WeightMap w = stdlib::randomWeights(*model, 7);
  Tensor in = spreadInput({2, 5, 8}, 0.5);
  Tensor y = run(*model, w, in);
  std::vector<double> want = referenceAttention(w, "attn.", in, heads);
  Tensor expected(f32({2, 5, 8}));
  for (int64_t i = 0; i < expected.numElements(); ++i)
    expected.setDouble(i, want[i]);
  EXPECT_TRUE(test::tensorsMatch(y, expected));
}

// ---- weights ---------------------------------------------------------------

TEST(Weights, RandomWeightsAreRepeatableAndInRange) {
  auto model = stdlib::mlp(1);
  ASSERT_TRUE(model.ok());
  ir::WeightMap a = stdlib::randomWeights(*model, 3);
  ir::WeightMap b = stdlib::randomWeights(*model, 3);
  ir::WeightMap c = stdlib::randomWeights(*model, 4);
  EXPECT_EQ(a, b);
  EXPECT_NE(a.at("fc1.weight"), c.at("fc1.weight"));
  const Tensor &w = a.at("fc1.weight");
  double bound = 1 / std::sqrt(784.0), lo = 1, hi = -1;
  for (int64_t i = 0; i < w.numElements(); ++i) {
    lo = std::min(lo, w.getDouble(i));
    hi = std::max(hi, w.getDouble(i));
  }
  EXPECT_GE(lo, -bound);
  EXPECT_LE(hi, bound);
  // Spread over the range, not stuck near one value.
  EXPECT_LT(lo, -0.9 * bound);
  EXPECT_GT(hi, 0.9 * bound);
}

// ---- models ----------------------------------------------------------------

struct Expected {
  std::string name;
  int64_t batch;
  ir::Shape input, output;
  int64_t params;
};

class ModelShapes : public ::testing::TestWithParam<Expected> {};

TEST_P(ModelShapes, ShapesAndParameterCounts) {
  const Expected &e = GetParam();
  auto model = stdlib::buildModel(e.name, e.batch);
  ASSERT_TRUE(model.ok()) << model.status().message();
  const ir::Module &m = *model->module;
  auto fn = m.entry();
  ASSERT_TRUE(fn.ok());
  ASSERT_EQ((*fn)->params.size(), 1u);
  EXPECT_EQ((*fn)->params[0]->type, f32(e.input));
  EXPECT_EQ((*fn)->resultTypes, std::vector{f32(e.output)});
  EXPECT_EQ(stdlib::parameterCount(m), e.params);
  EXPECT_EQ(model->init.size(), m.params.size());
  expectRoundTrip(m);
}

INSTANTIATE_TEST_SUITE_P(
    Stdlib, ModelShapes,
    ::testing::Values(
        Expected{"mlp", 32, {32, 784}, {32, 10}, 669706},
        // torchvision's 11,689,512 plus 2 running statistics for each of
        // the 4,800 batch-norm channels.
        Expected{"resnet18", 1, {1, 3, 224, 224}, {1, 1000}, 11699112},
        Expected{"resnet18", 8, {8, 3, 224, 224}, {8, 1000}, 11699112},
        Expected{"gpt2_block", 1, {1, 128, 768}, {1, 128, 768}, 7087872}),
    [](const auto &info) {
      return info.param.name + "_batch" + std::to_string(info.param.batch);
    });

TEST(Models, ResNetCountsAsPyTorchDoes) {
  auto model = stdlib::resnet18(1);
  ASSERT_TRUE(model.ok());
  const ir::Module &m = *model->module;
  EXPECT_EQ(
      countWhere(m, [](const std::string &n) { return !isRunningStat(n); }),
      11689512);
  EXPECT_NE(m.lookupParam("layer2.0.downsample.0.weight"), nullptr);
  EXPECT_EQ(m.lookupParam("layer1.0.downsample.0.weight"), nullptr);
  EXPECT_EQ(m.lookupParam("layer4.1.bn2.running_var")->type, f32({512}));
  EXPECT_EQ(m.lookupParam("fc.weight")->type, f32({512, 1000}));
}

TEST(Models, Gpt2BlockUsesHuggingFaceNames) {
  auto model = stdlib::gpt2Block();
  ASSERT_TRUE(model.ok());
  const ir::Module &m = *model->module;
  for (const char *name :
       {"ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias",
        "attn.c_proj.weight", "attn.c_proj.bias", "ln_2.weight", "ln_2.bias",
        "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight",
        "mlp.c_proj.bias"})
    EXPECT_NE(m.lookupParam(name), nullptr) << name;
  EXPECT_EQ(m.lookupParam("attn.c_attn.weight")->type, f32({768, 2304}));
  EXPECT_EQ(m.params.size(), 12u);
}

// The MLP at batch 2 in the interpreter against plain loops over its random
// weights.
TEST(Models, MlpMatchesPlainLoops) {
  auto model = stdlib::mlp(2);
  ASSERT_TRUE(model.ok());
  ir::WeightMap w = stdlib::randomWeights(*model, 5);
  Tensor x = spreadInput({2, 784}, 1.5);
  Tensor y = run(*model, w, x);
  std::vector<double> h(x.numElements());
  for (int64_t i = 0; i < x.numElements(); ++i)
    h[i] = x.getDouble(i);
  int64_t width = 784;
  for (const char *layer : {"fc1", "fc2", "fc3"}) {
    const Tensor &wt = w.at(std::string(layer) + ".weight");
    const Tensor &bias = w.at(std::string(layer) + ".bias");
    int64_t out = wt.shape()[1];
    std::vector<double> next(2 * out);
    for (int64_t r = 0; r < 2; ++r)
      for (int64_t j = 0; j < out; ++j) {
        double s = bias.getDouble(j);
        for (int64_t i = 0; i < width; ++i)
          s += h[r * width + i] * wt.getDouble(i * out + j);
        next[r * out + j] = std::string(layer) == "fc3" ? s : std::max(s, 0.0);
      }
    h = std::move(next);
    width = out;
  }
  Tensor expected(f32({2, 10}));
  for (int64_t i = 0; i < 20; ++i)
    expected.setDouble(i, h[i]);
  EXPECT_TRUE(test::tensorsMatch(y, expected));
}

TEST(Models, BadNamesAndBatchesAreErrors) {
  EXPECT_EQ(stdlib::buildModel("vgg", 1).status().message(),
            "unknown model 'vgg'; expected one of mlp, resnet18, gpt2_block");
  EXPECT_EQ(stdlib::mlp(0).status().message(),
            "batch size 0; expected at least 1");
}

} // namespace
} // namespace nyx
