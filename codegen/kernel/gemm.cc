#include "codegen/kernel/gemm.h"

#include "codegen/kernel/lowering.h"

#include <algorithm>

#include "absl/status/status.h"
#include "codegen/kernel/index_math.h"
#include "codegen/kernel/simplify.h"
#include "ir/op_registry.h"
#include "ir/strings.h"

namespace nyx::kernel {
namespace {

using B = Builder;

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

int64_t product(const ir::Shape &s) {
  int64_t p = 1;
  for (int64_t e : s)
    p *= e;
  return p;
}

ExprRef minIndex(ExprRef a, ExprRef b) {
  if (a->kind == Expr::Kind::IntConst && b->kind == Expr::Kind::IntConst)
    return B::i64(std::min(a->intValue, b->intValue));
  return B::binary(BinaryFn::Min, std::move(a), std::move(b));
}

std::optional<GemmForm> matmulForm(const ir::Op &op) {
  const ir::TensorType &a = op.operand(0)->type;
  const ir::TensorType &bt = op.operand(1)->type;
  const ir::TensorType &c = op.result(0)->type;
  if (a.dtype != DType::F32 || bt.dtype != DType::F32 ||
      c.dtype != DType::F32 || a.rank() < 2 || bt.rank() < 2 || c.rank() < 2)
    return std::nullopt;
  auto ta = op.getBool("transpose_a", false);
  auto tb = op.getBool("transpose_b", false);
  if (!ta.ok() || !tb.ok())
    return std::nullopt;
  const int64_t ra = a.rank(), rb = bt.rank(), rc = c.rank();
  const int64_t m = *ta ? a.shape[ra - 1] : a.shape[ra - 2];
  const int64_t k = *ta ? a.shape[ra - 2] : a.shape[ra - 1];
  const int64_t kb = *tb ? bt.shape[rb - 1] : bt.shape[rb - 2];
  const int64_t n = *tb ? bt.shape[rb - 2] : bt.shape[rb - 1];
  if (k != kb || c.shape[rc - 2] != m || c.shape[rc - 1] != n)
    return std::nullopt;
  const ir::Shape batch(c.shape.begin(), c.shape.end() - 2);
  const ir::Shape batchA(a.shape.begin(), a.shape.end() - 2);
  const ir::Shape batchB(bt.shape.begin(), bt.shape.end() - 2);
  const bool transA = *ta, transB = *tb;

  GemmForm f;
  f.shape = {product(batch), m, n, k};
  f.a = [=](ExprRef b, ExprRef i, ExprRef p) {
    std::vector<ExprRef> coords = broadcastCoords(unravel(b, batch), batchA);
    coords.push_back(transA ? p : i);
    coords.push_back(transA ? i : p);
    return OperandElement{coords, nullptr};
  };
  f.b = [=](ExprRef b, ExprRef p, ExprRef j) {
    std::vector<ExprRef> coords = broadcastCoords(unravel(b, batch), batchB);
    coords.push_back(transB ? j : p);
    coords.push_back(transB ? p : j);
    return OperandElement{coords, nullptr};
  };
  f.c = [=](ExprRef b, ExprRef i, ExprRef j) {
    std::vector<ExprRef> coords = unravel(b, batch);
    coords.push_back(i);
    coords.push_back(j);
    return coords;
  };
  f.aBase = [=](ExprRef b) {
    return mulIndex(broadcastRavel(unravel(b, batch), batchA), m * k);
  };
  f.aRowStride = transA ? 1 : k;
  f.aInnerStride = transA ? m : 1;
  return f;
}

std::optional<GemmForm> convForm(const ir::Op &op) {
  const ir::TensorType &x = op.operand(0)->type, &w = op.operand(1)->type;
  const ir::TensorType &y = op.result(0)->type;
  if (x.dtype != DType::F32 || w.dtype != DType::F32 || y.dtype != DType::F32 ||
      x.rank() != 4 || w.rank() != 4 || y.rank() != 4)
    return std::nullopt;
  auto strides = op.getInts("strides", std::vector<int64_t>{1, 1});
  auto padding = op.getInts("padding", std::vector<int64_t>{0, 0, 0, 0});
  auto dilations = op.getInts("dilations", std::vector<int64_t>{1, 1});
  auto groups = op.getInt("groups", 1);
  if (!strides.ok() || !padding.ok() || !dilations.ok() || !groups.ok() ||
      strides->size() != 2 || padding->size() != 4 || dilations->size() != 2)
    return std::nullopt;
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  const int64_t M = w.shape[0], kH = w.shape[2], kW = w.shape[3];
  const int64_t G = *groups;
  if (G < 1 || C % G != 0 || M % G != 0 || w.shape[1] != C / G)
    return std::nullopt;
  const int64_t Cg = C / G, Mg = M / G;
  // A depthwise convolution sums 9 or so products per output: no inner
  // dimension to tile, the direct loop nest does better.
  if (Cg * kH * kW < 4 || Mg < 2)
    return std::nullopt;
  const int64_t OH = y.shape[2], OW = y.shape[3];
  const int64_t sH = (*strides)[0], sW = (*strides)[1];
  const int64_t pT = (*padding)[0], pL = (*padding)[1];
  const int64_t dH = (*dilations)[0], dW = (*dilations)[1];
  const bool padded = std::any_of(padding->begin(), padding->end(),
                                  [](int64_t p) { return p != 0; });

  GemmForm f;
  f.shape = {N * G, Mg, OH * OW, Cg * kH * kW};
  f.aOperand = 1;
  f.bOperand = 0;
  const ir::Shape window = {Cg, kH, kW};
  // A is the weights viewed as an M x (Cg*kH*kW) row-major matrix per group.
  f.a = [=](ExprRef b, ExprRef i, ExprRef p) {
    ExprRef g = B::binary(BinaryFn::Rem, b, B::i64(G));
    std::vector<ExprRef> coords = {addIndex(mulIndex(g, Mg), i)};
    for (const ExprRef &e : unravel(p, window))
      coords.push_back(e);
    return OperandElement{coords, nullptr};
  };
  f.b = [=](ExprRef b, ExprRef p, ExprRef j) {
    ExprRef n = B::binary(BinaryFn::Div, b, B::i64(G));
    ExprRef g = B::binary(BinaryFn::Rem, b, B::i64(G));
    std::vector<ExprRef> r = unravel(p, window);
    std::vector<ExprRef> o = unravel(j, {OH, OW});
    ExprRef ih =
        addIndex(addIndex(mulIndex(o[0], sH), B::i64(-pT)), mulIndex(r[1], dH));
    ExprRef iw =
        addIndex(addIndex(mulIndex(o[1], sW), B::i64(-pL)), mulIndex(r[2], dW));
    ExprRef inside;
    if (padded)
      inside = B::binary(
          BinaryFn::And,
          B::binary(BinaryFn::And, B::compare(CmpFn::Ge, ih, B::i64(0)),
                    B::compare(CmpFn::Lt, ih, B::i64(H))),
          B::binary(BinaryFn::And, B::compare(CmpFn::Ge, iw, B::i64(0)),
                    B::compare(CmpFn::Lt, iw, B::i64(W))));
    return OperandElement{{n, addIndex(mulIndex(g, Cg), r[0]), ih, iw}, inside};
  };
  f.c = [=](ExprRef b, ExprRef i, ExprRef j) {
    ExprRef n = B::binary(BinaryFn::Div, b, B::i64(G));
    ExprRef g = B::binary(BinaryFn::Rem, b, B::i64(G));
    std::vector<ExprRef> o = unravel(j, {OH, OW});
    return std::vector<ExprRef>{n, addIndex(mulIndex(g, Mg), i), o[0], o[1]};
  };
  f.aBase = [=](ExprRef b) {
    return mulIndex(B::binary(BinaryFn::Rem, b, B::i64(G)), Mg * Cg * kH * kW);
  };
  f.aRowStride = Cg * kH * kW;
  f.aInnerStride = 1;
  f.conv =
      GemmForm::ConvInput{G, Cg, kH, kW, sH, sW, pT, pL, dH, dW, H, W, OH, OW};
  if (op.numOperands() == 3) {
    f.biasOperand = 2;
    f.bias = [=](ExprRef b, ExprRef i) {
      ExprRef g = B::binary(BinaryFn::Rem, b, B::i64(G));
      return std::vector<ExprRef>{addIndex(mulIndex(g, Mg), i)};
    };
  }
  return f;
}

// Builds the loop nest of buildGemm; keeps the extents of the loop indices
// so index arithmetic simplifies.
class GemmBuilder {
public:
  GemmBuilder(const GemmForm &form, const GemmSchedule &s, const GemmIo &io,
              Kernel &kernel, Builder &b)
      : f_(form), s_(s), io_(io), kernel_(kernel), b_(b) {}

  absl::StatusOr<StmtRef> run() {
    const GemmShape &g = f_.shape;
    if (g.batch == 0 || g.m == 0 || g.n == 0)
      return B::block({});
    const int64_t tilesM = ceilDiv(g.m, s_.mc), tilesN = ceilDiv(g.n, s_.nc);
    const int64_t panels = s_.nc / s_.nr;
    kc_ = s_.kc > 0 && s_.kc < g.k ? s_.kc : std::max<int64_t>(g.k, 1);
    if (f_.conv) {
      // A conv's K blocks hold whole input channels.
      const int64_t window = f_.conv->kh * f_.conv->kw;
      kc_ = std::max(window, kc_ / window * window);
    }
    const bool blocked = kc_ < g.k;
    const int64_t kBlocks = blocked ? ceilDiv(g.k, kc_) : 1;
    packedB_ = scratch("packed_b", kc_ * s_.nc);
    directA_ = !s_.packA && io_.aBuffer >= 0 && f_.aBase;
    packedA_ = scratch("packed_a", kc_ * s_.mr);
    // Unblocked, one tile at a time goes through the epilogue; blocked, the
    // task's tiles accumulate over the K blocks first.
    tile_ = scratch(blocked ? "c_block" : "tile",
                    blocked ? s_.mc * s_.nc : s_.mr * s_.nr);

    Var task = var("task", g.batch * tilesM * tilesN);
    ExprRef t = B::ref(task);
    ExprRef batch = ix(B::binary(BinaryFn::Div, t, B::i64(tilesM * tilesN)));
    ExprRef rowBlock = ix(B::binary(
        BinaryFn::Div, B::binary(BinaryFn::Rem, t, B::i64(tilesM * tilesN)),
        B::i64(tilesN)));
    ExprRef colBlock = ix(B::binary(BinaryFn::Rem, t, B::i64(tilesN)));
    ExprRef i0 = mulIndex(rowBlock, s_.mc), j0 = mulIndex(colBlock, s_.nc);

    Var kBlock = var("kb", kBlocks);
    k0_ = blocked ? mulIndex(B::ref(kBlock), kc_) : B::i64(0);
    kLen_ =
        blocked ? ix(minIndex(B::i64(kc_), B::i64(g.k) - k0_)) : B::i64(g.k);
    std::vector<StmtRef> block;
    auto packB = packBlock(batch, j0, panels);
    if (!packB.ok())
      return packB.status();
    block.push_back(*packB);

    Var rowPanel = var("ir", s_.mc / s_.mr);
    ExprRef i = ix(addIndex(i0, mulIndex(B::ref(rowPanel), s_.mr)));
    ExprRef rows = minIndex(B::i64(s_.mr), ix(B::i64(g.m) - i));
    Var colPanel = var("jr", panels);
    ExprRef j = ix(addIndex(j0, mulIndex(B::ref(colPanel), s_.nr)));
    ExprRef cols = minIndex(B::i64(s_.nr), ix(B::i64(g.n) - j));
    ExprRef tileAt =
        blocked ? ix(mulIndex(addIndex(mulIndex(B::ref(rowPanel), panels),
                                       B::ref(colPanel)),
                              s_.mr * s_.nr))
                : B::i64(0);
    ExprRef accumulate =
        blocked ? B::compare(CmpFn::Gt, B::ref(kBlock), B::i64(0)) : nullptr;

    auto packed = packPanel(batch, i, rows);
    if (!packed.ok())
      return packed.status();
    MatmulTileArgs packedArgs{
        packedA_,  packedB_, B::i64(0), mulIndex(B::ref(colPanel), s_.nr * kc_),
        s_.mr,     s_.nr,    1,         s_.mr,
        accumulate};
    auto epilogue = store(batch, i, rows, j, cols, tileAt);
    if (!epilogue.ok())
      return epilogue.status();
    auto inColumns = [&](std::vector<StmtRef> body) {
      return B::loop(
          colPanel, B::i64(panels),
          {B::ifThen(B::compare(CmpFn::Lt, j, B::i64(g.n)), std::move(body))});
    };
    auto tileWith = [&](MatmulTileArgs args) {
      StmtRef tile = B::matmulTile(tile_, tileAt, kLen_, args);
      return blocked ? inColumns({tile})
                     : inColumns(std::vector<StmtRef>{tile, *epilogue});
    };
    StmtRef panelBody;
    if (directA_) {
      // Full panels read A in place; the last, short one is packed so the
      // tile never reads past A's rows.
      MatmulTileArgs direct = packedArgs;
      direct.aBuffer = io_.aBuffer;
      direct.aIndex =
          ix(addIndex(addIndex(f_.aBase(batch), mulIndex(i, f_.aRowStride)),
                      mulIndex(k0_, f_.aInnerStride)));
      direct.aRowStride = f_.aRowStride;
      direct.aInnerStride = f_.aInnerStride;
      panelBody =
          B::ifThen(B::compare(CmpFn::Eq, rows, B::i64(s_.mr)),
                    {tileWith(direct)}, {*packed, tileWith(packedArgs)});
    } else {
      panelBody = B::block({*packed, tileWith(packedArgs)});
    }
    auto inRows = [&](StmtRef body) {
      return B::loop(
          rowPanel, B::i64(s_.mc / s_.mr),
          {B::ifThen(B::compare(CmpFn::Lt, i, B::i64(g.m)), {body})});
    };
    block.push_back(inRows(panelBody));
    std::vector<StmtRef> body;
    if (blocked) {
      body.push_back(B::loop(kBlock, B::i64(kBlocks), std::move(block)));
      body.push_back(inRows(inColumns({*epilogue})));
    } else {
      body = std::move(block);
    }
    return B::loop(task, B::i64(g.batch * tilesM * tilesN), std::move(body),
                   LoopKind::Parallel);
  }

private:
  Var var(std::string name, int64_t extent) {
    Var v = b_.newVar(DType::I64, std::move(name));
    extents_[v.id] = extent;
    return v;
  }

  ExprRef ix(const ExprRef &e) { return simplify(e, extents_); }

  int scratch(std::string name, int64_t elements) {
    Buffer buf;
    buf.name = std::move(name);
    buf.dtype = DType::F32;
    buf.numElements = elements;
    buf.isScratch = true;
    kernel_.buffers.push_back(buf);
    return static_cast<int>(kernel_.buffers.size()) - 1;
  }

  // dst[at] = the operand element, or 0 outside it.
  absl::StatusOr<StmtRef> copyElement(int operand, const OperandElement &e,
                                      int dst, ExprRef at) {
    std::vector<ExprRef> coords;
    for (const ExprRef &c : e.coords)
      coords.push_back(ix(c));
    auto v = io_.load(operand, coords);
    if (!v.ok())
      return v.status();
    StmtRef copy = B::store(dst, at, ix(*v));
    if (!e.inside)
      return copy;
    return B::ifThen(ix(e.inside), {copy},
                     {B::store(dst, at, B::constant(DType::F32, 0))});
  }

  // The task's K x nc block of B as nr-wide panels, each K x nr row-major;
  // columns past N are zero.
  absl::StatusOr<StmtRef> packBlock(ExprRef batch, ExprRef j0, int64_t panels) {
    const GemmShape &g = f_.shape;
    Var q = var("q", panels), p = var("p", kc_), c = var("c", s_.nr);
    ExprRef jq = ix(addIndex(j0, mulIndex(B::ref(q), s_.nr)));
    ExprRef valid = minIndex(B::i64(s_.nr), ix(B::i64(g.n) - jq));
    if (f_.conv) {
      auto panel = packConvPanel(batch, B::ref(q), jq, valid);
      if (!panel.ok())
        return panel.status();
      return B::loop(
          q, B::i64(panels),
          {B::ifThen(B::compare(CmpFn::Lt, jq, B::i64(g.n)), {*panel})});
    }
    ExprRef at = ix(
        addIndex(mulIndex(addIndex(mulIndex(B::ref(q), kc_), B::ref(p)), s_.nr),
                 B::ref(c)));
    auto copy = copyElement(
        f_.bOperand,
        f_.b(batch, addIndex(k0_, B::ref(p)), addIndex(jq, B::ref(c))),
        packedB_, at);
    if (!copy.ok())
      return copy.status();
    Var z = var("c", s_.nr);
    ExprRef zAt = ix(
        addIndex(mulIndex(addIndex(mulIndex(B::ref(q), kc_), B::ref(p)), s_.nr),
                 B::ref(z)));
    StmtRef zeros = B::loop(
        z, B::i64(s_.nr) - valid,
        {B::store(packedB_, addIndex(zAt, valid), B::constant(DType::F32, 0))});
    return B::loop(
        q, B::i64(panels),
        {B::ifThen(B::compare(CmpFn::Lt, jq, B::i64(g.n)),
                   {B::loop(p, kLen_, {B::loop(c, valid, {*copy}), zeros})})});
  }

  // The conv form's panel: for each (channel, kh, kw) row of the panel,
  // the output rows the panel's columns cover; on each, the span of output
  // columns whose input column is inside the image is copied, the rest is
  // zero.
  absl::StatusOr<StmtRef> packConvPanel(ExprRef batch, ExprRef q, ExprRef jq,
                                        ExprRef valid) {
    const GemmForm::ConvInput &cv = *f_.conv;
    const int64_t window = cv.kh * cv.kw;
    // The block's rows are whole channels: [k0 / window, + kLen / window).
    Var ci = var("ci", kc_ / window), kh = var("kh", cv.kh),
        kw = var("kw", cv.kw);
    ExprRef p = ix(addIndex(
        mulIndex(addIndex(mulIndex(B::ref(ci), cv.kh), B::ref(kh)), cv.kw),
        B::ref(kw)));
    ExprRef rowBase = ix(mulIndex(addIndex(mulIndex(q, kc_), p), s_.nr));
    ExprRef n = B::binary(BinaryFn::Div, batch, B::i64(cv.groups));
    ExprRef channel = addIndex(
        addIndex(mulIndex(B::binary(BinaryFn::Rem, batch, B::i64(cv.groups)),
                          cv.channels),
                 B::binary(BinaryFn::Div, k0_, B::i64(window))),
        B::ref(ci));
    ExprRef first = B::binary(BinaryFn::Div, jq, B::i64(cv.ow));
    ExprRef last = B::binary(BinaryFn::Div, ix(addIndex(jq, valid) - B::i64(1)),
                             B::i64(cv.ow));
    Var row = var("oh", cv.oh);
    ExprRef oh = ix(addIndex(first, B::ref(row)));
    ExprRef ih =
        ix(addIndex(addIndex(mulIndex(oh, cv.strideH), B::i64(-cv.padTop)),
                    mulIndex(B::ref(kh), cv.dilationH)));
    // Output columns [lo, hi) of row oh are in the panel.
    ExprRef rowStart = mulIndex(oh, cv.ow);
    ExprRef lo = ix(B::binary(BinaryFn::Max, jq - rowStart, B::i64(0)));
    ExprRef hi = ix(minIndex(addIndex(jq, valid) - rowStart, B::i64(cv.ow)));
    // Input column ow*sW - padLeft + kw*dW lies in [0, W) for ow in
    // [inLo, inHi).
    auto ceilDivPos = [&](ExprRef v, int64_t d) {
      return B::binary(BinaryFn::Div, addIndex(v, B::i64(d - 1)), B::i64(d));
    };
    ExprRef shift =
        ix(addIndex(B::i64(cv.padLeft), mulIndex(B::ref(kw), -cv.dilationW)));
    auto clampSpan = [&](ExprRef v) {
      return ix(minIndex(B::binary(BinaryFn::Max, v, lo), hi));
    };
    ExprRef inLo = clampSpan(
        ceilDivPos(B::binary(BinaryFn::Max, shift, B::i64(0)), cv.strideW));
    ExprRef inHi = clampSpan(ceilDivPos(
        B::binary(BinaryFn::Max, addIndex(shift, B::i64(cv.w)), B::i64(0)),
        cv.strideW));
    auto column = [&](ExprRef ow) { return ix(addIndex(rowStart, ow) - jq); };
    auto zeros = [&](ExprRef from, ExprRef to) {
      Var z = var("ow", cv.ow);
      return B::loop(
          z, ix(to - from),
          {B::store(packedB_,
                    ix(addIndex(rowBase, column(addIndex(from, B::ref(z))))),
                    B::constant(DType::F32, 0))});
    };
    Var t = var("ow", cv.ow);
    ExprRef ow = ix(addIndex(inLo, B::ref(t)));
    ExprRef iw = ix(addIndex(mulIndex(ow, cv.strideW), B::i64(0) - shift));
    auto v = io_.load(f_.bOperand, {ix(n), ix(channel), ih, iw});
    if (!v.ok())
      return v.status();
    StmtRef copy = B::loop(
        t, ix(inHi - inLo),
        {B::store(packedB_, ix(addIndex(rowBase, column(ow))), ix(*v))});
    ExprRef rowInside =
        B::binary(BinaryFn::And, B::compare(CmpFn::Ge, ih, B::i64(0)),
                  B::compare(CmpFn::Lt, ih, B::i64(cv.h)));
    Var zc = var("c", s_.nr);
    StmtRef tail = B::loop(
        zc, B::i64(s_.nr) - valid,
        {B::store(packedB_, ix(addIndex(addIndex(rowBase, valid), B::ref(zc))),
                  B::constant(DType::F32, 0))});
    StmtRef rows =
        B::loop(row, ix(last - first + B::i64(1)),
                {B::ifThen(rowInside, {zeros(lo, inLo), copy, zeros(inHi, hi)},
                           {zeros(lo, hi)})});
    return B::loop(ci, ix(B::binary(BinaryFn::Div, kLen_, B::i64(window))),
                   {B::loop(kh, B::i64(cv.kh),
                            {B::loop(kw, B::i64(cv.kw), {rows, tail})})});
  }

  // Rows [i, i + rows) of A as a K x mr panel (row r of A in column r);
  // rows past `rows` are zero.
  absl::StatusOr<StmtRef> packPanel(ExprRef batch, ExprRef i, ExprRef rows) {
    Var r = var("r", s_.mr), p = var("p", kc_);
    ExprRef at = ix(addIndex(mulIndex(B::ref(p), s_.mr), B::ref(r)));
    auto copy = copyElement(
        f_.aOperand,
        f_.a(batch, addIndex(i, B::ref(r)), addIndex(k0_, B::ref(p))), packedA_,
        at);
    if (!copy.ok())
      return copy.status();
    Var z = var("r", s_.mr), pz = var("p", kc_);
    ExprRef zAt = ix(addIndex(mulIndex(B::ref(pz), s_.mr), B::ref(z)));
    return B::block(
        {B::loop(r, rows, {B::loop(p, kLen_, {*copy})}),
         B::loop(pz, kLen_,
                 {B::loop(z, B::i64(s_.mr) - rows,
                          {B::store(packedA_, addIndex(zAt, rows),
                                    B::constant(DType::F32, 0))})})});
  }

  // The finished tile's rows x cols elements through the epilogue.
  absl::StatusOr<StmtRef> store(ExprRef batch, ExprRef i, ExprRef rows,
                                ExprRef j, ExprRef cols, ExprRef tileAt) {
    Var r = var("r", s_.mr), c = var("c", s_.nr);
    ExprRef value = B::load(
        tile_, DType::F32,
        ix(addIndex(tileAt, addIndex(mulIndex(B::ref(r), s_.nr), B::ref(c)))));
    ExprRef row = ix(addIndex(i, B::ref(r)));
    if (f_.biasOperand >= 0) {
      std::vector<ExprRef> coords;
      for (const ExprRef &e : f_.bias(batch, row))
        coords.push_back(ix(e));
      auto bias = io_.load(f_.biasOperand, coords);
      if (!bias.ok())
        return bias.status();
      value = B::binary(BinaryFn::Add, value, ix(*bias));
    }
    std::vector<ExprRef> coords;
    for (const ExprRef &e : f_.c(batch, row, ix(addIndex(j, B::ref(c)))))
      coords.push_back(ix(e));
    auto stores = io_.store(coords, value);
    if (!stores.ok())
      return stores.status();
    // The caller ravels coordinates into offsets; cancel what the ranges
    // allow there too.
    std::vector<StmtRef> simplified;
    for (const StmtRef &st : *stores) {
      if (st->kind != Stmt::Kind::Store && st->kind != Stmt::Kind::Declare) {
        simplified.push_back(st);
        continue;
      }
      auto copy = std::make_shared<Stmt>(*st);
      if (copy->index)
        copy->index = ix(copy->index);
      copy->value = ix(copy->value);
      simplified.push_back(copy);
    }
    return B::loop(r, rows, {B::loop(c, cols, std::move(simplified))});
  }

  const GemmForm &f_;
  const GemmSchedule &s_;
  const GemmIo &io_;
  Kernel &kernel_;
  Builder &b_;
  VarExtents extents_;
  int packedA_ = -1, packedB_ = -1, tile_ = -1;
  bool directA_ = false;
  int64_t kc_ = 0;    // depth of the K blocks (K when not blocked)
  ExprRef k0_, kLen_; // the current K block's start and length
};

} // namespace

std::optional<GemmForm> gemmFormOf(const ir::Op &op) {
  if (GpuForm::active())
    return std::nullopt;
  if (op.results.size() != 1)
    return std::nullopt;
  if (op.name() == "matmul" && op.numOperands() == 2)
    return matmulForm(op);
  if (op.name() == "conv2d" && (op.numOperands() == 2 || op.numOperands() == 3))
    return convForm(op);
  return std::nullopt;
}

absl::StatusOr<GemmSchedule> scheduleOf(const ir::Op &op,
                                        const GemmShape &shape) {
  auto it = op.attrs.find(ir::kScheduleAttr);
  // Without a schedule (the autotune pass sets one for the target), a tile
  // of 8-lane vectors: no spills on AVX2, good enough on AVX-512.
  if (it == op.attrs.end())
    return defaultSchedule(shape, 8, 1);
  const auto *text = std::get_if<std::string>(&it->second);
  if (!text)
    return absl::InvalidArgumentError(
        strCat("'", op.name(),
               "' attribute 'schedule' is not a string; "
               "expected \"mr=..,nr=..,mc=..,nc=..,pack_a=..\""));
  auto s = GemmSchedule::parse(*text);
  if (!s.ok())
    return s.status();
  // The backend picks the vector width; check the schedule against the
  // widest vectors its tile width allows.
  const int lanes = s->nr % 16 == 0 ? 16 : s->nr % 8 == 0 ? 8 : 4;
  if (auto v = validateSchedule(*s, shape, lanes); !v.ok())
    return v;
  return s;
}

absl::StatusOr<Kernel> lowerGemmOp(const ir::Op &op, const GemmForm &form,
                                   std::string name) {
  auto schedule = scheduleOf(op, form.shape);
  if (!schedule.ok())
    return schedule.status();
  Kernel k = kernelSkeleton(op, std::move(name));
  const int out = static_cast<int>(op.numOperands());
  GemmIo io;
  io.load = [&](int operand,
                const std::vector<ExprRef> &coords) -> absl::StatusOr<ExprRef> {
    const ir::TensorType &t = op.operand(operand)->type;
    return B::load(operand, t.dtype, ravel(coords, t.shape));
  };
  io.store = [&](const std::vector<ExprRef> &coords,
                 ExprRef value) -> absl::StatusOr<std::vector<StmtRef>> {
    return std::vector<StmtRef>{
        B::store(out, ravel(coords, op.result()->type.shape), value)};
  };
  io.aBuffer = form.aOperand;
  Builder b;
  auto body = buildGemm(form, *schedule, io, k, b);
  if (!body.ok())
    return body.status();
  k.body = *body;
  return k;
}

absl::StatusOr<StmtRef> buildGemm(const GemmForm &form,
                                  const GemmSchedule &schedule,
                                  const GemmIo &io, Kernel &kernel,
                                  Builder &builder) {
  return GemmBuilder(form, schedule, io, kernel, builder).run();
}

} // namespace nyx::kernel
