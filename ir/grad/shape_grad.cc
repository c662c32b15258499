// Gradient rules of the shape and data-movement ops. Each one moves the
// result gradient back to where its elements came from: the inverse
// permutation, a sum over broadcast axes, zeros around a slice, a
// scatter-add at gathered positions. Every rule is exact (only additions of
// gradient elements, no rounding beyond them).
#include <algorithm>
#include <cstdint>
#include <vector>

#include "ir/grad/grad_helpers.h"
#include "ir/op_registry.h"
#include "ir/ops/slice.h"
#include "ir/status_macros.h"
#include "ir/strings.h"

namespace nyx::ir {
namespace {

using grad::filled;
using grad::normalizeAxis;

using Ints = std::vector<int64_t>;

Value *sliceOf(Builder &b, Value *v, Ints starts, Ints ends, Ints axes,
               Ints steps) {
  return b.op("slice", {v},
              {{"starts", std::move(starts)},
               {"ends", std::move(ends)},
               {"axes", std::move(axes)},
               {"steps", std::move(steps)}});
}

// Elements [start, end) of `v` along `axis`.
Value *sliceAxis(Builder &b, Value *v, int64_t axis, int64_t start,
                 int64_t end) {
  return sliceOf(b, v, {start}, {end}, {axis}, {1});
}

// `v` with the listed axes reversed.
Value *reverseAxes(Builder &b, Value *v, const Ints &axes) {
  if (!v || axes.empty())
    return v;
  Ints starts, ends;
  for (int64_t a : axes) {
    starts.push_back(-1);
    // Past the front: -1 would count from the end.
    ends.push_back(-v->type.shape[a] - 1);
  }
  return sliceOf(b, v, starts, ends, axes, Ints(axes.size(), -1));
}

// A zero tensor of shape `target` holding `g` at first[d] + i * stride[d]
// along each axis d (strides >= 1; the last element lands inside
// `target`). Zeros go between the elements through a reshape to
// [.., n, 1, ..], a pad to [.., n, stride, ..] and a reshape back; a slice
// drops the zeros that pad left past the last element.
Value *spread(Builder &b, Value *g, const Shape &target, const Ints &first,
              const Ints &stride) {
  if (!g)
    return nullptr; // the builder holds the error
  const Shape &s = g->type.shape;
  const int64_t rank = static_cast<int64_t>(s.size());
  Shape expanded, interleaved;
  Ints padsEnd;
  for (int64_t d = 0; d < rank; ++d) {
    expanded.push_back(s[d]);
    padsEnd.push_back(0);
    interleaved.push_back(s[d]);
    if (stride[d] > 1) {
      expanded.push_back(1);
      padsEnd.push_back(stride[d] - 1);
      interleaved.back() *= stride[d];
    }
  }
  Value *v = g;
  if (expanded.size() != s.size()) {
    Ints pads(expanded.size(), 0);
    pads.insert(pads.end(), padsEnd.begin(), padsEnd.end());
    v = b.op("reshape",
             {b.op("pad", {b.op("reshape", {v}, {{"shape", expanded}})},
                   {{"pads", pads}})},
             {{"shape", interleaved}});
  }
  Ints starts, ends, axes, padBegin, padEnd;
  for (int64_t d = 0; d < rank; ++d) {
    const int64_t used = (s[d] - 1) * stride[d] + 1;
    if (interleaved[d] != used) {
      axes.push_back(d);
      starts.push_back(0);
      ends.push_back(used);
    }
    padBegin.push_back(first[d]);
    padEnd.push_back(target[d] - first[d] - used);
  }
  if (!axes.empty())
    v = sliceOf(b, v, starts, ends, axes, Ints(axes.size(), 1));
  padBegin.insert(padBegin.end(), padEnd.begin(), padEnd.end());
  if (std::any_of(padBegin.begin(), padBegin.end(),
                  [](int64_t p) { return p != 0; }))
    v = b.op("pad", {v}, {{"pads", padBegin}});
  return v;
}

// `indices` (shape [..]) as tuples of one index, shape [.., 1].
Value *asTuples(Builder &b, Value *indices) {
  Shape s = indices->type.shape;
  s.push_back(1);
  return b.op("reshape", {indices}, {{"shape", s}});
}

// An integer tensor of `type` holding 1, 2, 3, ... in row-major order: the
// identities of the updates of a scatter.
Value *updateIds(Builder &b, const Shape &shape) {
  Tensor ids(TensorType{DType::I64, shape});
  for (int64_t i = 0; i < ids.numElements(); ++i)
    ids.setInt(i, i + 1);
  return b.constant(std::move(ids));
}

Value *zerosI64(Builder &b, const Shape &shape) {
  Value *zero = b.constant(Tensor(TensorType{DType::I64, {}}));
  if (shape.empty())
    return zero;
  return b.op("broadcast_to", {zero}, {{"shape", shape}});
}

// ---- reshape, transpose, broadcast_to ----

absl::Status reshapeGrad(Builder &b, const Op &op, std::span<Value *const> gy,
                         std::span<Value *> gx) {
  gx[0] = b.op("reshape", {gy[0]}, {{"shape", op.operand(0)->type.shape}});
  return absl::OkStatus();
}

absl::Status transposeGrad(Builder &b, const Op &op, std::span<Value *const> gy,
                           std::span<Value *> gx) {
  const int64_t rank = op.operand(0)->type.rank();
  Ints reversed(rank);
  for (int64_t i = 0; i < rank; ++i)
    reversed[i] = rank - 1 - i;
  NYX_ASSIGN_OR_RETURN(Ints perm, op.getInts("perm", reversed));
  Ints inverse(rank);
  for (int64_t i = 0; i < rank; ++i)
    inverse[normalizeAxis(perm[i], rank)] = i;
  gx[0] = b.op("transpose", {gy[0]}, {{"perm", inverse}});
  return absl::OkStatus();
}

absl::Status broadcastToGrad(Builder &b, const Op &op,
                             std::span<Value *const> gy,
                             std::span<Value *> gx) {
  gx[0] = grad::unbroadcast(b, gy[0], op.operand(0)->type.shape);
  return absl::OkStatus();
}

// ---- slice ----

// The elements a slice read, in ascending order along every axis, go back
// to their positions: reverse the axes read with negative steps, then
// spread with the step's magnitude from the lowest position read.
absl::Status sliceGrad(Builder &b, const Op &op, std::span<Value *const> gy,
                       std::span<Value *> gx) {
  const TensorType &x = op.operand(0)->type;
  NYX_ASSIGN_OR_RETURN(ops::SliceSpec spec, ops::resolveSlice(op, x));
  if (gy[0]->type.numElements() == 0) {
    gx[0] = filled(b, x, 0.0);
    return absl::OkStatus();
  }
  const int64_t rank = x.rank();
  Ints first(rank), stride(rank), reversed;
  for (int64_t d = 0; d < rank; ++d) {
    const int64_t count = spec.shape[d], step = spec.step[d];
    first[d] = spec.start[d];
    // One element read: the step does not matter (and may be huge).
    stride[d] = 1;
    if (count == 1)
      continue;
    if (step < 0) {
      first[d] = spec.start[d] + (count - 1) * step;
      stride[d] = -step;
      reversed.push_back(d);
    } else {
      stride[d] = step;
    }
  }
  gx[0] = spread(b, reverseAxes(b, gy[0], reversed), x.shape, first, stride);
  return absl::OkStatus();
}

// ---- concat ----

absl::Status concatGrad(Builder &b, const Op &op, std::span<Value *const> gy,
                        std::span<Value *> gx) {
  NYX_ASSIGN_OR_RETURN(int64_t axisAttr, op.getInt("axis"));
  const int64_t axis = normalizeAxis(axisAttr, gy[0]->type.rank());
  int64_t offset = 0;
  for (int i = 0; i < op.numOperands(); ++i) {
    const int64_t size = op.operand(i)->type.shape[axis];
    gx[i] = op.numOperands() == 1
                ? gy[0]
                : sliceAxis(b, gy[0], axis, offset, offset + size);
    offset += size;
  }
  return absl::OkStatus();
}

// ---- pad ----

// Each padded axis is folded back on its own (padding is separable): the
// middle of the axis is x's own elements, and the padded ends add to the
// elements they copied. Reflect: the begin pad [0, p) holds x[p], ..,
// x[1] and the end pad x[dim-2], .., x[dim-1-p], reversed slices added at
// those positions. Edge: each pad is copies of the edge element, summed
// into it.
Value *foldPaddedAxis(Builder &b, Value *g, int64_t axis, int64_t dim,
                      int64_t before, int64_t after, bool reflect) {
  if (!g)
    return nullptr; // the builder holds the error
  const int64_t rank = g->type.rank();
  Value *sum = sliceAxis(b, g, axis, before, before + dim);
  // `part` (length `len` along `axis`) added at [at, at + len).
  auto addAt = [&](Value *part, int64_t at, int64_t len) {
    Ints pads(2 * rank, 0);
    pads[axis] = at;
    pads[rank + axis] = dim - at - len;
    sum = b.op("add", {sum, b.op("pad", {part}, {{"pads", pads}})});
  };
  if (before > 0) {
    Value *part = sliceAxis(b, g, axis, 0, before);
    if (reflect)
      addAt(reverseAxes(b, part, {axis}), 1, before);
    else
      addAt(b.op("reduce_sum", {part},
                 {{"axes", Ints{axis}}, {"keepdims", true}}),
            0, 1);
  }
  if (after > 0) {
    Value *part = sliceAxis(b, g, axis, before + dim, before + dim + after);
    if (reflect)
      addAt(reverseAxes(b, part, {axis}), dim - 1 - after, after);
    else
      addAt(b.op("reduce_sum", {part},
                 {{"axes", Ints{axis}}, {"keepdims", true}}),
            dim - 1, 1);
  }
  return sum;
}

absl::Status padGrad(Builder &b, const Op &op, std::span<Value *const> gy,
                     std::span<Value *> gx) {
  const TensorType &x = op.operand(0)->type;
  const int64_t rank = x.rank();
  NYX_ASSIGN_OR_RETURN(Ints pads, op.getInts("pads"));
  NYX_ASSIGN_OR_RETURN(std::string mode, op.getString("mode", "constant"));
  if (static_cast<int64_t>(pads.size()) != 2 * rank)
    return absl::InvalidArgumentError(
        strCat("pads has ", pads.size(), " entries; expected ", 2 * rank));
  if (mode == "constant") {
    Ints starts, ends, axes;
    for (int64_t d = 0; d < rank; ++d)
      if (pads[d] != 0 || pads[rank + d] != 0) {
        axes.push_back(d);
        starts.push_back(pads[d]);
        ends.push_back(pads[d] + x.shape[d]);
      }
    gx[0] = axes.empty()
                ? gy[0]
                : sliceOf(b, gy[0], starts, ends, axes, Ints(axes.size(), 1));
    return absl::OkStatus();
  }
  if (mode != "reflect" && mode != "edge")
    return absl::InvalidArgumentError(
        strCat("mode is \"", mode,
               "\"; expected \"constant\", \"reflect\" or \"edge\""));
  Value *g = gy[0];
  for (int64_t d = 0; d < rank; ++d)
    if (pads[d] != 0 || pads[rank + d] != 0)
      g = foldPaddedAxis(b, g, d, x.shape[d], pads[d], pads[rank + d],
                         mode == "reflect");
  gx[0] = g;
  return absl::OkStatus();
}

// ---- gathers: the gradient is a scatter-add at the gathered positions ----

// gather along `axis` reads data[.., indices[j], ..]. With that axis moved
// to the front of data and the index axes to the front of the gradient,
// each index addresses one leading slice: a scatter_nd with one-index
// tuples, which wraps negative indices and skips those out of range
// exactly as the gather did.
absl::Status gatherGrad(Builder &b, const Op &op, std::span<Value *const> gy,
                        std::span<Value *> gx) {
  const TensorType &data = op.operand(0)->type;
  Value *indices = op.operand(1);
  NYX_ASSIGN_OR_RETURN(int64_t axisAttr, op.getInt("axis", 0));
  const int64_t axis = normalizeAxis(axisAttr, data.rank());
  const int64_t q = indices->type.rank();
  const int64_t gRank = gy[0]->type.rank();
  Value *g = gy[0];
  Shape front = {data.shape[axis]};
  for (int64_t d = 0; d < data.rank(); ++d)
    if (d != axis)
      front.push_back(data.shape[d]);
  if (axis > 0) {
    Ints perm;
    for (int64_t d = axis; d < axis + q; ++d)
      perm.push_back(d);
    for (int64_t d = 0; d < axis; ++d)
      perm.push_back(d);
    for (int64_t d = axis + q; d < gRank; ++d)
      perm.push_back(d);
    g = b.op("transpose", {g}, {{"perm", perm}});
  }
  Value *scattered = b.op(
      "scatter_nd",
      {filled(b, TensorType{data.dtype, front}, 0.0), asTuples(b, indices), g},
      {{"reduction", "add"}});
  if (axis > 0) {
    Ints perm;
    for (int64_t d = 1; d <= axis; ++d)
      perm.push_back(d);
    perm.push_back(0);
    for (int64_t d = axis + 1; d < data.rank(); ++d)
      perm.push_back(d);
    scattered = b.op("transpose", {scattered}, {{"perm", perm}});
  }
  gx[0] = scattered;
  return absl::OkStatus();
}

absl::Status gatherElementsGrad(Builder &b, const Op &op,
                                std::span<Value *const> gy,
                                std::span<Value *> gx) {
  const TensorType &data = op.operand(0)->type;
  NYX_ASSIGN_OR_RETURN(int64_t axis, op.getInt("axis", 0));
  gx[0] = b.op("scatter_elements", {filled(b, data, 0.0), op.operand(1), gy[0]},
               {{"axis", axis}, {"reduction", "add"}});
  return absl::OkStatus();
}

// With batch_dims b, each tuple also names its batch position p[:b]; the
// batch coordinates (a constant) put in front of every tuple make it a
// plain scatter_nd over all of data's leading axes.
absl::Status gatherNdGrad(Builder &b, const Op &op, std::span<Value *const> gy,
                          std::span<Value *> gx) {
  const TensorType &data = op.operand(0)->type;
  Value *indices = op.operand(1);
  NYX_ASSIGN_OR_RETURN(int64_t batchDims, op.getInt("batch_dims", 0));
  if (batchDims > 0) {
    const Shape &is = indices->type.shape;
    Shape tuples(is.begin(), is.end() - 1);
    Shape coordShape = tuples;
    coordShape.push_back(batchDims);
    Tensor coords(TensorType{indices->type.dtype, coordShape});
    const int64_t count = numElements(tuples);
    // Row-major position t of `tuples`: its first batchDims coordinates.
    const std::vector<int64_t> strides = rowMajorStrides(tuples);
    for (int64_t t = 0; t < count; ++t)
      for (int64_t d = 0; d < batchDims; ++d)
        coords.setInt(t * batchDims + d, (t / strides[d]) % tuples[d]);
    indices = b.op("concat", {b.constant(std::move(coords)), indices},
                   {{"axis", -1}});
  }
  gx[0] = b.op("scatter_nd", {filled(b, data, 0.0), indices, gy[0]},
               {{"reduction", "add"}});
  return absl::OkStatus();
}

// ---- scatters ----

// reduction "none": data keeps the gradient where no update landed, and
// each update gets the gradient of its position only when it is the one
// that stays there (the last of duplicates). Which update stays is found
// by scattering the updates' ids through the same indices and reading them
// back. reduction "add": data and updates each add to the result.
absl::Status scatterGrad(Builder &b, const Op &op, std::span<Value *const> gy,
                         std::span<Value *> gx, bool elements) {
  NYX_ASSIGN_OR_RETURN(std::string reduction,
                       op.getString("reduction", "none"));
  Value *indices = op.operand(1);
  const TensorType &updates = op.operand(2)->type;
  Attrs scatterAttrs, gatherAttrs;
  if (elements) {
    NYX_ASSIGN_OR_RETURN(int64_t axis, op.getInt("axis", 0));
    scatterAttrs = Attrs{{"axis", axis}};
    gatherAttrs = Attrs{{"axis", axis}};
  }
  const char *scatterName = elements ? "scatter_elements" : "scatter_nd";
  const char *gatherName = elements ? "gather_elements" : "gather_nd";
  Value *gathered = b.op(gatherName, {gy[0], indices}, gatherAttrs);
  if (reduction == "add") {
    gx[0] = gy[0];
    gx[2] = gathered;
    return absl::OkStatus();
  }
  if (reduction != "none")
    return absl::UnimplementedError(
        strCat("reduction \"", reduction,
               "\" has no gradient rule; expected \"none\" or \"add\""));
  gx[0] = b.op(scatterName, {gy[0], indices, filled(b, updates, 0.0)},
               scatterAttrs);
  // The winners are per element (scatter_elements) or per tuple
  // (scatter_nd, over data's first k axes).
  const Shape &dataShape = op.operand(0)->type.shape;
  Shape idShape = updates.shape, slotShape = dataShape;
  if (!elements) {
    const Shape &is = indices->type.shape;
    const int64_t k = is.back();
    idShape.assign(is.begin(), is.end() - 1);
    slotShape.assign(dataShape.begin(), dataShape.begin() + k);
  }
  Value *ids = updateIds(b, idShape);
  Value *winners =
      b.op(scatterName, {zerosI64(b, slotShape), indices, ids}, scatterAttrs);
  Value *stays =
      b.op("eq", {b.op(gatherName, {winners, indices}, gatherAttrs), ids});
  if (!elements && idShape.size() != updates.shape.size()) {
    Shape kept = idShape;
    kept.resize(updates.shape.size(), 1);
    stays = b.op("reshape", {stays}, {{"shape", kept}});
  }
  gx[2] = b.op("select", {stays, gathered, filled(b, updates, 0.0)});
  return absl::OkStatus();
}

} // namespace

void registerShapeGrads(OpRegistry &r) {
  r.setGrad("reshape", reshapeGrad);
  r.setGrad("transpose", transposeGrad);
  r.setGrad("broadcast_to", broadcastToGrad);
  r.setGrad("slice", sliceGrad);
  r.setGrad("concat", concatGrad);
  r.setGrad("pad", padGrad);
  r.setGrad("gather", gatherGrad);
  r.setGrad("gather_elements", gatherElementsGrad);
  r.setGrad("gather_nd", gatherNdGrad);
  r.setGrad("scatter_elements",
            [](Builder &b, const Op &op, std::span<Value *const> gy,
               std::span<Value *> gx) {
              return scatterGrad(b, op, gy, gx, /*elements=*/true);
            });
  r.setGrad("scatter_nd",
            [](Builder &b, const Op &op, std::span<Value *const> gy,
               std::span<Value *> gx) {
              return scatterGrad(b, op, gy, gx, /*elements=*/false);
            });
}

} // namespace nyx::ir
