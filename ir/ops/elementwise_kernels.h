// What the elementwise op families (elementwise.cc, elementwise_math.cc,
// logical.cc) share: shape rules and interpreter kernels of unary and
// broadcasting binary ops, so that most such ops are one registry entry made
// from a function written once for float and double and one for integers.
#pragma once

#include <array>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "ir/op_registry.h"
#include "ir/ops/op_helpers.h"

namespace nyx::ir::ops {

// Marks a unary or binary op with no integer form (float-only ops).
struct NoIntForm {};

// A unary op of dtype class `cls` taking the attributes `attrs`; the result
// has the operand's type.
inline absl::StatusOr<std::vector<TensorType>>
inferUnary(const Op &op, DTypeClass cls,
           std::initializer_list<std::string_view> attrs) {
  NYX_RETURN_IF_ERROR(checkOpBasics(op, attrs));
  NYX_RETURN_IF_ERROR(checkOperandDType(op, 0, cls));
  return std::vector<TensorType>{op.operand(0)->type};
}

// Applies `ff` (written for float and double) to float elements and `fi` to
// integer elements.
template <class FloatFn, class IntFn>
void mapUnary(const Tensor &in, Tensor &out, FloatFn ff, IntFn fi) {
  const DType t = in.dtype();
  const int64_t n = in.numElements();
  if (isFloat(t)) {
    for (int64_t i = 0; i < n; ++i)
      out.setDouble(i, applyFloat(t, in.getDouble(i), ff));
    return;
  }
  if constexpr (!std::is_same_v<IntFn, NoIntForm>) {
    for (int64_t i = 0; i < n; ++i)
      out.setInt(i, fi(in.getInt(i)));
  }
}

// Registers a unary op without attributes whose result has its operand's
// type.
template <class FloatFn, class IntFn>
void addUnary(OpRegistry &r, std::string name, DTypeClass cls, FloatFn ff,
              IntFn fi) {
  OpDef def;
  def.name = std::move(name);
  def.minOperands = def.maxOperands = 1;
  def.inferTypes = [cls](const Op &op, const Module &) {
    return inferUnary(op, cls, {});
  };
  def.interpret = [ff, fi](const Op &, std::span<const Tensor *const> in,
                           std::span<Tensor> out,
                           const InterpContext &) -> absl::Status {
    mapUnary(*in[0], out[0], ff, fi);
    return absl::OkStatus();
  };
  r.add(std::move(def));
}

// Two operands of the same dtype in `cls` that broadcast together, and the
// attributes `attrs`; returns the broadcast shape.
inline absl::StatusOr<Shape>
inferBroadcastBinary(const Op &op, DTypeClass cls,
                     std::initializer_list<std::string_view> attrs = {}) {
  NYX_RETURN_IF_ERROR(checkOpBasics(op, attrs));
  NYX_RETURN_IF_ERROR(checkSameDType(op, 0, 1));
  NYX_RETURN_IF_ERROR(checkOperandDType(op, 0, cls));
  static constexpr int kBoth[] = {0, 1};
  return broadcastOperandShapes(op, kBoth);
}

// Calls f(outIndex, aIndex, bIndex) for every element of `out`, which `a`
// and `b` broadcast to.
template <class F>
void forEachPair(const Tensor &a, const Tensor &b, const Tensor &out, F &&f) {
  std::array<Shape, 2> shapes = {a.shape(), b.shape()};
  forEachBroadcast(
      out.shape(), shapes,
      [&](int64_t o, std::span<const int64_t> idx) { f(o, idx[0], idx[1]); });
}

// res = ff(a, b) for floats (in the compute type of docs/ops.md) or
// fi(a, b) for integers and bool, elementwise with broadcasting.
template <class FloatFn, class IntFn>
void mapBinary(const Tensor &a, const Tensor &b, Tensor &res, FloatFn ff,
               IntFn fi) {
  const DType t = a.dtype();
  if (isFloat(t)) {
    forEachPair(a, b, res, [&](int64_t o, int64_t i, int64_t j) {
      res.setDouble(o, applyFloat(t, a.getDouble(i), b.getDouble(j), ff));
    });
  } else if constexpr (!std::is_same_v<IntFn, NoIntForm>) {
    forEachPair(a, b, res, [&](int64_t o, int64_t i, int64_t j) {
      res.setInt(o, fi(a.getInt(i), b.getInt(j)));
    });
  }
}

// Registers a broadcasting binary op without attributes whose result has
// its operands' dtype.
template <class FloatFn, class IntFn>
void addBinary(OpRegistry &r, std::string name, DTypeClass cls, FloatFn ff,
               IntFn fi) {
  OpDef def;
  def.name = std::move(name);
  def.minOperands = def.maxOperands = 2;
  def.inferTypes =
      [cls](const Op &op,
            const Module &) -> absl::StatusOr<std::vector<TensorType>> {
    NYX_ASSIGN_OR_RETURN(Shape shape, inferBroadcastBinary(op, cls));
    return oneResult(op.operand(0)->type.dtype, std::move(shape));
  };
  def.interpret = [ff, fi](const Op &, std::span<const Tensor *const> in,
                           std::span<Tensor> out,
                           const InterpContext &) -> absl::Status {
    mapBinary(*in[0], *in[1], out[0], ff, fi);
    return absl::OkStatus();
  };
  r.add(std::move(def));
}

} // namespace nyx::ir::ops
