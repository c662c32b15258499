// The ONNX RNN, GRU and LSTM converters (convert_rnn.cc): each test builds a
// one-node model, imports it, runs the interpreter and compares the outputs
// with a direct double-precision evaluation of the equations of the ONNX
// specification (onnx/defs/rnn/defs.cc), written below step by step like
// ONNX's NumPy reference (onnx/backend/test/case/node/{rnn,gru,lstm}.py).
#include <cmath>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "frontends/onnx/importer.h"
#include "ir/interpreter.h"
#include "onnx/onnx_pb.h"
#include "tests/support/onnx_model.h"
#include "tests/support/onnx_run.h"
#include "tests/support/tensor_match.h"

namespace nyx::onnx_import {
namespace {

using ir::DType;
using ir::Shape;
using ir::Tensor;
using onnx::TensorProto;
using test::OnnxModel;
using test::tensorsMatch;
using ::testing::HasSubstr;

constexpr int32_t kFloat = TensorProto::FLOAT;

enum class Cell { Rnn, Gru, Lstm };

// One recurrent node: its attributes and operands (all f32 except lens).
struct Config {
  Cell cell = Cell::Rnn;
  int64_t seq = 3, batch = 2, input = 3, hidden = 4;
  std::string direction = "forward";
  int64_t layout = 0;
  int64_t opset = 14;
  bool bias = true, initialH = false, initialC = false, peepholes = false;
  std::vector<std::string> activations; // empty: the defaults
  std::vector<float> alphas, betas;
  double clip = 0; // 0: no clip
  bool linearBeforeReset = false, inputForget = false;
  std::vector<int32_t> lens; // sequence_lens, empty: none
  bool lensAsInput = false;  // sequence_lens a graph input, not a constant
  std::vector<bool> outputs = {true, true, true};

  int64_t dirs() const { return direction == "bidirectional" ? 2 : 1; }
  int64_t gates() const {
    return cell == Cell::Rnn ? 1 : cell == Cell::Gru ? 3 : 4;
  }
  int64_t numActivations() const {
    return cell == Cell::Rnn ? 1 : cell == Cell::Gru ? 2 : 3;
  }
};

// Deterministic values in [-scale, scale).
std::vector<double> pseudoRandom(int64_t count, uint32_t seed, double scale) {
  std::vector<double> v(count);
  uint32_t s = seed * 2654435761u + 1;
  for (double &x : v) {
    s = s * 1664525u + 1013904223u;
    x = scale * (static_cast<double>(s >> 8) / double(1 << 24) * 2 - 1);
  }
  return v;
}

Tensor f32(Shape shape, const std::vector<double> &values) {
  return test::tensor(DType::F32, std::move(shape), values);
}

// The node's data, rounded to f32 as the model stores it.
struct Data {
  std::vector<double> x, w, r, b, h0, c0, p; // x time-major [T, B, I]
};

std::vector<double> roundedToFloat(std::vector<double> v) {
  for (double &x : v)
    x = static_cast<float>(x);
  return v;
}

Data makeData(const Config &c) {
  const int64_t d = c.dirs(), gh = c.gates() * c.hidden;
  Data data;
  data.x = roundedToFloat(pseudoRandom(c.seq * c.batch * c.input, 1, 1.0));
  data.w = roundedToFloat(pseudoRandom(d * gh * c.input, 2, 0.6));
  data.r = roundedToFloat(pseudoRandom(d * gh * c.hidden, 3, 0.6));
  data.b = c.bias ? roundedToFloat(pseudoRandom(d * 2 * gh, 4, 0.5))
                  : std::vector<double>(d * 2 * gh, 0.0);
  const int64_t state = d * c.batch * c.hidden;
  data.h0 = c.initialH ? roundedToFloat(pseudoRandom(state, 5, 0.8))
                       : std::vector<double>(state, 0.0);
  data.c0 = c.initialC ? roundedToFloat(pseudoRandom(state, 6, 0.8))
                       : std::vector<double>(state, 0.0);
  data.p = c.peepholes ? roundedToFloat(pseudoRandom(d * 3 * c.hidden, 7, 0.5))
                       : std::vector<double>(d * 3 * c.hidden, 0.0);
  return data;
}

// ---- The reference: the specification's equations in double ----

struct Activation {
  std::string name;
  double alpha, beta;
};

std::vector<Activation> referenceActivations(const Config &c) {
  std::vector<std::string> names = c.activations;
  if (names.empty())
    names = c.cell == Cell::Rnn ? std::vector<std::string>{"Tanh"}
            : c.cell == Cell::Gru
                ? std::vector<std::string>{"Sigmoid", "Tanh"}
                : std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"};
  if (static_cast<int64_t>(names.size()) < c.numActivations() * c.dirs()) {
    const std::vector<std::string> perDirection = names;
    names.insert(names.end(), perDirection.begin(), perDirection.end());
  }
  std::vector<Activation> acts;
  size_t a = 0, b = 0;
  for (const std::string &n : names) {
    const bool takesAlpha = n == "Affine" || n == "LeakyRelu" ||
                            n == "ThresholdedRelu" || n == "ScaledTanh" ||
                            n == "HardSigmoid" || n == "Elu";
    const bool takesBeta =
        n == "Affine" || n == "ScaledTanh" || n == "HardSigmoid";
    double alpha = n == "LeakyRelu" ? 0.01 : n == "HardSigmoid" ? 0.2 : 1.0;
    double beta = n == "HardSigmoid" ? 0.5 : n == "ScaledTanh" ? 1.0 : 0.0;
    if (takesAlpha && a < c.alphas.size())
      alpha = c.alphas[a++];
    if (takesBeta && b < c.betas.size())
      beta = c.betas[b++];
    acts.push_back({n, alpha, beta});
  }
  return acts;
}

double apply(const Activation &f, double x, double clip) {
  if (clip > 0)
    x = std::min(std::max(x, -clip), clip);
  const double a = f.alpha, b = f.beta;
  if (f.name == "Tanh")
    return std::tanh(x);
  if (f.name == "Sigmoid")
    return 1 / (1 + std::exp(-x));
  if (f.name == "Relu")
    return std::max(x, 0.0);
  if (f.name == "Affine")
    return a * x + b;
  if (f.name == "LeakyRelu")
    return x >= 0 ? x : a * x;
  if (f.name == "ThresholdedRelu")
    return x >= a ? x : 0;
  if (f.name == "ScaledTanh")
    return a * std::tanh(b * x);
  if (f.name == "HardSigmoid")
    return std::min(std::max(a * x + b, 0.0), 1.0);
  if (f.name == "Elu")
    return x >= 0 ? x : a * (std::exp(x) - 1);
  if (f.name == "Softsign")
    return x / (1 + std::fabs(x));
  return std::log1p(std::exp(x)); // Softplus
}

// Outputs in layout 0: Y [T, D, B, H], Y_h and Y_c [D, B, H].
struct Outputs {
  std::vector<double> y, yh, yc;
};

Outputs reference(const Config &c, const Data &in) {
  const int64_t T = c.seq, B = c.batch, I = c.input, H = c.hidden;
  const int64_t D = c.dirs(), G = c.gates();
  const std::vector<Activation> acts = referenceActivations(c);
  Outputs out;
  out.y.assign(T * D * B * H, 0.0);
  out.yh.assign(D * B * H, 0.0);
  out.yc.assign(D * B * H, 0.0);
  for (int64_t d = 0; d < D; ++d) {
    const Activation *f = &acts[d * c.numActivations()];
    const double *w = &in.w[d * G * H * I], *r = &in.r[d * G * H * H];
    const double *wb = &in.b[d * 2 * G * H], *rb = wb + G * H;
    const double *p = &in.p[d * 3 * H];
    for (int64_t bi = 0; bi < B; ++bi) {
      const int64_t len = c.lens.empty() ? T : c.lens[bi];
      std::vector<double> h(&in.h0[(d * B + bi) * H],
                            &in.h0[(d * B + bi) * H] + H);
      std::vector<double> cell(&in.c0[(d * B + bi) * H],
                               &in.c0[(d * B + bi) * H] + H);
      const bool back = c.direction == "reverse" || d == 1;
      for (int64_t k = 0; k < len; ++k) {
        const int64_t t = back ? len - 1 - k : k;
        const double *x = &in.x[(t * B + bi) * I];
        // xw[g] = x W_g^T + Wb_g, hr[g] = h R_g^T + Rb_g, per gate row.
        std::vector<double> xw(G * H), hr(G * H);
        for (int64_t j = 0; j < G * H; ++j) {
          xw[j] = wb[j];
          hr[j] = rb[j];
          for (int64_t i = 0; i < I; ++i)
            xw[j] += x[i] * w[j * I + i];
          for (int64_t i = 0; i < H; ++i)
            hr[j] += h[i] * r[j * H + i];
        }
        std::vector<double> next(H), nextCell(H);
        for (int64_t j = 0; j < H; ++j) {
          if (c.cell == Cell::Rnn) {
            next[j] = apply(f[0], xw[j] + hr[j], c.clip);
          } else if (c.cell == Cell::Gru) {
            const double z = apply(f[0], xw[j] + hr[j], c.clip);
            const double rr = apply(f[0], xw[H + j] + hr[H + j], c.clip);
            double hidden;
            if (c.linearBeforeReset) {
              hidden = rr * hr[2 * H + j];
            } else { // (r . h) Rh^T + Rbh
              hidden = rb[2 * H + j];
              for (int64_t i = 0; i < H; ++i) {
                const double ri =
                    apply(f[0], xw[H + i] + hr[H + i], c.clip); // r_i
                hidden += ri * h[i] * r[(2 * H + j) * H + i];
              }
            }
            const double cand = apply(f[1], xw[2 * H + j] + hidden, c.clip);
            next[j] = (1 - z) * cand + z * h[j];
          } else {
            const double ig =
                apply(f[0], xw[j] + hr[j] + p[j] * cell[j], c.clip);
            const double fg = c.inputForget
                                  ? 1 - ig
                                  : apply(f[0],
                                          xw[2 * H + j] + hr[2 * H + j] +
                                              p[2 * H + j] * cell[j],
                                          c.clip);
            const double cg =
                apply(f[1], xw[3 * H + j] + hr[3 * H + j], c.clip);
            nextCell[j] = fg * cell[j] + ig * cg;
            const double og = apply(
                f[0], xw[H + j] + hr[H + j] + p[H + j] * nextCell[j], c.clip);
            next[j] = og * apply(f[2], nextCell[j], c.clip);
          }
        }
        h = next;
        cell = nextCell;
        for (int64_t j = 0; j < H; ++j)
          out.y[((t * D + d) * B + bi) * H + j] = h[j];
      }
      for (int64_t j = 0; j < H; ++j) {
        out.yh[(d * B + bi) * H + j] = h[j];
        out.yc[(d * B + bi) * H + j] = cell[j];
      }
    }
  }
  return out;
}

// [A, B, ...rest] -> [B, A, ...rest] for a row-major array.
std::vector<double> swapFirstAxes(const std::vector<double> &v, int64_t a,
                                  int64_t b, int64_t rest) {
  std::vector<double> out(v.size());
  for (int64_t i = 0; i < a; ++i)
    for (int64_t j = 0; j < b; ++j)
      for (int64_t k = 0; k < rest; ++k)
        out[(j * a + i) * rest + k] = v[(i * b + j) * rest + k];
  return out;
}

// ---- The model ----

void addStringsAttr(onnx::NodeProto &n, const std::string &name,
                    const std::vector<std::string> &v) {
  auto *a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRINGS);
  for (const std::string &s : v)
    a->add_strings(s);
}

std::vector<float> floats(const std::vector<double> &v) {
  return std::vector<float>(v.begin(), v.end());
}

const char *opType(Cell cell) {
  return cell == Cell::Rnn ? "RNN" : cell == Cell::Gru ? "GRU" : "LSTM";
}

// The shapes of the state inputs and outputs, by layout.
Shape stateShape(const Config &c) {
  return c.layout ? Shape{c.batch, c.dirs(), c.hidden}
                  : Shape{c.dirs(), c.batch, c.hidden};
}

OnnxModel buildModel(const Config &c, const Data &data) {
  OnnxModel m(c.opset);
  const int64_t D = c.dirs(), GH = c.gates() * c.hidden;
  const Shape xShape = c.layout ? Shape{c.batch, c.seq, c.input}
                                : Shape{c.seq, c.batch, c.input};
  m.input("X", kFloat, xShape);
  m.floats("W", {D, GH, c.input}, floats(data.w));
  m.floats("R", {D, GH, c.hidden}, floats(data.r));
  std::vector<std::string> inputs = {"X", "W", "R", ""};
  if (c.bias) {
    m.floats("B", {D, 2 * GH}, floats(data.b));
    inputs[3] = "B";
  }
  auto optional = [&](bool given, const std::string &name) {
    inputs.push_back(given ? name : "");
  };
  if (!c.lens.empty()) {
    if (c.lensAsInput) {
      m.input("sequence_lens", TensorProto::INT32, {c.batch});
    } else {
      TensorProto &t = *m.proto().mutable_graph()->add_initializer();
      t.set_name("sequence_lens");
      t.set_data_type(TensorProto::INT32);
      t.add_dims(c.batch);
      for (int32_t v : c.lens)
        t.add_int32_data(v);
    }
  }
  optional(!c.lens.empty(), "sequence_lens");
  auto state = [&](const std::vector<double> &v) {
    return floats(c.layout ? swapFirstAxes(v, D, c.batch, c.hidden) : v);
  };
  if (c.initialH)
    m.floats("initial_h", stateShape(c), state(data.h0));
  optional(c.initialH, "initial_h");
  if (c.cell == Cell::Lstm) {
    if (c.initialC)
      m.floats("initial_c", stateShape(c), state(data.c0));
    optional(c.initialC, "initial_c");
    if (c.peepholes)
      m.floats("P", {D, 3 * c.hidden}, floats(data.p));
    optional(c.peepholes, "P");
  }
  while (inputs.back().empty())
    inputs.pop_back();
  const std::vector<std::string> names = {"Y", "Y_h", "Y_c"};
  std::vector<std::string> outputs;
  for (int k = 0; k < (c.cell == Cell::Lstm ? 3 : 2); ++k)
    outputs.push_back(c.outputs[k] ? names[k] : "");
  while (outputs.back().empty())
    outputs.pop_back();
  onnx::NodeProto &node = m.node(opType(c.cell), inputs, outputs, "rnn");
  OnnxModel::intAttr(node, "hidden_size", c.hidden);
  if (c.direction != "forward") {
    auto *a = node.add_attribute();
    a->set_name("direction");
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(c.direction);
  }
  if (c.layout)
    OnnxModel::intAttr(node, "layout", c.layout);
  if (!c.activations.empty())
    addStringsAttr(node, "activations", c.activations);
  if (!c.alphas.empty())
    OnnxModel::floatsAttr(node, "activation_alpha", c.alphas);
  if (!c.betas.empty())
    OnnxModel::floatsAttr(node, "activation_beta", c.betas);
  if (c.clip > 0)
    OnnxModel::floatAttr(node, "clip", static_cast<float>(c.clip));
  if (c.linearBeforeReset)
    OnnxModel::intAttr(node, "linear_before_reset", 1);
  if (c.inputForget)
    OnnxModel::intAttr(node, "input_forget", 1);
  const Shape yShape = c.layout ? Shape{c.batch, c.seq, D, c.hidden}
                                : Shape{c.seq, D, c.batch, c.hidden};
  for (const std::string &o : outputs)
    if (!o.empty())
      m.output(o, o == "Y" ? yShape : stateShape(c));
  return m;
}

absl::StatusOr<ImportedModel> import(const Config &c) {
  OnnxModel m = buildModel(c, makeData(c));
  return importModel(m.proto(), "rnn.onnx", {});
}

// Imports and runs the node, and checks every output it lists against the
// reference.
void expectMatchesReference(const Config &c) {
  const Data data = makeData(c);
  OnnxModel m = buildModel(c, data);
  std::vector<Tensor> args;
  const std::vector<double> x =
      c.layout ? swapFirstAxes(data.x, c.seq, c.batch, c.input) : data.x;
  args.push_back(f32(c.layout ? Shape{c.batch, c.seq, c.input}
                              : Shape{c.seq, c.batch, c.input},
                     x));
  if (c.lensAsInput) {
    Tensor lens(ir::TensorType{DType::I32, {c.batch}});
    for (int64_t b = 0; b < c.batch; ++b)
      lens.setInt(b, c.lens[b]);
    args.push_back(std::move(lens));
  }
  std::vector<Tensor> results = test::runModel(m.proto(), std::move(args));
  const Outputs want = reference(c, data);
  const int64_t D = c.dirs();
  size_t next = 0;
  for (int k = 0; k < (c.cell == Cell::Lstm ? 3 : 2); ++k) {
    if (!c.outputs[k])
      continue;
    ASSERT_LT(next, results.size());
    std::vector<double> expected = k == 0 ? want.y : k == 1 ? want.yh : want.yc;
    Shape shape;
    if (k == 0 && c.layout) { // [T, D, B, H] -> [B, T, D, H]
      expected = swapFirstAxes(expected, c.seq * D, c.batch, c.hidden);
      shape = {c.batch, c.seq, D, c.hidden};
    } else if (k == 0) {
      shape = {c.seq, D, c.batch, c.hidden};
    } else {
      if (c.layout)
        expected = swapFirstAxes(expected, D, c.batch, c.hidden);
      shape = stateShape(c);
    }
    EXPECT_TRUE(tensorsMatch(results[next++], f32(shape, expected), 1e-5, 1e-6))
        << "output " << k;
  }
}

int countOps(const Config &c, std::string_view name) {
  absl::StatusOr<ImportedModel> imported = import(c);
  EXPECT_TRUE(imported.ok()) << imported.status();
  if (!imported.ok())
    return -1;
  int count = 0;
  for (const auto &op : (*imported->module->entry())->ops)
    count += op->name() == name;
  return count;
}

// ---- RNN ----

// tanh(1) then tanh(2 + tanh(1)), for W = R = 1 and no bias: checks the
// reference itself on numbers worked out by hand.
TEST(OnnxRnn, OneUnitByHand) {
  OnnxModel m(14);
  m.input("X", kFloat, {2, 1, 1});
  m.floats("W", {1, 1, 1}, {1});
  m.floats("R", {1, 1, 1}, {1});
  m.node("RNN", {"X", "W", "R"}, {"Y", "Y_h"});
  OnnxModel::intAttr(*m.proto().mutable_graph()->mutable_node(0), "hidden_size",
                     1);
  m.output("Y", {2, 1, 1, 1});
  m.output("Y_h", {1, 1, 1});
  std::vector<Tensor> r = test::runModel(m.proto(), {f32({2, 1, 1}, {1, 2})});
  ASSERT_EQ(r.size(), 2u);
  const double h1 = std::tanh(1.0), h2 = std::tanh(2 + h1);
  EXPECT_TRUE(tensorsMatch(r[0], f32({2, 1, 1, 1}, {h1, h2})));
  EXPECT_TRUE(tensorsMatch(r[1], f32({1, 1, 1}, {h2})));
}

TEST(OnnxRnn, ForwardWithBiasAndInitialState) {
  Config c;
  c.initialH = true;
  expectMatchesReference(c);
}

TEST(OnnxRnn, ReverseAndBidirectional) {
  for (const char *direction : {"reverse", "bidirectional"}) {
    SCOPED_TRACE(direction);
    Config c;
    c.direction = direction;
    c.initialH = true;
    expectMatchesReference(c);
  }
}

// The input projection of every step is one matmul per direction; each step
// adds one more for the state.
TEST(OnnxRnn, ProjectsAllStepsInOneMatmul) {
  Config c;
  c.seq = 5;
  c.direction = "bidirectional";
  EXPECT_EQ(countOps(c, "matmul"), 2 * (1 + 5));
}

TEST(OnnxRnn, EveryActivationWithAlphaAndBeta) {
  const std::vector<std::string> all = {
      "Relu",       "Tanh",        "Sigmoid",
      "Affine",     "LeakyRelu",   "ThresholdedRelu",
      "ScaledTanh", "HardSigmoid", "Elu",
      "Softsign",   "Softplus"};
  for (const std::string &name : all) {
    SCOPED_TRACE(name);
    Config c;
    c.activations = {name};
    c.alphas = {0.3f};
    c.betas = {0.7f};
    expectMatchesReference(c);
    c.alphas.clear(); // the defaults of the ONNX op of that name
    c.betas.clear();
    expectMatchesReference(c);
  }
}

// The alpha and beta lists are consumed only by the activations that take
// them, in order: LeakyRelu takes 0.5, HardSigmoid 0.25 and beta 0.1.
TEST(OnnxRnn, AlphasAreConsumedInOrderByTheActivationsThatTakeThem) {
  Config c;
  c.direction = "bidirectional";
  c.activations = {"LeakyRelu", "HardSigmoid"};
  c.alphas = {0.5f, 0.25f};
  c.betas = {0.1f};
  expectMatchesReference(c);
}

TEST(OnnxRnn, ClipBoundsTheActivationInput) {
  Config c;
  c.activations = {"Relu"};
  c.clip = 0.2;
  expectMatchesReference(c);
}

TEST(OnnxRnn, Opset7WithoutBias) {
  Config c;
  c.opset = 7;
  c.bias = false;
  c.direction = "bidirectional";
  expectMatchesReference(c);
}

// ---- GRU ----

TEST(OnnxGru, DefaultAndLinearBeforeReset) {
  for (bool lbr : {false, true})
    for (const char *direction : {"forward", "reverse", "bidirectional"}) {
      SCOPED_TRACE(std::string(direction) + (lbr ? " lbr" : ""));
      Config c;
      c.cell = Cell::Gru;
      c.direction = direction;
      c.linearBeforeReset = lbr;
      c.initialH = true;
      expectMatchesReference(c);
    }
}

TEST(OnnxGru, BatchFirstLayoutWithOtherActivations) {
  Config c;
  c.cell = Cell::Gru;
  c.layout = 1;
  c.direction = "bidirectional";
  c.initialH = true;
  c.activations = {"HardSigmoid", "Softsign", "Sigmoid", "Elu"};
  c.alphas = {0.3f, 0.8f};
  c.betas = {0.4f};
  expectMatchesReference(c);
}

// ---- LSTM ----

TEST(OnnxLstm, PeepholesAndInitialStates) {
  for (const char *direction : {"forward", "reverse", "bidirectional"}) {
    SCOPED_TRACE(direction);
    Config c;
    c.cell = Cell::Lstm;
    c.direction = direction;
    c.initialH = c.initialC = c.peepholes = true;
    expectMatchesReference(c);
  }
}

TEST(OnnxLstm, InputForgetAndClip) {
  Config c;
  c.cell = Cell::Lstm;
  c.inputForget = true;
  c.clip = 0.5;
  c.initialC = true;
  expectMatchesReference(c);
}

TEST(OnnxLstm, BatchFirstLayout) {
  Config c;
  c.cell = Cell::Lstm;
  c.layout = 1;
  c.seq = 4;
  c.direction = "bidirectional";
  c.initialH = c.initialC = c.peepholes = true;
  expectMatchesReference(c);
}

// Any output may be omitted: here only Y_c is asked for.
TEST(OnnxLstm, OnlyTheCellOutput) {
  Config c;
  c.cell = Cell::Lstm;
  c.outputs = {false, false, true};
  c.initialC = true;
  expectMatchesReference(c);
}

// ---- sequence_lens ----

TEST(OnnxRnnSequenceLens, FullLengthsAreTheIdentity) {
  Config c;
  c.cell = Cell::Lstm;
  c.lens = {3, 3};
  expectMatchesReference(c);
  EXPECT_EQ(countOps(c, "select"), 0);
}

// Past a sequence's end the state holds and Y is zero; a reverse direction
// starts at the sequence's last step.
TEST(OnnxRnnSequenceLens, ShorterSequencesAreMasked) {
  for (Cell cell : {Cell::Rnn, Cell::Gru, Cell::Lstm})
    for (bool asInput : {false, true}) {
      SCOPED_TRACE(std::string(opType(cell)) + (asInput ? " input" : ""));
      Config c;
      c.cell = cell;
      c.seq = 4;
      c.batch = 3;
      c.direction = "bidirectional";
      c.initialH = c.initialC = true;
      c.lens = {4, 2, 1};
      c.lensAsInput = asInput;
      expectMatchesReference(c);
    }
}

// ---- Errors ----

TEST(OnnxRnnErrors, BadAttributesAndShapes) {
  struct Case {
    const char *what;
    Config config;
    const char *message;
  };
  Config direction;
  direction.direction = "sideways";
  Config activation;
  activation.activations = {"Swish"};
  Config count;
  count.cell = Cell::Gru;
  count.activations = {"Sigmoid", "Tanh", "Tanh"};
  Config layout;
  layout.layout = 2;
  Config lens;
  lens.lens = {5, 1};
  const Case cases[] = {
      {"direction", direction, "direction is 'sideways'"},
      {"activation", activation, "activation 'Swish' is not one of"},
      {"count", count, "activations has 3 entries; expected 2"},
      {"layout", layout, "layout is 2; expected 0 or 1"},
      {"lens", lens,
       "sequence_lens[0] is 5; expected a length from 0 to "
       "seq_length (3)"},
  };
  for (const Case &k : cases) {
    SCOPED_TRACE(k.what);
    absl::Status s = import(k.config).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr(k.message));
  }
}

TEST(OnnxRnnErrors, HiddenSizeDisagreesWithR) {
  Config c;
  OnnxModel m = buildModel(c, makeData(c));
  auto *attr = m.proto().mutable_graph()->mutable_node(0)->mutable_attribute(0);
  ASSERT_EQ(attr->name(), "hidden_size");
  attr->set_i(5);
  absl::Status s = importModel(m.proto(), "rnn.onnx", {}).status();
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("input W is f32[1,4,3]; expected shape [1, 5, 3]"));
}

// A recurrence weight of another dtype than X is an error from the first op
// that combines them, and the rest of the conversion stops there.
TEST(OnnxRnnErrors, WeightOfAnotherDTypeIsAnErrorNotACrash) {
  OnnxModel m(14);
  m.input("X", kFloat, {3, 36, 2});
  m.input("W", kFloat, {1, 28, 2});
  m.input("R", TensorProto::BOOL, {1, 28, 7});
  auto &node = m.node("LSTM", {"X", "W", "R"}, {"Y"});
  OnnxModel::intAttr(node, "hidden_size", 7);
  OnnxModel::intAttr(node, "layout", 1);
  m.output("Y", {3, 36, 1, 7});
  absl::Status s = importModel(m.proto(), "rnn.onnx", {}).status();
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("LSTM"));
}

} // namespace
} // namespace nyx::onnx_import
