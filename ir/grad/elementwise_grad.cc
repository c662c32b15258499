// Gradient rules of the elementwise ops: unary math, binary arithmetic with
// broadcasting, select and cast.
//
// Every rule emits only ops that have gradient rules themselves (select and
// the comparisons feeding its condition count: no gradient reaches a bool),
// so the gradients can be differentiated again. Where the forward result
// gives the derivative exactly (exp, tanh, sigmoid, sqrt, ...), the rule
// reads it instead of recomputing it.
#include <cmath>

#include "ir/grad/grad_helpers.h"
#include "ir/op_registry.h"
#include "ir/ops/op_helpers.h"
#include "ir/status_macros.h"

namespace nyx::ir {
namespace {

using grad::unbroadcast;

// Arithmetic on values of one float dtype, so the rules read like the
// formulas they implement. Constants are rank-0 and broadcast.
class Math {
public:
  Math(Builder &b, DType dtype) : b_(b), dtype_(dtype) {}

  Value *k(double v) { return b_.scalar(v, dtype_); }
  Value *add(Value *x, Value *y) { return b_.op("add", {x, y}); }
  Value *sub(Value *x, Value *y) { return b_.op("sub", {x, y}); }
  Value *mul(Value *x, Value *y) { return b_.op("mul", {x, y}); }
  Value *div(Value *x, Value *y) { return b_.op("div", {x, y}); }
  Value *neg(Value *x) { return b_.op("neg", {x}); }
  Value *square(Value *x) { return mul(x, x); }
  Value *fn(std::string_view name, Value *x) { return b_.op(name, {x}); }
  // `cond ? x : 0` and `cond ? 0 : x`.
  Value *where(Value *cond, Value *x) {
    return b_.op("select", {cond, x, k(0)});
  }
  Value *whereNot(Value *cond, Value *x) {
    return b_.op("select", {cond, k(0), x});
  }
  Value *compare(std::string_view name, Value *x, Value *y) {
    return b_.op(name, {x, y});
  }

private:
  Builder &b_;
  DType dtype_;
};

// ---------------------------------------------------------------------------
// Unary: the gradient is g * f'(x); `Derivative` emits f'(x) from the operand
// x and the result y.
// ---------------------------------------------------------------------------

using Derivative = Value *(*)(Math &m, Value *x, Value *y);

GradFn chainRule(Derivative derivative) {
  return [derivative](Builder &b, const Op &op, std::span<Value *const> gy,
                      std::span<Value *> gx) -> absl::Status {
    Math m(b, op.operand(0)->type.dtype);
    gx[0] = m.mul(gy[0], derivative(m, op.operand(0), op.result()));
    return absl::OkStatus();
  };
}

absl::Status negGrad(Builder &b, const Op &, std::span<Value *const> gy,
                     std::span<Value *> gx) {
  gx[0] = b.op("neg", {gy[0]});
  return absl::OkStatus();
}

absl::Status reluGrad(Builder &b, const Op &op, std::span<Value *const> gy,
                      std::span<Value *> gx) {
  Math m(b, op.operand(0)->type.dtype);
  gx[0] = m.where(m.compare("gt", op.operand(0), m.k(0)), gy[0]);
  return absl::OkStatus();
}

// 1/sqrt(2 pi) and sqrt(2/pi), as the interpreter's gelu computes them.
const double kInvSqrt2Pi = 1 / std::sqrt(2 * M_PI);
const double kSqrt2OverPi = std::sqrt(2 / M_PI);
constexpr double kGeluCubic = 0.044715;

// "none": Phi(x) + x phi(x), with Phi the normal CDF and phi its density.
Value *geluErfDerivative(Math &m, Value *x) {
  Value *cdf =
      m.mul(m.k(0.5), m.add(m.k(1), m.fn("erf", m.mul(x, m.k(M_SQRT1_2)))));
  Value *pdf =
      m.mul(m.k(kInvSqrt2Pi), m.fn("exp", m.mul(m.k(-0.5), m.square(x))));
  return m.add(cdf, m.mul(x, pdf));
}

// "tanh": y = x/2 (1 + t), t = tanh(u), u = k (x + c x^3), so
// y' = (1 + t)/2 + x/2 (1 - t^2) k (1 + 3 c x^2).
Value *geluTanhDerivative(Math &m, Value *x) {
  Value *x2 = m.square(x);
  Value *u =
      m.mul(m.k(kSqrt2OverPi), m.add(x, m.mul(m.mul(m.k(kGeluCubic), x2), x)));
  Value *t = m.fn("tanh", u);
  Value *du =
      m.mul(m.k(kSqrt2OverPi), m.add(m.k(1), m.mul(m.k(3 * kGeluCubic), x2)));
  Value *outer = m.mul(m.k(0.5), m.add(m.k(1), t));
  Value *inner =
      m.mul(m.mul(m.mul(m.k(0.5), x), m.sub(m.k(1), m.square(t))), du);
  return m.add(outer, inner);
}

absl::Status geluGrad(Builder &b, const Op &op, std::span<Value *const> gy,
                      std::span<Value *> gx) {
  NYX_ASSIGN_OR_RETURN(
      std::string mode,
      ops::getEnumAttr(op, "approximate", "none", {"none", "tanh"}));
  Math m(b, op.operand(0)->type.dtype);
  Value *x = op.operand(0);
  gx[0] = m.mul(gy[0], mode == "tanh" ? geluTanhDerivative(m, x)
                                      : geluErfDerivative(m, x));
  return absl::OkStatus();
}

// (1 - x)(1 + x): 1 - x^2 without cancellation near |x| = 1.
Value *oneMinusSquare(Math &m, Value *x) {
  return m.mul(m.sub(m.k(1), x), m.add(m.k(1), x));
}

void registerUnaryGrads(OpRegistry &r) {
  r.setGrad("neg", negGrad);
  r.setGrad("relu", reluGrad);
  r.setGrad("gelu", geluGrad);
  struct Rule {
    std::string_view op;
    Derivative derivative;
  };
  const Rule rules[] = {
      // sign is piecewise constant, so abs'' is zero, as it should be.
      {"abs", [](Math &m, Value *x, Value *) { return m.fn("sign", x); }},
      {"exp", [](Math &, Value *, Value *y) { return y; }},
      {"log", [](Math &m, Value *x, Value *) { return m.div(m.k(1), x); }},
      {"sqrt", [](Math &m, Value *, Value *y) { return m.div(m.k(0.5), y); }},
      // x^(-1/2) differentiates to -x^(-3/2)/2 = -y / (2x).
      {"rsqrt", [](Math &m, Value *x,
                   Value *y) { return m.div(m.mul(m.k(-0.5), y), x); }},
      {"tanh",
       [](Math &m, Value *, Value *y) { return m.sub(m.k(1), m.square(y)); }},
      {"erf",
       [](Math &m, Value *x, Value *) {
         return m.mul(m.k(M_2_SQRTPI), m.fn("exp", m.neg(m.square(x))));
       }},
      {"sigmoid",
       [](Math &m, Value *, Value *y) { return m.mul(y, m.sub(m.k(1), y)); }},
      // (x s)' = s + x s (1 - s) = s (1 + x (1 - s)), s = sigmoid(x).
      {"silu",
       [](Math &m, Value *x, Value *) {
         Value *s = m.fn("sigmoid", x);
         return m.mul(s, m.add(m.k(1), m.mul(x, m.sub(m.k(1), s))));
       }},
      {"reciprocal",
       [](Math &m, Value *, Value *y) { return m.neg(m.square(y)); }},
      {"sin", [](Math &m, Value *x, Value *) { return m.fn("cos", x); }},
      {"cos", [](Math &m, Value *x, Value *) { return m.neg(m.fn("sin", x)); }},
      {"tan",
       [](Math &m, Value *, Value *y) { return m.add(m.k(1), m.square(y)); }},
      {"asin", [](Math &m, Value *x,
                  Value *) { return m.fn("rsqrt", oneMinusSquare(m, x)); }},
      {"acos",
       [](Math &m, Value *x, Value *) {
         return m.neg(m.fn("rsqrt", oneMinusSquare(m, x)));
       }},
      {"atan",
       [](Math &m, Value *x, Value *) {
         return m.div(m.k(1), m.add(m.k(1), m.square(x)));
       }},
      {"sinh", [](Math &m, Value *x, Value *) { return m.fn("cosh", x); }},
      {"cosh", [](Math &m, Value *x, Value *) { return m.fn("sinh", x); }},
      {"asinh",
       [](Math &m, Value *x, Value *) {
         return m.fn("rsqrt", m.add(m.square(x), m.k(1)));
       }},
      // (x - 1)(x + 1): x^2 - 1 without cancellation near x = 1.
      {"acosh",
       [](Math &m, Value *x, Value *) {
         return m.fn("rsqrt", m.mul(m.sub(x, m.k(1)), m.add(x, m.k(1))));
       }},
      {"atanh", [](Math &m, Value *x,
                   Value *) { return m.div(m.k(1), oneMinusSquare(m, x)); }},
      {"softplus",
       [](Math &m, Value *x, Value *) { return m.fn("sigmoid", x); }},
  };
  for (const Rule &rule : rules)
    r.setGrad(rule.op, chainRule(rule.derivative));
  r.setZeroGradient({"floor", "ceil", "round", "sign"});
}

// ---------------------------------------------------------------------------
// Binary: each operand's gradient is summed over the axes it was broadcast
// along.
// ---------------------------------------------------------------------------

// Sets gx from the gradients at the broadcast result shape.
void unbroadcastBoth(Builder &b, const Op &op, Value *ga, Value *gc,
                     std::span<Value *> gx) {
  gx[0] = unbroadcast(b, ga, op.operand(0)->type.shape);
  gx[1] = unbroadcast(b, gc, op.operand(1)->type.shape);
}

absl::Status addGrad(Builder &b, const Op &op, std::span<Value *const> gy,
                     std::span<Value *> gx) {
  unbroadcastBoth(b, op, gy[0], gy[0], gx);
  return absl::OkStatus();
}

absl::Status subGrad(Builder &b, const Op &op, std::span<Value *const> gy,
                     std::span<Value *> gx) {
  unbroadcastBoth(b, op, gy[0], b.op("neg", {gy[0]}), gx);
  return absl::OkStatus();
}

absl::Status mulGrad(Builder &b, const Op &op, std::span<Value *const> gy,
                     std::span<Value *> gx) {
  Math m(b, op.result()->type.dtype);
  unbroadcastBoth(b, op, m.mul(gy[0], op.operand(1)),
                  m.mul(gy[0], op.operand(0)), gx);
  return absl::OkStatus();
}

// y = a / c: dy/da = 1/c, dy/dc = -a/c^2 = -(1/c) y.
absl::Status divGrad(Builder &b, const Op &op, std::span<Value *const> gy,
                     std::span<Value *> gx) {
  Math m(b, op.result()->type.dtype);
  Value *ga = m.div(gy[0], op.operand(1));
  unbroadcastBoth(b, op, ga, m.neg(m.mul(ga, op.result())), gx);
  return absl::OkStatus();
}

// y = a^c: dy/da = c a^(c-1), exact also where a <= 0 and c is an integer;
// dy/dc = y log(a), taken as 0 at a = 0 (where y is 0 for c > 0) rather
// than 0 * -inf.
absl::Status powGrad(Builder &b, const Op &op, std::span<Value *const> gy,
                     std::span<Value *> gx) {
  Math m(b, op.result()->type.dtype);
  Value *a = op.operand(0), *c = op.operand(1), *g = gy[0];
  Value *ga = m.mul(g, m.mul(c, b.op("pow", {a, m.sub(c, m.k(1))})));
  Value *aOrOne = b.op("select", {m.compare("eq", a, m.k(0)), m.k(1), a});
  Value *gc = m.mul(g, m.mul(op.result(), m.fn("log", aOrOne)));
  unbroadcastBoth(b, op, ga, gc, gx);
  return absl::OkStatus();
}

// The gradient goes to the operand the op returned: the first on ties, as
// max and min return it.
GradFn selectedOperandGrad(std::string_view firstWins) {
  return [firstWins](Builder &b, const Op &op, std::span<Value *const> gy,
                     std::span<Value *> gx) -> absl::Status {
    Math m(b, op.result()->type.dtype);
    Value *first = m.compare(firstWins, op.operand(0), op.operand(1));
    unbroadcastBoth(b, op, m.where(first, gy[0]), m.whereNot(first, gy[0]), gx);
    return absl::OkStatus();
  };
}

// y = a - c k with k the integer quotient (floored without fmod, truncated
// with it), so dy/da = 1 and dy/dc = -k. k is read back from the result as
// round((a - y) / c) rather than recomputed as floor(a / c): a / c rounds,
// and can round up to the next integer (1 mod 0.1 has k = 9 while 1 / 0.1
// is 10), whereas (a - y) / c is within a few ulps of the integer k.
absl::Status modGrad(Builder &b, const Op &op, std::span<Value *const> gy,
                     std::span<Value *> gx) {
  NYX_RETURN_IF_ERROR(op.getBool("fmod", false).status());
  Math m(b, op.result()->type.dtype);
  Value *a = op.operand(0), *c = op.operand(1);
  Value *quotient = m.fn("round", m.div(m.sub(a, op.result()), c));
  unbroadcastBoth(b, op, gy[0], m.neg(m.mul(gy[0], quotient)), gx);
  return absl::OkStatus();
}

// select(cond, a, b): each branch gets the gradient where it was chosen;
// cond, a bool, gets none.
absl::Status selectGrad(Builder &b, const Op &op, std::span<Value *const> gy,
                        std::span<Value *> gx) {
  Math m(b, op.result()->type.dtype);
  Value *cond = op.operand(0);
  gx[1] = unbroadcast(b, m.where(cond, gy[0]), op.operand(1)->type.shape);
  gx[2] = unbroadcast(b, m.whereNot(cond, gy[0]), op.operand(2)->type.shape);
  return absl::OkStatus();
}

// A float-to-float cast passes the gradient back in the operand's dtype.
// From ints or bools there is nothing to differentiate.
absl::Status castGrad(Builder &b, const Op &op, std::span<Value *const> gy,
                      std::span<Value *> gx) {
  DType from = op.operand(0)->type.dtype;
  if (!isFloat(from) || !isFloat(op.result()->type.dtype))
    return absl::OkStatus();
  gx[0] =
      from == gy[0]->type.dtype ? gy[0] : b.op("cast", {gy[0]}, {{"to", from}});
  return absl::OkStatus();
}

void registerBinaryGrads(OpRegistry &r) {
  r.setGrad("add", addGrad);
  r.setGrad("sub", subGrad);
  r.setGrad("mul", mulGrad);
  r.setGrad("div", divGrad);
  r.setGrad("pow", powGrad);
  r.setGrad("max", selectedOperandGrad("ge"));
  r.setGrad("min", selectedOperandGrad("le"));
  r.setGrad("mod", modGrad);
  r.setGrad("select", selectGrad);
  r.setGrad("cast", castGrad);
}

} // namespace

void registerElementwiseGrads(OpRegistry &r) {
  registerUnaryGrads(r);
  registerBinaryGrads(r);
}

} // namespace nyx::ir
