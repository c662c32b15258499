// Reductions: reduce_sum, reduce_mean, reduce_max, reduce_min, argmax.
//
// The kept dimensions index the output elements and the outermost loop over
// them is parallel. Float reductions accumulate in the compute type (f32 for
// f16/bf16) in partial results, in the orders partial_sums.h documents:
// - innermost axis reduced: each output element reduces runs of contiguous
//   elements (the trailing reduced axes); sums of runs of 32 or more in 16
//   lanes combined at the end, max and min of runs of 16 or more in one
//   running value that LLVM vectorizes;
// - innermost axis kept, reduced axes adjacent ([prefix, reduced,
//   columns]), 16 or more columns: tiles of up to 1024 output columns (a
//   whole row when it fits; 256 for f16/bf16) keep one lane per column,
//   which steps down the reduced rows; each column sums blocks of 64 rows
//   first, then adds the block sums in order.
// Either is at least as accurate as a sequential sum and vectorizes (the
// interpreter sums in f64 and rounds once; docs/ops.md). In the GPU form
// (GpuForm) a leading-axis reduction keeps one running value per output
// element instead, each element a thread. Shorter runs and
// rows, integers (exact up to wrapping, which LLVM vectorizes as written)
// and other layouts keep one running value: in a scalar (innermost input
// dimension reduced, or f16/bf16, which accumulate in f32) or in the output
// itself (innermost dimension kept), whichever keeps the inner loop on
// contiguous memory. Integer sums accumulate in the element type, so they
// wrap at its width.
#include <algorithm>
#include <limits>

#include "absl/status/status.h"
#include "codegen/kernel/index_math.h"
#include "codegen/kernel/lowering.h"
#include "codegen/kernel/partial_sums.h"
#include "ir/strings.h"

namespace nyx::kernel {
namespace {

using B = Builder;

// The reduced axes of `op` (all axes when `axes` is absent), normalized and
// marked per dimension.
absl::StatusOr<std::vector<bool>> reducedAxes(const ir::Op &op, int64_t rank) {
  std::vector<bool> reduced(rank, !op.has("axes"));
  if (!op.has("axes"))
    return reduced;
  auto axes = op.getInts("axes");
  if (!axes.ok())
    return axes.status();
  for (int64_t a : *axes) {
    auto axis = normalizeAxis(op, "axes", a, rank);
    if (!axis.ok())
      return axis.status();
    if (reduced[*axis])
      return absl::InvalidArgumentError(
          strCat("'", op.name(), "' lists axis ", a,
                 " twice in 'axes'; expected distinct axes"));
    reduced[*axis] = true;
  }
  return reduced;
}

// True when `x` is a NaN (x != x); always false for integer types.
ExprRef isNaN(const ExprRef &x) {
  if (!ir::isFloat(x->type))
    return B::boolean(false);
  return B::compare(CmpFn::Ne, x, x);
}

enum class Combine { Sum, Mean, Max, Min };

// The accumulator's start value for `combine` in type `t`.
ExprRef initialValue(Combine combine, DType t) {
  switch (combine) {
  case Combine::Sum:
  case Combine::Mean:
    return B::constant(t, 0);
  case Combine::Max:
  case Combine::Min: {
    const bool max = combine == Combine::Max;
    if (ir::isFloat(t))
      return B::constant(t, max ? -std::numeric_limits<double>::infinity()
                                : std::numeric_limits<double>::infinity());
    // i64's extremes are not all doubles; B::i64 carries them exactly.
    if (t == DType::I64)
      return B::i64(max ? std::numeric_limits<int64_t>::min()
                        : std::numeric_limits<int64_t>::max());
    if (t == DType::I32)
      return B::constant(t, max ? std::numeric_limits<int32_t>::min()
                                : std::numeric_limits<int32_t>::max());
    return B::constant(t, max ? std::numeric_limits<int8_t>::min()
                              : std::numeric_limits<int8_t>::max());
  }
  }
  return nullptr;
}

ExprRef update(Combine combine, const ExprRef &acc, const ExprRef &x) {
  switch (combine) {
  case Combine::Sum:
  case Combine::Mean:
    return B::binary(BinaryFn::Add, acc, x);
  case Combine::Max:
  case Combine::Min: {
    // Written as a select so a NaN (in x, or already in acc) sticks.
    ExprRef better =
        B::compare(combine == Combine::Max ? CmpFn::Gt : CmpFn::Lt, x, acc);
    return B::select(B::binary(BinaryFn::Or, better, isNaN(x)), x, acc);
  }
  }
  return nullptr;
}

// The partial results of `combine` in float type `t`.
Combiner combinerFor(Combine combine, DType t) {
  switch (combine) {
  case Combine::Max:
    return maxCombiner(t);
  case Combine::Min:
    return minCombiner(t);
  default:
    return sumCombiner(t);
  }
}

// The input index built from the kept and reduced dimensions' indices.
std::vector<ExprRef> inputIndex(const std::vector<bool> &reduced,
                                const std::vector<ExprRef> &keptIdx,
                                const std::vector<ExprRef> &reducedIdx) {
  std::vector<ExprRef> idx;
  size_t ki = 0, ri = 0;
  for (bool r : reduced)
    idx.push_back(r ? reducedIdx[ri++] : keptIdx[ki++]);
  return idx;
}

ExprRef finish(Combine combine, ExprRef acc, int64_t count) {
  if (combine != Combine::Mean)
    return acc;
  return B::binary(BinaryFn::Div, acc,
                   B::constant(acc->type, static_cast<double>(count)));
}

// One scalar accumulator per output element: a parallel nest over the kept
// dimensions around a serial nest over the reduced ones. Used when the
// innermost input dimension is reduced (so the inner loop is contiguous) and
// for f16/bf16, whose outputs cannot hold an f32 running value.
StmtRef accumulateInScalar(const ir::TensorType &in,
                           const std::vector<bool> &reduced,
                           const Shape &keptShape, const Shape &reducedShape,
                           int64_t count, Combine combine) {
  Builder b;
  LoopNest outer(b, keptShape, "o");
  LoopNest inner(b, reducedShape, "r");
  const DType dt = in.dtype, accType = computeType(dt);
  Var acc = b.newVar(accType, "acc");
  ExprRef x = B::load(
      0, dt,
      ravel(inputIndex(reduced, outer.indices(), inner.indices()), in.shape));
  // The output's row-major order is the kept dimensions' order, with or
  // without keepdims.
  ExprRef outIdx = ravel(outer.indices(), keptShape);
  return outer.wrap(
      {B::declare(acc, initialValue(combine, accType)),
       inner.wrap({B::assign(acc, update(combine, B::ref(acc), x))}, false),
       B::store(1, outIdx, finish(combine, B::ref(acc), count))},
      true);
}

// When the innermost input dimension is kept (e.g. summing the rows of a
// matrix), walking the input in its own order and accumulating into the
// output keeps every inner loop contiguous. The kept dimensions before the
// first reduced one own disjoint blocks of the output, so their nest is the
// parallel one.
StmtRef accumulateInOutput(const ir::TensorType &in,
                           const std::vector<bool> &reduced,
                           const Shape &keptShape, int64_t count,
                           Combine combine) {
  const DType dt = in.dtype;
  size_t first = 0;
  while (!reduced[first])
    ++first;
  Shape prefix(in.shape.begin(), in.shape.begin() + first);
  Shape rest(in.shape.begin() + first, in.shape.end());
  Shape restKept;
  for (size_t d = first; d < in.shape.size(); ++d)
    if (!reduced[d])
      restKept.push_back(in.shape[d]);

  Builder b;
  LoopNest outer(b, prefix, "o");
  // The output index from the prefix indices and indices of the kept
  // dimensions after it.
  auto outIndex = [&](const std::vector<ExprRef> &restKeptIdx) {
    std::vector<ExprRef> idx = outer.indices();
    idx.insert(idx.end(), restKeptIdx.begin(), restKeptIdx.end());
    return ravel(idx, keptShape);
  };
  LoopNest init(b, restKept, "i");
  LoopNest walk(b, rest, "r");
  std::vector<ExprRef> walkKept;
  for (size_t d = first; d < in.shape.size(); ++d)
    if (!reduced[d])
      walkKept.push_back(walk.indices()[d - first]);
  std::vector<ExprRef> inIdx = outer.indices();
  inIdx.insert(inIdx.end(), walk.indices().begin(), walk.indices().end());

  ExprRef initAt = outIndex(init.indices()), walkAt = outIndex(walkKept);
  ExprRef x = B::load(0, dt, ravel(inIdx, in.shape));
  std::vector<StmtRef> body = {
      init.wrap({B::store(1, initAt, initialValue(combine, dt))}, false),
      walk.wrap(
          {B::store(1, walkAt, update(combine, B::load(1, dt, walkAt), x))},
          false)};
  if (combine == Combine::Mean) {
    LoopNest scale(b, restKept, "m");
    ExprRef at = outIndex(scale.indices());
    body.push_back(scale.wrap(
        {B::store(1, at, finish(combine, B::load(1, dt, at), count))}, false));
  }
  return outer.wrap(std::move(body), true);
}

// A float reduction whose reduced axes end with the innermost one: each
// output element reduces runs of `run` contiguous elements (the trailing
// reduced axes) in partial results (partial_sums.h), one run per position
// of the reduced axes before them. Null when a run is too short for lanes.
StmtRef lanesOverInnermostRuns(const ir::TensorType &in,
                               const std::vector<bool> &reduced,
                               const Shape &keptShape, int64_t count,
                               Combine combine) {
  const int64_t rank = in.rank();
  int64_t first = rank - 1; // the trailing reduced axes are first..rank-1
  while (first > 0 && reduced[first - 1])
    --first;
  const int64_t run =
      ir::numElements(Shape(in.shape.begin() + first, in.shape.end()));
  const bool extreme = combine == Combine::Max || combine == Combine::Min;
  const int64_t groups = runGroups(run);
  if (extreme ? run < kRunLanes : groups == 0)
    return nullptr;
  Shape leadReduced;
  for (int64_t d = 0; d < first; ++d)
    if (reduced[d])
      leadReduced.push_back(in.shape[d]);

  Builder b;
  LoopNest outer(b, keptShape, "o");
  LoopNest leadWalk(b, leadReduced, "r");
  const DType dt = in.dtype, accType = computeType(dt);
  // The offset of a run: the input index with 0 for the run's axes.
  std::vector<bool> leadIsReduced(reduced.begin(), reduced.begin() + first);
  std::vector<ExprRef> runIdx =
      inputIndex(leadIsReduced, outer.indices(), leadWalk.indices());
  runIdx.resize(rank, B::i64(0));
  ExprRef base = ravel(runIdx, in.shape);
  auto at = [&](const ExprRef &i) { return B::load(0, dt, addIndex(base, i)); };
  ExprRef outIdx = ravel(outer.indices(), keptShape);
  if (extreme) {
    Var acc = b.newVar(accType, "acc");
    return outer.wrap(
        {B::declare(acc, initialValue(combine, accType)),
         leadWalk.wrap({extremeOfRun(b, acc, combine == Combine::Max, run, at)},
                       false),
         B::store(1, outIdx, B::ref(acc))},
        true);
  }
  RunSum acc(b, accType, "acc");
  std::vector<StmtRef> body = acc.declare();
  body.push_back(leadWalk.wrap(acc.add(run, groups, at), false));
  for (StmtRef &s : acc.combine())
    body.push_back(std::move(s));
  body.push_back(B::store(1, outIdx, finish(combine, acc.total(), count)));
  return outer.wrap(std::move(body), true);
}

// The widest tile of a reduction over leading axes: tiles as wide as a row
// read the input in memory order, so wider tiles are faster (lanes beyond
// the registers spill to the stack); this bounds the kernel's size, and
// the time LLVM's SLP vectorizer takes over it, more tightly for f16/bf16,
// whose every load converts.
int64_t maxTileColumns(DType dt) {
  return dt == DType::F16 || dt == DType::BF16 ? 256 : 1024;
}

// A float reduction whose innermost axes are kept: the input is
// [prefix..., reduced..., columns...] with the reduced axes adjacent. Each
// output row of `columns` elements is cut into tiles (columnTiles); a tile
// keeps one partial result per column (partial_sums.h: its lanes step down
// the reduced rows, reading the tile's columns contiguously) and stores
// each column once. Null for other layouts and for rows too short for
// lanes.
StmtRef lanesOverColumnTiles(const ir::TensorType &in,
                             const std::vector<bool> &reduced, int64_t count,
                             Combine combine) {
  const int64_t rank = in.rank();
  int64_t colStart = rank; // the trailing kept axes are colStart..rank-1
  while (colStart > 0 && !reduced[colStart - 1])
    --colStart;
  int64_t redStart = colStart; // the reduced axes before them
  while (redStart > 0 && reduced[redStart - 1])
    --redStart;
  for (int64_t d = 0; d < redStart; ++d)
    if (reduced[d])
      return nullptr;
  const int64_t columns =
      ir::numElements(Shape(in.shape.begin() + colStart, in.shape.end()));
  const int64_t rows = ir::numElements(
      Shape(in.shape.begin() + redStart, in.shape.begin() + colStart));
  if (redStart == colStart || columns < kMinTileColumns)
    return nullptr;
  const Shape prefix(in.shape.begin(), in.shape.begin() + redStart);

  Builder b;
  const DType dt = in.dtype;
  auto tile = [&](const ExprRef &p, const ExprRef &first, int64_t lanes) {
    ExprRef inBase = addIndex(mulIndex(p, rows * columns), first);
    ExprRef outBase = addIndex(mulIndex(p, columns), first);
    Lanes acc(b, combinerFor(combine, computeType(dt)), lanes, "acc");
    std::vector<StmtRef> out = acc.declare();
    for (StmtRef &s : acc.addSteps(rows, [&](const ExprRef &row, int64_t l) {
           return B::load(
               0, dt,
               addIndex(addIndex(inBase, mulIndex(row, columns)), B::i64(l)));
         }))
      out.push_back(std::move(s));
    for (int64_t l = 0; l < lanes; ++l)
      out.push_back(B::store(1, addIndex(outBase, B::i64(l)),
                             finish(combine, acc.lane(l), count)));
    return B::block(std::move(out));
  };
  return columnTiles(b, prefix, columns, maxTileColumns(dt), tile);
}

absl::StatusOr<Kernel> lowerReduce(const ir::Op &op, std::string name,
                                   Combine combine) {
  const ir::TensorType &in = op.operand(0)->type;
  const DType dt = in.dtype;
  if (combine == Combine::Mean ? !ir::isFloat(dt)
                               : !ir::isFloat(dt) && !ir::isInteger(dt))
    return absl::InvalidArgumentError(strCat(
        "'", op.name(), "' operand is ", in.str(), "; expected a ",
        combine == Combine::Mean ? "float" : "numeric", " element type"));
  auto reduced = reducedAxes(op, in.rank());
  if (!reduced.ok())
    return reduced.status();

  Shape keptShape, reducedShape;
  for (int64_t d = 0; d < in.rank(); ++d)
    (*reduced)[d] ? reducedShape.push_back(in.shape[d])
                  : keptShape.push_back(in.shape[d]);

  Kernel k = kernelSkeleton(op, std::move(name));
  const DType accType = computeType(dt);
  const int64_t count = ir::numElements(reducedShape);
  const bool innermostKept = in.rank() > 0 && !(*reduced)[in.rank() - 1];
  // Floats accumulate in partial results where the layout allows (integer
  // sums are exact modulo wrapping, so LLVM vectorizes them as written).
  if (ir::isFloat(dt) && !reducedShape.empty()) {
    k.body = !innermostKept ? lanesOverInnermostRuns(in, *reduced, keptShape,
                                                     count, combine)
             : GpuForm::active()
                 ? nullptr
                 : lanesOverColumnTiles(in, *reduced, count, combine);
    if (k.body)
      return k;
  }
  if (innermostKept && accType == dt && !reducedShape.empty() &&
      !GpuForm::active())
    k.body = accumulateInOutput(in, *reduced, keptShape, count, combine);
  else
    k.body = accumulateInScalar(in, *reduced, keptShape, reducedShape, count,
                                combine);
  return k;
}

absl::StatusOr<Kernel> lowerArgmax(const ir::Op &op, std::string name) {
  const ir::TensorType &in = op.operand(0)->type;
  const DType dt = in.dtype;
  if (!ir::isFloat(dt) && !ir::isInteger(dt))
    return absl::InvalidArgumentError(strCat(
        "'argmax' operand is ", in.str(), "; expected a numeric element type"));
  auto axis = axisAttribute(op, "axis", 0, in.rank());
  if (!axis.ok())
    return axis.status();

  Kernel k = kernelSkeleton(op, std::move(name));
  Builder b;
  AlongAxis along(b, in.shape, *axis);
  Var r = b.newVar(DType::I64, "r");

  const DType accType = computeType(dt);
  Var best = b.newVar(accType, "best");
  Var bestIndex = b.newVar(DType::I64, "best_index");
  Var x = b.newVar(accType, "x");
  // The first maximum wins (strict >); the first NaN wins and then stays.
  ExprRef takes = B::binary(
      BinaryFn::And, B::unary(UnaryFn::Not, isNaN(B::ref(best))),
      B::binary(BinaryFn::Or, B::compare(CmpFn::Gt, B::ref(x), B::ref(best)),
                isNaN(B::ref(x))));
  StmtRef scan = B::loop(r, B::i64(along.extent()),
                         {B::declare(x, B::load(0, dt, along.at(B::ref(r)))),
                          B::ifThen(takes, {B::assign(best, B::ref(x)),
                                            B::assign(bestIndex, B::ref(r))})});
  // Start from the type's lowest value so any element (or NaN) replaces it;
  // index 0 covers an axis whose every element is that lowest value.
  k.body = along.others().wrap(
      {B::declare(best, initialValue(Combine::Max, accType)),
       B::declare(bestIndex, B::i64(0)), scan,
       B::store(1, ravel(along.others().indices(), along.othersShape()),
                B::ref(bestIndex))},
      true);
  return k;
}

} // namespace

void registerReductionLowerings(LoweringRegistry &r) {
  r.add("reduce_sum", [](const ir::Op &op, std::string name) {
    return lowerReduce(op, std::move(name), Combine::Sum);
  });
  r.add("reduce_mean", [](const ir::Op &op, std::string name) {
    return lowerReduce(op, std::move(name), Combine::Mean);
  });
  r.add("reduce_max", [](const ir::Op &op, std::string name) {
    return lowerReduce(op, std::move(name), Combine::Max);
  });
  r.add("reduce_min", [](const ir::Op &op, std::string name) {
    return lowerReduce(op, std::move(name), Combine::Min);
  });
  r.add("argmax", lowerArgmax);
}

} // namespace nyx::kernel
