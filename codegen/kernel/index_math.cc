#include "codegen/kernel/index_math.h"

#include <cassert>

#include "absl/status/status.h"
#include "ir/strings.h"

namespace nyx::kernel {

absl::StatusOr<int64_t> normalizeAxis(const ir::Op &op, std::string_view attr,
                                      int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return absl::InvalidArgumentError(
        strCat("'", op.name(), "' attribute '", attr, "' is ", axis,
               "; expected an axis in [", -rank, ", ", rank, ")"));
  return axis < 0 ? axis + rank : axis;
}

static bool isIntConst(const ExprRef &e, int64_t v) {
  return e->kind == Expr::Kind::IntConst && e->intValue == v;
}

absl::StatusOr<int64_t> axisAttribute(const ir::Op &op, std::string_view attr,
                                      std::optional<int64_t> dflt,
                                      int64_t rank) {
  auto axis = op.getInt(attr, dflt);
  if (!axis.ok())
    return axis.status();
  return normalizeAxis(op, attr, *axis, rank);
}

ExprRef addIndex(ExprRef a, ExprRef b) {
  if (isIntConst(a, 0))
    return b;
  if (isIntConst(b, 0))
    return a;
  if (a->kind == Expr::Kind::IntConst && b->kind == Expr::Kind::IntConst)
    return Builder::i64(a->intValue + b->intValue);
  return a + b;
}

ExprRef mulIndex(ExprRef a, int64_t c) {
  if (c == 0 || isIntConst(a, 0))
    return Builder::i64(0);
  if (c == 1)
    return a;
  if (a->kind == Expr::Kind::IntConst)
    return Builder::i64(a->intValue * c);
  return a * Builder::i64(c);
}

// Both sum left to right, outermost dimension first, which reads naturally
// when printed: ((i0 * 30) + (i1 * 6)) + i2.
ExprRef ravel(std::span<const ExprRef> idx, const Shape &shape) {
  std::vector<int64_t> strides = ir::rowMajorStrides(shape);
  ExprRef offset = Builder::i64(0);
  for (size_t d = 0; d < shape.size(); ++d)
    offset = addIndex(offset, mulIndex(idx[d], strides[d]));
  return offset;
}

ExprRef broadcastRavel(std::span<const ExprRef> idx, const Shape &from) {
  std::vector<int64_t> strides = ir::rowMajorStrides(from);
  size_t lead = idx.size() - from.size();
  ExprRef offset = Builder::i64(0);
  for (size_t d = 0; d < from.size(); ++d)
    if (from[d] != 1)
      offset = addIndex(offset, mulIndex(idx[lead + d], strides[d]));
  return offset;
}

std::vector<ExprRef> unravel(ExprRef flat, const Shape &shape) {
  std::vector<ExprRef> coords(shape.size(), Builder::i64(0));
  if (ir::numElements(shape) == 0)
    return coords;
  std::vector<int64_t> strides = ir::rowMajorStrides(shape);
  bool outermost = true;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1)
      continue;
    ExprRef c = flat;
    if (strides[d] != 1)
      c = Builder::binary(BinaryFn::Div, c, Builder::i64(strides[d]));
    if (!outermost)
      c = Builder::binary(BinaryFn::Rem, c, Builder::i64(shape[d]));
    coords[d] = c;
    outermost = false;
  }
  return coords;
}

std::vector<ExprRef> broadcastCoords(std::span<const ExprRef> coords,
                                     const Shape &from) {
  // Broadcasting only adds leading dimensions; shape rules guarantee it.
  assert(from.size() <= coords.size());
  size_t lead = coords.size() - from.size();
  std::vector<ExprRef> out;
  for (size_t d = 0; d < from.size(); ++d)
    out.push_back(from[d] == 1 ? Builder::i64(0) : coords[lead + d]);
  return out;
}

LoopNest::LoopNest(Builder &b, const Shape &shape, std::string_view prefix)
    : shape_(shape) {
  for (size_t d = 0; d < shape.size(); ++d) {
    vars_.push_back(b.newVar(DType::I64, strCat(prefix, d)));
    indices_.push_back(shape[d] == 1 ? Builder::i64(0)
                                     : Builder::ref(vars_.back()));
  }
}

StmtRef LoopNest::wrap(std::vector<StmtRef> body, bool parallel) const {
  StmtRef inner = Builder::block(std::move(body));
  for (size_t d = shape_.size(); d-- > 0;)
    if (shape_[d] != 1)
      inner = Builder::loop(vars_[d], Builder::i64(shape_[d]), {inner},
                            parallel ? LoopKind::Parallel : LoopKind::Serial);
  return inner;
}

ExprRef constantFor(DType storage, double v) {
  if (storage == DType::Bool)
    return Builder::boolean(v != 0);
  return Builder::constant(computeType(storage), v);
}

static Shape withoutAxis(const Shape &shape, int64_t axis) {
  Shape out = shape;
  out.erase(out.begin() + axis);
  return out;
}

AlongAxis::AlongAxis(Builder &b, const Shape &shape, int64_t axis)
    : shape_(shape), othersShape_(withoutAxis(shape, axis)), axis_(axis),
      others_(b, othersShape_, "o") {}

ExprRef AlongAxis::at(ExprRef i) const {
  std::vector<ExprRef> idx = others_.indices();
  idx.insert(idx.begin() + axis_, std::move(i));
  return ravel(idx, shape_);
}

ExprRef storedConstant(DType storage, double v) {
  if (storage == DType::F16 || storage == DType::BF16)
    return Builder::cast(storage, Builder::constant(DType::F64, v));
  return constantFor(storage, v);
}

Buffer bufferFor(const ir::Value &v, bool isOutput) {
  return Buffer{v.name, v.type.dtype, v.type.numElements(), isOutput};
}

Kernel kernelSkeleton(const ir::Op &op, std::string name) {
  Kernel k;
  k.name = std::move(name);
  for (const ir::Value *v : op.operands)
    k.buffers.push_back(bufferFor(*v, false));
  for (const ir::Value *v : op.results)
    k.buffers.push_back(bufferFor(*v, true));
  return k;
}

} // namespace nyx::kernel
