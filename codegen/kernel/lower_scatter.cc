// gather_nd, scatter_elements and scatter_nd. gather_nd is a parallel loop
// over the index tuples, each copying one slice of data (or zeros). The
// scatters copy data into the result in parallel, then apply the updates
// in one serial loop in row-major order of `updates`, which is what makes
// the last of several updates to one element win (docs/ops.md); speed is
// not the point. Data moves as stored (loadStored); reductions compute in
// the compute type and round once per update, as the interpreter does.
#include "absl/status/status.h"
#include "codegen/kernel/index_math.h"
#include "codegen/kernel/lowering.h"
#include "ir/strings.h"

namespace nyx::kernel {
namespace {

using B = Builder;

const ir::TensorType &inType(const ir::Op &op, int i) {
  return op.operand(i)->type;
}
const ir::TensorType &outType(const ir::Op &op) { return op.result(0)->type; }

absl::Status checkIndices(const ir::Op &op, const ir::TensorType &indices) {
  if (indices.dtype != DType::I32 && indices.dtype != DType::I64)
    return absl::InvalidArgumentError(strCat("'", op.name(), "' indices are ",
                                             indices.str(),
                                             "; expected i32 or i64"));
  return absl::OkStatus();
}

// One index read from buffer `buffer` at `at`, counted from the end when
// negative, held in a local (declared by the returned statement) so the
// range check and the address share it.
struct WrappedIndex {
  StmtRef declare;
  ExprRef value;
  ExprRef inRange;
};
WrappedIndex wrappedIndex(Builder &b, int buffer, DType dtype, ExprRef at,
                          int64_t dim) {
  Var v = b.newVar(DType::I64, "index");
  ExprRef raw = B::cast(DType::I64, B::load(buffer, dtype, std::move(at)));
  ExprRef wrapped =
      B::select(B::compare(CmpFn::Lt, raw, B::i64(0)), raw + B::i64(dim), raw);
  ExprRef I = B::ref(v);
  ExprRef inRange =
      B::binary(BinaryFn::And, B::compare(CmpFn::Ge, I, B::i64(0)),
                B::compare(CmpFn::Lt, I, B::i64(dim)));
  return {B::declare(v, wrapped), I, inRange};
}

// The index tuple of `k` entries at tuple `t` of the indices (buffer 1),
// addressing axes first..first+k-1 of `shape`: the declarations, the
// row-major offset of the tuple within those axes, and whether every entry
// lies in range.
struct Tuple {
  std::vector<StmtRef> declares;
  ExprRef row = B::i64(0);
  ExprRef inRange = B::boolean(true);
};
Tuple indexTuple(Builder &b, DType indexType, ExprRef t, int64_t k,
                 const ir::Shape &shape, int64_t first) {
  Tuple tuple;
  for (int64_t j = 0; j < k; ++j) {
    const int64_t dim = shape[first + j];
    WrappedIndex w =
        wrappedIndex(b, 1, indexType, addIndex(mulIndex(t, k), B::i64(j)), dim);
    tuple.declares.push_back(w.declare);
    tuple.row = addIndex(mulIndex(tuple.row, dim), w.value);
    tuple.inRange =
        j == 0 ? w.inRange : B::binary(BinaryFn::And, tuple.inRange, w.inRange);
  }
  return tuple;
}

// ONNX GatherND: tuple t of [batches, perBatch] copies the slice of `inner`
// elements it names within its batch of data, or zeros when an index is out
// of range.
absl::StatusOr<Kernel> lowerGatherNd(const ir::Op &op, std::string name) {
  const ir::TensorType &data = inType(op, 0), &indices = inType(op, 1);
  const ir::TensorType &out = outType(op);
  if (auto s = checkIndices(op, indices); !s.ok())
    return s;
  auto batchDims = op.getInt("batch_dims", 0);
  if (!batchDims.ok())
    return batchDims.status();
  const int64_t b = *batchDims;
  const int64_t k = indices.rank() > 0 ? indices.shape.back() : 0;
  if (indices.rank() <= b || b < 0 || k < 1 || b + k > data.rank() ||
      out.dtype != data.dtype)
    return absl::InvalidArgumentError(
        strCat("'gather_nd' of ", data.str(), " at ", indices.str(),
               " with batch_dims ", b, " gives ", out.str(),
               "; expected index tuples of 1 to rank - batch_dims entries"));
  const ir::Shape &ds = data.shape, &is = indices.shape;
  const int64_t batches =
      ir::numElements(ir::Shape(ds.begin(), ds.begin() + b));
  const int64_t perBatch =
      ir::numElements(ir::Shape(is.begin() + b, is.end() - 1));
  const int64_t indexed =
      ir::numElements(ir::Shape(ds.begin() + b, ds.begin() + b + k));
  const int64_t inner =
      ir::numElements(ir::Shape(ds.begin() + b + k, ds.end()));
  if (out.numElements() != batches * perBatch * inner)
    return absl::InvalidArgumentError(
        strCat("'gather_nd' result is ", out.str(), "; expected ",
               batches * perBatch * inner, " elements"));

  Kernel kernel = kernelSkeleton(op, std::move(name));
  Builder bld;
  LoopNest tuples(bld, {batches, perBatch}, "t");
  ExprRef batch = tuples.indices()[0];
  ExprRef t = addIndex(mulIndex(batch, perBatch), tuples.indices()[1]);
  Tuple tuple = indexTuple(bld, indices.dtype, t, k, ds, b);
  ExprRef srcRow =
      mulIndex(addIndex(mulIndex(batch, indexed), tuple.row), inner);
  ExprRef dstRow = mulIndex(t, inner);
  Var e = bld.newVar(DType::I64, "e"), e0 = bld.newVar(DType::I64, "e");
  // The range check guards the loads, so an out-of-range index never
  // touches memory outside `data`.
  StmtRef copy = B::loop(
      e, B::i64(inner),
      {B::store(2, addIndex(dstRow, B::ref(e)),
                B::loadStored(0, data.dtype, addIndex(srcRow, B::ref(e))))});
  StmtRef zero = B::loop(e0, B::i64(inner),
                         {B::store(2, addIndex(dstRow, B::ref(e0)),
                                   storedConstant(data.dtype, 0))});
  std::vector<StmtRef> body = std::move(tuple.declares);
  body.push_back(B::ifThen(tuple.inRange, {copy}, {zero}));
  kernel.body = tuples.wrap(std::move(body), true);
  return kernel;
}

// The value a scatter stores at `dst` of the result (buffer 3) for the
// update at `at` (buffer 2): the update itself, or the update combined with
// the element already there.
absl::StatusOr<ExprRef> scatterValue(const ir::Op &op, DType dtype, ExprRef dst,
                                     ExprRef at) {
  auto reduction = op.getString("reduction", "none");
  if (!reduction.ok())
    return reduction.status();
  if (*reduction == "none")
    return B::loadStored(2, dtype, std::move(at));
  BinaryFn fn;
  if (*reduction == "add")
    fn = BinaryFn::Add;
  else if (*reduction == "mul")
    fn = BinaryFn::Mul;
  else if (*reduction == "max")
    fn = BinaryFn::Max;
  else if (*reduction == "min")
    fn = BinaryFn::Min;
  else
    return absl::InvalidArgumentError(
        strCat("'", op.name(), "' reduction is \"", *reduction,
               "\"; expected \"none\", \"add\", \"mul\", \"max\" or \"min\""));
  if (dtype == DType::Bool)
    return absl::InvalidArgumentError(
        strCat("'", op.name(), "' reduction \"", *reduction,
               "\" of bool data; expected a numeric dtype"));
  return B::binary(fn, B::load(3, dtype, std::move(dst)),
                   B::load(2, dtype, std::move(at)));
}

// The parallel copy of data (buffer 0) into the result (buffer 3).
StmtRef copyData(Builder &b, const ir::TensorType &data) {
  LoopNest all(b, {data.numElements()}, "i");
  ExprRef i = all.indices()[0];
  return all.wrap({B::store(3, i, B::loadStored(0, data.dtype, i))}, true);
}

absl::Status checkScatterTypes(const ir::Op &op) {
  const ir::TensorType &data = inType(op, 0), &updates = inType(op, 2);
  if (auto s = checkIndices(op, inType(op, 1)); !s.ok())
    return s;
  if (updates.dtype != data.dtype || outType(op) != data)
    return absl::InvalidArgumentError(
        strCat("'", op.name(), "' of ", data.str(), " with updates ",
               updates.str(), " gives ", outType(op).str(),
               "; expected updates of data's dtype and a result of data's "
               "type"));
  return absl::OkStatus();
}

// ONNX ScatterElements: update p goes to p with its coordinate along `axis`
// replaced by indices[p]; out-of-range indices are skipped.
absl::StatusOr<Kernel> lowerScatterElements(const ir::Op &op,
                                            std::string name) {
  const ir::TensorType &data = inType(op, 0), &indices = inType(op, 1);
  if (auto s = checkScatterTypes(op); !s.ok())
    return s;
  auto axis = axisAttribute(op, "axis", 0, data.rank());
  if (!axis.ok())
    return axis.status();
  bool valid =
      indices.rank() == data.rank() && inType(op, 2).shape == indices.shape;
  for (int64_t d = 0; valid && d < data.rank(); ++d)
    valid = d == *axis || indices.shape[d] <= data.shape[d];
  if (!valid)
    return absl::InvalidArgumentError(
        strCat("'scatter_elements' of ", data.str(), " at ", indices.str(),
               " with updates ", inType(op, 2).str(),
               "; expected indices of data's rank, no larger than data off "
               "the axis, and updates of the indices' shape"));

  Kernel kernel = kernelSkeleton(op, std::move(name));
  Builder b;
  StmtRef copy = copyData(b, data);
  LoopNest nest(b, indices.shape, "u");
  ExprRef at = ravel(nest.indices(), indices.shape);
  WrappedIndex w = wrappedIndex(b, 1, indices.dtype, at, data.shape[*axis]);
  std::vector<ExprRef> dstCoords = nest.indices();
  dstCoords[*axis] = w.value;
  ExprRef dst = ravel(dstCoords, data.shape);
  auto value = scatterValue(op, data.dtype, dst, at);
  if (!value.ok())
    return value.status();
  // Serial: duplicate indices make later updates depend on earlier ones.
  StmtRef scatter = nest.wrap(
      {w.declare, B::ifThen(w.inRange, {B::store(3, dst, *value)})}, false);
  kernel.body = B::block({copy, scatter});
  return kernel;
}

// ONNX ScatterND: update tuple t writes the slice of `inner` elements its
// index tuple names; a tuple with an out-of-range index is skipped.
absl::StatusOr<Kernel> lowerScatterNd(const ir::Op &op, std::string name) {
  const ir::TensorType &data = inType(op, 0), &indices = inType(op, 1);
  const ir::TensorType &updates = inType(op, 2);
  if (auto s = checkScatterTypes(op); !s.ok())
    return s;
  const int64_t k = indices.rank() > 0 ? indices.shape.back() : 0;
  if (k < 1 || k > data.rank())
    return absl::InvalidArgumentError(
        strCat("'scatter_nd' of ", data.str(), " at ", indices.str(),
               "; expected index tuples of 1 to ", data.rank(), " entries"));
  const ir::Shape &ds = data.shape;
  const int64_t tuples = indices.numElements() / k;
  const int64_t inner = ir::numElements(ir::Shape(ds.begin() + k, ds.end()));
  if (updates.numElements() != tuples * inner)
    return absl::InvalidArgumentError(strCat("'scatter_nd' updates are ",
                                             updates.str(), "; expected ",
                                             tuples * inner, " elements"));

  Kernel kernel = kernelSkeleton(op, std::move(name));
  Builder b;
  StmtRef copy = copyData(b, data);
  LoopNest nest(b, {tuples}, "u");
  ExprRef t = nest.indices()[0];
  Tuple tuple = indexTuple(b, indices.dtype, t, k, ds, 0);
  Var e = b.newVar(DType::I64, "e");
  ExprRef dst = addIndex(mulIndex(tuple.row, inner), B::ref(e));
  ExprRef at = addIndex(mulIndex(t, inner), B::ref(e));
  auto value = scatterValue(op, data.dtype, dst, at);
  if (!value.ok())
    return value.status();
  std::vector<StmtRef> body = std::move(tuple.declares);
  body.push_back(B::ifThen(
      tuple.inRange, {B::loop(e, B::i64(inner), {B::store(3, dst, *value)})}));
  // Serial: duplicate tuples make later updates depend on earlier ones.
  kernel.body = B::block({copy, nest.wrap(std::move(body), false)});
  return kernel;
}

} // namespace

void registerScatterLowerings(LoweringRegistry &r) {
  r.add("gather_nd", lowerGatherNd);
  r.add("scatter_elements", lowerScatterElements);
  r.add("scatter_nd", lowerScatterNd);
}

} // namespace nyx::kernel
