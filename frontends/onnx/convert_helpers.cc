#include "frontends/onnx/convert_helpers.h"

#include <utility>

#include "ir/strings.h"

namespace nyx::onnx_import {

using ir::DType;
using ir::Shape;
using ir::Value;

std::string listString(const std::vector<int64_t> &v) {
  return strCat("[", strJoin(v, ", "), "]");
}

int64_t product(const Shape &shape, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end; ++i)
    p *= shape[i];
  return p;
}

std::vector<int64_t> allAxesFrom(int64_t first, int64_t rank) {
  std::vector<int64_t> axes;
  for (int64_t i = first; i < rank; ++i)
    axes.push_back(i);
  return axes;
}

Value *reshape(NodeContext &n, Value *x, Shape shape) {
  if (x && x->type.shape == shape)
    return x;
  return n.op("reshape", {x}, {{"shape", std::move(shape)}});
}

Value *transpose(NodeContext &n, Value *x, std::vector<int64_t> perm) {
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i)
    identity = identity && perm[i] == static_cast<int64_t>(i);
  if (identity)
    return x;
  return n.op("transpose", {x}, {{"perm", std::move(perm)}});
}

Value *sliceAxis(NodeContext &n, Value *x, int64_t axis, int64_t start,
                 int64_t end, int64_t step) {
  return n.op("slice", {x},
              {{"starts", {start}},
               {"ends", {end}},
               {"axes", {axis}},
               {"steps", {step}}});
}

Value *castTo(NodeContext &n, Value *x, DType dtype) {
  if (!x || x->type.dtype == dtype)
    return x;
  return n.op("cast", {x}, {{"to", dtype}});
}

Value *iotaAlong(NodeContext &n, int64_t size, int64_t axis, int64_t rank,
                 DType dtype) {
  Shape shape(rank, 1);
  shape[axis] = size;
  ir::Tensor t(ir::TensorType{dtype, shape});
  for (int64_t i = 0; i < size; ++i)
    t.setInt(i, i);
  return n.constant(std::move(t));
}

Value *int64Scalar(NodeContext &n, int64_t v) {
  ir::Tensor t(ir::TensorType{DType::I64, {}});
  t.setInt(0, v);
  return n.constant(std::move(t));
}

bool requireFloat(NodeContext &n, const Value *x) {
  if (ir::isFloat(x->type.dtype))
    return true;
  n.unsupported(strCat("dtype ", ir::dtypeName(x->type.dtype))).IgnoreError();
  return false;
}

} // namespace nyx::onnx_import
