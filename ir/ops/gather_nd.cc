// gather_nd: ONNX GatherND, slices of `data` picked by index tuples along
// the last axis of `indices`, after `batch_dims` leading axes that data and
// indices share. Semantics: docs/ops.md.
#include <algorithm>
#include <cstring>

#include "ir/op_registry.h"
#include "ir/ops/op_helpers.h"
#include "ir/strings.h"

namespace nyx::ir {
namespace {

using namespace ops;

absl::StatusOr<std::vector<TensorType>> inferGatherNd(const Op &op,
                                                      const Module &) {
  NYX_RETURN_IF_ERROR(checkOpBasics(op, {"batch_dims"}));
  const TensorType &data = op.operand(0)->type;
  const TensorType &indices = op.operand(1)->type;
  if (indices.dtype != DType::I32 && indices.dtype != DType::I64)
    return opError(
        op, strCat("indices are ", indices.str(), "; expected i32 or i64"));
  if (data.rank() == 0)
    return opError(op, strCat("data is ", data.str(), "; expected rank >= 1"));
  if (indices.rank() == 0)
    return opError(
        op, strCat("indices are ", indices.str(), "; expected rank >= 1"));
  NYX_ASSIGN_OR_RETURN(int64_t b, op.getInt("batch_dims", 0));
  if (b < 0 || b >= indices.rank() || b >= data.rank())
    return opError(op,
                   strCat("batch_dims is ", b, " for data ", data.str(),
                          " and indices ", indices.str(), "; expected 0 to ",
                          std::min(indices.rank(), data.rank()) - 1));
  for (int64_t d = 0; d < b; ++d)
    if (indices.shape[d] != data.shape[d])
      return opError(op, strCat("indices are ", indices.str(), " for data ",
                                data.str(), "; expected batch dimension ", d,
                                " equal"));
  const int64_t k = indices.shape.back();
  if (k < 1 || k > data.rank() - b)
    return opError(op, strCat("indices are ", indices.str(), " for data ",
                              data.str(), " with batch_dims ", b,
                              "; expected a last dimension from 1 to ",
                              data.rank() - b));
  Shape shape(indices.shape.begin(), indices.shape.end() - 1);
  shape.insert(shape.end(), data.shape.begin() + b + k, data.shape.end());
  return oneResult(data.dtype, std::move(shape));
}

absl::Status interpretGatherNd(const Op &op, std::span<const Tensor *const> in,
                               std::span<Tensor> out, const InterpContext &) {
  const Tensor &data = *in[0], &indices = *in[1];
  Tensor &res = out[0];
  NYX_ASSIGN_OR_RETURN(int64_t b, op.getInt("batch_dims", 0));
  const Shape &shape = data.shape();
  const Shape &idxShape = indices.shape();
  const int64_t k = idxShape.back();
  // Data as [batches, indexed axes..., inner]; the tuples as
  // [batches, perBatch, k].
  const int64_t inner = numElements(Shape(shape.begin() + b + k, shape.end()));
  const int64_t indexed =
      numElements(Shape(shape.begin() + b, shape.begin() + b + k));
  const int64_t perBatch =
      numElements(Shape(idxShape.begin() + b, idxShape.end() - 1));
  const int64_t tuples = indices.numElements() / k;
  const size_t size = dtypeSize(data.dtype());
  if (inner == 0)
    return absl::OkStatus(); // the result has no elements
  for (int64_t t = 0; t < tuples; ++t) {
    const int64_t batch = t / perBatch;
    int64_t row = 0;
    bool inside = true;
    for (int64_t j = 0; j < k; ++j) {
      const int64_t dim = shape[b + j];
      int64_t index = indices.getInt(t * k + j);
      if (index < 0)
        index += dim;
      inside = inside && index >= 0 && index < dim;
      row = row * dim + index;
    }
    uint8_t *dst = res.bytes() + t * inner * size;
    if (!inside) {
      std::memset(dst, 0, inner * size);
      continue;
    }
    const int64_t src = (batch * indexed + row) * inner;
    std::memcpy(dst, data.bytes() + src * size, inner * size);
  }
  return absl::OkStatus();
}

} // namespace

void registerGatherNdOp(OpRegistry &r) {
  r.add(OpDef{.name = "gather_nd",
              .minOperands = 2,
              .maxOperands = 2,
              .inferTypes = inferGatherNd,
              .interpret = interpretGatherNd});
}

} // namespace nyx::ir
