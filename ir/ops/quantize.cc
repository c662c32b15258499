// Linear quantization (docs/ops.md, "Quantization"): quantize, dequantize
// and requantize, and fake_quantize for quantization-aware training. Each is
// elementwise with NumPy broadcasting, so a scale and zero point of shape []
// quantize per tensor and one of shape [C, 1, 1] per channel of a [C, H, W]
// value.
//
// Unlike the float ops, these compute in the compute type itself (f32 for
// f32, f16 and bf16, f64 for f64), not in f64: the quotient or product
// rounds once in that type before it is rounded to an integer, so compiled
// code matches the interpreter bit for bit and the definition is the one
// ONNX's QuantizeLinear reference gives.
#include <array>
#include <cmath>
#include <cstdint>

#include "ir/op_registry.h"
#include "ir/ops/op_helpers.h"
#include "ir/strings.h"

namespace nyx::ir {
namespace {

using namespace ops;
using TypesOr = absl::StatusOr<std::vector<TensorType>>;

constexpr int kAll[] = {0, 1, 2};
constexpr int64_t kI8Min = -128, kI8Max = 127;

// round_half_even(v) + zero_point, saturated to i8; a NaN v gives the zero
// point (the quantized zero).
template <class T> int64_t toI8(T v, int64_t zeroPoint) {
  if (std::isnan(v))
    return zeroPoint;
  // Exact in double for every integer-valued T; far out of range it only
  // has to saturate.
  double q = static_cast<double>(std::nearbyint(v)) + zeroPoint;
  return q < kI8Min ? kI8Min : q > kI8Max ? kI8Max : static_cast<int64_t>(q);
}

template <class T> int64_t quantizeValue(T x, T scale, int64_t zeroPoint) {
  return toI8(x / scale, zeroPoint);
}

// q - zero_point is exact in int64; converting it rounds only for i32 q.
template <class T> T dequantizeValue(int64_t q, T scale, int64_t zeroPoint) {
  return static_cast<T>(q - zeroPoint) * scale;
}

// quantize and fake_quantize: a float x, a scale of its dtype, an i8 zero
// point.
absl::StatusOr<Shape> checkQuantizeOperands(const Op &op) {
  NYX_RETURN_IF_ERROR(checkOpBasics(op, {}));
  NYX_RETURN_IF_ERROR(checkOperandDType(op, 0, DTypeClass::Float));
  NYX_RETURN_IF_ERROR(checkSameDType(op, 0, 1));
  NYX_RETURN_IF_ERROR(checkOperandIsDType(op, 2, DType::I8));
  return broadcastOperandShapes(op, kAll);
}

TypesOr inferQuantize(const Op &op, const Module &) {
  NYX_ASSIGN_OR_RETURN(Shape shape, checkQuantizeOperands(op));
  return oneResult(DType::I8, std::move(shape));
}

template <class T>
void quantizeAll(const Tensor &x, const Tensor &scale, const Tensor &zp,
                 Tensor &out) {
  std::array<Shape, 3> shapes = {x.shape(), scale.shape(), zp.shape()};
  forEachBroadcast(
      out.shape(), shapes, [&](int64_t o, std::span<const int64_t> i) {
        out.setInt(o, quantizeValue(static_cast<T>(x.getDouble(i[0])),
                                    static_cast<T>(scale.getDouble(i[1])),
                                    zp.getInt(i[2])));
      });
}

absl::Status interpretQuantize(const Op &, std::span<const Tensor *const> in,
                               std::span<Tensor> out, const InterpContext &) {
  if (in[0]->dtype() == DType::F64)
    quantizeAll<double>(*in[0], *in[1], *in[2], out[0]);
  else
    quantizeAll<float>(*in[0], *in[1], *in[2], out[0]);
  return absl::OkStatus();
}

TypesOr inferDequantize(const Op &op, const Module &) {
  NYX_RETURN_IF_ERROR(checkOpBasics(op, {}));
  const DType q = op.operand(0)->type.dtype;
  if (q != DType::I8 && q != DType::I32)
    return opError(op, strCat("operand 0 has dtype ", dtypeName(q),
                              "; expected i8 or i32 (a quantized value)"));
  NYX_RETURN_IF_ERROR(checkOperandDType(op, 1, DTypeClass::Float));
  NYX_RETURN_IF_ERROR(checkSameDType(op, 0, 2));
  NYX_ASSIGN_OR_RETURN(Shape shape, broadcastOperandShapes(op, kAll));
  return oneResult(op.operand(1)->type.dtype, std::move(shape));
}

template <class T>
void dequantizeAll(const Tensor &q, const Tensor &scale, const Tensor &zp,
                   Tensor &out) {
  std::array<Shape, 3> shapes = {q.shape(), scale.shape(), zp.shape()};
  forEachBroadcast(
      out.shape(), shapes, [&](int64_t o, std::span<const int64_t> i) {
        T y = dequantizeValue(q.getInt(i[0]),
                              static_cast<T>(scale.getDouble(i[1])),
                              zp.getInt(i[2]));
        storeRounded(out, o, static_cast<double>(y));
      });
}

absl::Status interpretDequantize(const Op &, std::span<const Tensor *const> in,
                                 std::span<Tensor> out, const InterpContext &) {
  if (in[1]->dtype() == DType::F64)
    dequantizeAll<double>(*in[0], *in[1], *in[2], out[0]);
  else
    dequantizeAll<float>(*in[0], *in[1], *in[2], out[0]);
  return absl::OkStatus();
}

TypesOr inferFakeQuantize(const Op &op, const Module &) {
  NYX_ASSIGN_OR_RETURN(Shape shape, checkQuantizeOperands(op));
  return oneResult(op.operand(0)->type.dtype, std::move(shape));
}

// dequantize(quantize(x)) without the i8 tensor in between.
template <class T>
void fakeQuantizeAll(const Tensor &x, const Tensor &scale, const Tensor &zp,
                     Tensor &out) {
  std::array<Shape, 3> shapes = {x.shape(), scale.shape(), zp.shape()};
  forEachBroadcast(
      out.shape(), shapes, [&](int64_t o, std::span<const int64_t> i) {
        T s = static_cast<T>(scale.getDouble(i[1]));
        int64_t z = zp.getInt(i[2]);
        int64_t q = quantizeValue(static_cast<T>(x.getDouble(i[0])), s, z);
        storeRounded(out, o, static_cast<double>(dequantizeValue(q, s, z)));
      });
}

absl::Status interpretFakeQuantize(const Op &,
                                   std::span<const Tensor *const> in,
                                   std::span<Tensor> out,
                                   const InterpContext &) {
  if (in[0]->dtype() == DType::F64)
    fakeQuantizeAll<double>(*in[0], *in[1], *in[2], out[0]);
  else
    fakeQuantizeAll<float>(*in[0], *in[1], *in[2], out[0]);
  return absl::OkStatus();
}

TypesOr inferRequantize(const Op &op, const Module &) {
  NYX_RETURN_IF_ERROR(checkOpBasics(op, {}));
  NYX_RETURN_IF_ERROR(checkOperandIsDType(op, 0, DType::I32));
  NYX_RETURN_IF_ERROR(checkOperandIsDType(op, 1, DType::F32));
  NYX_RETURN_IF_ERROR(checkOperandIsDType(op, 2, DType::I8));
  NYX_ASSIGN_OR_RETURN(Shape shape, broadcastOperandShapes(op, kAll));
  return oneResult(DType::I8, std::move(shape));
}

absl::Status interpretRequantize(const Op &, std::span<const Tensor *const> in,
                                 std::span<Tensor> out, const InterpContext &) {
  const Tensor &acc = *in[0], &multiplier = *in[1], &zp = *in[2];
  std::array<Shape, 3> shapes = {acc.shape(), multiplier.shape(), zp.shape()};
  forEachBroadcast(out[0].shape(), shapes,
                   [&](int64_t o, std::span<const int64_t> i) {
                     // i32 to f32 rounds to nearest even above 2^24, then the
                     // product rounds once.
                     float v = static_cast<float>(acc.getInt(i[0])) *
                               static_cast<float>(multiplier.getDouble(i[1]));
                     out[0].setInt(o, toI8(v, zp.getInt(i[2])));
                   });
  return absl::OkStatus();
}

} // namespace

void registerQuantizeOps(OpRegistry &r) {
  r.add(OpDef{.name = "quantize",
              .minOperands = 3,
              .maxOperands = 3,
              .inferTypes = inferQuantize,
              .interpret = interpretQuantize});
  r.add(OpDef{.name = "dequantize",
              .minOperands = 3,
              .maxOperands = 3,
              .inferTypes = inferDequantize,
              .interpret = interpretDequantize});
  r.add(OpDef{.name = "requantize",
              .minOperands = 3,
              .maxOperands = 3,
              .inferTypes = inferRequantize,
              .interpret = interpretRequantize});
  r.add(OpDef{.name = "fake_quantize",
              .minOperands = 3,
              .maxOperands = 3,
              .inferTypes = inferFakeQuantize,
              .interpret = interpretFakeQuantize});
  r.setFusionKind({"quantize", "dequantize", "requantize", "fake_quantize"},
                  FusionKind::Elementwise);
}

} // namespace nyx::ir
