// Converters of ONNX's recurrent layers RNN, GRU and LSTM (opsets 7 and 14;
// 14 adds `layout`). Shapes are static in the IR, so the sequence length is
// known at import and the recurrence is unrolled: per direction, one matmul
// projects the inputs of every time step at once (X * W^T plus the biases
// that do not depend on the state), then each step adds H * R^T and applies
// the gate activations. `sequence_lens` shorter than the sequence masks the
// steps past a sequence's end: the state stops changing and Y is zero there.
#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "frontends/onnx/converters.h"
#include "ir/strings.h"
#include "onnx/onnx_pb.h"

namespace nyx::onnx_import {
namespace {

using ir::Value;

enum class Cell { Rnn, Gru, Lstm };

// The ONNX inputs shared by the three ops, by position.
enum Input { kX = 0, kW, kR, kB, kSeqLens, kInitialH, kInitialC, kPeephole };

struct Activation {
  std::string name; // lower case
  double alpha = 0, beta = 0;
};

struct RnnSpec {
  Cell cell = Cell::Rnn;
  int64_t seqLength = 0, batch = 0, inputSize = 0, hidden = 0;
  int64_t directions = 1;
  bool reverse = false;    // direction "reverse" (one direction, backwards)
  bool batchFirst = false; // layout 1
  std::optional<double> clip;
  bool linearBeforeReset = false; // GRU
  bool inputForget = false;       // LSTM
  // numActivations() per direction, direction after direction.
  std::vector<Activation> activations;

  int64_t gates() const {
    return cell == Cell::Rnn ? 1 : cell == Cell::Gru ? 3 : 4;
  }
  int64_t numActivations() const {
    return cell == Cell::Rnn ? 1 : cell == Cell::Gru ? 2 : 3;
  }
  const Activation &activation(int64_t d, int64_t k) const {
    return activations[d * numActivations() + k];
  }
};

// The operands of one direction, as [rows, cols] matrices and [B, H] states.
struct DirectionInputs {
  Value *w = nullptr; // [gates*H, I]
  Value *r = nullptr; // [gates*H, H]
  // Added to the input projection: Wb + Rb (GRU with linear_before_reset:
  // without the hidden gate's Rb, which goes inside the reset product).
  Value *projectionBias = nullptr;      // [gates*H] or null
  Value *hiddenRecurrentBias = nullptr; // GRU linear_before_reset: [H]
  Value *peephole = nullptr;            // LSTM: [3*H] or null
  Value *h0 = nullptr, *c0 = nullptr;   // [B, H]
};

struct State {
  Value *h = nullptr, *c = nullptr;
};

std::string lowerCase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return s;
}

// ---- Attributes and shapes ----

// Reads `activations` with their alpha and beta. As in onnxruntime, the
// activation_alpha and activation_beta lists are consumed in order only by
// the activations that take them; a missing value takes the default of the
// ONNX op of that name.
bool readActivations(NodeContext &n, RnnSpec &spec) {
  std::vector<std::string> names;
  if (n.hasAttr("activations")) {
    const onnx::NodeProto &node = n.node();
    for (const auto &a : node.attribute())
      if (a.name() == "activations")
        for (const std::string &s : a.strings())
          names.push_back(s);
  } else if (spec.cell == Cell::Rnn) {
    names = {"Tanh"};
  } else {
    names = {"Sigmoid", "Tanh", "Tanh"};
    names.resize(spec.numActivations());
  }
  const auto perDirection = static_cast<size_t>(spec.numActivations());
  if (names.size() == perDirection && spec.directions == 2) {
    const std::vector<std::string> first = names; // both directions alike
    names.insert(names.end(), first.begin(), first.end());
  }
  if (names.size() != perDirection * spec.directions) {
    n.fail(strCat("activations has ", names.size(), " entries; expected ",
                  perDirection * spec.directions, " (", perDirection,
                  " per direction)"))
        .IgnoreError();
    return false;
  }
  struct Known {
    std::string_view name;
    bool takesAlpha, takesBeta;
    double alpha, beta;
  };
  static constexpr Known kKnown[] = {{"relu", false, false, 0, 0},
                                     {"tanh", false, false, 0, 0},
                                     {"sigmoid", false, false, 0, 0},
                                     {"affine", true, true, 1, 0},
                                     {"leakyrelu", true, false, 0.01, 0},
                                     {"thresholdedrelu", true, false, 1, 0},
                                     {"scaledtanh", true, true, 1, 1},
                                     {"hardsigmoid", true, true, 0.2, 0.5},
                                     {"elu", true, false, 1, 0},
                                     {"softsign", false, false, 0, 0},
                                     {"softplus", false, false, 0, 0}};
  const std::vector<double> alphas = n.attrFloats("activation_alpha", {});
  const std::vector<double> betas = n.attrFloats("activation_beta", {});
  size_t nextAlpha = 0, nextBeta = 0;
  for (const std::string &given : names) {
    Activation act{lowerCase(given)};
    const Known *known = nullptr;
    for (const Known &k : kKnown)
      if (k.name == act.name)
        known = &k;
    if (!known) {
      n.fail(strCat("activation '", given,
                    "' is not one of Relu, Tanh, Sigmoid, Affine, LeakyRelu, "
                    "ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, "
                    "Softplus"))
          .IgnoreError();
      return false;
    }
    act.alpha = known->alpha;
    act.beta = known->beta;
    if (known->takesAlpha && nextAlpha < alphas.size())
      act.alpha = alphas[nextAlpha++];
    if (known->takesBeta && nextBeta < betas.size())
      act.beta = betas[nextBeta++];
    spec.activations.push_back(act);
  }
  return true;
}

// Checks that input `i` has shape `want`.
bool checkShape(NodeContext &n, int i, std::string_view what,
                const ir::Shape &want) {
  const ir::TensorType *type = n.inputType(i);
  if (!type)
    return false;
  if (type->shape != want) {
    n.fail(strCat("input ", what, " is ", type->str(), "; expected shape [",
                  strJoin(want, ", "), "]"))
        .IgnoreError();
    return false;
  }
  return true;
}

std::optional<RnnSpec> readSpec(NodeContext &n, Cell cell) {
  RnnSpec spec;
  spec.cell = cell;
  Value *x = n.input(kX);
  const ir::TensorType *w = n.inputType(kW);
  const ir::TensorType *r = n.inputType(kR);
  if (!x || !w || !r)
    return std::nullopt;
  if (!ir::isFloat(x->type.dtype) || x->type.rank() != 3) {
    n.fail(
         strCat("input X is ", x->type.str(), "; expected a 3-D float tensor"))
        .IgnoreError();
    return std::nullopt;
  }
  const std::string direction = n.attrString("direction", "forward");
  if (direction == "bidirectional")
    spec.directions = 2;
  else if (direction == "reverse")
    spec.reverse = true;
  else if (direction != "forward") {
    n.fail(strCat("direction is '", direction,
                  "'; expected forward, reverse or bidirectional"))
        .IgnoreError();
    return std::nullopt;
  }
  const int64_t layout = n.opset() >= 14 ? n.attrInt("layout", 0) : 0;
  if (layout != 0 && layout != 1) {
    n.fail(strCat("layout is ", layout, "; expected 0 or 1")).IgnoreError();
    return std::nullopt;
  }
  spec.batchFirst = layout == 1;
  const ir::Shape &xs = x->type.shape;
  spec.seqLength = spec.batchFirst ? xs[1] : xs[0];
  spec.batch = spec.batchFirst ? xs[0] : xs[1];
  spec.inputSize = xs[2];
  spec.hidden = r->rank() == 3 ? r->shape[2] : 0;
  if (n.hasAttr("hidden_size"))
    spec.hidden = n.attrInt("hidden_size", 0);
  if (n.hasAttr("clip"))
    spec.clip = n.attrFloat("clip", 0);
  spec.linearBeforeReset = n.attrInt("linear_before_reset", 0) != 0;
  spec.inputForget = n.attrInt("input_forget", 0) != 0;
  const int64_t d = spec.directions, gh = spec.gates() * spec.hidden;
  const ir::Shape state = spec.batchFirst
                              ? ir::Shape{spec.batch, d, spec.hidden}
                              : ir::Shape{d, spec.batch, spec.hidden};
  if (!checkShape(n, kW, "W", {d, gh, spec.inputSize}) ||
      !checkShape(n, kR, "R", {d, gh, spec.hidden}) ||
      (n.hasInput(kB) && !checkShape(n, kB, "B", {d, 2 * gh})) ||
      (n.hasInput(kSeqLens) &&
       !checkShape(n, kSeqLens, "sequence_lens", {spec.batch})) ||
      (n.hasInput(kInitialH) && !checkShape(n, kInitialH, "initial_h", state)))
    return std::nullopt;
  if (cell == Cell::Lstm &&
      ((n.hasInput(kInitialC) &&
        !checkShape(n, kInitialC, "initial_c", state)) ||
       (n.hasInput(kPeephole) &&
        !checkShape(n, kPeephole, "P", {d, 3 * spec.hidden}))))
    return std::nullopt;
  if (!readActivations(n, spec))
    return std::nullopt;
  return spec;
}

// ---- Small builders ----

Value *sliceOf(NodeContext &n, Value *v, std::vector<int64_t> starts,
               std::vector<int64_t> ends, std::vector<int64_t> axes) {
  return n.op("slice", {v},
              {{"starts", std::move(starts)},
               {"ends", std::move(ends)},
               {"axes", std::move(axes)}});
}

// Columns [start, start + count) of a [rows, cols] matrix, or elements of a
// vector.
Value *columns(NodeContext &n, Value *v, int64_t start, int64_t count) {
  if (!v) // an earlier error, which n holds
    return nullptr;
  const int64_t axis = v->type.rank() - 1;
  return sliceOf(n, v, {start}, {start + count}, {axis});
}

Value *zeros(NodeContext &n, const Value *like, ir::Shape shape) {
  return n.op("broadcast_to", {n.scalarLike(0, like)},
              {{"shape", std::move(shape)}});
}

Value *activate(NodeContext &n, const RnnSpec &spec, const Activation &act,
                Value *x) {
  if (spec.clip)
    x = n.op("min", {n.op("max", {x, n.scalarLike(-*spec.clip, x)}),
                     n.scalarLike(*spec.clip, x)});
  auto c = [&](double v) { return n.scalarLike(v, x); };
  const std::string &name = act.name;
  if (name == "relu" || name == "tanh" || name == "sigmoid" ||
      name == "softplus")
    return n.op(name, {x});
  if (name == "affine")
    return n.op("add", {n.op("mul", {x, c(act.alpha)}), c(act.beta)});
  if (name == "leakyrelu")
    return n.op("select",
                {n.op("ge", {x, c(0)}), x, n.op("mul", {x, c(act.alpha)})});
  if (name == "thresholdedrelu")
    return n.op("select", {n.op("ge", {x, c(act.alpha)}), x, c(0)});
  if (name == "scaledtanh")
    return n.op("mul",
                {n.op("tanh", {n.op("mul", {x, c(act.beta)})}), c(act.alpha)});
  if (name == "hardsigmoid")
    return n.op("min",
                {n.op("max", {n.op("add", {n.op("mul", {x, c(act.alpha)}),
                                           c(act.beta)}),
                              c(0)}),
                 c(1)});
  if (name == "elu")
    return n.op("select", {n.op("ge", {x, c(0)}), x,
                           n.op("mul", {n.op("sub", {n.op("exp", {x}), c(1)}),
                                        c(act.alpha)})});
  // softsign
  return n.op("div", {x, n.op("add", {n.op("abs", {x}), c(1)})});
}

// ---- Operands of one direction ----

// Direction d of a [D, rows, cols] weight as [rows, cols], or of a [D, n]
// vector as [n].
Value *directionOf(NodeContext &n, Value *v, int64_t d) {
  if (!v) // an earlier error, which n holds
    return nullptr;
  ir::Shape rest(v->type.shape.begin() + 1, v->type.shape.end());
  return n.op("reshape", {sliceOf(n, v, {d}, {d + 1}, {0})}, {{"shape", rest}});
}

// Direction d of initial_h or initial_c as [B, H]; zeros when not given.
Value *initialState(NodeContext &n, const RnnSpec &spec, int input, int64_t d,
                    const Value *like) {
  if (!n.hasInput(input))
    return zeros(n, like, {spec.batch, spec.hidden});
  Value *s = n.input(input);
  const int64_t axis = spec.batchFirst ? 1 : 0;
  return n.op("reshape", {sliceOf(n, s, {d}, {d + 1}, {axis})},
              {{"shape", {spec.batch, spec.hidden}}});
}

DirectionInputs directionInputs(NodeContext &n, const RnnSpec &spec,
                                int64_t d) {
  DirectionInputs in;
  Value *x = n.input(kX);
  in.w = directionOf(n, n.input(kW), d);
  in.r = directionOf(n, n.input(kR), d);
  const int64_t h = spec.hidden, gh = spec.gates() * h;
  if (n.hasInput(kB)) {
    Value *b = directionOf(n, n.input(kB), d);
    Value *wb = columns(n, b, 0, gh), *rb = columns(n, b, gh, gh);
    if (spec.cell == Cell::Gru && spec.linearBeforeReset) {
      in.hiddenRecurrentBias = columns(n, rb, 2 * h, h);
      rb = n.op("concat", {columns(n, rb, 0, 2 * h), zeros(n, x, {h})},
                {{"axis", 0}});
    }
    in.projectionBias = n.op("add", {wb, rb});
  }
  if (spec.cell == Cell::Lstm && n.hasInput(kPeephole))
    in.peephole = directionOf(n, n.input(kPeephole), d);
  in.h0 = initialState(n, spec, kInitialH, d, x);
  if (spec.cell == Cell::Lstm)
    in.c0 = initialState(n, spec, kInitialC, d, x);
  return in;
}

// X * W^T (+ bias) for every time step: [T * B, gates * H], rows of step t
// at [t * B, (t + 1) * B).
Value *inputProjection(NodeContext &n, const RnnSpec &spec, Value *xTimeMajor,
                       const DirectionInputs &in) {
  Value *x2d = n.op("reshape", {xTimeMajor},
                    {{"shape", {spec.seqLength * spec.batch, spec.inputSize}}});
  Value *p = n.op("matmul", {x2d, in.w}, {{"transpose_b", true}});
  return in.projectionBias ? n.op("add", {p, in.projectionBias}) : p;
}

// ---- One step of each cell ----

Value *recurrent(NodeContext &n, Value *h, Value *r) {
  return n.op("matmul", {h, r}, {{"transpose_b", true}});
}

State rnnStep(NodeContext &n, const RnnSpec &spec, int64_t d,
              const DirectionInputs &in, Value *xt, const State &s) {
  Value *gates = n.op("add", {xt, recurrent(n, s.h, in.r)});
  return {activate(n, spec, spec.activation(d, 0), gates), nullptr};
}

State gruStep(NodeContext &n, const RnnSpec &spec, int64_t d,
              const DirectionInputs &in, Value *xt, const State &s) {
  const int64_t h = spec.hidden;
  const Activation &f = spec.activation(d, 0), &g = spec.activation(d, 1);
  Value *rZr = sliceOf(n, in.r, {0}, {2 * h}, {0});
  Value *rH = sliceOf(n, in.r, {2 * h}, {3 * h}, {0});
  Value *zr = n.op("add", {columns(n, xt, 0, 2 * h), recurrent(n, s.h, rZr)});
  Value *z = activate(n, spec, f, columns(n, zr, 0, h));
  Value *r = activate(n, spec, f, columns(n, zr, h, h));
  Value *hidden;
  if (spec.linearBeforeReset) {
    hidden = recurrent(n, s.h, rH);
    if (in.hiddenRecurrentBias)
      hidden = n.op("add", {hidden, in.hiddenRecurrentBias});
    hidden = n.op("mul", {r, hidden});
  } else {
    hidden = recurrent(n, n.op("mul", {r, s.h}), rH);
  }
  Value *candidate =
      activate(n, spec, g, n.op("add", {columns(n, xt, 2 * h, h), hidden}));
  // (1 - z) * candidate + z * H = candidate + z * (H - candidate)
  Value *next =
      n.op("add", {candidate, n.op("mul", {z, n.op("sub", {s.h, candidate})})});
  return {next, nullptr};
}

State lstmStep(NodeContext &n, const RnnSpec &spec, int64_t d,
               const DirectionInputs &in, Value *xt, const State &s) {
  const int64_t h = spec.hidden;
  const Activation &f = spec.activation(d, 0), &g = spec.activation(d, 1),
                   &hAct = spec.activation(d, 2);
  Value *gates = n.op("add", {xt, recurrent(n, s.h, in.r)});
  // Gates are ordered i, o, f, c; peepholes i, o, f.
  auto gate = [&](int64_t k, int64_t peephole, Value *cell) {
    Value *v = columns(n, gates, k * h, h);
    if (in.peephole && peephole >= 0)
      v = n.op("add", {v, n.op("mul", {columns(n, in.peephole, peephole * h, h),
                                       cell})});
    return v;
  };
  Value *i = activate(n, spec, f, gate(0, 0, s.c));
  Value *forget = spec.inputForget ? n.op("sub", {n.scalarLike(1, i), i})
                                   : activate(n, spec, f, gate(2, 2, s.c));
  Value *c = activate(n, spec, g, gate(3, -1, nullptr));
  Value *cell = n.op("add", {n.op("mul", {forget, s.c}), n.op("mul", {i, c})});
  Value *o = activate(n, spec, f, gate(1, 1, cell));
  return {n.op("mul", {o, activate(n, spec, hAct, cell)}), cell};
}

// ---- The unrolled recurrence ----

// Whether sequence_lens may end a sequence before seq_length, so that steps
// must be masked. Lengths known at import are checked to lie in [0, T].
bool needsMask(NodeContext &n, const RnnSpec &spec) {
  if (!n.hasInput(kSeqLens))
    return false;
  const ir::Tensor *lens = n.constantInput(kSeqLens);
  if (!lens)
    return true;
  bool shorter = false;
  for (int64_t b = 0; b < lens->numElements(); ++b) {
    const int64_t len = lens->getInt(b);
    if (len < 0 || len > spec.seqLength) {
      n.fail(strCat("sequence_lens[", b, "] is ", len,
                    "; expected a length "
                    "from 0 to seq_length (",
                    spec.seqLength, ")"))
          .IgnoreError();
      return false;
    }
    shorter = shorter || len < spec.seqLength;
  }
  return shorter;
}

// Where step t is inside each sequence (t < sequence_lens), as [B, 1] bool.
Value *stepMask(NodeContext &n, const RnnSpec &spec, int64_t t) {
  Value *lens = n.input(kSeqLens);
  if (!lens)
    return nullptr;
  ir::Tensor step(ir::TensorType{lens->type.dtype, {}});
  step.setInt(0, t);
  Value *inside = n.op("lt", {n.constant(std::move(step)), lens});
  return n.op("reshape", {inside}, {{"shape", {spec.batch, 1}}});
}

struct DirectionResult {
  std::vector<Value *> y; // [B, H] per time step, in time order
  State last;
};

DirectionResult runDirection(NodeContext &n, const RnnSpec &spec, int64_t d,
                             Value *xTimeMajor) {
  const DirectionInputs in = directionInputs(n, spec, d);
  Value *projection = inputProjection(n, spec, xTimeMajor, in);
  const bool backwards = spec.reverse || d == 1;
  const bool masked = needsMask(n, spec);
  DirectionResult result;
  result.y.assign(spec.seqLength, nullptr);
  State s{in.h0, in.c0};
  for (int64_t k = 0; k < spec.seqLength && n.status().ok(); ++k) {
    const int64_t t = backwards ? spec.seqLength - 1 - k : k;
    Value *xt =
        sliceOf(n, projection, {t * spec.batch}, {(t + 1) * spec.batch}, {0});
    State next = spec.cell == Cell::Rnn   ? rnnStep(n, spec, d, in, xt, s)
                 : spec.cell == Cell::Gru ? gruStep(n, spec, d, in, xt, s)
                                          : lstmStep(n, spec, d, in, xt, s);
    Value *y = next.h;
    if (Value *mask = masked ? stepMask(n, spec, t) : nullptr) {
      y = n.op("select", {mask, next.h, n.scalarLike(0, next.h)});
      next.h = n.op("select", {mask, next.h, s.h});
      if (next.c)
        next.c = n.op("select", {mask, next.c, s.c});
    }
    result.y[t] = y;
    s = next;
  }
  result.last = s;
  return result;
}

// Stacks [B, H] states into Y ([T, D, B, H], or [B, T, D, H] in layout 1).
Value *stackSequence(NodeContext &n, const RnnSpec &spec,
                     const std::vector<DirectionResult> &dirs) {
  std::vector<Value *> steps;
  for (int64_t t = 0; t < spec.seqLength; ++t)
    for (const DirectionResult &dir : dirs)
      steps.push_back(n.op("reshape", {dir.y[t]},
                           {{"shape", {1, spec.batch, spec.hidden}}}));
  Value *y =
      steps.size() == 1 ? steps[0] : n.op("concat", steps, {{"axis", 0}});
  y = n.op(
      "reshape", {y},
      {{"shape", {spec.seqLength, spec.directions, spec.batch, spec.hidden}}});
  return spec.batchFirst ? n.op("transpose", {y}, {{"perm", {2, 0, 1, 3}}}) : y;
}

// Stacks the last state of each direction into [D, B, H] ([B, D, H] in
// layout 1).
Value *stackLast(NodeContext &n, const RnnSpec &spec,
                 const std::vector<Value *> &states) {
  std::vector<Value *> parts;
  for (Value *s : states)
    parts.push_back(
        n.op("reshape", {s}, {{"shape", {1, spec.batch, spec.hidden}}}));
  Value *v =
      parts.size() == 1 ? parts[0] : n.op("concat", parts, {{"axis", 0}});
  return spec.batchFirst ? n.op("transpose", {v}, {{"perm", {1, 0, 2}}}) : v;
}

absl::Status convertRecurrent(NodeContext &n, Cell cell) {
  std::optional<RnnSpec> spec = readSpec(n, cell);
  if (!spec)
    return n.status();
  if (spec->seqLength == 0)
    return n.unsupported("an empty sequence (seq_length 0)");
  Value *x = n.input(kX);
  if (spec->batchFirst)
    x = n.op("transpose", {x}, {{"perm", {1, 0, 2}}});
  std::vector<DirectionResult> dirs;
  for (int64_t d = 0; d < spec->directions && n.status().ok(); ++d)
    dirs.push_back(runDirection(n, *spec, d, x));
  if (!n.status().ok())
    return n.status();
  std::vector<Value *> lastH, lastC;
  for (const DirectionResult &dir : dirs) {
    lastH.push_back(dir.last.h);
    lastC.push_back(dir.last.c);
  }
  if (n.hasOutput(0))
    n.setOutput(0, stackSequence(n, *spec, dirs));
  if (n.hasOutput(1))
    n.setOutput(1, stackLast(n, *spec, lastH));
  if (cell == Cell::Lstm && n.hasOutput(2))
    n.setOutput(2, stackLast(n, *spec, lastC));
  return n.status();
}

absl::Status convertRnn(NodeContext &n) {
  return convertRecurrent(n, Cell::Rnn);
}
absl::Status convertGru(NodeContext &n) {
  return convertRecurrent(n, Cell::Gru);
}
absl::Status convertLstm(NodeContext &n) {
  return convertRecurrent(n, Cell::Lstm);
}

} // namespace

std::span<const ConverterEntry> rnnConverters() {
  static constexpr ConverterEntry kTable[] = {
      {"RNN", convertRnn},
      {"GRU", convertGru},
      {"LSTM", convertLstm},
  };
  return kTable;
}

} // namespace nyx::onnx_import
