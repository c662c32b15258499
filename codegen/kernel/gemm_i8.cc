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

// The register tile: mr rows of C, each four bytes of A broadcast a step,
// by nr columns in vectors of 16 i32 lanes, B's bytes. Up to four vectors
// (64 columns) and as many rows as leave AVX-512's 32 registers room for
// the B vectors and a broadcast: 6 x 4, 8 x 3, 12 x 2 or 24 x 1.
constexpr int64_t kLanes = 16;
constexpr int64_t kMaxTileRows[] = {0, 24, 12, 8, 6};
// A task's packed A block (mc rows) stays in L2 while the task's column
// panels stream past it; its packed B block (nc columns) is bounded too.
constexpr int64_t kMaxPackedA = 256 << 10;
constexpr int64_t kMaxPackedB = 512 << 10;
// Split the columns (then the rows) further until there are this many
// tasks, so two or four threads have work even for a product of few rows.
constexpr int64_t kMinTasks = 4;

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t roundUp(int64_t a, int64_t b) { return ceilDiv(a, b) * b; }

// The blocking of one product: mr x nr register tiles, mc rows (a multiple
// of mr) and nc columns (of nr) per task.
struct Blocking {
  int64_t mr = 0, nr = 0, mc = 0, nc = 0;
};

Blocking blockingOf(const GemmShape &g) {
  Blocking p;
  if (g.batch == 0 || g.m == 0 || g.n == 0)
    return p; // nothing to compute
  const int64_t vectors = std::min<int64_t>(4, ceilDiv(g.n, kLanes));
  p.nr = vectors * kLanes;
  // Rows as even as the tile allows: 32 rows are two tiles of 16, not 24
  // and 8.
  p.mr = ceilDiv(g.m, ceilDiv(g.m, kMaxTileRows[vectors]));
  const int64_t depth = std::max<int64_t>(4, roundUp(g.k, 4));
  const int64_t tilesM = ceilDiv(g.m, p.mr), panelsN = ceilDiv(g.n, p.nr);
  int64_t blocksM =
      ceilDiv(tilesM, std::max<int64_t>(1, kMaxPackedA / (p.mr * depth)));
  int64_t blocksN =
      ceilDiv(panelsN, std::max<int64_t>(1, kMaxPackedB / (p.nr * depth)));
  // At least kMinTasks tasks, more columns blocks first; and a multiple of
  // it where there are rows to split, so two or four threads get equal
  // shares.
  auto tasks = [&] { return g.batch * blocksM * blocksN; };
  if (tasks() < kMinTasks)
    blocksN = std::min(panelsN, ceilDiv(kMinTasks, g.batch * blocksM));
  while (tasks() % kMinTasks != 0 && blocksM < tilesM)
    ++blocksM;
  // Blocks as even as the tiles allow.
  const int64_t mcTiles = ceilDiv(tilesM, blocksM);
  const int64_t ncPanels = ceilDiv(panelsN, blocksN);
  p.mc = mcTiles * p.mr;
  p.nc = ncPanels * p.nr;
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
    const int64_t mr = blocking_.mr, nr = blocking_.nr, mc = blocking_.mc,
                  nc = blocking_.nc;
    steps_ = ceilDiv(g.k, 4);
    depth_ = steps_ * 4;
    packedA_ = scratch("packed_a", mc * depth_, DType::I8);
    packedB_ = scratch("packed_b", nc * depth_, DType::I8);
    flipped_ = scratch("flipped_zero", 4, DType::I8);
    compensation_ = scratch("compensation", nr, DType::I32);
    tile_ = scratch("tile", mr * nr, DType::I32);

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
    std::vector<StmtRef> body;
    for (int64_t q = 0; q < 4; ++q)
      body.push_back(
          B::store(flipped_, B::i64(q), B::constant(DType::I8, -128)));
    body.push_back(*packedA);
    body.push_back(*packedB);
    Var colPanel = var("jr", nc / nr);
    Var rowPanel = var("ir", mc / mr);
    ExprRef panelB = ix(mulIndex(B::ref(colPanel), nr * depth_));
    // 128 times the panel's column sums: the product of a row of A's
    // zeros, sign bits flipped, with the panel.
    StmtRef compensation =
        B::matmulTile(compensation_, B::i64(0), B::i64(steps_),
                      tileArgs(flipped_, B::i64(0), 0, 0, panelB, 1));
    StmtRef product = B::matmulTile(
        tile_, B::i64(0), B::i64(steps_),
        tileArgs(packedA_, ix(mulIndex(B::ref(rowPanel), mr * depth_)), depth_,
                 4, panelB, mr));
    auto stores =
        epilogue(batch, i0, j0, rows, cols, B::ref(rowPanel), B::ref(colPanel));
    if (!stores.ok())
      return stores.status();
    StmtRef panel =
        B::loop(rowPanel, ix(ceilDivIndex(rows, mr)), {product, *stores});
    body.push_back(
        B::loop(colPanel, ix(ceilDivIndex(cols, nr)), {compensation, panel}));
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

  // A register tile of `rows` rows of `a` (rowStride apart, four bytes a
  // step stepStride apart) by the packed B panel at `panel`.
  MatmulTileArgs tileArgs(int a, ExprRef aIndex, int64_t rowStride,
                          int64_t stepStride, ExprRef panel, int64_t rows) {
    MatmulTileArgs args;
    args.i8Dot4 = true;
    args.aBuffer = a;
    args.aIndex = std::move(aIndex);
    args.aRow = TileStride::fixed(rowStride);
    args.aStep = TileStride::fixed(stepStride);
    args.bBuffer = packedB_;
    args.bIndex = std::move(panel);
    args.bRow = TileStride::fixed(blocking_.nr * 4);
    args.rows = rows;
    args.cols = blocking_.nr;
    return args;
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

  // The task's rows of A, [i0, i0 + rows), as `depth` bytes each with the
  // sign bit flipped (an i8 add of -128 wraps to a ^ 0x80, the unsigned
  // a + 128). Row by row, so a row-major A is a contiguous copy; bytes
  // past K, and the rows of a short last tile, keep whatever they hold
  // (they meet B's zero padding, or are not stored).
  absl::StatusOr<StmtRef> packA(ExprRef batch, ExprRef i0, ExprRef rows) {
    Var r = var("r", blocking_.mc), p = var("p", f_.shape.k);
    ExprRef R = B::ref(r), P = B::ref(p);
    auto a = load(f_.aOperand, f_.a(batch, ix(i0 + R), P));
    if (!a.ok())
      return a.status();
    ExprRef value = B::binary(BinaryFn::Add, *a, B::constant(DType::I8, -128));
    return B::loop(
        r, rows,
        {B::loop(p, B::i64(f_.shape.k),
                 {B::store(packedA_, ix(mulIndex(R, depth_) + P), value)})});
  }

  // The task's columns of B, [j0, j0 + cols), as nr-column panels of
  // [K / 4][nr][4] bytes, zero past K. Panel by panel, and within one in
  // the order of B's layout: a column at a time where K is contiguous (B
  // stored [N, K]), four rows of K at a time where the columns are.
  absl::StatusOr<StmtRef> packB(ExprRef batch, ExprRef j0, ExprRef cols) {
    const int64_t nr = blocking_.nr, k = f_.shape.k, full = k / 4;
    Var panel = var("pb", blocking_.nc / nr), c = var("c", nr),
        s = var("s", full), q = var("q", 4), t = var("q", k % 4),
        z = var("kpad", depth_ - k);
    ExprRef P = B::ref(panel), C = B::ref(c);
    ExprRef base = ix(mulIndex(P, nr * depth_) + mulIndex(C, 4));
    // Byte q of step `step` of the panel's column c.
    auto copy = [&](ExprRef step, ExprRef q) -> absl::StatusOr<StmtRef> {
      ExprRef p = ix(mulIndex(step, 4) + q);
      auto loaded =
          load(f_.bOperand, f_.b(batch, p, ix(j0 + mulIndex(P, nr) + C)));
      if (!loaded.ok())
        return loaded.status();
      return B::store(packedB_, ix(base + mulIndex(step, nr * 4) + q), *loaded);
    };
    auto steps = copy(B::ref(s), B::ref(q));
    auto last = copy(B::i64(full), B::ref(t));
    if (!steps.ok() || !last.ok())
      return steps.ok() ? last.status() : steps.status();
    // The last step's bytes within K, then its zeros.
    std::vector<StmtRef> tail;
    if (depth_ != k)
      tail = {B::loop(t, B::i64(k % 4), {*last}),
              B::loop(z, B::i64(depth_ - k),
                      {B::store(
                          packedB_,
                          ix(base + B::i64(full * nr * 4 + k % 4) + B::ref(z)),
                          B::constant(DType::I8, 0))})};
    ExprRef width =
        ix(B::binary(BinaryFn::Min, B::i64(nr), cols - mulIndex(P, nr)));
    std::vector<StmtRef> body;
    if (!f_.shape.bInPlace) {
      std::vector<StmtRef> column = {
          B::loop(s, B::i64(full), {B::loop(q, B::i64(4), {*steps})})};
      column.insert(column.end(), tail.begin(), tail.end());
      body.push_back(B::loop(c, width, std::move(column)));
    } else {
      body.push_back(
          B::loop(s, B::i64(full),
                  {B::loop(c, width, {B::loop(q, B::i64(4), {*steps})})}));
      // A second loop over the same index c: `tail` is built on it.
      if (!tail.empty())
        body.push_back(B::loop(c, width, std::move(tail)));
    }
    return B::loop(panel, ix(ceilDivIndex(cols, nr)), std::move(body));
  }

  // C's elements of the tile, row by row: the tile less the compensation.
  absl::StatusOr<StmtRef> epilogue(ExprRef batch, ExprRef i0, ExprRef j0,
                                   ExprRef rows, ExprRef cols, ExprRef rowPanel,
                                   ExprRef colPanel) {
    const int64_t mr = blocking_.mr, nr = blocking_.nr;
    Var r = var("tr", mr), c = var("tc", nr);
    ExprRef R = B::ref(r), C = B::ref(c);
    ExprRef i = ix(mulIndex(rowPanel, mr) + R);
    ExprRef j = ix(mulIndex(colPanel, nr) + C);
    ExprRef value = B::binary(
        BinaryFn::Sub, B::load(tile_, DType::I32, ix(mulIndex(R, nr) + C)),
        B::load(compensation_, DType::I32, C));
    std::vector<ExprRef> at = f_.c(batch, ix(i0 + i), ix(j0 + j));
    for (ExprRef &e : at)
      e = ix(e);
    auto store = io_.store(at, value);
    if (!store.ok())
      return store.status();
    ExprRef rowCount =
        ix(B::binary(BinaryFn::Min, B::i64(mr), rows - mulIndex(rowPanel, mr)));
    ExprRef colCount =
        ix(B::binary(BinaryFn::Min, B::i64(nr), cols - mulIndex(colPanel, nr)));
    return B::loop(r, rowCount, {B::loop(c, colCount, std::move(*store))});
  }

  const GemmForm &f_;
  const GemmIo &io_;
  Kernel &kernel_;
  Builder &b_;
  IndexVars vars_;
  const Blocking blocking_;
  int64_t steps_ = 0, depth_ = 0; // K in steps of four bytes, and in bytes
  int packedA_ = -1, packedB_ = -1, flipped_ = -1, compensation_ = -1,
      tile_ = -1;
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
