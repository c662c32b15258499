// ONNX elementwise ops: arithmetic, math functions, activations,
// comparisons and logic, Where, Cast, Clip and the variadic Sum/Mean/Max/Min.
// Every op of this family maps onto IR elementwise ops (docs/ops.md), which
// take operands of one dtype and broadcast like NumPy, as ONNX does from
// opset 7 (legacyBroadcast handles opset 6).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>
#include <vector>

#include "frontends/onnx/convert_helpers.h"
#include "frontends/onnx/converters.h"
#include "frontends/onnx/tensor_proto.h"
#include "ir/strings.h"

namespace nyx::onnx_import {
namespace {

using ir::DType;
using ir::Value;

// An IR op name as a template argument, so one converter template serves
// every ONNX op that is a single IR op: unary<"exp">.
template <size_t N> struct IrOpName {
  char text[N];
  constexpr IrOpName(const char (&s)[N]) { std::copy_n(s, N, text); }
  constexpr std::string_view view() const { return {text, N - 1}; }
};

// Records an error unless every value has the dtype of the first: inputs
// of one ONNX type variable share their element type.
absl::Status checkSameDType(NodeContext &n, std::span<Value *const> values,
                            std::span<const int> inputIndices) {
  for (size_t i = 1; i < values.size(); ++i)
    if (values[i]->type.dtype != values[0]->type.dtype)
      return n.fail(strCat("inputs ", inputIndices[0], " and ", inputIndices[i],
                           " have dtypes ",
                           ir::dtypeName(values[0]->type.dtype), " and ",
                           ir::dtypeName(values[i]->type.dtype),
                           "; expected one dtype (they share a type "
                           "constraint)"));
  return absl::OkStatus();
}

// Inputs `indices`, which the schema gives one type.
absl::StatusOr<std::vector<Value *>>
sameTypedInputs(NodeContext &n, std::span<const int> indices) {
  std::vector<Value *> values;
  for (int i : indices) {
    Value *v = n.input(i);
    if (!v)
      return n.status();
    values.push_back(v);
  }
  if (absl::Status s = checkSameDType(n, values, indices); !s.ok())
    return s;
  return values;
}

Value *scalar(NodeContext &n, double v, const Value *like) {
  return n.scalarLike(v, like);
}

// `v` broadcast to `shape` when the two differ (a composition whose ops
// did not touch every operand may come out smaller than the ONNX result).
Value *broadcastTo(NodeContext &n, Value *v, const ir::Shape &shape) {
  if (!v || v->type.shape == shape)
    return v;
  return n.op("broadcast_to", {v}, {{"shape", shape}});
}

template <IrOpName Op> absl::Status unary(NodeContext &n) {
  n.setOutput(0, n.op(Op.view(), {n.input(0)}));
  return n.status();
}

// Before opset 7, B broadcasts onto A only with `broadcast = 1`, its axes
// lined up with A's from `axis` on (the trailing axes by default). Given
// trailing 1s, NumPy's rule lines them up the same way.
Value *legacyBroadcast(NodeContext &n, const Value *a, Value *b) {
  if (n.opset() >= 7 || !a || !b || n.attrInt("broadcast", 0) == 0 ||
      !n.hasAttr("axis"))
    return b;
  int64_t rank = a->type.rank();
  int64_t axis = n.attrInt("axis", 0);
  if (axis < 0)
    axis += rank;
  int64_t trailing = rank - axis - b->type.rank();
  if (axis < 0 || trailing < 0) {
    n.fail(strCat("axis ", n.attrInt("axis", 0), " does not fit input 1 (",
                  b->type.str(), ") into input 0 (", a->type.str(), ")"));
    return nullptr;
  }
  ir::Shape shape = b->type.shape;
  shape.insert(shape.end(), trailing, 1);
  return n.op("reshape", {b}, {{"shape", shape}});
}

template <IrOpName Op> absl::Status binary(NodeContext &n) {
  static constexpr int kInputs[] = {0, 1};
  absl::StatusOr<std::vector<Value *>> in = sameTypedInputs(n, kInputs);
  if (!in.ok())
    return in.status();
  Value *a = (*in)[0];
  n.setOutput(0, n.op(Op.view(), {a, legacyBroadcast(n, a, (*in)[1])}));
  return n.status();
}

// ---------------------------------------------------------------------------
// Pow
// ---------------------------------------------------------------------------

// The number of low bits of an exponent the square-and-multiply loop reads:
// all magnitude bits of an unknown exponent's dtype, or just enough for the
// largest magnitude of a known one.
int exponentBits(const ir::TensorType &type, const ir::Tensor *known) {
  if (!known)
    return static_cast<int>(ir::dtypeSize(type.dtype)) * 8 - 1;
  uint64_t largest = 0;
  for (int64_t i = 0; i < known->numElements(); ++i) {
    int64_t e = known->getInt(i);
    uint64_t magnitude =
        e < 0 ? uint64_t(0) - static_cast<uint64_t>(e) : uint64_t(e);
    largest = std::max(largest, magnitude);
  }
  int bits = 0;
  while (bits < 64 && (largest >> bits) != 0)
    ++bits;
  return bits;
}

bool anyNegative(const ir::Tensor *known) {
  if (!known)
    return true;
  for (int64_t i = 0; i < known->numElements(); ++i)
    if (known->getInt(i) < 0)
      return true;
  return false;
}

// base ** exponent for an integer base and an integer exponent, exactly as
// NumPy computes it (products wrap in the base's dtype), by square and
// multiply over the exponent's bits. NumPy rejects negative exponents; here
// they give the integer part of the real power, as C's pow followed by a
// truncating cast would: base ** |e| when |base| is 1, else 0.
// `shape` is the broadcast shape of the two.
Value *integerPow(NodeContext &n, Value *base, Value *exponent,
                  const ir::Tensor *knownExponent, const ir::Shape &shape) {
  const int bits = exponentBits(exponent->type, knownExponent);
  Value *result = nullptr;
  Value *power = base;
  if (knownExponent && knownExponent->isSplat()) {
    // One exponent for every element (x ** 3): a chain of products.
    int64_t e = knownExponent->getInt(0);
    uint64_t magnitude =
        e < 0 ? uint64_t(0) - static_cast<uint64_t>(e) : uint64_t(e);
    for (int k = 0; k < bits; ++k) {
      if ((magnitude >> k) & 1)
        result = result ? n.op("mul", {result, power}) : power;
      if (k + 1 < bits)
        power = n.op("mul", {power, power});
    }
    if (!result)
      result = scalar(n, 1, base);
  } else {
    result = scalar(n, 1, base);
    // Truncating division peels one bit per step; a negative exponent's
    // bits come out as -1, so `bit != 0` reads its magnitude.
    Value *rest = exponent;
    Value *two = scalar(n, 2, exponent);
    Value *zero = scalar(n, 0, exponent);
    for (int k = 0; k < bits; ++k) {
      Value *half = n.op("div", {rest, two});
      Value *bit = n.op("sub", {rest, n.op("mul", {half, two})});
      result = n.op("select", {n.op("ne", {bit, zero}),
                               n.op("mul", {result, power}), result});
      if (k + 1 < bits) {
        power = n.op("mul", {power, power});
        rest = half;
      }
    }
  }
  if (anyNegative(knownExponent)) {
    Value *unit = n.op("eq", {n.op("abs", {base}), scalar(n, 1, base)});
    Value *fraction = n.op("select", {unit, result, scalar(n, 0, base)});
    result = n.op("select", {n.op("lt", {exponent, scalar(n, 0, exponent)}),
                             fraction, result});
  }
  return broadcastTo(n, result, shape);
}

// Pow: from opset 12 the exponent may have another dtype than the base
// (type constraint T1); the result has the base's dtype.
absl::Status convertPow(NodeContext &n) {
  Value *base = n.input(0);
  Value *exponent = legacyBroadcast(n, base, n.input(1));
  if (!base || !exponent)
    return n.status();
  const DType bt = base->type.dtype, et = exponent->type.dtype;
  if (n.opset() < 12 && bt != et) {
    static constexpr int kInputs[] = {0, 1};
    Value *both[] = {base, exponent};
    return checkSameDType(n, both, kInputs);
  }
  if (ir::isFloat(bt)) {
    // With an exponent of another dtype, NumPy computes in the wider type
    // and rounds to the base's once; so does this, in f32 at least (which
    // is what pow on f16 and bf16 computes in anyway).
    DType compute = bt;
    if (et != bt && (bt == DType::F16 || bt == DType::BF16))
      compute = DType::F32;
    if (et == DType::F64)
      compute = DType::F64;
    Value *power =
        n.op("pow", {castTo(n, base, compute), castTo(n, exponent, compute)});
    n.setOutput(0, castTo(n, power, bt));
    return n.status();
  }
  if (!ir::isInteger(bt))
    return n.fail(strCat("base has dtype ", ir::dtypeName(bt),
                         "; expected a float or integer dtype"));
  if (ir::isFloat(et)) {
    // NumPy raises an integer to a float power in f64, then casts back.
    Value *wide = n.op(
        "pow", {castTo(n, base, DType::F64), castTo(n, exponent, DType::F64)});
    n.setOutput(0, castTo(n, wide, bt));
    return n.status();
  }
  if (!ir::isInteger(et))
    return n.fail(strCat("exponent has dtype ", ir::dtypeName(et),
                         "; expected a float or integer dtype"));
  absl::StatusOr<ir::Shape> shape =
      ir::broadcastShapes(base->type.shape, exponent->type.shape);
  if (!shape.ok())
    return n.fail(std::string(shape.status().message()));
  n.setOutput(0, integerPow(n, base, exponent, n.constantInput(1), *shape));
  return n.status();
}

// ---------------------------------------------------------------------------
// Variadic: Sum, Mean, Max, Min (one or more inputs, broadcast together)
// ---------------------------------------------------------------------------

absl::StatusOr<std::vector<Value *>> variadicInputs(NodeContext &n) {
  if (n.numInputs() < 1)
    return n.fail("the node has no inputs; expected at least one");
  std::vector<int> indices;
  for (int i = 0; i < n.numInputs(); ++i)
    indices.push_back(i);
  return sameTypedInputs(n, indices);
}

Value *foldLeft(NodeContext &n, std::string_view irOp,
                const std::vector<Value *> &values) {
  Value *acc = values[0];
  for (size_t i = 1; i < values.size(); ++i)
    acc = n.op(irOp, {acc, values[i]});
  return acc;
}

template <IrOpName Op> absl::Status variadic(NodeContext &n) {
  absl::StatusOr<std::vector<Value *>> in = variadicInputs(n);
  if (!in.ok())
    return in.status();
  n.setOutput(0, foldLeft(n, Op.view(), *in));
  return n.status();
}

absl::Status convertMean(NodeContext &n) {
  absl::StatusOr<std::vector<Value *>> in = variadicInputs(n);
  if (!in.ok())
    return in.status();
  Value *sum = foldLeft(n, "add", *in);
  if (in->size() > 1)
    sum = n.op("div", {sum, scalar(n, static_cast<double>(in->size()), sum)});
  n.setOutput(0, sum);
  return n.status();
}

// ---------------------------------------------------------------------------
// Where, Cast, CastLike, Clip
// ---------------------------------------------------------------------------

absl::Status convertWhere(NodeContext &n) {
  Value *cond = n.input(0);
  static constexpr int kBranches[] = {1, 2};
  absl::StatusOr<std::vector<Value *>> branches = sameTypedInputs(n, kBranches);
  if (!branches.ok())
    return branches.status();
  if (!cond)
    return n.status();
  if (cond->type.dtype != DType::Bool)
    return n.fail(strCat("condition has dtype ",
                         ir::dtypeName(cond->type.dtype), "; expected bool"));
  n.setOutput(0, n.op("select", {cond, (*branches)[0], (*branches)[1]}));
  return n.status();
}

absl::Status convertCast(NodeContext &n) {
  if (!n.hasAttr("to"))
    return n.fail("attribute 'to' is missing; expected the target type");
  const int64_t to = n.attrInt("to", 0);
  absl::StatusOr<DType> dtype = dtypeFromOnnx(static_cast<int32_t>(to));
  if (!dtype.ok())
    return n.unsupported(
        strCat("dtype ", onnxTypeName(static_cast<int32_t>(to))));
  n.setOutput(0, castTo(n, n.input(0), *dtype));
  return n.status();
}

absl::Status convertCastLike(NodeContext &n) {
  const ir::TensorType *like = n.inputType(1);
  if (!like)
    return n.status();
  n.setOutput(0, castTo(n, n.input(0), like->dtype));
  return n.status();
}

// Clip: min and max are attributes (defaulting to the float range) before
// opset 11, optional scalar inputs from 11 on. min(max(x, lo), hi), as
// NumPy's clip: NaN stays NaN, and lo > hi gives hi.
absl::Status convertClip(NodeContext &n) {
  Value *x = n.input(0);
  if (!x)
    return n.status();
  Value *lo = nullptr, *hi = nullptr;
  if (n.opset() < 11) {
    lo = scalar(n, n.attrFloat("min", std::numeric_limits<float>::lowest()), x);
    hi = scalar(n, n.attrFloat("max", std::numeric_limits<float>::max()), x);
  } else {
    for (int i : {1, 2}) {
      if (!n.hasInput(i))
        continue;
      Value *bound = n.input(i);
      if (!bound)
        return n.status();
      Value *pair[] = {x, bound};
      const int indices[] = {0, i};
      if (absl::Status s = checkSameDType(n, pair, indices); !s.ok())
        return s;
      if (bound->type.rank() != 0 && bound->type.numElements() != 1)
        return n.fail(strCat("input ", i, " has type ", bound->type.str(),
                             "; expected a scalar bound"));
      // A one-element bound of rank 1 must not raise the rank of x.
      if (bound->type.rank() != 0)
        bound = n.op("reshape", {bound}, {{"shape", ir::Shape{}}});
      (i == 1 ? lo : hi) = bound;
    }
  }
  Value *y = x;
  if (lo)
    y = n.op("max", {y, lo});
  if (hi)
    y = n.op("min", {y, hi});
  n.setOutput(0, y);
  return n.status();
}

// ---------------------------------------------------------------------------
// Activations
// ---------------------------------------------------------------------------

// x >= 0 ? x : alpha * x
absl::Status convertLeakyRelu(NodeContext &n) {
  Value *x = n.input(0);
  if (!x)
    return n.status();
  Value *alpha = scalar(n, n.attrFloat("alpha", 0.01), x);
  Value *negative = n.op("lt", {x, scalar(n, 0, x)});
  n.setOutput(0, n.op("select", {negative, n.op("mul", {x, alpha}), x}));
  return n.status();
}

// x < 0 ? alpha * (exp(x) - 1) : x
absl::Status convertElu(NodeContext &n) {
  Value *x = n.input(0);
  if (!x)
    return n.status();
  Value *alpha = scalar(n, n.attrFloat("alpha", 1.0), x);
  Value *expm1 = n.op("sub", {n.op("exp", {x}), scalar(n, 1, x)});
  Value *negative = n.op("lt", {x, scalar(n, 0, x)});
  n.setOutput(0, n.op("select", {negative, n.op("mul", {alpha, expm1}), x}));
  return n.status();
}

// gamma * (x > 0 ? x : alpha * exp(x) - alpha)
absl::Status convertSelu(NodeContext &n) {
  Value *x = n.input(0);
  if (!x)
    return n.status();
  Value *alpha = scalar(n, n.attrFloat("alpha", 1.67326319217681884765625), x);
  Value *gamma = scalar(n, n.attrFloat("gamma", 1.05070102214813232421875), x);
  Value *negativePart =
      n.op("sub", {n.op("mul", {n.op("exp", {x}), alpha}), alpha});
  Value *positive = n.op("gt", {x, scalar(n, 0, x)});
  n.setOutput(
      0, n.op("mul", {n.op("select", {positive, x, negativePart}), gamma}));
  return n.status();
}

// max(0, x) + min(0, alpha * (exp(x / alpha) - 1))
absl::Status convertCelu(NodeContext &n) {
  Value *x = n.input(0);
  if (!x)
    return n.status();
  Value *alpha = scalar(n, n.attrFloat("alpha", 1.0), x);
  Value *zero = scalar(n, 0, x);
  Value *expm1 =
      n.op("sub", {n.op("exp", {n.op("div", {x, alpha})}), scalar(n, 1, x)});
  Value *negativePart = n.op("min", {zero, n.op("mul", {alpha, expm1})});
  n.setOutput(0, n.op("add", {n.op("max", {zero, x}), negativePart}));
  return n.status();
}

// max(0, min(1, alpha * x + beta))
Value *hardSigmoid(NodeContext &n, Value *x, double alpha, double beta) {
  Value *linear =
      n.op("add", {n.op("mul", {x, scalar(n, alpha, x)}), scalar(n, beta, x)});
  return n.op("max", {scalar(n, 0, x), n.op("min", {scalar(n, 1, x), linear})});
}

absl::Status convertHardSigmoid(NodeContext &n) {
  Value *x = n.input(0);
  if (!x)
    return n.status();
  n.setOutput(0, hardSigmoid(n, x, n.attrFloat("alpha", 0.2),
                             n.attrFloat("beta", 0.5)));
  return n.status();
}

// x * HardSigmoid(x) with alpha = 1/6, beta = 0.5.
absl::Status convertHardSwish(NodeContext &n) {
  Value *x = n.input(0);
  if (!x)
    return n.status();
  n.setOutput(0, n.op("mul", {x, hardSigmoid(n, x, 1.0 / 6.0, 0.5)}));
  return n.status();
}

// x / (1 + |x|)
absl::Status convertSoftsign(NodeContext &n) {
  Value *x = n.input(0);
  if (!x)
    return n.status();
  Value *denominator = n.op("add", {scalar(n, 1, x), n.op("abs", {x})});
  n.setOutput(0, n.op("div", {x, denominator}));
  return n.status();
}

// x <= alpha ? 0 : x. Written this way round so that NaN stays NaN, as in
// the ONNX reference (clip to [alpha, inf), then zero where equal to alpha).
absl::Status convertThresholdedRelu(NodeContext &n) {
  Value *x = n.input(0);
  if (!x)
    return n.status();
  Value *alpha = scalar(n, n.attrFloat("alpha", 1.0), x);
  n.setOutput(0, n.op("select", {n.op("le", {x, alpha}), scalar(n, 0, x), x}));
  return n.status();
}

// x < -lambd ? x + bias : (x > lambd ? x - bias : 0). Shrink also takes
// integer inputs: the comparisons with a fractional lambd become exact
// integer comparisons with its floor and ceiling; a fractional bias cannot
// be added to an integer.
absl::Status convertShrink(NodeContext &n) {
  Value *x = n.input(0);
  if (!x)
    return n.status();
  const double lambd = n.attrFloat("lambd", 0.5);
  const double bias = n.attrFloat("bias", 0.0);
  double below = -lambd, above = lambd;
  if (ir::isInteger(x->type.dtype)) {
    if (bias != std::floor(bias))
      return n.unsupported(strCat("bias ", bias, " on integer input of dtype ",
                                  ir::dtypeName(x->type.dtype)));
    // x < b <=> x < ceil(b) and x > a <=> x > floor(a) for integer x.
    below = std::ceil(below);
    above = std::floor(above);
  }
  Value *low = n.op("lt", {x, scalar(n, below, x)});
  Value *high = n.op("gt", {x, scalar(n, above, x)});
  Value *biasValue = scalar(n, bias, x);
  Value *inner =
      n.op("select", {high, n.op("sub", {x, biasValue}), scalar(n, 0, x)});
  n.setOutput(0, n.op("select", {low, n.op("add", {x, biasValue}), inner}));
  return n.status();
}

// ---------------------------------------------------------------------------
// IsInf, Mod
// ---------------------------------------------------------------------------

absl::Status convertIsInf(NodeContext &n) {
  const bool positive = n.attrInt("detect_positive", 1) != 0;
  const bool negative = n.attrInt("detect_negative", 1) != 0;
  n.setOutput(
      0, n.op("isinf", {n.input(0)},
              {{"detect_positive", positive}, {"detect_negative", negative}}));
  return n.status();
}

// fmod = 0 takes the divisor's sign (Python's %), fmod = 1 the dividend's
// (C's fmod). ONNX asks for fmod = 1 on floats; with 0 they get the NumPy
// semantics of its reference implementation, which the IR also has.
absl::Status convertMod(NodeContext &n) {
  static constexpr int kInputs[] = {0, 1};
  absl::StatusOr<std::vector<Value *>> in = sameTypedInputs(n, kInputs);
  if (!in.ok())
    return in.status();
  const int64_t fmod = n.attrInt("fmod", 0);
  if (fmod != 0 && fmod != 1)
    return n.fail(strCat("attribute 'fmod' is ", fmod, "; expected 0 or 1"));
  n.setOutput(0, n.op("mod", {(*in)[0], (*in)[1]}, {{"fmod", fmod == 1}}));
  return n.status();
}

constexpr ConverterEntry kTable[] = {
    // Arithmetic
    {"Add", binary<"add">},
    {"Sub", binary<"sub">},
    {"Mul", binary<"mul">},
    {"Div", binary<"div">},
    {"Pow", convertPow},
    {"Mod", convertMod},
    {"Neg", unary<"neg">},
    {"Abs", unary<"abs">},
    {"Reciprocal", unary<"reciprocal">},
    {"Sign", unary<"sign">},
    // Rounding
    {"Floor", unary<"floor">},
    {"Ceil", unary<"ceil">},
    {"Round", unary<"round">},
    // Math functions
    {"Exp", unary<"exp">},
    {"Log", unary<"log">},
    {"Sqrt", unary<"sqrt">},
    {"Tanh", unary<"tanh">},
    {"Erf", unary<"erf">},
    {"Sin", unary<"sin">},
    {"Cos", unary<"cos">},
    {"Tan", unary<"tan">},
    {"Asin", unary<"asin">},
    {"Acos", unary<"acos">},
    {"Atan", unary<"atan">},
    {"Sinh", unary<"sinh">},
    {"Cosh", unary<"cosh">},
    {"Asinh", unary<"asinh">},
    {"Acosh", unary<"acosh">},
    {"Atanh", unary<"atanh">},
    // Tests and logic
    {"IsNaN", unary<"isnan">},
    {"IsInf", convertIsInf},
    {"Not", unary<"not">},
    {"And", binary<"and">},
    {"Or", binary<"or">},
    {"Xor", binary<"xor">},
    // Variadic
    {"Sum", variadic<"add">},
    {"Max", variadic<"max">},
    {"Min", variadic<"min">},
    {"Mean", convertMean},
    // Comparisons and selection
    {"Equal", binary<"eq">},
    {"Less", binary<"lt">},
    {"LessOrEqual", binary<"le">},
    {"Greater", binary<"gt">},
    {"GreaterOrEqual", binary<"ge">},
    {"Where", convertWhere},
    // Conversions
    {"Cast", convertCast},
    {"CastLike", convertCastLike},
    {"Clip", convertClip},
    // Activations
    {"Relu", unary<"relu">},
    {"Sigmoid", unary<"sigmoid">},
    {"Softplus", unary<"softplus">},
    {"LeakyRelu", convertLeakyRelu},
    {"Elu", convertElu},
    {"Selu", convertSelu},
    {"Celu", convertCelu},
    {"HardSigmoid", convertHardSigmoid},
    {"HardSwish", convertHardSwish},
    {"Softsign", convertSoftsign},
    {"ThresholdedRelu", convertThresholdedRelu},
    {"Shrink", convertShrink},
};

} // namespace

std::span<const ConverterEntry> elementwiseConverters() { return kTable; }

} // namespace nyx::onnx_import
