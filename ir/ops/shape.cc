// Shape and data movement ops. Every kernel here moves whole elements as
// bytes, so the results are exact for every dtype.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "absl/status/status.h"
#include "ir/op_registry.h"
#include "ir/ops/op_helpers.h"
#include "ir/ops/slice.h"
#include "ir/strings.h"

namespace nyx::ir {
namespace {

using TypesOr = absl::StatusOr<std::vector<TensorType>>;

std::string listString(const std::vector<int64_t> &v) {
  return strCat("[", strJoin(v, ", "), "]");
}

// ---- reshape ----

absl::StatusOr<Shape> reshapeTarget(const Op &op, const TensorType &x) {
  auto shape = op.getInts("shape");
  if (!shape.ok())
    return shape.status();
  Shape out = *shape;
  int inferred = -1;
  int64_t known = 1;
  int64_t count = x.numElements();
  // No shape beyond the element limit matches an input, so the product
  // stops there, before it can overflow (zeros skipped, as they may come
  // last).
  int64_t bound = 1;
  for (int64_t d : out) {
    if (d > 1 && d > kMaxElements / bound)
      return ops::opError(op, strCat("shape ", listString(out),
                                     " has more than 2^", kMaxElementsLog2,
                                     " elements; expected the element count "
                                     "of ",
                                     x.str(), " (", count, ")"));
    bound *= std::max<int64_t>(d, 1);
  }
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      if (inferred >= 0)
        return ops::opError(
            op, strCat("shape ", listString(out),
                       " has more than one -1; expected at most one"));
      inferred = static_cast<int>(i);
    } else if (out[i] < 0) {
      return ops::opError(op, strCat("shape ", listString(out), " has entry ",
                                     out[i],
                                     "; expected sizes >= 0 or a single -1"));
    } else {
      known *= out[i];
    }
  }
  if (inferred >= 0) {
    if (known == 0 || count % known != 0)
      return ops::opError(op,
                          strCat("cannot infer the -1 in ", listString(out),
                                 " for ", x.str(), " (", count, " elements)"));
    out[inferred] = count / known;
  } else if (known != count) {
    return ops::opError(op,
                        strCat("of ", x.str(), " (", count, " elements) to ",
                               listString(out), " (", known,
                               " elements); expected the same element count"));
  }
  return out;
}

TypesOr inferReshape(const Op &op, const Module &) {
  NYX_RETURN_IF_ERROR(ops::checkOpBasics(op, {"shape"}));
  const TensorType &x = op.operand(0)->type;
  auto shape = reshapeTarget(op, x);
  if (!shape.ok())
    return shape.status();
  return std::vector<TensorType>{{x.dtype, *shape}};
}

absl::Status interpretReshape(const Op &, std::span<const Tensor *const> in,
                              std::span<Tensor> out, const InterpContext &) {
  if (in[0]->byteSize() > 0)
    std::memcpy(out[0].bytes(), in[0]->bytes(), in[0]->byteSize());
  return absl::OkStatus();
}

// ---- transpose ----

absl::StatusOr<std::vector<int64_t>> transposePerm(const Op &op,
                                                   const TensorType &x) {
  std::vector<int64_t> reversed(x.rank());
  for (int64_t i = 0; i < x.rank(); ++i)
    reversed[i] = x.rank() - 1 - i;
  auto perm = op.getInts("perm", reversed);
  if (!perm.ok())
    return perm.status();
  if (static_cast<int64_t>(perm->size()) != x.rank())
    return ops::opError(op, strCat("perm ", listString(*perm), " has ",
                                   perm->size(), " entries for ", x.str(),
                                   "; expected ", x.rank()));
  std::vector<bool> seen(x.rank(), false);
  for (int64_t &p : *perm) {
    auto axis = ops::normalizeAxis(op, p, x.rank());
    if (!axis.ok())
      return axis.status();
    if (seen[*axis])
      return ops::opError(op,
                          strCat("perm ", listString(*perm), " repeats axis ",
                                 *axis, "; expected a permutation"));
    seen[*axis] = true;
    p = *axis;
  }
  return perm;
}

TypesOr inferTranspose(const Op &op, const Module &) {
  NYX_RETURN_IF_ERROR(ops::checkOpBasics(op, {"perm"}));
  const TensorType &x = op.operand(0)->type;
  auto perm = transposePerm(op, x);
  if (!perm.ok())
    return perm.status();
  Shape out(x.rank());
  for (int64_t i = 0; i < x.rank(); ++i)
    out[i] = x.shape[(*perm)[i]];
  return std::vector<TensorType>{{x.dtype, out}};
}

absl::Status interpretTranspose(const Op &op, std::span<const Tensor *const> in,
                                std::span<Tensor> out, const InterpContext &) {
  const Tensor &x = *in[0];
  auto perm = transposePerm(op, x.type());
  if (!perm.ok())
    return perm.status();
  std::vector<int64_t> strides = rowMajorStrides(x.shape());
  ops::forEachIndex(out[0].shape(),
                    [&](std::span<const int64_t> idx, int64_t linear) {
                      int64_t src = 0;
                      for (size_t i = 0; i < idx.size(); ++i)
                        src += idx[i] * strides[(*perm)[i]];
                      ops::copyElement(x, src, out[0], linear);
                    });
  return absl::OkStatus();
}

// ---- broadcast_to ----

TypesOr inferBroadcastTo(const Op &op, const Module &) {
  NYX_RETURN_IF_ERROR(ops::checkOpBasics(op, {"shape"}));
  const TensorType &x = op.operand(0)->type;
  auto shape = op.getInts("shape");
  if (!shape.ok())
    return shape.status();
  const Shape &target = *shape;
  for (int64_t d : target)
    if (d < 0)
      return ops::opError(op,
                          strCat("shape ", listString(target),
                                 " has a negative size; expected sizes >= 0"));
  size_t lead = target.size() - std::min(target.size(), x.shape.size());
  bool ok = target.size() >= x.shape.size();
  for (size_t i = 0; ok && i < x.shape.size(); ++i)
    ok = x.shape[i] == 1 || x.shape[i] == target[lead + i];
  if (!ok)
    return ops::opError(
        op, strCat("cannot broadcast ", x.str(), " to ", listString(target),
                   "; expected each dimension to equal the target's "
                   "or be 1"));
  return std::vector<TensorType>{{x.dtype, target}};
}

absl::Status interpretBroadcastTo(const Op &, std::span<const Tensor *const> in,
                                  std::span<Tensor> out,
                                  const InterpContext &) {
  const Tensor &x = *in[0];
  const Shape &from = x.shape();
  std::vector<int64_t> strides = rowMajorStrides(from);
  size_t lead = out[0].shape().size() - from.size();
  ops::forEachIndex(out[0].shape(),
                    [&](std::span<const int64_t> idx, int64_t linear) {
                      int64_t src = 0;
                      for (size_t d = 0; d < from.size(); ++d)
                        if (from[d] != 1)
                          src += idx[lead + d] * strides[d];
                      ops::copyElement(x, src, out[0], linear);
                    });
  return absl::OkStatus();
}

// ---- slice ----

} // namespace

absl::StatusOr<ops::SliceSpec> ops::resolveSlice(const Op &op,
                                                 const TensorType &x) {
  auto starts = op.getInts("starts");
  if (!starts.ok())
    return starts.status();
  auto ends = op.getInts("ends");
  if (!ends.ok())
    return ends.status();
  size_t n = starts->size();
  std::vector<int64_t> defaultAxes(n), defaultSteps(n, 1);
  for (size_t i = 0; i < n; ++i)
    defaultAxes[i] = static_cast<int64_t>(i);
  auto axes = op.getInts("axes", defaultAxes);
  if (!axes.ok())
    return axes.status();
  auto steps = op.getInts("steps", defaultSteps);
  if (!steps.ok())
    return steps.status();
  if (ends->size() != n || axes->size() != n || steps->size() != n)
    return ops::opError(op,
                        strCat("has ", n, " starts, ", ends->size(), " ends, ",
                               axes->size(), " axes and ", steps->size(),
                               " steps; expected equal counts"));
  ops::SliceSpec spec;
  spec.start.assign(x.rank(), 0);
  spec.step.assign(x.rank(), 1);
  spec.shape = x.shape;
  std::vector<bool> seen(x.rank(), false);
  for (size_t i = 0; i < n; ++i) {
    auto axis = ops::normalizeAxis(op, (*axes)[i], x.rank());
    if (!axis.ok())
      return axis.status();
    if (seen[*axis])
      return ops::opError(op, strCat("axes ", listString(*axes), " list axis ",
                                     *axis, " twice; expected distinct axes"));
    seen[*axis] = true;
    int64_t step = (*steps)[i];
    if (step == 0)
      return ops::opError(op, strCat("step for axis ", *axis,
                                     " is 0; expected a non-zero step"));
    int64_t dim = x.shape[*axis];
    int64_t start = (*starts)[i], end = (*ends)[i];
    if (start < 0)
      start += dim;
    if (end < 0)
      end += dim;
    int64_t count;
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, dim);
      end = std::clamp<int64_t>(end, 0, dim);
      count = end > start ? (end - start - 1) / step + 1 : 0;
    } else {
      start = std::clamp<int64_t>(start, -1, dim - 1);
      end = std::clamp<int64_t>(end, -1, dim - 1);
      // The step's magnitude in unsigned arithmetic: -INT64_MIN overflows.
      uint64_t magnitude = 0 - static_cast<uint64_t>(step);
      count = start > end
                  ? static_cast<int64_t>(
                        static_cast<uint64_t>(start - end - 1) / magnitude) +
                        1
                  : 0;
    }
    spec.start[*axis] = start;
    spec.step[*axis] = step;
    spec.shape[*axis] = count;
  }
  return spec;
}

namespace {

TypesOr inferSlice(const Op &op, const Module &) {
  NYX_RETURN_IF_ERROR(
      ops::checkOpBasics(op, {"starts", "ends", "axes", "steps"}));
  const TensorType &x = op.operand(0)->type;
  auto spec = ops::resolveSlice(op, x);
  if (!spec.ok())
    return spec.status();
  return std::vector<TensorType>{{x.dtype, spec->shape}};
}

absl::Status interpretSlice(const Op &op, std::span<const Tensor *const> in,
                            std::span<Tensor> out, const InterpContext &) {
  const Tensor &x = *in[0];
  auto spec = ops::resolveSlice(op, x.type());
  if (!spec.ok())
    return spec.status();
  std::vector<int64_t> strides = rowMajorStrides(x.shape());
  ops::forEachIndex(
      out[0].shape(), [&](std::span<const int64_t> idx, int64_t linear) {
        int64_t src = 0;
        for (size_t d = 0; d < idx.size(); ++d)
          src += (spec->start[d] + idx[d] * spec->step[d]) * strides[d];
        ops::copyElement(x, src, out[0], linear);
      });
  return absl::OkStatus();
}

// ---- concat ----

TypesOr inferConcat(const Op &op, const Module &) {
  NYX_RETURN_IF_ERROR(ops::checkOpBasics(op, {"axis"}));
  const TensorType &first = op.operand(0)->type;
  if (first.rank() == 0)
    return ops::opError(
        op, strCat("operand 0 is ", first.str(), "; expected rank >= 1"));
  auto axisAttr = op.getInt("axis");
  if (!axisAttr.ok())
    return axisAttr.status();
  auto axis = ops::normalizeAxis(op, *axisAttr, first.rank());
  if (!axis.ok())
    return axis.status();
  Shape out = first.shape;
  for (int i = 1; i < op.numOperands(); ++i) {
    const TensorType &t = op.operand(i)->type;
    bool same = t.dtype == first.dtype && t.rank() == first.rank();
    for (int64_t d = 0; same && d < t.rank(); ++d)
      same = d == *axis || t.shape[d] == first.shape[d];
    if (!same)
      return ops::opError(op,
                          strCat("operand ", i, " is ", t.str(),
                                 " and operand 0 is ", first.str(),
                                 "; expected the same dtype and rank and equal "
                                 "dimensions except along axis ",
                                 *axis));
    out[*axis] += t.shape[*axis];
  }
  return std::vector<TensorType>{{first.dtype, out}};
}

absl::Status interpretConcat(const Op &op, std::span<const Tensor *const> in,
                             std::span<Tensor> out, const InterpContext &) {
  const Shape &outShape = out[0].shape();
  auto axis = ops::normalizeAxis(op, *op.getInt("axis"),
                                 static_cast<int64_t>(outShape.size()));
  if (!axis.ok())
    return axis.status();
  // Each operand contributes one contiguous chunk per index of the axes
  // before `axis`.
  int64_t outer = 1;
  for (int64_t d = 0; d < *axis; ++d)
    outer *= outShape[d];
  uint8_t *dst = out[0].bytes();
  for (int64_t o = 0; o < outer; ++o) {
    for (const Tensor *t : in) {
      size_t chunk = dtypeSize(t->dtype());
      for (size_t d = *axis; d < t->shape().size(); ++d)
        chunk *= t->shape()[d];
      if (chunk == 0) // empty operands may have no storage at all
        continue;
      std::memcpy(dst, t->bytes() + o * chunk, chunk);
      dst += chunk;
    }
  }
  return absl::OkStatus();
}

// ---- gather ----

TypesOr inferGather(const Op &op, const Module &) {
  NYX_RETURN_IF_ERROR(ops::checkOpBasics(op, {"axis"}));
  const TensorType &data = op.operand(0)->type;
  const TensorType &indices = op.operand(1)->type;
  if (indices.dtype != DType::I32 && indices.dtype != DType::I64)
    return ops::opError(
        op, strCat("indices are ", indices.str(), "; expected i32 or i64"));
  if (data.rank() == 0)
    return ops::opError(op,
                        strCat("data is ", data.str(), "; expected rank >= 1"));
  auto axisAttr = op.getInt("axis", 0);
  if (!axisAttr.ok())
    return axisAttr.status();
  auto axis = ops::normalizeAxis(op, *axisAttr, data.rank());
  if (!axis.ok())
    return axis.status();
  Shape out(data.shape.begin(), data.shape.begin() + *axis);
  out.insert(out.end(), indices.shape.begin(), indices.shape.end());
  out.insert(out.end(), data.shape.begin() + *axis + 1, data.shape.end());
  return std::vector<TensorType>{{data.dtype, out}};
}

absl::Status interpretGather(const Op &op, std::span<const Tensor *const> in,
                             std::span<Tensor> out, const InterpContext &) {
  const Tensor &data = *in[0];
  const Tensor &indices = *in[1];
  auto axis = ops::normalizeAxis(op, *op.getInt("axis", 0),
                                 static_cast<int64_t>(data.shape().size()));
  if (!axis.ok())
    return axis.status();
  const Shape &shape = data.shape();
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < *axis; ++d)
    outer *= shape[d];
  for (size_t d = *axis + 1; d < shape.size(); ++d)
    inner *= shape[d];
  const int64_t dim = shape[*axis];
  const size_t rowBytes = inner * dtypeSize(data.dtype());
  const int64_t count = indices.numElements();
  if (out[0].byteSize() == 0)
    return absl::OkStatus();
  uint8_t *dst = out[0].bytes();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < count; ++j) {
      int64_t index = indices.getInt(j);
      if (index < 0)
        index += dim;
      if (index >= 0 && index < dim)
        std::memcpy(dst, data.bytes() + (o * dim + index) * rowBytes, rowBytes);
      else
        std::memset(dst, 0, rowBytes);
      dst += rowBytes;
    }
  }
  return absl::OkStatus();
}

// ---- pad ----

enum class PadMode { Constant, Reflect, Edge };

struct PadSpec {
  std::vector<int64_t> pads;
  PadMode mode = PadMode::Constant;
  double value = 0.0;
};

absl::StatusOr<PadSpec> padSpec(const Op &op, const TensorType &x) {
  PadSpec spec;
  auto pads = op.getInts("pads");
  if (!pads.ok())
    return pads.status();
  spec.pads = *pads;
  NYX_ASSIGN_OR_RETURN(std::string mode,
                       ops::getEnumAttr(op, "mode", "constant",
                                        {"constant", "reflect", "edge"}));
  NYX_ASSIGN_OR_RETURN(spec.value, op.getFloat("value", 0.0));
  spec.mode = mode == "reflect" ? PadMode::Reflect
              : mode == "edge"  ? PadMode::Edge
                                : PadMode::Constant;
  int64_t rank = x.rank();
  if (static_cast<int64_t>(spec.pads.size()) != 2 * rank)
    return ops::opError(op, strCat("pads ", listString(spec.pads), " has ",
                                   spec.pads.size(), " entries for ", x.str(),
                                   "; expected ", 2 * rank,
                                   " (begin and end per axis)"));
  for (int64_t d = 0; d < rank; ++d) {
    for (int64_t p : {spec.pads[d], spec.pads[rank + d]}) {
      if (p < 0)
        return ops::opError(
            op, strCat("pads ", listString(spec.pads),
                       " has a negative entry; expected pads >= 0"));
      if (p > kMaxElements)
        return ops::opError(op,
                            strCat("pads ", listString(spec.pads),
                                   " has an entry above 2^", kMaxElementsLog2,
                                   "; expected pads <= 2^", kMaxElementsLog2));
      if (spec.mode == PadMode::Reflect && p > 0 && p >= x.shape[d])
        return ops::opError(
            op, strCat("reflect pad ", p, " on axis ", d, " of ", x.str(),
                       "; expected pads smaller than the dimension"));
      if (spec.mode == PadMode::Edge && p > 0 && x.shape[d] == 0)
        return ops::opError(
            op, strCat("edge pad on axis ", d, " of ", x.str(),
                       "; expected a non-empty dimension to repeat"));
    }
  }
  return spec;
}

TypesOr inferPad(const Op &op, const Module &) {
  NYX_RETURN_IF_ERROR(ops::checkOpBasics(op, {"pads", "mode", "value"}));
  const TensorType &x = op.operand(0)->type;
  auto spec = padSpec(op, x);
  if (!spec.ok())
    return spec.status();
  Shape out = x.shape;
  for (int64_t d = 0; d < x.rank(); ++d)
    out[d] += spec->pads[d] + spec->pads[x.rank() + d];
  return std::vector<TensorType>{{x.dtype, out}};
}

// The input coordinate an output coordinate reads, or -1 for the constant.
int64_t padSource(int64_t c, int64_t dim, PadMode mode) {
  if (c >= 0 && c < dim)
    return c;
  switch (mode) {
  case PadMode::Constant:
    return -1;
  case PadMode::Reflect:
    return c < 0 ? -c : 2 * (dim - 1) - c;
  case PadMode::Edge:
    return c < 0 ? 0 : dim - 1;
  }
  return -1;
}

absl::Status interpretPad(const Op &op, std::span<const Tensor *const> in,
                          std::span<Tensor> out, const InterpContext &) {
  const Tensor &x = *in[0];
  auto spec = padSpec(op, x.type());
  if (!spec.ok())
    return spec.status();
  // The fill value in the element type, so filling is a byte copy too.
  Tensor fill(TensorType{x.dtype(), {1}});
  ops::storeRounded(fill, 0, spec->value);
  const Shape &shape = x.shape();
  const int64_t rank = static_cast<int64_t>(shape.size());
  std::vector<int64_t> strides = rowMajorStrides(shape);
  ops::forEachIndex(
      out[0].shape(), [&](std::span<const int64_t> idx, int64_t linear) {
        int64_t src = 0;
        for (int64_t d = 0; d < rank; ++d) {
          int64_t c = padSource(idx[d] - spec->pads[d], shape[d], spec->mode);
          if (c < 0) {
            ops::copyElement(fill, 0, out[0], linear);
            return;
          }
          src += c * strides[d];
        }
        ops::copyElement(x, src, out[0], linear);
      });
  return absl::OkStatus();
}

} // namespace

void registerShapeOps(OpRegistry &r) {
  r.add(OpDef{.name = "reshape",
              .minOperands = 1,
              .maxOperands = 1,
              .inferTypes = inferReshape,
              .interpret = interpretReshape});
  r.add(OpDef{.name = "transpose",
              .minOperands = 1,
              .maxOperands = 1,
              .inferTypes = inferTranspose,
              .interpret = interpretTranspose});
  r.add(OpDef{.name = "broadcast_to",
              .minOperands = 1,
              .maxOperands = 1,
              .inferTypes = inferBroadcastTo,
              .interpret = interpretBroadcastTo});
  r.add(OpDef{.name = "slice",
              .minOperands = 1,
              .maxOperands = 1,
              .inferTypes = inferSlice,
              .interpret = interpretSlice});
  r.add(OpDef{.name = "concat",
              .minOperands = 1,
              .maxOperands = -1,
              .inferTypes = inferConcat,
              .interpret = interpretConcat});
  r.add(OpDef{.name = "gather",
              .minOperands = 2,
              .maxOperands = 2,
              .inferTypes = inferGather,
              .interpret = interpretGather});
  r.add(OpDef{.name = "pad",
              .minOperands = 1,
              .maxOperands = 1,
              .inferTypes = inferPad,
              .interpret = interpretPad});
  r.setFusionKind({"reshape", "transpose", "broadcast_to", "slice"},
                  FusionKind::Injective);
  r.defs.at("transpose").keepsInnermostAxis = [](const Op &op) {
    auto perm = transposePerm(op, op.operand(0)->type);
    int64_t rank = op.operand(0)->type.rank();
    return perm.ok() && (rank == 0 || perm->back() == rank - 1);
  };
  r.defs.at("slice").keepsInnermostAxis = [](const Op &op) {
    auto spec = ops::resolveSlice(op, op.operand(0)->type);
    return spec.ok() && (spec->step.empty() || spec->step.back() == 1);
  };
}

} // namespace nyx::ir
