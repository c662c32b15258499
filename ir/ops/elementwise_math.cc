// Elementwise math beyond the core arithmetic of elementwise.cc: rounding,
// reciprocal, trigonometric and hyperbolic functions, softplus, sign and
// mod. Semantics: docs/ops.md.
#include <cmath>

#include "ir/op_registry.h"
#include "ir/ops/elementwise_kernels.h"
#include "ir/ops/op_helpers.h"

namespace nyx::ir {
namespace {

using namespace ops;

// log(1 + exp(x)) without overflow for large x and without losing the tiny
// result for very negative x: max(x, 0) + log1p(exp(-|x|)).
template <class T> T softplusOf(T x) {
  return (x > T(0) ? x : T(0)) + std::log1p(std::exp(-std::fabs(x)));
}

// -1, 0 or 1; NaN stays NaN; both zeros give +0 (like NumPy's sign).
template <class T> T signOf(T x) {
  if (std::isnan(x))
    return x;
  return x > T(0) ? T(1) : x < T(0) ? T(-1) : T(0);
}

void registerUnaryMath(OpRegistry &r) {
  NoIntForm none;
  // Rounding; `round` rounds halves to even (the default rounding mode,
  // which the interpreter never changes).
  addUnary(
      r, "floor", DTypeClass::Float, [](auto x) { return std::floor(x); },
      none);
  addUnary(
      r, "ceil", DTypeClass::Float, [](auto x) { return std::ceil(x); }, none);
  addUnary(
      r, "round", DTypeClass::Float, [](auto x) { return std::nearbyint(x); },
      none);
  addUnary(
      r, "reciprocal", DTypeClass::Float,
      [](auto x) { return decltype(x)(1) / x; }, none);
  addUnary(
      r, "sin", DTypeClass::Float, [](auto x) { return std::sin(x); }, none);
  addUnary(
      r, "cos", DTypeClass::Float, [](auto x) { return std::cos(x); }, none);
  addUnary(
      r, "tan", DTypeClass::Float, [](auto x) { return std::tan(x); }, none);
  addUnary(
      r, "asin", DTypeClass::Float, [](auto x) { return std::asin(x); }, none);
  addUnary(
      r, "acos", DTypeClass::Float, [](auto x) { return std::acos(x); }, none);
  addUnary(
      r, "atan", DTypeClass::Float, [](auto x) { return std::atan(x); }, none);
  addUnary(
      r, "sinh", DTypeClass::Float, [](auto x) { return std::sinh(x); }, none);
  addUnary(
      r, "cosh", DTypeClass::Float, [](auto x) { return std::cosh(x); }, none);
  addUnary(
      r, "asinh", DTypeClass::Float, [](auto x) { return std::asinh(x); },
      none);
  addUnary(
      r, "acosh", DTypeClass::Float, [](auto x) { return std::acosh(x); },
      none);
  addUnary(
      r, "atanh", DTypeClass::Float, [](auto x) { return std::atanh(x); },
      none);
  addUnary(
      r, "softplus", DTypeClass::Float, [](auto x) { return softplusOf(x); },
      none);
  addUnary(
      r, "sign", DTypeClass::Numeric, [](auto x) { return signOf(x); },
      [](int64_t x) { return int64_t(x > 0) - int64_t(x < 0); });
}

// ---------------------------------------------------------------------------
// mod {fmod = false}
// ---------------------------------------------------------------------------

// The remainder with the sign of the divisor (Python's and NumPy's `%`):
// C's fmod, moved into the divisor's side when the signs differ; a zero
// takes the divisor's sign. x mod 0 is NaN.
template <class T> T floorModFloat(T a, T b) {
  T r = std::fmod(a, b);
  if (r == T(0))
    return std::copysign(T(0), b);
  return (r < T(0)) != (b < T(0)) ? r + b : r;
}

// Truncating remainder: x % 0 = 0 and min % -1 = 0 (docs/ops.md).
int64_t truncModInt(int64_t a, int64_t b) {
  return b == 0 || b == -1 ? 0 : a % b;
}

int64_t floorModInt(int64_t a, int64_t b) {
  int64_t r = truncModInt(a, b);
  return r != 0 && (r < 0) != (b < 0) ? r + b : r;
}

void registerMod(OpRegistry &r) {
  OpDef def;
  def.name = "mod";
  def.minOperands = def.maxOperands = 2;
  def.inferTypes =
      [](const Op &op,
         const Module &) -> absl::StatusOr<std::vector<TensorType>> {
    NYX_ASSIGN_OR_RETURN(
        Shape shape, inferBroadcastBinary(op, DTypeClass::Numeric, {"fmod"}));
    NYX_RETURN_IF_ERROR(op.getBool("fmod", false).status());
    return oneResult(op.operand(0)->type.dtype, std::move(shape));
  };
  def.interpret = [](const Op &op, std::span<const Tensor *const> in,
                     std::span<Tensor> out,
                     const InterpContext &) -> absl::Status {
    NYX_ASSIGN_OR_RETURN(bool fmod, op.getBool("fmod", false));
    if (fmod)
      mapBinary(
          *in[0], *in[1], out[0],
          [](auto a, auto b) { return std::fmod(a, b); }, truncModInt);
    else
      mapBinary(
          *in[0], *in[1], out[0],
          [](auto a, auto b) { return floorModFloat(a, b); }, floorModInt);
    return absl::OkStatus();
  };
  r.add(std::move(def));
}

} // namespace

void registerElementwiseMathOps(OpRegistry &r) {
  registerUnaryMath(r);
  registerMod(r);
  r.setFusionKind({"floor", "ceil", "round", "reciprocal", "sin", "cos", "tan",
                   "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh",
                   "atanh", "softplus", "sign", "mod"},
                  FusionKind::Elementwise);
}

} // namespace nyx::ir
