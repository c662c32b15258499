// Elementwise ops: unary math, binary arithmetic with NumPy broadcasting,
// comparisons, select and cast. Semantics: docs/ops.md.
#include <array>
#include <cmath>
#include <limits>

#include "ir/op_registry.h"
#include "ir/ops/elementwise_kernels.h"
#include "ir/ops/op_helpers.h"
#include "ir/strings.h"

namespace nyx::ir {
namespace {

using namespace ops;

// ---------------------------------------------------------------------------
// Unary
// ---------------------------------------------------------------------------

template <class T> T sigmoidOf(T x) { return T(1) / (T(1) + std::exp(-x)); }

template <class T> T geluErf(T x) {
  return T(0.5) * x * (T(1) + std::erf(x / std::sqrt(T(2))));
}

template <class T> T geluTanh(T x) {
  const T k = std::sqrt(T(2) / T(M_PI));
  return T(0.5) * x * (T(1) + std::tanh(k * (x + T(0.044715) * x * x * x)));
}

void registerUnary(OpRegistry &r) {
  NoIntForm none;
  addUnary(
      r, "neg", DTypeClass::Numeric, [](auto x) { return -x; }, wrapNeg);
  addUnary(
      r, "abs", DTypeClass::Numeric, [](auto x) { return std::fabs(x); },
      [](int64_t x) { return x < 0 ? wrapNeg(x) : x; });
  addUnary(
      r, "relu", DTypeClass::Numeric,
      // max(x, 0), so NaN stays NaN like `max`.
      [](auto x) -> decltype(x) {
        return std::isnan(x) ? x : (x > 0 ? x : decltype(x)(0));
      },
      [](int64_t x) { return x > 0 ? x : int64_t(0); });
  addUnary(
      r, "exp", DTypeClass::Float, [](auto x) { return std::exp(x); }, none);
  addUnary(
      r, "log", DTypeClass::Float, [](auto x) { return std::log(x); }, none);
  addUnary(
      r, "sqrt", DTypeClass::Float, [](auto x) { return std::sqrt(x); }, none);
  addUnary(
      r, "rsqrt", DTypeClass::Float,
      [](auto x) { return decltype(x)(1) / std::sqrt(x); }, none);
  addUnary(
      r, "tanh", DTypeClass::Float, [](auto x) { return std::tanh(x); }, none);
  addUnary(
      r, "erf", DTypeClass::Float, [](auto x) { return std::erf(x); }, none);
  addUnary(
      r, "sigmoid", DTypeClass::Float, [](auto x) { return sigmoidOf(x); },
      none);
  addUnary(
      r, "silu", DTypeClass::Float, [](auto x) { return x * sigmoidOf(x); },
      none);

  OpDef gelu;
  gelu.name = "gelu";
  gelu.minOperands = gelu.maxOperands = 1;
  gelu.inferTypes =
      [](const Op &op,
         const Module &) -> absl::StatusOr<std::vector<TensorType>> {
    NYX_ASSIGN_OR_RETURN(auto types,
                         inferUnary(op, DTypeClass::Float, {"approximate"}));
    NYX_RETURN_IF_ERROR(
        getEnumAttr(op, "approximate", "none", {"none", "tanh"}).status());
    return types;
  };
  gelu.interpret = [](const Op &op, std::span<const Tensor *const> in,
                      std::span<Tensor> out,
                      const InterpContext &) -> absl::Status {
    NYX_ASSIGN_OR_RETURN(
        std::string mode,
        getEnumAttr(op, "approximate", "none", {"none", "tanh"}));
    if (mode == "tanh")
      mapUnary(
          *in[0], out[0], [](auto x) { return geluTanh(x); }, NoIntForm{});
    else
      mapUnary(
          *in[0], out[0], [](auto x) { return geluErf(x); }, NoIntForm{});
    return absl::OkStatus();
  };
  r.add(std::move(gelu));
}

// ---------------------------------------------------------------------------
// Binary arithmetic
// ---------------------------------------------------------------------------

// max/min of floats: NaN if either operand is NaN.
template <class T> T floatMax(T a, T b) {
  if (std::isnan(a) || std::isnan(b))
    return std::numeric_limits<T>::quiet_NaN();
  return a < b ? b : a;
}
template <class T> T floatMin(T a, T b) {
  if (std::isnan(a) || std::isnan(b))
    return std::numeric_limits<T>::quiet_NaN();
  return b < a ? b : a;
}

void registerBinary(OpRegistry &r) {
  addBinary(
      r, "add", DTypeClass::Numeric, [](auto a, auto b) { return a + b; },
      wrapAdd);
  addBinary(
      r, "sub", DTypeClass::Numeric, [](auto a, auto b) { return a - b; },
      wrapSub);
  addBinary(
      r, "mul", DTypeClass::Numeric, [](auto a, auto b) { return a * b; },
      wrapMul);
  addBinary(
      r, "div", DTypeClass::Numeric, [](auto a, auto b) { return a / b; },
      intDiv);
  addBinary(
      r, "pow", DTypeClass::Float,
      [](auto a, auto b) { return std::pow(a, b); }, NoIntForm{});
  addBinary(
      r, "max", DTypeClass::Numeric,
      [](auto a, auto b) { return floatMax(a, b); },
      [](int64_t a, int64_t b) { return a < b ? b : a; });
  addBinary(
      r, "min", DTypeClass::Numeric,
      [](auto a, auto b) { return floatMin(a, b); },
      [](int64_t a, int64_t b) { return b < a ? b : a; });
}

// ---------------------------------------------------------------------------
// Comparisons: any dtype, bool result. Floats compare as IEEE (every
// comparison with NaN is false except `ne`).
// ---------------------------------------------------------------------------

template <class Cmp> void addCompare(OpRegistry &r, std::string name, Cmp cmp) {
  OpDef def;
  def.name = std::move(name);
  def.minOperands = def.maxOperands = 2;
  def.inferTypes =
      [](const Op &op,
         const Module &) -> absl::StatusOr<std::vector<TensorType>> {
    NYX_ASSIGN_OR_RETURN(Shape shape,
                         inferBroadcastBinary(op, DTypeClass::Any));
    return oneResult(DType::Bool, std::move(shape));
  };
  def.interpret = [cmp](const Op &, std::span<const Tensor *const> in,
                        std::span<Tensor> out,
                        const InterpContext &) -> absl::Status {
    const Tensor &a = *in[0], &b = *in[1];
    Tensor &res = out[0];
    if (isFloat(a.dtype())) {
      // Every f16/bf16/f32 value is exact in double, so comparing there is
      // comparing the stored values.
      forEachPair(a, b, res, [&](int64_t o, int64_t i, int64_t j) {
        res.setInt(o, cmp(a.getDouble(i), b.getDouble(j)) ? 1 : 0);
      });
    } else {
      forEachPair(a, b, res, [&](int64_t o, int64_t i, int64_t j) {
        res.setInt(o, cmp(a.getInt(i), b.getInt(j)) ? 1 : 0);
      });
    }
    return absl::OkStatus();
  };
  r.add(std::move(def));
}

void registerCompare(OpRegistry &r) {
  addCompare(r, "eq", [](auto a, auto b) { return a == b; });
  addCompare(r, "ne", [](auto a, auto b) { return a != b; });
  addCompare(r, "lt", [](auto a, auto b) { return a < b; });
  addCompare(r, "le", [](auto a, auto b) { return a <= b; });
  addCompare(r, "gt", [](auto a, auto b) { return a > b; });
  addCompare(r, "ge", [](auto a, auto b) { return a >= b; });
}

// ---------------------------------------------------------------------------
// select and cast
// ---------------------------------------------------------------------------

void registerSelect(OpRegistry &r) {
  OpDef def;
  def.name = "select";
  def.minOperands = def.maxOperands = 3;
  def.inferTypes =
      [](const Op &op,
         const Module &) -> absl::StatusOr<std::vector<TensorType>> {
    NYX_RETURN_IF_ERROR(checkOpBasics(op, {}));
    NYX_RETURN_IF_ERROR(checkOperandIsDType(op, 0, DType::Bool));
    NYX_RETURN_IF_ERROR(checkSameDType(op, 1, 2));
    static constexpr int kAll[] = {0, 1, 2};
    NYX_ASSIGN_OR_RETURN(Shape shape, broadcastOperandShapes(op, kAll));
    return oneResult(op.operand(1)->type.dtype, std::move(shape));
  };
  def.interpret = [](const Op &, std::span<const Tensor *const> in,
                     std::span<Tensor> out,
                     const InterpContext &) -> absl::Status {
    const Tensor &c = *in[0], &a = *in[1], &b = *in[2];
    Tensor &res = out[0];
    std::array<Shape, 3> shapes = {c.shape(), a.shape(), b.shape()};
    forEachBroadcast(res.shape(), shapes,
                     [&](int64_t o, std::span<const int64_t> idx) {
                       if (c.getInt(idx[0]))
                         copyElement(a, idx[1], res, o);
                       else
                         copyElement(b, idx[2], res, o);
                     });
    return absl::OkStatus();
  };
  r.add(std::move(def));
}

// One element of `cast`: float to int truncates and saturates (NaN -> 0),
// float to float rounds once to nearest even, anything to bool is x != 0,
// integers (and bool as 0/1) convert exactly or wrap.
void castElement(const Tensor &in, int64_t i, Tensor &out) {
  const DType from = in.dtype(), to = out.dtype();
  if (to == DType::Bool) {
    bool nonzero = isFloat(from) ? in.getDouble(i) != 0.0 : in.getInt(i) != 0;
    out.setInt(i, nonzero ? 1 : 0);
  } else if (isFloat(from)) {
    storeRounded(out, i, in.getDouble(i)); // saturates for int results
  } else {
    storeFromInt(out, i, in.getInt(i));
  }
}

void registerCast(OpRegistry &r) {
  OpDef def;
  def.name = "cast";
  def.minOperands = def.maxOperands = 1;
  def.inferTypes =
      [](const Op &op,
         const Module &) -> absl::StatusOr<std::vector<TensorType>> {
    NYX_RETURN_IF_ERROR(checkOpBasics(op, {"to"}));
    NYX_ASSIGN_OR_RETURN(DType to, op.getDType("to"));
    return oneResult(to, op.operand(0)->type.shape);
  };
  def.interpret = [](const Op &, std::span<const Tensor *const> in,
                     std::span<Tensor> out,
                     const InterpContext &) -> absl::Status {
    for (int64_t i = 0, n = in[0]->numElements(); i < n; ++i)
      castElement(*in[0], i, out[0]);
    return absl::OkStatus();
  };
  r.add(std::move(def));
}

} // namespace

void registerElementwiseOps(OpRegistry &r) {
  registerUnary(r);
  registerBinary(r);
  registerCompare(r);
  registerSelect(r);
  registerCast(r);
  r.setFusionKind({"neg",  "abs", "relu",    "exp",  "log",    "sqrt", "rsqrt",
                   "tanh", "erf", "sigmoid", "silu", "gelu",   "add",  "sub",
                   "mul",  "div", "pow",     "max",  "min",    "eq",   "ne",
                   "lt",   "le",  "gt",      "ge",   "select", "cast"},
                  FusionKind::Elementwise);
  // Not max/min: they return the first operand for -0.0 against +0.0.
  r.setCommutative({"add", "mul", "eq", "ne"});
}

} // namespace nyx::ir
