// Elementwise ops (docs/ops.md): the value of one result element from the
// operand elements at the same (NumPy-broadcast) position, each taken in its
// compute type. The standalone kernels and the fused ones are both built
// from these element functions (element_fn.h).
#include <cmath>
#include <functional>
#include <utility>

#include "codegen/kernel/element_fn.h"
#include "codegen/kernel/index_math.h"
#include "codegen/kernel/lowering.h"
#include "ir/strings.h"

namespace nyx::kernel {
namespace {

using B = Builder;

// The computation of one element from the operands' elements in their
// compute types.
using Compute = std::function<absl::StatusOr<ExprRef>(
    const ir::Op &op, const std::vector<ExprRef> &args)>;

// Each operand read at the position broadcasting maps `coords` to.
ElementFn broadcasting(Compute compute) {
  return [compute = std::move(compute)](
             const ir::Op &op, const std::vector<ExprRef> &coords,
             const OperandAt &operandAt) -> absl::StatusOr<ExprRef> {
    std::vector<ExprRef> args;
    for (int j = 0; j < op.numOperands(); ++j) {
      const ir::Shape &shape = op.operand(j)->type.shape;
      if (shape.size() > coords.size())
        return absl::InvalidArgumentError(strCat(
            "'", op.name(), "' operand ", j, " is ", op.operand(j)->type.str(),
            " for result ", op.result()->type.str(),
            "; expected a shape that broadcasts to the result"));
      auto v = operandAt(j, broadcastCoords(coords, shape));
      if (!v.ok())
        return v.status();
      args.push_back(computeValue(*v));
    }
    return compute(op, args);
  };
}

ExprRef one(const ExprRef &like) { return B::constant(like->type, 1); }

ExprRef sigmoid(const ExprRef &x) { return B::unary(UnaryFn::Sigmoid, x); }

absl::StatusOr<ExprRef> gelu(const ir::Op &op, const ExprRef &x) {
  auto approximate = op.getString("approximate", "none");
  if (!approximate.ok())
    return approximate.status();
  DType t = x->type;
  ExprRef half = B::constant(t, 0.5);
  if (*approximate == "none")
    return half * x *
           (one(x) + B::unary(UnaryFn::Erf, x * B::constant(t, M_SQRT1_2)));
  if (*approximate == "tanh") {
    ExprRef inner = B::constant(t, std::sqrt(2.0 / M_PI)) *
                    (x + B::constant(t, 0.044715) * x * x * x);
    return half * x * (one(x) + B::unary(UnaryFn::Tanh, inner));
  }
  return absl::InvalidArgumentError(
      strCat("'gelu' has approximate = \"", *approximate,
             "\"; expected \"none\" or \"tanh\""));
}

// max(x, 0) + log1p(exp(-|x|)): no overflow for large x, and the tiny
// result for very negative x keeps its precision.
ExprRef softplus(const ExprRef &x) {
  ExprRef negAbs = B::unary(UnaryFn::Neg, B::unary(UnaryFn::Abs, x));
  return B::binary(BinaryFn::Max, x, B::constant(x->type, 0)) +
         B::unary(UnaryFn::Log1p, B::unary(UnaryFn::Exp, negAbs));
}

// -1, 0 or 1; a NaN is its own sign.
ExprRef sign(const ExprRef &x) {
  DType t = x->type;
  ExprRef zero = B::constant(t, 0);
  ExprRef s = B::select(
      B::compare(CmpFn::Gt, x, zero), B::constant(t, 1),
      B::select(B::compare(CmpFn::Lt, x, zero), B::constant(t, -1), zero));
  if (ir::isFloat(t))
    s = B::select(B::compare(CmpFn::Ne, x, x), x, s);
  return s;
}

absl::StatusOr<ExprRef> isInf(const ir::Op &op, const ExprRef &x) {
  auto positive = op.getBool("detect_positive", true);
  if (!positive.ok())
    return positive.status();
  auto negative = op.getBool("detect_negative", true);
  if (!negative.ok())
    return negative.status();
  DType t = x->type;
  ExprRef inf = B::constant(t, INFINITY);
  if (*positive && *negative)
    return B::compare(CmpFn::Eq, B::unary(UnaryFn::Abs, x), inf);
  if (*positive)
    return B::compare(CmpFn::Eq, x, inf);
  if (*negative)
    return B::compare(CmpFn::Eq, x, B::constant(t, -INFINITY));
  return B::boolean(false);
}

// Rem is C's fmod for floats and the truncating remainder for integers
// (x % 0 = 0). Without `fmod`, a non-zero remainder whose sign differs from
// the divisor's moves by one divisor, and a float zero takes the divisor's
// sign (NumPy's mod).
absl::StatusOr<ExprRef> mod(const ir::Op &op, const ExprRef &a,
                            const ExprRef &b) {
  auto fmod = op.getBool("fmod", false);
  if (!fmod.ok())
    return fmod.status();
  ExprRef r = B::binary(BinaryFn::Rem, a, b);
  if (*fmod)
    return r;
  DType t = a->type;
  ExprRef zero = B::constant(t, 0);
  ExprRef signsDiffer = B::compare(CmpFn::Ne, B::compare(CmpFn::Lt, r, zero),
                                   B::compare(CmpFn::Lt, b, zero));
  ExprRef moves =
      B::binary(BinaryFn::And, B::compare(CmpFn::Ne, r, zero), signsDiffer);
  ExprRef moved = B::select(moves, r + b, r);
  if (!ir::isFloat(t))
    return moved;
  ExprRef signedZero =
      B::select(B::compare(CmpFn::Lt, b, zero), B::constant(t, -0.0), zero);
  return B::select(B::compare(CmpFn::Eq, r, zero), signedZero, moved);
}

// Quantization (ir/ops/quantize.cc). `v`, the quotient or product in its
// compute type, rounded half to even, plus the zero point, saturated to i8
// by the cast; a NaN gives the zero point.
ExprRef toI8(const ExprRef &v, const ExprRef &zeroPoint) {
  ExprRef q = B::cast(DType::I8, B::unary(UnaryFn::Round, v) +
                                     B::cast(v->type, zeroPoint));
  return B::select(B::compare(CmpFn::Ne, v, v), zeroPoint, q);
}

ExprRef quantize(const ExprRef &x, const ExprRef &scale,
                 const ExprRef &zeroPoint) {
  return toI8(B::binary(BinaryFn::Div, x, scale), zeroPoint);
}

// (q - zero_point), exact in a wider integer, converted (rounding only for
// i32 q) and times the scale.
ExprRef dequantize(const ExprRef &q, const ExprRef &scale,
                   const ExprRef &zeroPoint) {
  DType wide = q->type == DType::I8 ? DType::I32 : DType::I64;
  ExprRef centered = B::cast(wide, q) - B::cast(wide, zeroPoint);
  return B::cast(scale->type, centered) * scale;
}

ExprRef fakeQuantize(const ExprRef &x, const ExprRef &scale,
                     const ExprRef &zeroPoint) {
  return dequantize(quantize(x, scale, zeroPoint), scale, zeroPoint);
}

ExprRef requantize(const ExprRef &acc, const ExprRef &multiplier,
                   const ExprRef &zeroPoint) {
  return toI8(B::cast(DType::F32, acc) * multiplier, zeroPoint);
}

void addTernary(ElementFnRegistry &r, std::string_view name,
                ExprRef (*f)(const ExprRef &, const ExprRef &,
                             const ExprRef &)) {
  r.add(name, broadcasting([f](const ir::Op &, const std::vector<ExprRef> &a)
                               -> absl::StatusOr<ExprRef> {
          return f(a[0], a[1], a[2]);
        }));
}

void addUnary(ElementFnRegistry &r, std::string_view name,
              std::function<ExprRef(const ExprRef &)> f) {
  r.add(name, broadcasting([f](const ir::Op &, const std::vector<ExprRef> &a)
                               -> absl::StatusOr<ExprRef> { return f(a[0]); }));
}

void addBinary(ElementFnRegistry &r, std::string_view name, BinaryFn fn) {
  r.add(name, broadcasting([fn](const ir::Op &, const std::vector<ExprRef> &a)
                               -> absl::StatusOr<ExprRef> {
          return B::binary(fn, a[0], a[1]);
        }));
}

void addCompare(ElementFnRegistry &r, std::string_view name, CmpFn fn) {
  r.add(name, broadcasting([fn](const ir::Op &, const std::vector<ExprRef> &a)
                               -> absl::StatusOr<ExprRef> {
          return B::compare(fn, a[0], a[1]);
        }));
}

} // namespace

void registerElementwiseElementFns(ElementFnRegistry &r) {
  addUnary(r, "neg", [](auto x) { return B::unary(UnaryFn::Neg, x); });
  addUnary(r, "abs", [](auto x) { return B::unary(UnaryFn::Abs, x); });
  addUnary(r, "relu", [](auto x) {
    return B::binary(BinaryFn::Max, x, B::constant(x->type, 0));
  });
  addUnary(r, "exp", [](auto x) { return B::unary(UnaryFn::Exp, x); });
  addUnary(r, "log", [](auto x) { return B::unary(UnaryFn::Log, x); });
  addUnary(r, "sqrt", [](auto x) { return B::unary(UnaryFn::Sqrt, x); });
  addUnary(r, "rsqrt", [](auto x) { return B::unary(UnaryFn::Rsqrt, x); });
  addUnary(r, "tanh", [](auto x) { return B::unary(UnaryFn::Tanh, x); });
  addUnary(r, "erf", [](auto x) { return B::unary(UnaryFn::Erf, x); });
  addUnary(r, "sigmoid", [](auto x) { return sigmoid(x); });
  addUnary(r, "silu", [](auto x) { return x * sigmoid(x); });
  r.add("gelu",
        broadcasting([](const ir::Op &op, const std::vector<ExprRef> &a) {
          return gelu(op, a[0]);
        }));
  for (auto [name, fn] : {std::pair{"floor", UnaryFn::Floor},
                          {"ceil", UnaryFn::Ceil},
                          {"round", UnaryFn::Round},
                          {"sin", UnaryFn::Sin},
                          {"cos", UnaryFn::Cos},
                          {"tan", UnaryFn::Tan},
                          {"asin", UnaryFn::Asin},
                          {"acos", UnaryFn::Acos},
                          {"atan", UnaryFn::Atan},
                          {"sinh", UnaryFn::Sinh},
                          {"cosh", UnaryFn::Cosh},
                          {"asinh", UnaryFn::Asinh},
                          {"acosh", UnaryFn::Acosh},
                          {"atanh", UnaryFn::Atanh}})
    addUnary(r, name, [fn](auto x) { return B::unary(fn, x); });
  addUnary(r, "reciprocal",
           [](auto x) { return B::binary(BinaryFn::Div, one(x), x); });
  addUnary(r, "softplus", softplus);
  addUnary(r, "sign", sign);
  addUnary(r, "isnan", [](auto x) { return B::compare(CmpFn::Ne, x, x); });
  r.add("isinf",
        broadcasting([](const ir::Op &op, const std::vector<ExprRef> &a) {
          return isInf(op, a[0]);
        }));
  addUnary(r, "not", [](auto x) { return B::unary(UnaryFn::Not, x); });

  addBinary(r, "add", BinaryFn::Add);
  addBinary(r, "sub", BinaryFn::Sub);
  addBinary(r, "mul", BinaryFn::Mul);
  addBinary(r, "div", BinaryFn::Div);
  addBinary(r, "pow", BinaryFn::Pow);
  addBinary(r, "max", BinaryFn::Max);
  addBinary(r, "min", BinaryFn::Min);
  addBinary(r, "and", BinaryFn::And);
  addBinary(r, "or", BinaryFn::Or);
  r.add("mod",
        broadcasting([](const ir::Op &op, const std::vector<ExprRef> &a) {
          return mod(op, a[0], a[1]);
        }));

  addCompare(r, "eq", CmpFn::Eq);
  addCompare(r, "ne", CmpFn::Ne);
  addCompare(r, "lt", CmpFn::Lt);
  addCompare(r, "le", CmpFn::Le);
  addCompare(r, "gt", CmpFn::Gt);
  addCompare(r, "ge", CmpFn::Ge);
  addCompare(r, "xor", CmpFn::Ne); // on bool

  r.add("select", broadcasting([](const ir::Op &, const std::vector<ExprRef> &a)
                                   -> absl::StatusOr<ExprRef> {
          return B::select(a[0], a[1], a[2]);
        }));
  addTernary(r, "quantize", quantize);
  addTernary(r, "dequantize", dequantize);
  addTernary(r, "requantize", requantize);
  addTernary(r, "fake_quantize", fakeQuantize);
  r.add("cast", broadcasting([](const ir::Op &op, const std::vector<ExprRef> &a)
                                 -> absl::StatusOr<ExprRef> {
          return B::cast(op.result()->type.dtype, a[0]);
        }));
}

void registerElementwiseLowerings(LoweringRegistry &r) {
  ElementFnRegistry fns;
  registerElementwiseElementFns(fns);
  for (const auto &[name, fn] : fns.fns)
    r.add(name, lowerElementwiseOp);
}

} // namespace nyx::kernel
