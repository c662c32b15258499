// Shape and data movement. reshape, transpose, broadcast_to and slice are
// Injective: element functions (element_fn.h) that pass an operand element
// on untouched. concat, gather, gather_elements and pad are kernels of their
// own. Each copies elements of any dtype as stored (loadStored), so every
// bit pattern survives, NaN payloads of f16/bf16 included.
#include <algorithm>

#include "absl/status/status.h"
#include "codegen/kernel/element_fn.h"
#include "codegen/kernel/index_math.h"
#include "codegen/kernel/lowering.h"
#include "ir/ops/slice.h"
#include "ir/strings.h"

namespace nyx::kernel {
namespace {

using B = Builder;

const ir::TensorType &inType(const ir::Op &op, int i = 0) {
  return op.operand(i)->type;
}
const ir::TensorType &outType(const ir::Op &op) { return op.result(0)->type; }

// Row-major order is unchanged by a reshape: the element at the same flat
// index.
absl::StatusOr<ExprRef> reshapeElement(const ir::Op &op,
                                       const std::vector<ExprRef> &coords,
                                       const OperandAt &operandAt) {
  const ir::TensorType &in = inType(op), &out = outType(op);
  if (in.numElements() != out.numElements())
    return absl::InvalidArgumentError(
        strCat("'reshape' of ", in.str(), " to ", out.str(),
               "; expected the same element count"));
  return operandAt(0, unravel(ravel(coords, out.shape), in.shape));
}

absl::StatusOr<ExprRef> transposeElement(const ir::Op &op,
                                         const std::vector<ExprRef> &coords,
                                         const OperandAt &operandAt) {
  const ir::TensorType &in = inType(op), &out = outType(op);
  const int64_t rank = in.rank();
  std::vector<int64_t> reversed(rank);
  for (int64_t d = 0; d < rank; ++d)
    reversed[d] = rank - 1 - d;
  auto perm = op.getInts("perm", reversed);
  if (!perm.ok())
    return perm.status();
  for (int64_t &p : *perm) // entries may count from the end
    if (p < 0)
      p += rank;
  std::vector<bool> seen(rank, false);
  bool valid = static_cast<int64_t>(perm->size()) == rank && out.rank() == rank;
  for (size_t d = 0; valid && d < perm->size(); ++d) {
    int64_t p = (*perm)[d];
    valid = p >= 0 && p < rank && !seen[p] && out.shape[d] == in.shape[p];
    if (valid)
      seen[p] = true;
  }
  if (!valid)
    return absl::InvalidArgumentError(
        strCat("'transpose' perm is [", strJoin(*perm, ", "), "] for ",
               in.str(), " -> ", out.str(), "; expected a permutation of 0..",
               rank - 1, " with out.shape[i] = x.shape[perm[i]]"));
  std::vector<ExprRef> inIdx(rank);
  for (int64_t d = 0; d < rank; ++d)
    inIdx[(*perm)[d]] = coords[d];
  return operandAt(0, std::move(inIdx));
}

absl::StatusOr<ExprRef> broadcastToElement(const ir::Op &op,
                                           const std::vector<ExprRef> &coords,
                                           const OperandAt &operandAt) {
  const ir::TensorType &in = inType(op), &out = outType(op);
  bool valid = in.rank() <= out.rank();
  for (int64_t d = 0; valid && d < in.rank(); ++d) {
    int64_t from = in.shape[d], to = out.shape[out.rank() - in.rank() + d];
    valid = from == to || from == 1;
  }
  if (!valid)
    return absl::InvalidArgumentError(
        strCat("'broadcast_to' of ", in.str(), " to ", out.str(),
               "; expected a shape the operand broadcasts to"));
  return operandAt(0, broadcastCoords(coords, in.shape));
}

// Per axis, start + i * step (steps may be negative).
absl::StatusOr<ExprRef> sliceElement(const ir::Op &op,
                                     const std::vector<ExprRef> &coords,
                                     const OperandAt &operandAt) {
  const ir::TensorType &in = inType(op), &out = outType(op);
  auto spec = ir::ops::resolveSlice(op, in);
  if (!spec.ok())
    return spec.status();
  if (spec->shape != out.shape)
    return absl::InvalidArgumentError(
        strCat("'slice' result is ", out.str(), "; expected ",
               ir::TensorType{out.dtype, spec->shape}.str()));
  std::vector<ExprRef> inIdx(in.rank());
  for (int64_t d = 0; d < in.rank(); ++d)
    inIdx[d] =
        addIndex(B::i64(spec->start[d]), mulIndex(coords[d], spec->step[d]));
  return operandAt(0, std::move(inIdx));
}

// Each operand is a block of rows of `chunk` contiguous elements; row r of
// operand i lands at offset r * outChunk + (sum of earlier chunks).
absl::StatusOr<Kernel> lowerConcat(const ir::Op &op, std::string name) {
  const ir::TensorType &out = outType(op);
  auto axis = axisAttribute(op, "axis", std::nullopt, out.rank());
  if (!axis.ok())
    return axis.status();
  Shape outer(out.shape.begin(), out.shape.begin() + *axis);
  Shape inner(out.shape.begin() + *axis + 1, out.shape.end());
  const int64_t rows = ir::numElements(outer);
  const int64_t innerCount = ir::numElements(inner);
  const int64_t outChunk = out.shape[*axis] * innerCount;

  Kernel k = kernelSkeleton(op, std::move(name));
  Builder b;
  std::vector<StmtRef> copies;
  int64_t offset = 0;
  for (int i = 0; i < op.numOperands(); ++i) {
    const ir::TensorType &in = inType(op, i);
    Shape expected = out.shape;
    expected[*axis] = in.rank() == out.rank() ? in.shape[*axis] : -1;
    if (in.shape != expected || in.dtype != out.dtype)
      return absl::InvalidArgumentError(strCat(
          "'concat' operand ", i, " is ", in.str(), " for result ", out.str(),
          "; expected equal shapes except along axis ", *axis));
    const int64_t chunk = in.shape[*axis] * innerCount;
    LoopNest row(b, {rows}, "row");
    LoopNest col(b, {chunk}, "j");
    ExprRef r = row.indices()[0], j = col.indices()[0];
    ExprRef src = addIndex(mulIndex(r, chunk), j);
    ExprRef dst = addIndex(mulIndex(r, outChunk), addIndex(B::i64(offset), j));
    copies.push_back(row.wrap(
        {col.wrap(
            {B::store(op.numOperands(), dst, B::loadStored(i, in.dtype, src))},
            false)},
        true));
    offset += chunk;
  }
  if (offset != outChunk)
    return absl::InvalidArgumentError(
        strCat("'concat' operands add up to ",
               offset / std::max<int64_t>(innerCount, 1), " along axis ", *axis,
               "; expected ", out.shape[*axis]));
  k.body = B::block(std::move(copies));
  return k;
}

// NumPy take along `axis`: data viewed as [outer, n, inner], the result as
// [outer, count, inner] with count the number of indices.
absl::StatusOr<Kernel> lowerGather(const ir::Op &op, std::string name) {
  const ir::TensorType &data = inType(op, 0), &indices = inType(op, 1);
  const ir::TensorType &out = outType(op);
  if (indices.dtype != DType::I32 && indices.dtype != DType::I64)
    return absl::InvalidArgumentError(strCat(
        "'gather' indices are ", indices.str(), "; expected i32 or i64"));
  auto axis = axisAttribute(op, "axis", 0, data.rank());
  if (!axis.ok())
    return axis.status();
  const int64_t outer =
      ir::numElements(Shape(data.shape.begin(), data.shape.begin() + *axis));
  const int64_t inner =
      ir::numElements(Shape(data.shape.begin() + *axis + 1, data.shape.end()));
  const int64_t n = data.shape[*axis];
  const int64_t count = indices.numElements();
  if (out.numElements() != outer * count * inner)
    return absl::InvalidArgumentError(
        strCat("'gather' result is ", out.str(), "; expected ",
               outer * count * inner, " elements"));

  Kernel k = kernelSkeleton(op, std::move(name));
  Builder b;
  LoopNest rows(b, {outer, count}, "i");
  ExprRef o = rows.indices()[0], t = rows.indices()[1];
  Var index = b.newVar(DType::I64, "index");
  Var j = b.newVar(DType::I64, "j"), j0 = b.newVar(DType::I64, "j");
  ExprRef raw = B::cast(DType::I64, B::load(1, indices.dtype, t));
  ExprRef wrapped =
      B::select(B::compare(CmpFn::Lt, raw, B::i64(0)), raw + B::i64(n), raw);
  ExprRef I = B::ref(index);
  ExprRef inRange =
      B::binary(BinaryFn::And, B::compare(CmpFn::Ge, I, B::i64(0)),
                B::compare(CmpFn::Lt, I, B::i64(n)));
  ExprRef dstRow = mulIndex(addIndex(mulIndex(o, count), t), inner);
  ExprRef srcRow = mulIndex(addIndex(mulIndex(o, n), I), inner);
  // The range check guards the loads, so an out-of-range index never
  // touches memory outside `data`.
  StmtRef copy = B::loop(
      j, B::i64(inner),
      {B::store(2, addIndex(dstRow, B::ref(j)),
                B::loadStored(0, data.dtype, addIndex(srcRow, B::ref(j))))});
  StmtRef zero = B::loop(j0, B::i64(inner),
                         {B::store(2, addIndex(dstRow, B::ref(j0)),
                                   storedConstant(data.dtype, 0))});
  k.body = rows.wrap(
      {B::declare(index, wrapped), B::ifThen(inRange, {copy}, {zero})}, true);
  return k;
}

// ONNX GatherElements: result position p (of the indices' shape) reads
// data at p with its coordinate along `axis` replaced by indices[p].
absl::StatusOr<Kernel> lowerGatherElements(const ir::Op &op, std::string name) {
  const ir::TensorType &data = inType(op, 0), &indices = inType(op, 1);
  const ir::TensorType &out = outType(op);
  if (indices.dtype != DType::I32 && indices.dtype != DType::I64)
    return absl::InvalidArgumentError(strCat("'gather_elements' indices are ",
                                             indices.str(),
                                             "; expected i32 or i64"));
  auto axis = axisAttribute(op, "axis", 0, data.rank());
  if (!axis.ok())
    return axis.status();
  bool valid = indices.rank() == data.rank() && out.shape == indices.shape &&
               out.dtype == data.dtype;
  for (int64_t d = 0; valid && d < data.rank(); ++d)
    valid = d == *axis || indices.shape[d] <= data.shape[d];
  if (!valid)
    return absl::InvalidArgumentError(
        strCat("'gather_elements' of ", data.str(), " at ", indices.str(),
               " gives ", out.str(),
               "; expected indices of data's rank, no larger than data "
               "off the axis, and a result of data's dtype and the indices' "
               "shape"));

  Kernel k = kernelSkeleton(op, std::move(name));
  Builder b;
  LoopNest nest(b, indices.shape, "i");
  const int64_t n = data.shape[*axis];
  ExprRef at = ravel(nest.indices(), indices.shape);
  Var index = b.newVar(DType::I64, "index");
  ExprRef raw = B::cast(DType::I64, B::load(1, indices.dtype, at));
  ExprRef wrapped =
      B::select(B::compare(CmpFn::Lt, raw, B::i64(0)), raw + B::i64(n), raw);
  ExprRef I = B::ref(index);
  ExprRef inRange =
      B::binary(BinaryFn::And, B::compare(CmpFn::Ge, I, B::i64(0)),
                B::compare(CmpFn::Lt, I, B::i64(n)));
  std::vector<ExprRef> src = nest.indices();
  src[*axis] = I;
  // The range check guards the load, so an out-of-range index never
  // touches memory outside `data`.
  StmtRef copy =
      B::store(2, at, B::loadStored(0, data.dtype, ravel(src, data.shape)));
  StmtRef zero = B::store(2, at, storedConstant(data.dtype, 0));
  k.body = nest.wrap(
      {B::declare(index, wrapped), B::ifThen(inRange, {copy}, {zero})}, true);
  return k;
}

// Per output dimension, the input coordinate that output index `o` reads
// for `mode`, and (constant mode) whether it lies inside the input.
absl::StatusOr<Kernel> lowerPad(const ir::Op &op, std::string name) {
  const ir::TensorType &in = inType(op), &out = outType(op);
  const int64_t rank = in.rank();
  auto pads = op.getInts("pads");
  if (!pads.ok())
    return pads.status();
  auto mode = op.getString("mode", "constant");
  if (!mode.ok())
    return mode.status();
  auto value = op.getFloat("value", 0.0);
  if (!value.ok())
    return value.status();
  if (static_cast<int64_t>(pads->size()) != 2 * rank)
    return absl::InvalidArgumentError(strCat("'pad' has ", pads->size(),
                                             " pads for ", in.str(),
                                             "; expected ", 2 * rank));
  if (*mode != "constant" && *mode != "reflect" && *mode != "edge")
    return absl::InvalidArgumentError(
        strCat("'pad' mode is \"", *mode,
               "\"; expected \"constant\", \"reflect\" or \"edge\""));
  for (int64_t d = 0; d < rank; ++d) {
    int64_t before = (*pads)[d], after = (*pads)[rank + d], dim = in.shape[d];
    if (before < 0 || after < 0 || out.shape[d] != dim + before + after)
      return absl::InvalidArgumentError(
          strCat("'pad' of ", in.str(), " with pads [", strJoin(*pads, ", "),
                 "] gives ", out.str(),
                 "; expected non-negative pads that "
                 "add up to the result shape"));
    if (*mode != "constant" && dim == 0 && before + after > 0)
      return absl::InvalidArgumentError(
          strCat("'pad' mode \"", *mode, "\" of empty axis ", d, " of ",
                 in.str(), "; expected a non-empty axis"));
    if (*mode == "reflect" && (before >= dim || after >= dim) &&
        before + after > 0)
      return absl::InvalidArgumentError(
          strCat("'pad' mode \"reflect\" pads axis ", d, " of ", in.str(),
                 " by ", before, " and ", after, "; expected pads < ", dim));
  }

  Kernel k = kernelSkeleton(op, std::move(name));
  Builder b;
  LoopNest nest(b, out.shape, "i");
  std::vector<ExprRef> inIdx(rank);
  ExprRef inside = B::boolean(true);
  for (int64_t d = 0; d < rank; ++d) {
    int64_t before = (*pads)[d], dim = in.shape[d];
    ExprRef c = addIndex(nest.indices()[d], B::i64(-before));
    if (before == 0 && (*pads)[rank + d] == 0) {
      inIdx[d] = c;
      continue;
    }
    ExprRef low = B::compare(CmpFn::Lt, c, B::i64(0));
    ExprRef high = B::compare(CmpFn::Ge, c, B::i64(dim));
    if (*mode == "reflect") {
      // Mirror without repeating the edge: -1 -> 1, dim -> dim - 2.
      inIdx[d] = B::select(low, B::i64(0) - c,
                           B::select(high, B::i64(2 * (dim - 1)) - c, c));
    } else {
      // Edge and constant both read the clamped coordinate (constant mode
      // then discards the value outside, but the load stays in bounds).
      inIdx[d] = B::select(low, B::i64(0), B::select(high, B::i64(dim - 1), c));
      if (*mode == "constant")
        inside = B::binary(
            BinaryFn::And, inside,
            B::unary(UnaryFn::Not, B::binary(BinaryFn::Or, low, high)));
    }
  }
  ExprRef dst = ravel(nest.indices(), out.shape);
  ExprRef fill = storedConstant(in.dtype, *value);
  std::vector<StmtRef> body;
  if (*mode == "constant" && in.numElements() == 0) {
    body.push_back(B::store(1, dst, fill));
  } else {
    ExprRef v = B::loadStored(0, in.dtype, ravel(inIdx, in.shape));
    if (*mode == "constant")
      v = B::select(inside, v, fill);
    body.push_back(B::store(1, dst, v));
  }
  k.body = nest.wrap(std::move(body), true);
  return k;
}

} // namespace

void registerShapeElementFns(ElementFnRegistry &r) {
  r.add("reshape", reshapeElement);
  r.add("transpose", transposeElement);
  r.add("broadcast_to", broadcastToElement);
  r.add("slice", sliceElement);
}

void registerShapeLowerings(LoweringRegistry &r) {
  for (const char *name : {"reshape", "transpose", "broadcast_to", "slice"})
    r.add(name, lowerInjectiveOp);
  r.add("concat", lowerConcat);
  r.add("gather", lowerGather);
  r.add("gather_elements", lowerGatherElements);
  r.add("pad", lowerPad);
}

} // namespace nyx::kernel
