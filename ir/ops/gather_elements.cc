// gather_elements: ONNX GatherElements, each result element read from
// `data` at its own position with the coordinate along `axis` taken from
// `indices`. Semantics: docs/ops.md.
#include <cstring>

#include "ir/op_registry.h"
#include "ir/ops/op_helpers.h"
#include "ir/strings.h"

namespace nyx::ir {
namespace {

using namespace ops;

absl::StatusOr<std::vector<TensorType>> inferGatherElements(const Op &op,
                                                            const Module &) {
  NYX_RETURN_IF_ERROR(checkOpBasics(op, {"axis"}));
  const TensorType &data = op.operand(0)->type;
  const TensorType &indices = op.operand(1)->type;
  if (indices.dtype != DType::I32 && indices.dtype != DType::I64)
    return opError(
        op, strCat("indices are ", indices.str(), "; expected i32 or i64"));
  if (data.rank() == 0)
    return opError(op, strCat("data is ", data.str(), "; expected rank >= 1"));
  if (indices.rank() != data.rank())
    return opError(op, strCat("indices are ", indices.str(), " for data ",
                              data.str(), "; expected the same rank"));
  NYX_ASSIGN_OR_RETURN(int64_t axisAttr, op.getInt("axis", 0));
  NYX_ASSIGN_OR_RETURN(int64_t axis, normalizeAxis(op, axisAttr, data.rank()));
  for (int64_t d = 0; d < data.rank(); ++d)
    if (d != axis && indices.shape[d] > data.shape[d])
      return opError(op, strCat("indices are ", indices.str(), " for data ",
                                data.str(), "; expected dimension ", d,
                                " at most ", data.shape[d]));
  return oneResult(data.dtype, indices.shape);
}

absl::Status interpretGatherElements(const Op &op,
                                     std::span<const Tensor *const> in,
                                     std::span<Tensor> out,
                                     const InterpContext &) {
  const Tensor &data = *in[0], &indices = *in[1];
  Tensor &res = out[0];
  const int64_t rank = static_cast<int64_t>(data.shape().size());
  NYX_ASSIGN_OR_RETURN(int64_t axisAttr, op.getInt("axis", 0));
  NYX_ASSIGN_OR_RETURN(int64_t axis, normalizeAxis(op, axisAttr, rank));
  const int64_t dim = data.shape()[axis];
  const std::vector<int64_t> strides = rowMajorStrides(data.shape());
  const size_t size = dtypeSize(data.dtype());
  forEachIndex(indices.shape(), [&](std::span<const int64_t> idx, int64_t o) {
    int64_t index = indices.getInt(o);
    if (index < 0)
      index += dim;
    if (index < 0 || index >= dim) {
      std::memset(res.bytes() + o * size, 0, size);
      return;
    }
    int64_t src = 0;
    for (int64_t d = 0; d < rank; ++d)
      src += (d == axis ? index : idx[d]) * strides[d];
    copyElement(data, src, res, o);
  });
  return absl::OkStatus();
}

} // namespace

void registerGatherElementsOp(OpRegistry &r) {
  r.add(OpDef{.name = "gather_elements",
              .minOperands = 2,
              .maxOperands = 2,
              .inferTypes = inferGatherElements,
              .interpret = interpretGatherElements});
}

} // namespace nyx::ir
