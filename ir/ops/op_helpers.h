// Shared building blocks for op registry entries (ir/ops/*.cc): the checks
// every verifier makes (operand count, attribute names, dtypes, axes), NumPy
// broadcasting, index iteration, and element conversions with a single
// rounding. Messages follow the project form: what was found, what was
// expected, with the op name first ("'add' operands have dtypes f32 and i32;
// expected the same dtype").
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ir/module.h"
#include "ir/op_registry.h"
#include "ir/tensor.h"
#include "ir/types.h"

#include "ir/status_macros.h"

namespace nyx::ir::ops {

// ---------------------------------------------------------------------------
// Verifier checks
// ---------------------------------------------------------------------------

// Operand count against the entry's minOperands/maxOperands, then attribute
// names against `allowedAttrs`: "'relu' has no attribute 'foo'; it takes no
// attributes" / "...; it takes: axes, keepdims". Every inferTypes starts
// with this so unknown attributes never pass silently.
absl::Status
checkOpBasics(const Op &op,
              std::initializer_list<std::string_view> allowedAttrs);
absl::Status checkOperandCount(const Op &op);
absl::Status checkAttrNames(const Op &op,
                            std::initializer_list<std::string_view> allowed);

// The dtype families of docs/ops.md.
enum class DTypeClass {
  Float,   // f32 f16 bf16 f64
  Integer, // i8 i32 i64
  Numeric, // Float + Integer
  Any,     // Numeric + bool
};
bool inClass(DType t, DTypeClass c);
// "a float dtype (f32, f16, bf16, f64)", "a numeric dtype (...)", ...
std::string classDescription(DTypeClass c);

// "'exp' operand has dtype i32; expected a float dtype (f32, f16, bf16, f64)"
// (the operand is numbered, "operand 1", when the op has more than one).
absl::Status checkOperandDType(const Op &op, int index, DTypeClass c);
// "'select' operand 0 has dtype f32; expected bool"
absl::Status checkOperandIsDType(const Op &op, int index, DType want);
// "'add' operands have dtypes f32 and i32; expected the same dtype"
absl::Status checkSameDType(const Op &op, int a, int b);
// NumPy broadcast of the listed operands' shapes: "'add' operand shapes [2,3]
// and [4] do not broadcast".
absl::StatusOr<Shape> broadcastOperandShapes(const Op &op,
                                             std::span<const int> operands);
// "'softmax' operand has rank 0; expected rank >= 1"
absl::Status checkMinRank(const Op &op, int index, int64_t minRank);

// A possibly negative axis made non-negative: "'reduce_sum' axis 3 is out of
// range for rank 2" (valid axes are -rank..rank-1).
absl::StatusOr<int64_t> normalizeAxis(const Op &op, int64_t axis, int64_t rank);
// Each axis normalized; duplicates are an error ("'reduce_sum' axis 1 is
// listed twice"). The result is sorted ascending.
absl::StatusOr<std::vector<int64_t>>
normalizeAxes(const Op &op, const std::vector<int64_t> &axes, int64_t rank);

// The reduced axes of a reduction op (sorted, non-negative): all axes when
// `axes` is omitted; an explicit empty list reduces nothing.
absl::StatusOr<std::vector<int64_t>> reducedAxes(const Op &op);

// A string attribute that must be one of `choices`: "'gelu' attribute
// 'approximate' is "foo"; expected one of "none", "tanh"".
absl::StatusOr<std::string>
getEnumAttr(const Op &op, std::string_view attr, std::string_view dflt,
            std::initializer_list<std::string_view> choices);

inline std::vector<TensorType> oneResult(DType dtype, Shape shape) {
  return {TensorType{dtype, std::move(shape)}};
}

// "'op' <message>" as an InvalidArgument status.
absl::Status opError(const Op &op, std::string_view message);

// ---------------------------------------------------------------------------
// Index iteration
// ---------------------------------------------------------------------------

// Strides (in elements) that read `in` while walking `out` row-major, where
// `in` broadcasts to `out`: one entry per axis of `out`, 0 on broadcast
// (size-1 or missing leading) axes.
std::vector<int64_t> broadcastStrides(const Shape &in, const Shape &out);

// Calls f(outIndex, inIndices) for every element of `out` in row-major order,
// where inIndices[k] is the linear index into the k-th input (each input
// shape broadcasts to `out`). Used by every elementwise kernel.
template <class F>
void forEachBroadcast(const Shape &out, std::span<const Shape> ins, F &&f) {
  const size_t rank = out.size();
  const size_t n = ins.size();
  std::vector<std::vector<int64_t>> strides;
  strides.reserve(n);
  for (const Shape &s : ins)
    strides.push_back(broadcastStrides(s, out));
  std::vector<int64_t> counter(rank, 0);
  std::vector<int64_t> offsets(n, 0);
  const int64_t total = numElements(out);
  for (int64_t i = 0; i < total; ++i) {
    f(i, std::span<const int64_t>(offsets));
    // Advance the multi-index like an odometer, updating offsets in place.
    for (size_t d = rank; d-- > 0;) {
      if (++counter[d] < out[d]) {
        for (size_t k = 0; k < n; ++k)
          offsets[k] += strides[k][d];
        break;
      }
      for (size_t k = 0; k < n; ++k)
        offsets[k] -= strides[k][d] * (out[d] - 1);
      counter[d] = 0;
    }
  }
}

// Calls f(index, linear) for every element of `shape` in row-major order;
// `index` is the multi-index (a span valid during the call).
template <class F> void forEachIndex(const Shape &shape, F &&f) {
  const size_t rank = shape.size();
  std::vector<int64_t> index(rank, 0);
  const int64_t total = numElements(shape);
  for (int64_t i = 0; i < total; ++i) {
    f(std::span<const int64_t>(index), i);
    for (size_t d = rank; d-- > 0;) {
      if (++index[d] < shape[d])
        break;
      index[d] = 0;
    }
  }
}

// Splits `shape` around the reduced axes: for a reduction over the sorted
// axes `axes`, describes how to find the elements that reduce into each
// output element.
struct ReductionLayout {
  Shape keptShape;          // the shape with reduced axes removed
  Shape keptDimsShape;      // the shape with reduced axes set to 1
  int64_t reducedCount = 1; // elements per output element
  // For output element o (row-major over keptShape) and reduction step r
  // (row-major over the reduced axes): input index = base[o] + inner[r].
  std::vector<int64_t> base;
  std::vector<int64_t> inner;
};
ReductionLayout reductionLayout(const Shape &shape,
                                const std::vector<int64_t> &sortedAxes);
// The shapes and reducedCount alone, without base and inner, whose size is
// the element count: shape rules use this, as they see types of any size.
ReductionLayout reductionShapes(const Shape &shape,
                                const std::vector<int64_t> &sortedAxes);

// ---------------------------------------------------------------------------
// Element conversion and arithmetic
// ---------------------------------------------------------------------------

// Stores `v` into a float element with exactly one rounding (nearest even),
// including f64 -> f16/bf16, where going through f32 would round twice.
// For non-float dtypes behaves like Tensor::setDouble.
void storeRounded(Tensor &t, int64_t i, double v);
// Stores an integer into any dtype: integers wrap to the width, floats get
// one correctly rounded conversion, bool is v != 0.
void storeFromInt(Tensor &t, int64_t i, int64_t v);
// Copies one element with no conversion (same dtype).
void copyElement(const Tensor &src, int64_t si, Tensor &dst, int64_t di);

// f16 and bf16 are storage types: ops compute in f32. f32 and f64 compute in
// f64 (the reference the compiled f32 code is held to).
inline bool computesInF32(DType t) {
  return t == DType::F16 || t == DType::BF16;
}

// Applies a float function written once for float and double: f is called
// with a float for f16/bf16 and with a double otherwise; the result is
// widened to double (exactly) for storing.
template <class F> double applyFloat(DType t, double x, F &&f) {
  if (computesInF32(t))
    return static_cast<double>(f(static_cast<float>(x)));
  return static_cast<double>(f(x));
}
template <class F> double applyFloat(DType t, double x, double y, F &&f) {
  if (computesInF32(t))
    return static_cast<double>(f(static_cast<float>(x), static_cast<float>(y)));
  return static_cast<double>(f(x, y));
}

// Integer arithmetic with two's complement wrapping in 64 bits; results are
// narrowed by Tensor::setInt, which wraps to the element width.
inline int64_t wrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) +
                              static_cast<uint64_t>(b));
}
inline int64_t wrapSub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) -
                              static_cast<uint64_t>(b));
}
inline int64_t wrapMul(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) *
                              static_cast<uint64_t>(b));
}
inline int64_t wrapNeg(int64_t a) {
  return static_cast<int64_t>(0 - static_cast<uint64_t>(a));
}
// Truncating division with x / 0 = 0 and min / -1 = min (docs/ops.md).
inline int64_t intDiv(int64_t a, int64_t b) {
  if (b == 0)
    return 0;
  if (b == -1)
    return wrapNeg(a);
  return a / b;
}

} // namespace nyx::ir::ops
