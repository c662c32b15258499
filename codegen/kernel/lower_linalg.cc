// Linear algebra: matmul with optional transposes and broadcast batch axes.
// f32 products are GEMM kernels (gemm.h), i8 products with i32 results
// four-byte dot-product GEMM kernels (gemm_i8.h); the loop nests below are
// for the other dtypes, and for every product in the GPU form.
//
// Loop order keeps the innermost loop on contiguous memory:
// - b transposed: c[i, j] = dot(a row i, b row j), k innermost, both rows
//   contiguous when a is not transposed;
// - otherwise, when c's dtype is its own compute type (f32, f64, ints): the
//   i-k-j order, accumulating into row i of c, so the inner loop streams a
//   row of b and a row of c;
// - otherwise (f16/bf16 results, which must accumulate in f32, and every
//   product in the GPU form, GpuForm): i-j-k with a scalar
//   accumulator, each output element an independent iteration.
// Every order adds the products in increasing k, like the reference.
#include "absl/status/status.h"
#include "codegen/kernel/gemm.h"
#include "codegen/kernel/gemm_i8.h"
#include "codegen/kernel/index_math.h"
#include "codegen/kernel/lowering.h"
#include "ir/strings.h"

namespace nyx::kernel {
namespace {

using B = Builder;

absl::StatusOr<Kernel> lowerMatmul(const ir::Op &op, std::string name) {
  const ir::TensorType &a = op.operand(0)->type;
  const ir::TensorType &bt = op.operand(1)->type;
  const ir::TensorType &c = op.result(0)->type;
  const DType dt = a.dtype;
  if (!ir::isFloat(dt) && !ir::isInteger(dt))
    return absl::InvalidArgumentError(
        strCat("'matmul' operand a is ", a.str(),
               "; expected a float, i8, i32 or i64 element type"));
  if (bt.dtype != dt)
    return absl::InvalidArgumentError(
        strCat("'matmul' operands are ", a.str(), " and ", bt.str(),
               "; expected the same element type"));
  if (a.rank() < 2 || bt.rank() < 2)
    return absl::InvalidArgumentError(strCat("'matmul' operands are ", a.str(),
                                             " and ", bt.str(),
                                             "; expected rank >= 2"));
  auto ta = op.getBool("transpose_a", false);
  if (!ta.ok())
    return ta.status();
  auto tb = op.getBool("transpose_b", false);
  if (!tb.ok())
    return tb.status();
  const int64_t ra = a.rank(), rb = bt.rank();
  const int64_t m = *ta ? a.shape[ra - 1] : a.shape[ra - 2];
  const int64_t k = *ta ? a.shape[ra - 2] : a.shape[ra - 1];
  const int64_t kb = *tb ? bt.shape[rb - 1] : bt.shape[rb - 2];
  const int64_t n = *tb ? bt.shape[rb - 2] : bt.shape[rb - 1];
  if (k != kb)
    return absl::InvalidArgumentError(
        strCat("'matmul' operands have inner dimensions ", k, " and ", kb,
               "; expected them equal"));
  if (c.rank() < 2 || c.shape[c.rank() - 2] != m || c.shape[c.rank() - 1] != n)
    return absl::InvalidArgumentError(strCat(
        "'matmul' result is ", c.str(), "; expected [..., ", m, ", ", n, "]"));
  if (auto form = gemmFormOf(op))
    return lowerGemmOp(op, *form, std::move(name));
  if (isGemmI8(op))
    return lowerGemmI8(op, std::move(name));
  Shape batch(c.shape.begin(), c.shape.end() - 2);
  Shape batchA(a.shape.begin(), a.shape.end() - 2);
  Shape batchB(bt.shape.begin(), bt.shape.end() - 2);

  Kernel kern = kernelSkeleton(op, std::move(name));
  Builder b;
  LoopNest batches(b, batch, "batch");
  // Element offsets of each operand's matrix for this batch position.
  ExprRef aBase = mulIndex(broadcastRavel(batches.indices(), batchA), m * k);
  ExprRef bBase = mulIndex(broadcastRavel(batches.indices(), batchB), k * n);
  ExprRef cBase = mulIndex(ravel(batches.indices(), batch), m * n);

  Var i = b.newVar(DType::I64, "i"), j = b.newVar(DType::I64, "j"),
      p = b.newVar(DType::I64, "k");
  ExprRef I = B::ref(i), J = B::ref(j), P = B::ref(p);
  auto aAt = [&](ExprRef row, ExprRef col) { // a[row, col] of the M x K view
    return *ta ? addIndex(aBase, addIndex(mulIndex(col, m), row))
               : addIndex(aBase, addIndex(mulIndex(row, k), col));
  };
  auto bAt = [&](ExprRef row, ExprRef col) { // b[row, col] of the K x N view
    return *tb ? addIndex(bBase, addIndex(mulIndex(col, k), row))
               : addIndex(bBase, addIndex(mulIndex(row, n), col));
  };
  ExprRef cAt = addIndex(cBase, addIndex(mulIndex(I, n), J));
  // i8 operands are widened: their products and sums are i32 (c's dtype).
  const DType rt = c.dtype;
  auto operandAt = [&](int buffer, ExprRef at) {
    ExprRef v = B::load(buffer, dt, std::move(at));
    return dt == rt ? v : B::cast(rt, v);
  };
  ExprRef product = B::binary(BinaryFn::Mul, operandAt(0, aAt(I, P)),
                              operandAt(1, bAt(P, J)));
  const DType ct = computeType(rt);

  StmtRef rowBody;
  if (!*tb && ct == rt && !GpuForm::active()) {
    ExprRef sum = B::binary(BinaryFn::Add, B::load(2, rt, cAt), product);
    Var j0 = b.newVar(DType::I64, "j");
    ExprRef cAt0 = addIndex(cBase, addIndex(mulIndex(I, n), B::ref(j0)));
    rowBody = B::block(
        {B::loop(j0, B::i64(n), {B::store(2, cAt0, B::constant(ct, 0))}),
         B::loop(p, B::i64(k),
                 {B::loop(j, B::i64(n), {B::store(2, cAt, sum)})})});
  } else {
    Var acc = b.newVar(ct, "acc");
    rowBody = B::loop(
        j, B::i64(n),
        {B::declare(acc, B::constant(ct, 0)),
         B::loop(
             p, B::i64(k),
             {B::assign(acc, B::binary(BinaryFn::Add, B::ref(acc), product))}),
         B::store(2, cAt, B::ref(acc))},
        LoopKind::Parallel);
  }
  // Batches and rows are independent (the CPU splits the outermost).
  StmtRef rows = B::loop(i, B::i64(m), {rowBody}, LoopKind::Parallel);
  kern.body = batches.wrap({rows}, true);
  return kern;
}

} // namespace

void registerLinalgLowerings(LoweringRegistry &r) {
  r.add("matmul", lowerMatmul);
}

} // namespace nyx::kernel
