// scatter_elements and scatter_nd: ONNX ScatterElements and ScatterND, a
// copy of `data` with `updates` written (or combined by `reduction`) at the
// positions `indices` name. Updates apply one after another in row-major
// order of `updates`, so with duplicate indices the last one wins (or every
// one is combined, in that order). Semantics: docs/ops.md.
#include <cmath>
#include <cstring>

#include "ir/op_registry.h"
#include "ir/ops/op_helpers.h"
#include "ir/strings.h"

namespace nyx::ir {
namespace {

using namespace ops;

enum class Reduction { None, Add, Mul, Max, Min };

absl::StatusOr<Reduction> reductionOf(const Op &op) {
  NYX_ASSIGN_OR_RETURN(std::string r,
                       getEnumAttr(op, "reduction", "none",
                                   {"none", "add", "mul", "max", "min"}));
  if (r == "add")
    return Reduction::Add;
  if (r == "mul")
    return Reduction::Mul;
  if (r == "max")
    return Reduction::Max;
  if (r == "min")
    return Reduction::Min;
  return Reduction::None;
}

absl::Status checkIndexDType(const Op &op) {
  const TensorType &indices = op.operand(1)->type;
  if (indices.dtype != DType::I32 && indices.dtype != DType::I64)
    return opError(
        op, strCat("indices are ", indices.str(), "; expected i32 or i64"));
  return absl::OkStatus();
}

// Checks what both scatters share: the indices' dtype, the updates' dtype,
// a data rank of at least 1 and a reduction the dtype supports.
absl::Status checkScatterCommon(const Op &op) {
  const TensorType &data = op.operand(0)->type;
  const TensorType &updates = op.operand(2)->type;
  NYX_RETURN_IF_ERROR(checkIndexDType(op));
  if (data.rank() == 0)
    return opError(op, strCat("data is ", data.str(), "; expected rank >= 1"));
  if (updates.dtype != data.dtype)
    return opError(op, strCat("updates are ", updates.str(), " for data ",
                              data.str(), "; expected the same dtype"));
  NYX_ASSIGN_OR_RETURN(Reduction r, reductionOf(op));
  if (r != Reduction::None && data.dtype == DType::Bool)
    return opError(op, strCat("reduction \"",
                              *op.getString("reduction", "none"), "\" of data ",
                              data.str(), "; expected a numeric dtype"));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<TensorType>> inferScatterElements(const Op &op,
                                                             const Module &) {
  NYX_RETURN_IF_ERROR(checkOpBasics(op, {"axis", "reduction"}));
  NYX_RETURN_IF_ERROR(checkScatterCommon(op));
  const TensorType &data = op.operand(0)->type;
  const TensorType &indices = op.operand(1)->type;
  const TensorType &updates = op.operand(2)->type;
  if (indices.rank() != data.rank())
    return opError(op, strCat("indices are ", indices.str(), " for data ",
                              data.str(), "; expected the same rank"));
  if (updates.shape != indices.shape)
    return opError(op, strCat("updates are ", updates.str(), " for indices ",
                              indices.str(), "; expected the same shape"));
  NYX_ASSIGN_OR_RETURN(int64_t axisAttr, op.getInt("axis", 0));
  NYX_ASSIGN_OR_RETURN(int64_t axis, normalizeAxis(op, axisAttr, data.rank()));
  for (int64_t d = 0; d < data.rank(); ++d)
    if (d != axis && indices.shape[d] > data.shape[d])
      return opError(op, strCat("indices are ", indices.str(), " for data ",
                                data.str(), "; expected dimension ", d,
                                " at most ", data.shape[d]));
  return oneResult(data.dtype, data.shape);
}

absl::StatusOr<std::vector<TensorType>> inferScatterNd(const Op &op,
                                                       const Module &) {
  NYX_RETURN_IF_ERROR(checkOpBasics(op, {"reduction"}));
  NYX_RETURN_IF_ERROR(checkScatterCommon(op));
  const TensorType &data = op.operand(0)->type;
  const TensorType &indices = op.operand(1)->type;
  const TensorType &updates = op.operand(2)->type;
  if (indices.rank() == 0)
    return opError(
        op, strCat("indices are ", indices.str(), "; expected rank >= 1"));
  const int64_t k = indices.shape.back();
  if (k < 1 || k > data.rank())
    return opError(op, strCat("indices are ", indices.str(), " for data ",
                              data.str(),
                              "; expected a last dimension from 1 "
                              "to ",
                              data.rank()));
  Shape want(indices.shape.begin(), indices.shape.end() - 1);
  want.insert(want.end(), data.shape.begin() + k, data.shape.end());
  if (updates.shape != want)
    return opError(op, strCat("updates are ", updates.str(), " for indices ",
                              indices.str(), " and data ", data.str(),
                              "; expected shape ",
                              TensorType{updates.dtype, want}.str()));
  return oneResult(data.dtype, data.shape);
}

// out[o] = reduce(out[o], updates[u]), computed as the binary op of the same
// name would (ints wrap; floats in the compute type, rounded once per
// update; max/min propagate NaN).
void combine(Reduction r, Tensor &out, int64_t o, const Tensor &updates,
             int64_t u) {
  if (r == Reduction::None) {
    copyElement(updates, u, out, o);
    return;
  }
  const DType t = out.dtype();
  if (!isFloat(t)) {
    const int64_t a = out.getInt(o), b = updates.getInt(u);
    int64_t v = 0;
    switch (r) {
    case Reduction::Add:
      v = wrapAdd(a, b);
      break;
    case Reduction::Mul:
      v = wrapMul(a, b);
      break;
    case Reduction::Max:
      v = a < b ? b : a;
      break;
    default:
      v = b < a ? b : a;
      break;
    }
    out.setInt(o, v);
    return;
  }
  auto apply = [r](auto a, auto b) {
    switch (r) {
    case Reduction::Add:
      return a + b;
    case Reduction::Mul:
      return a * b;
    case Reduction::Max:
      return std::isnan(a) || std::isnan(b) ? a + b : (a < b ? b : a);
    default:
      return std::isnan(a) || std::isnan(b) ? a + b : (b < a ? b : a);
    }
  };
  storeRounded(out, o,
               applyFloat(t, out.getDouble(o), updates.getDouble(u), apply));
}

// The result starts as a copy of data.
void copyAll(const Tensor &data, Tensor &res) {
  if (data.numElements() > 0)
    std::memcpy(res.bytes(), data.bytes(),
                data.numElements() * dtypeSize(data.dtype()));
}

// `index` counted from the end when negative; false when still outside
// [0, dim).
bool wrapIndex(int64_t &index, int64_t dim) {
  if (index < 0)
    index += dim;
  return index >= 0 && index < dim;
}

absl::Status interpretScatterElements(const Op &op,
                                      std::span<const Tensor *const> in,
                                      std::span<Tensor> out,
                                      const InterpContext &) {
  const Tensor &data = *in[0], &indices = *in[1], &updates = *in[2];
  Tensor &res = out[0];
  NYX_ASSIGN_OR_RETURN(Reduction r, reductionOf(op));
  const int64_t rank = static_cast<int64_t>(data.shape().size());
  NYX_ASSIGN_OR_RETURN(int64_t axisAttr, op.getInt("axis", 0));
  NYX_ASSIGN_OR_RETURN(int64_t axis, normalizeAxis(op, axisAttr, rank));
  copyAll(data, res);
  const int64_t dim = data.shape()[axis];
  const std::vector<int64_t> strides = rowMajorStrides(data.shape());
  forEachIndex(indices.shape(), [&](std::span<const int64_t> idx, int64_t u) {
    int64_t index = indices.getInt(u);
    if (!wrapIndex(index, dim))
      return;
    int64_t dst = 0;
    for (int64_t d = 0; d < rank; ++d)
      dst += (d == axis ? index : idx[d]) * strides[d];
    combine(r, res, dst, updates, u);
  });
  return absl::OkStatus();
}

absl::Status interpretScatterNd(const Op &op, std::span<const Tensor *const> in,
                                std::span<Tensor> out, const InterpContext &) {
  const Tensor &data = *in[0], &indices = *in[1], &updates = *in[2];
  Tensor &res = out[0];
  NYX_ASSIGN_OR_RETURN(Reduction r, reductionOf(op));
  copyAll(data, res);
  const Shape &shape = data.shape();
  const int64_t k = indices.shape().back();
  const int64_t tuples = k == 0 ? 0 : indices.numElements() / k;
  const int64_t inner = numElements(Shape(shape.begin() + k, shape.end()));
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t row = 0;
    bool inside = true;
    for (int64_t j = 0; j < k; ++j) {
      int64_t index = indices.getInt(t * k + j);
      inside = inside && wrapIndex(index, shape[j]);
      row = row * shape[j] + index;
    }
    if (!inside)
      continue;
    for (int64_t e = 0; e < inner; ++e)
      combine(r, res, row * inner + e, updates, t * inner + e);
  }
  return absl::OkStatus();
}

} // namespace

void registerScatterOps(OpRegistry &r) {
  r.add(OpDef{.name = "scatter_elements",
              .minOperands = 3,
              .maxOperands = 3,
              .inferTypes = inferScatterElements,
              .interpret = interpretScatterElements});
  r.add(OpDef{.name = "scatter_nd",
              .minOperands = 3,
              .maxOperands = 3,
              .inferTypes = inferScatterNd,
              .interpret = interpretScatterNd});
}

} // namespace nyx::ir
