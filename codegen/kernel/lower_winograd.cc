// The Winograd transforms (ir/winograd.h) as loop nests. Each iteration
// transforms one tile of one channel with the factored transforms: a
// 6-point transform along each row of the tile, then along each column.
// On CPUs LLVM vectorizes the loops across tiles: the input transform's
// loop runs over all the tiles of a plane, branch-free (padding reads a
// clamped element as zero); the output transform's over a row of tiles,
// whose outputs lie 4 apart (interleaved stores), without bounds checks
// for the tiles inside the output. GPU kernels give each (image, channel,
// tile) a thread.
#include <cmath>
#include <span>
#include <utility>

#include "codegen/kernel/index_math.h"
#include "codegen/kernel/lowering.h"
#include "ir/winograd.h"

namespace nyx::kernel {
namespace {

using B = Builder;
using namespace ir::winograd;

// Σ coef[k] · terms[k] over the nonzero coefficients (±1 without a
// multiplication).
ExprRef combine(std::span<const double> coef, std::span<const ExprRef> terms,
                DType ct) {
  ExprRef sum;
  for (size_t k = 0; k < terms.size(); ++k) {
    if (coef[k] == 0)
      continue;
    ExprRef term = terms[k];
    if (std::abs(coef[k]) != 1)
      term = B::binary(BinaryFn::Mul, B::constant(ct, std::abs(coef[k])), term);
    if (!sum)
      sum = coef[k] < 0 ? B::unary(UnaryFn::Neg, term) : term;
    else
      sum = B::binary(coef[k] < 0 ? BinaryFn::Sub : BinaryFn::Add, sum, term);
  }
  return sum ? sum : B::constant(ct, 0);
}

// Declares `value` as a new local of type `ct` and returns a reference.
ExprRef local(Builder &b, std::vector<StmtRef> &stmts, DType ct,
              std::string name, ExprRef value) {
  Var v = b.newVar(ct, std::move(name));
  stmts.push_back(B::declare(v, std::move(value)));
  return B::ref(v);
}

// Where element (6ξ + ν, c) of tile (n, th, tw) of the 36 matrices
// [36, C, tiles] is.
ExprRef matrixElement(const Geometry &g, int64_t xi, int64_t nu, ExprRef c,
                      ExprRef n, ExprRef th, ExprRef tw) {
  ExprRef p =
      addIndex(mulIndex(addIndex(mulIndex(n, g.tilesH), th), g.tilesW), tw);
  ExprRef matrix = B::i64((xi * kWindow + nu) * g.channels);
  return addIndex(mulIndex(addIndex(matrix, c), g.tiles()), p);
}

// i clamped to [0, size).
ExprRef clamp(ExprRef i, int64_t size) {
  return B::binary(BinaryFn::Min, B::binary(BinaryFn::Max, i, B::i64(0)),
                   B::i64(size - 1));
}

absl::StatusOr<Kernel> lowerInput(const ir::Op &op, std::string name) {
  auto geometry = inputGeometry(op);
  if (!geometry.ok())
    return geometry.status();
  const Geometry &g = *geometry;
  const DType dt = op.operand(0)->type.dtype, ct = computeType(dt);
  const bool empty = g.inH == 0 || g.inW == 0;
  Kernel k = kernelSkeleton(op, std::move(name));
  Builder b;

  // Tile (n, c, th, tw): its 6x6 window, each row transformed, then each
  // column, stored as the tile's element of the 36 matrices. Elements in
  // the padding read a clamped position and count as zero, so every tile
  // is one branch-free form.
  auto tile = [&](ExprRef n, ExprRef c, ExprRef th, ExprRef tw) {
    std::vector<StmtRef> s;
    ExprRef row0 = addIndex(mulIndex(th, kTile), B::i64(-g.top));
    ExprRef col0 = addIndex(mulIndex(tw, kTile), B::i64(-g.left));
    ExprRef plane = mulIndex(addIndex(mulIndex(n, g.channels), c), g.inH);
    ExprRef cols[kWindow], colInside[kWindow];
    for (int64_t j = 0; j < kWindow; ++j) {
      ExprRef col = addIndex(col0, B::i64(j));
      cols[j] = clamp(col, g.inW);
      colInside[j] = B::compare(CmpFn::Eq, col, cols[j]);
    }
    ExprRef rows[kWindow][kWindow];
    for (int64_t i = 0; i < kWindow; ++i) {
      ExprRef r = addIndex(row0, B::i64(i));
      ExprRef row = clamp(r, g.inH);
      ExprRef rowInside = B::compare(CmpFn::Eq, r, row);
      ExprRef rowAt = mulIndex(addIndex(plane, row), g.inW);
      ExprRef d[kWindow];
      // An input without rows or columns has nothing to clamp to: all
      // padding.
      for (int64_t j = 0; j < kWindow; ++j)
        d[j] = empty ? B::constant(ct, 0)
                     : local(b, s, ct, "d",
                             B::select(B::binary(BinaryFn::And, rowInside,
                                                 colInside[j]),
                                       B::load(0, dt, addIndex(rowAt, cols[j])),
                                       B::constant(ct, 0)));
      for (int64_t nu = 0; nu < kWindow; ++nu)
        rows[i][nu] = local(b, s, ct, "t", combine(kBT[nu], d, ct));
    }
    for (int64_t nu = 0; nu < kWindow; ++nu) {
      ExprRef column[kWindow];
      for (int64_t i = 0; i < kWindow; ++i)
        column[i] = rows[i][nu];
      for (int64_t xi = 0; xi < kWindow; ++xi) {
        ExprRef at = matrixElement(g, xi, nu, c, n, th, tw);
        s.push_back(B::store(1, at, combine(kBT[xi], column, ct)));
      }
    }
    return s;
  };

  if (GpuForm::active()) {
    LoopNest all(b, {g.images, g.channels, g.tilesH, g.tilesW}, "o");
    const auto &o = all.indices();
    k.body = all.wrap(tile(o[0], o[1], o[2], o[3]), true);
    return k;
  }
  // On CPUs one loop runs over all the tiles of a plane, which LLVM
  // vectorizes across tiles (gathering their elements): a row of tiles
  // alone (14 at 56 pixels, 7 at 28) is too short for a loop of 16 lanes.
  LoopNest planes(b, {g.channels, g.images}, "o");
  const ExprRef &c = planes.indices()[0], &n = planes.indices()[1];
  Var q = b.newVar(DType::I64, "q");
  ExprRef th = B::binary(BinaryFn::Div, B::ref(q), B::i64(g.tilesW));
  ExprRef tw = B::binary(BinaryFn::Rem, B::ref(q), B::i64(g.tilesW));
  k.body = planes.wrap(
      {B::loop(q, B::i64(g.tilesH * g.tilesW), tile(n, c, th, tw))}, true);
  return k;
}

absl::StatusOr<Kernel> lowerOutput(const ir::Op &op, std::string name) {
  auto geometry = outputGeometry(op);
  if (!geometry.ok())
    return geometry.status();
  const Geometry &g = *geometry;
  const DType dt = op.operand(0)->type.dtype, ct = computeType(dt);
  const bool hasBias = op.numOperands() > 1;
  const int out = op.numOperands();
  Kernel k = kernelSkeleton(op, std::move(name));
  Builder b;

  // Tile (n, c, th, tw): its 36 products, each row transformed, then each
  // column; with `checked`, outputs past the tensor's edge are not stored.
  auto tile = [&](ExprRef n, ExprRef c, ExprRef th, ExprRef tw, bool checked) {
    std::vector<StmtRef> s;
    ExprRef rows[kWindow][kTile];
    for (int64_t xi = 0; xi < kWindow; ++xi) {
      ExprRef m[kWindow];
      for (int64_t nu = 0; nu < kWindow; ++nu) {
        ExprRef at = matrixElement(g, xi, nu, c, n, th, tw);
        m[nu] = local(b, s, ct, "m", B::load(0, dt, at));
      }
      for (int64_t j = 0; j < kTile; ++j)
        rows[xi][j] = local(b, s, ct, "t", combine(kAT[j], m, ct));
    }
    ExprRef bias = hasBias ? B::load(1, dt, c) : nullptr;
    ExprRef plane = mulIndex(addIndex(mulIndex(n, g.channels), c), g.outH);
    for (int64_t i = 0; i < kTile; ++i) {
      ExprRef r = addIndex(mulIndex(th, kTile), B::i64(i));
      for (int64_t j = 0; j < kTile; ++j) {
        ExprRef column[kWindow];
        for (int64_t xi = 0; xi < kWindow; ++xi)
          column[xi] = rows[xi][j];
        ExprRef y = combine(kAT[i], column, ct);
        if (bias)
          y = B::binary(BinaryFn::Add, y, bias);
        ExprRef col = addIndex(mulIndex(tw, kTile), B::i64(j));
        StmtRef store = B::store(
            out, addIndex(mulIndex(addIndex(plane, r), g.outW), col), y);
        s.push_back(
            checked ? B::ifThen(
                          B::binary(BinaryFn::And,
                                    B::compare(CmpFn::Lt, r, B::i64(g.outH)),
                                    B::compare(CmpFn::Lt, col, B::i64(g.outW))),
                          {store})
                    : store);
      }
    }
    return s;
  };

  if (GpuForm::active()) {
    LoopNest all(b, {g.images, g.channels, g.tilesH, g.tilesW}, "o");
    const auto &o = all.indices();
    k.body = all.wrap(tile(o[0], o[1], o[2], o[3], true), true);
    return k;
  }
  LoopNest planes(b, {g.channels, g.images}, "o");
  const ExprRef &c = planes.indices()[0], &n = planes.indices()[1];
  // Whole tiles (all 16 outputs inside) go without bounds checks: the
  // rows of tiles before `wholeRows`, and in them the tiles before
  // `wholeCols`.
  const int64_t wholeRows = g.outH / kTile, wholeCols = g.outW / kTile;
  Var th = b.newVar(DType::I64, "th");
  auto run = [&](std::vector<StmtRef> &row, int64_t from, int64_t to,
                 bool checked) {
    if (from >= to)
      return;
    Var tw = b.newVar(DType::I64, "tw");
    row.push_back(B::loop(
        tw, B::i64(to - from),
        tile(n, c, B::ref(th), addIndex(B::ref(tw), B::i64(from)), checked)));
  };
  std::vector<StmtRef> wholeRow, partRow;
  run(wholeRow, 0, wholeCols, false);
  run(wholeRow, wholeCols, g.tilesW, true);
  run(partRow, 0, g.tilesW, true);
  k.body = planes.wrap(
      {B::loop(th, B::i64(g.tilesH),
               {B::ifThen(B::compare(CmpFn::Lt, B::ref(th), B::i64(wholeRows)),
                          std::move(wholeRow), std::move(partRow))})},
      true);
  return k;
}

} // namespace

void registerWinogradLowerings(LoweringRegistry &r) {
  r.add("winograd_input", lowerInput);
  r.add("winograd_output", lowerOutput);
}

} // namespace nyx::kernel
