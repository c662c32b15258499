#include "codegen/kernel/gemm_i8.h"

#include <algorithm>
#include <string>

#include "codegen/kernel/gemm.h"
#include "codegen/kernel/index_math.h"
#include "codegen/kernel/lowering.h"
#include "codegen/kernel/simplify.h"

namespace nyx::kernel {
namespace {

using B = Builder;

// Columns of C per register tile: its rows, each a broadcast operand. With
// 32 rows of C in two 16-lane vectors that is 24 accumulators, the most
// that leave AVX-512's 32 registers room for the operands.
constexpr int64_t kTileColumns = 12;
// The most rows and columns of C one task computes: its packed A (rows x K
// bytes) and B (columns x K) stay in L2 for K up to a few thousand.
constexpr int64_t kMaxTaskRows = 256;
constexpr int64_t kMaxTaskColumns = 1024;
// Split the columns further until there are this many tasks, so two or
// four threads have work even for a product of a few rows.
constexpr int64_t kMinTasks = 4;

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t roundUp(int64_t a, int64_t b) { return ceilDiv(a, b) * b; }

// The blocking of one product: tc rows of C per tile, mc per task (a
// multiple of tc), nc columns per task (a multiple of kTileColumns).
struct Blocking {
  int64_t tc = 0, mc = 0, nc = 0;
};

Blocking blockingOf(const GemmShape &g) {
  Blocking p;
  p.tc = g.m > 16 ? 32 : 16;
  p.mc = std::min(roundUp(g.m, p.tc), kMaxTaskRows);
  const int64_t tilesM = ceilDiv(g.m, p.mc);
  int64_t blocksN = ceilDiv(g.n, kMaxTaskColumns);
  if (g.batch * tilesM * blocksN < kMinTasks)
    blocksN = std::min(ceilDiv(g.n, kTileColumns),
                       ceilDiv(kMinTasks, g.batch * tilesM));
  p.nc = roundUp(ceilDiv(g.n, blocksN), kTileColumns);
  return p;
}

class GemmI8Builder {
public:
  GemmI8Builder(const GemmForm &form, const GemmIo &io, Kernel &kernel,
                Builder &b)
      : f_(form), io_(io), kernel_(kernel), b_(b), vars_(b),
        blocking_(blockingOf(form.shape)) {}

  absl::StatusOr<StmtRef> run() {
    const GemmShape &g = f_.shape;
    if (g.batch == 0 || g.m == 0 || g.n == 0)
      return B::block({});
    const int64_t tc = blocking_.tc, mc = blocking_.mc, nc = blocking_.nc;
    steps_ = ceilDiv(g.k, 4);
    depth_ = steps_ * 4;
    packedA_ = scratch("packed_a", mc * depth_, DType::I8);
    packedB_ = scratch("packed_b", nc * depth_, DType::I8);
    sums_ = scratch("column_sums", nc, DType::I32);
    tile_ = scratch("tile", kTileColumns * tc, DType::I32);

    const int64_t tilesM = ceilDiv(g.m, mc), tilesN = ceilDiv(g.n, nc);
    Var task = var("task", g.batch * tilesM * tilesN);
    ExprRef t = B::ref(task);
    ExprRef batch = ix(B::binary(BinaryFn::Div, t, B::i64(tilesM * tilesN)));
    ExprRef i0 = ix(
        mulIndex(B::binary(BinaryFn::Div,
                           B::binary(BinaryFn::Rem, t, B::i64(tilesM * tilesN)),
                           B::i64(tilesN)),
                 mc));
    ExprRef j0 = ix(mulIndex(B::binary(BinaryFn::Rem, t, B::i64(tilesN)), nc));
    ExprRef rows = ix(B::binary(BinaryFn::Min, B::i64(mc), B::i64(g.m) - i0));
    ExprRef cols = ix(B::binary(BinaryFn::Min, B::i64(nc), B::i64(g.n) - j0));

    auto packedA = packA(batch, i0, rows);
    if (!packedA.ok())
      return packedA.status();
    auto packedB = packB(batch, j0, cols);
    if (!packedB.ok())
      return packedB.status();
    std::vector<StmtRef> body = {*packedA, *packedB};
    Var colPanel = var("jr", nc / kTileColumns);
    Var rowPanel = var("ir", mc / tc);
    MatmulTileArgs args;
    args.i8Dot4 = true;
    args.aBuffer = packedB_;
    args.aIndex = ix(mulIndex(B::ref(colPanel), kTileColumns * depth_));
    args.aRow = TileStride::fixed(depth_);
    args.aStep = TileStride::fixed(4);
    args.bBuffer = packedA_;
    args.bIndex = ix(mulIndex(B::ref(rowPanel), steps_ * tc * 4));
    args.bRow = TileStride::fixed(tc * 4);
    args.rows = kTileColumns;
    args.cols = tc;
    StmtRef product =
        B::matmulTile(tile_, B::i64(0), B::i64(steps_), std::move(args));
    auto stores =
        epilogue(batch, i0, j0, rows, cols, B::ref(rowPanel), B::ref(colPanel));
    if (!stores.ok())
      return stores.status();
    StmtRef panel =
        B::loop(rowPanel, ix(ceilDivIndex(rows, tc)), {product, *stores});
    body.push_back(
        B::loop(colPanel, ix(ceilDivIndex(cols, kTileColumns)), {panel}));
    return B::loop(task, B::i64(g.batch * tilesM * tilesN), std::move(body),
                   LoopKind::Parallel);
  }

private:
  Var var(std::string name, int64_t extent) {
    return vars_.var(std::move(name), extent);
  }

  ExprRef ix(const ExprRef &e) { return vars_.simplified(e); }

  static ExprRef ceilDivIndex(const ExprRef &v, int64_t d) {
    return B::binary(BinaryFn::Div, v + B::i64(d - 1), B::i64(d));
  }

  int scratch(std::string name, int64_t elements, DType dtype) {
    return kernel_.addScratch(std::move(name), elements, dtype);
  }

  absl::StatusOr<ExprRef> load(int operand, const OperandElement &e) {
    std::vector<ExprRef> coords;
    for (const ExprRef &c : e.coords)
      coords.push_back(ix(c));
    auto v = io_.load(operand, coords);
    if (!v.ok())
      return v.status();
    return ix(*v);
  }

  // The task's rows of A, [i0, i0 + rows), as [mc/tc][steps][tc][4] bytes
  // with the sign bit flipped (an i8 add of -128 wraps to a ^ 0x80, the
  // unsigned a + 128); bytes past K are left as they are.
  absl::StatusOr<StmtRef> packA(ExprRef batch, ExprRef i0, ExprRef rows) {
    const int64_t tc = blocking_.tc;
    // Panel by panel and step by step, so the stores are contiguous (in
    // the other order the vectorizer scatters single bytes).
    Var panel = var("pa", blocking_.mc / tc), s = var("s", steps_),
        r = var("r", tc), q = var("q", 4);
    ExprRef P = B::ref(panel), S = B::ref(s), R = B::ref(r), Q = B::ref(q);
    ExprRef p = ix(mulIndex(S, 4) + Q);
    ExprRef at = ix(mulIndex(mulIndex(mulIndex(P, steps_) + S, tc) + R, 4) + Q);
    ExprRef row = ix(i0 + mulIndex(P, tc) + R);
    auto a = load(f_.aOperand, f_.a(batch, row, p));
    if (!a.ok())
      return a.status();
    ExprRef value = B::binary(BinaryFn::Add, *a, B::constant(DType::I8, -128));
    StmtRef copy = B::store(packedA_, at, value);
    if (depth_ != f_.shape.k)
      copy = B::ifThen(B::compare(CmpFn::Lt, p, B::i64(f_.shape.k)), {copy});
    ExprRef panelRows =
        ix(B::binary(BinaryFn::Min, B::i64(tc), rows - mulIndex(P, tc)));
    return B::loop(
        panel, ix(ceilDivIndex(rows, tc)),
        {B::loop(s, B::i64(steps_),
                 {B::loop(r, panelRows, {B::loop(q, B::i64(4), {copy})})})});
  }

  // The task's columns of B, [j0, j0 + cols), each as `depth` bytes, and
  // 128 times each column's sum.
  absl::StatusOr<StmtRef> packB(ExprRef batch, ExprRef j0, ExprRef cols) {
    Var c = var("c", blocking_.nc), p = var("p", f_.shape.k);
    Var sum = b_.newVar(DType::I32, "sum");
    ExprRef C = B::ref(c);
    auto loaded = load(f_.bOperand, f_.b(batch, B::ref(p), ix(j0 + C)));
    if (!loaded.ok())
      return loaded.status();
    // Read once: a fused prologue computes it once for the copy and sum.
    Var v = b_.newVar(DType::I8, "b");
    ExprRef value = B::ref(v);
    auto at = [&](ExprRef k) { return mulIndex(C, depth_) + k; };
    std::vector<StmtRef> column = {
        B::declare(sum, B::constant(DType::I32, 0)),
        B::loop(p, B::i64(f_.shape.k),
                {B::declare(v, *loaded),
                 B::store(packedB_, ix(at(B::ref(p))), value),
                 B::assign(sum, B::binary(BinaryFn::Add, B::ref(sum),
                                          B::cast(DType::I32, value)))})};
    if (depth_ != f_.shape.k) {
      // Steps past K multiply by zero, whatever A holds there.
      Var q = var("kpad", depth_ - f_.shape.k);
      column.push_back(
          B::loop(q, B::i64(depth_ - f_.shape.k),
                  {B::store(packedB_, ix(at(B::ref(q) + B::i64(f_.shape.k))),
                            B::constant(DType::I8, 0))}));
    }
    column.push_back(B::store(
        sums_, C,
        B::binary(BinaryFn::Mul, B::ref(sum), B::constant(DType::I32, 128))));
    return B::loop(c, cols, std::move(column));
  }

  // C's elements of the tile: its row c of C^T less the column's sums.
  absl::StatusOr<StmtRef> epilogue(ExprRef batch, ExprRef i0, ExprRef j0,
                                   ExprRef rows, ExprRef cols, ExprRef rowPanel,
                                   ExprRef colPanel) {
    const int64_t tc = blocking_.tc;
    Var r = var("tr", tc), c = var("tc", kTileColumns);
    ExprRef R = B::ref(r), C = B::ref(c);
    ExprRef i = ix(mulIndex(rowPanel, tc) + R);
    ExprRef j = ix(mulIndex(colPanel, kTileColumns) + C);
    ExprRef value = B::binary(
        BinaryFn::Sub, B::load(tile_, DType::I32, ix(mulIndex(C, tc) + R)),
        B::load(sums_, DType::I32, j));
    std::vector<ExprRef> at = f_.c(batch, ix(i0 + i), ix(j0 + j));
    for (ExprRef &e : at)
      e = ix(e);
    auto store = io_.store(at, value);
    if (!store.ok())
      return store.status();
    ExprRef rowCount =
        ix(B::binary(BinaryFn::Min, B::i64(tc), rows - mulIndex(rowPanel, tc)));
    ExprRef colCount = ix(B::binary(BinaryFn::Min, B::i64(kTileColumns),
                                    cols - mulIndex(colPanel, kTileColumns)));
    return B::loop(r, rowCount, {B::loop(c, colCount, std::move(*store))});
  }

  const GemmForm &f_;
  const GemmIo &io_;
  Kernel &kernel_;
  Builder &b_;
  IndexVars vars_;
  const Blocking blocking_;
  int64_t steps_ = 0, depth_ = 0; // K in steps of four bytes, and in bytes
  int packedA_ = -1, packedB_ = -1, sums_ = -1, tile_ = -1;
};

} // namespace

bool isGemmI8(const ir::Op &op) {
  if (GpuForm::active() || !matmulGemmForm(op))
    return false;
  return op.operand(0)->type.dtype == DType::I8 &&
         op.operand(1)->type.dtype == DType::I8 &&
         op.result()->type.dtype == DType::I32;
}

absl::StatusOr<Kernel> lowerGemmI8(const ir::Op &op, std::string name) {
  auto form = matmulGemmForm(op);
  if (!form)
    return absl::InvalidArgumentError("'matmul' is not an i8 product");
  Kernel k = kernelSkeleton(op, std::move(name));
  Builder b;
  auto body = buildGemmI8(*form, opGemmIo(op), k, b);
  if (!body.ok())
    return body.status();
  k.body = *body;
  return k;
}

absl::StatusOr<StmtRef> buildGemmI8(const GemmForm &form, const GemmIo &io,
                                    Kernel &kernel, Builder &builder) {
  return GemmI8Builder(form, io, kernel, builder).run();
}

} // namespace nyx::kernel
