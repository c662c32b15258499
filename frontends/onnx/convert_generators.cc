// Converters of ONNX ops that generate a tensor from a shape or from
// indices: Trilu (a mask of the last two axes), OneHot and EyeLike.
#include <cstdint>

#include "frontends/onnx/convert_helpers.h"
#include "frontends/onnx/converters.h"
#include "frontends/onnx/tensor_proto.h"
#include "ir/strings.h"

namespace nyx::onnx_import {
namespace {

using ir::DType;
using ir::Shape;
using ir::Value;

// Keeps the elements with column - row >= k (upper) or <= k (lower) of the
// last two axes; the mask compares small row and column iotas.
absl::Status convertTrilu(NodeContext &n) {
  Value *x = n.input(0);
  if (!x)
    return n.status();
  const int64_t rank = x->type.rank();
  if (rank < 2)
    return n.fail(strCat("input 0 is ", x->type.str(), "; expected rank >= 2"));
  Value *k;
  if (!n.hasInput(1)) {
    k = int64Scalar(n, 0);
  } else if (const ir::Tensor *known = n.constantInput(1)) {
    if (known->numElements() != 1)
      return n.fail(
          strCat("k is ", known->type().str(), "; expected a single integer"));
    k = int64Scalar(n, known->getInt(0));
  } else {
    k = n.input(1);
    if (k && (k->type.numElements() != 1 || k->type.dtype != DType::I64))
      return n.fail(strCat("k is ", k->type.str(), "; expected a single i64"));
    k = reshape(n, k, {});
  }
  const Shape &shape = x->type.shape;
  Value *rows = iotaAlong(n, shape[rank - 2], 0, 2);
  Value *cols = iotaAlong(n, shape[rank - 1], 1, 2);
  Value *diagonal = n.op("sub", {cols, rows});
  const bool upper = n.attrInt("upper", 1) != 0;
  Value *mask = n.op(upper ? "ge" : "le", {diagonal, k});
  n.setOutput(0, n.op("select", {mask, x, n.scalarLike(0, x)}));
  return n.status();
}

// Compares the indices with an iota along the new axis; negative indices
// count from the end from opset 11 (before, they are out of range).
absl::Status convertOneHot(NodeContext &n) {
  Value *indices = n.input(0);
  Value *values = n.input(2);
  const ir::Tensor *depthTensor = n.requireConstant(1, "depth");
  if (!indices || !values || !depthTensor)
    return n.status();
  if (depthTensor->numElements() != 1)
    return n.fail(strCat("depth is ", depthTensor->type().str(),
                         "; expected a single number"));
  const int64_t depth = static_cast<int64_t>(depthTensor->getDouble(0));
  if (depth < 1)
    return n.fail(strCat("depth is ", depth, "; expected >= 1"));
  if (values->type.numElements() != 2)
    return n.fail(strCat("values is ", values->type.str(),
                         "; expected [off_value, on_value]"));
  if (indices->type.dtype == DType::Bool)
    return n.fail("indices are bool; expected numbers");
  const int64_t rank = indices->type.rank() + 1;
  const int64_t axis = n.axis(n.attrInt("axis", -1), rank);
  if (!n.status().ok())
    return n.status();
  // Float indices are truncated, as casting to int64 does.
  Value *index = castTo(n, indices, DType::I64);
  if (n.opset() >= 11) {
    Value *depthValue = int64Scalar(n, depth);
    Value *negative = n.op("lt", {index, int64Scalar(n, 0)});
    index = n.op("select", {negative, n.op("add", {index, depthValue}), index});
  }
  Shape expanded = indices->type.shape;
  expanded.insert(expanded.begin() + axis, 1);
  Value *hot = n.op(
      "eq", {reshape(n, index, expanded), iotaAlong(n, depth, axis, rank)});
  Value *flat = reshape(n, values, {2});
  Value *off = reshape(n, sliceAxis(n, flat, 0, 0, 1), {});
  Value *on = reshape(n, sliceAxis(n, flat, 0, 1, 2), {});
  n.setOutput(0, n.op("select", {hot, on, off}));
  return n.status();
}

// A constant: it depends only on the input's shape.
absl::Status convertEyeLike(NodeContext &n) {
  const ir::TensorType *type = n.inputType(0);
  if (!type)
    return n.status();
  if (type->rank() != 2)
    return n.fail(strCat("input 0 is ", type->str(), "; expected a matrix"));
  DType dtype = type->dtype;
  if (n.hasAttr("dtype")) {
    auto d = dtypeFromOnnx(static_cast<int32_t>(n.attrInt("dtype", 1)));
    if (!d.ok())
      return n.unsupported(strCat(
          "dtype ", onnxTypeName(static_cast<int32_t>(n.attrInt("dtype", 1)))));
    dtype = *d;
  }
  const int64_t k = n.attrInt("k", 0);
  const int64_t rows = type->shape[0], cols = type->shape[1];
  ir::Tensor eye(ir::TensorType{dtype, type->shape});
  for (int64_t i = 0; i < rows; ++i)
    if (i + k >= 0 && i + k < cols)
      eye.setDouble(i * cols + i + k, 1);
  n.setConstantOutput(0, std::move(eye));
  return n.status();
}

constexpr ConverterEntry kTable[] = {
    {"EyeLike", convertEyeLike},
    {"OneHot", convertOneHot},
    {"Trilu", convertTrilu},
};

} // namespace

std::span<const ConverterEntry> generatorConverters() { return kTable; }

} // namespace nyx::onnx_import
