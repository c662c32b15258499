#include "codegen/kernel/gemm.h"

#include "codegen/kernel/lowering.h"

#include <algorithm>
#include <set>

#include "absl/status/status.h"
#include "codegen/kernel/index_math.h"
#include "codegen/kernel/simplify.h"
#include "ir/conv_filter.h"
#include "ir/op_registry.h"
#include "ir/strings.h"

namespace nyx::kernel {
namespace {

using B = Builder;

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// conv2d's input x, the operand its im2col view reads.
constexpr int kConvInput = 0;

// Images of at most this many output pixels are stacked into products
// (GemmForm::ConvInput::images) of at most kStackedRows rows: the filter
// streams through the cache once per product, and a task's copy of the
// input holds a product's images at most, whatever the batch.
constexpr int64_t kStackedImagePixels = 256;
constexpr int64_t kStackedRows = 1024;

// Pixel-rows tiles skip the tap columns over the padding when each tap's
// run of K holds at least this many steps (input channels per group).
constexpr int64_t kTapColumnSteps = 64;

// How many of a batch of n images of `pixels` output pixels each product
// stacks: the most that divide the batch and fit in kStackedRows rows.
int64_t stackedImages(int64_t n, int64_t pixels) {
  if (pixels <= 0 || pixels > kStackedImagePixels)
    return 1;
  int64_t images = std::max<int64_t>(1, std::min(n, kStackedRows / pixels));
  while (n % images != 0)
    --images;
  return images;
}

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

} // namespace

std::optional<GemmForm> matmulGemmForm(const ir::Op &op) {
  if (op.name() != "matmul" || op.numOperands() != 2 || op.results.size() != 1)
    return std::nullopt;
  const ir::TensorType &a = op.operand(0)->type;
  const ir::TensorType &bt = op.operand(1)->type;
  const ir::TensorType &c = op.result(0)->type;
  if (a.rank() < 2 || bt.rank() < 2 || c.rank() < 2)
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
  if (!transB) {
    f.shape.bInPlace = true;
    f.bBase = [=](ExprRef b) {
      return mulIndex(broadcastRavel(unravel(b, batch), batchB), k * n);
    };
    f.bRowStride = n;
  }
  return f;
}

namespace {

std::optional<GemmForm> convForm(const ir::Op &op) {
  const ir::TensorType &x = op.operand(0)->type, &w = op.operand(1)->type;
  const ir::TensorType &y = op.result(0)->type;
  if (x.dtype != DType::F32 || w.dtype != DType::F32 || y.dtype != DType::F32 ||
      x.rank() != 4 || y.rank() != 4)
    return std::nullopt;
  auto strides = op.getInts("strides", std::vector<int64_t>{1, 1});
  auto padding = op.getInts("padding", std::vector<int64_t>{0, 0, 0, 0});
  auto dilations = op.getInts("dilations", std::vector<int64_t>{1, 1});
  auto groups = op.getInt("groups", 1);
  if (!strides.ok() || !padding.ok() || !dilations.ok() || !groups.ok() ||
      strides->size() != 2 || padding->size() != 4 || dilations->size() != 2)
    return std::nullopt;
  auto layout = ir::filterLayout(op);
  if (!layout.ok() || w.rank() != layout->rank())
    return std::nullopt;
  const std::array<int64_t, 4> filter = ir::filterDims(w.shape, *layout);
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  const int64_t M = filter[0], kH = filter[2], kW = filter[3];
  const int64_t G = *groups;
  if (G < 1 || C % G != 0 || M % G != 0 || filter[1] != C / G)
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

  // Each tap shifts the input by up to (kW-1)*dW/sW columns of its stride
  // phase; a grid that wide keeps every shifted row of a valid output
  // inside its own input row.
  const int64_t gridWidth = OW + (kW - 1) * dW / sW;

  GemmForm f;
  f.conv = GemmForm::ConvInput{G,  Cg, kH, kW, sH, sW, pT,       pL,
                               dH, dW, H,  W,  OH, OW, gridWidth};
  // Some tap rows of the first or last output rows read padding only.
  const bool tapRowsOnPadding =
      kH > 1 && (pT > 0 || (OH - 1) * sH - pT + (kH - 1) * dH >= H);
  auto group = [=](ExprRef b) {
    return B::binary(BinaryFn::Rem, b, B::i64(G));
  };
  if (op.numOperands() == 3) {
    f.biasOperand = 2;
    f.bias = [=](ExprRef b, ExprRef channel) {
      return std::vector<ExprRef>{addIndex(mulIndex(group(b), Mg), channel)};
    };
  }
  if (layout->kind != ir::FilterLayout::OIHW) {
    // Output pixels x output channels, K in the (kh, kw, channel) order
    // of both layouts: B is the filter's [kH*kW*Cg, M] matrix, columns of
    // group g from g*Mg; blocked, each block of its columns a
    // [kH*kW*Cg, block] matrix of its own.
    f.conv->pixelRows = true;
    // Small images (ResNet-18's last two stages) have too few pixels to
    // reuse the filter's panels: a batch of them is stacked into products.
    if (G == 1)
      f.conv->images = stackedImages(N, OH * OW);
    f.shape = {N * G / f.conv->images, f.conv->images * OH * OW, Mg,
               Cg * kH * kW};
    if (tapRowsOnPadding)
      f.shape.pixelRowWidth = OW;
    f.aOperand = 0;
    f.bOperand = 1;
    const ir::Shape taps = {kH, kW, Cg};
    const int64_t block = layout->block, K = Cg * kH * kW;
    f.b = [=](ExprRef b, ExprRef p, ExprRef j) {
      std::vector<ExprRef> coords = unravel(p, taps);
      ExprRef channel = addIndex(mulIndex(group(b), Mg), j);
      if (!block) {
        coords.push_back(channel);
        return OperandElement{coords, nullptr};
      }
      coords.insert(coords.begin(),
                    B::binary(BinaryFn::Div, channel, B::i64(block)));
      coords.push_back(B::binary(BinaryFn::Rem, channel, B::i64(block)));
      return OperandElement{coords, nullptr};
    };
    if (!block) {
      f.bBase = [=](ExprRef b) { return mulIndex(group(b), Mg); };
      f.bRowStride = M;
      return f;
    }
    // Group g's first block is block g*Mg/block, K*block elements each.
    f.shape.bBlock = block;
    f.bBase = [=](ExprRef b) { return mulIndex(group(b), Mg * K); };
    f.bRowStride = block;
    f.bBlockStride = K * block;
    return f;
  }
  f.shape = {N * G, Mg, OH * gridWidth, Cg * kH * kW};
  f.aOperand = 1;
  f.bOperand = 0;
  const ir::Shape window = {Cg, kH, kW};
  // A is the weights viewed as an M x (Cg*kH*kW) row-major matrix per group.
  f.a = [=](ExprRef b, ExprRef i, ExprRef p) {
    std::vector<ExprRef> coords = {addIndex(mulIndex(group(b), Mg), i)};
    for (const ExprRef &e : unravel(p, window))
      coords.push_back(e);
    return OperandElement{coords, nullptr};
  };
  f.aBase = [=](ExprRef b) { return mulIndex(group(b), Mg * Cg * kH * kW); };
  f.aRowStride = Cg * kH * kW;
  f.aInnerStride = 1;
  return f;
}

// Builds the loop nest of buildGemm; keeps the extents of the loop indices
// so index arithmetic simplifies.
class GemmBuilder {
public:
  GemmBuilder(const GemmForm &form, const GemmSchedule &s, const GemmIo &io,
              Kernel &kernel, Builder &b)
      : f_(form), s_(withinProblem(s, form.shape)), io_(io), kernel_(kernel),
        b_(b), vars_(b) {}

  absl::StatusOr<StmtRef> run() {
    const GemmShape &g = f_.shape;
    if (g.batch == 0 || g.m == 0 || g.n == 0)
      return B::block({});
    const int64_t tilesM = ceilDiv(g.m, s_.mc), tilesN = ceilDiv(g.n, s_.nc);
    const int64_t panels = s_.nc / s_.nr;
    pixelRows_ = f_.conv && f_.conv->pixelRows;
    kc_ = s_.kc > 0 && s_.kc < g.k ? s_.kc : std::max<int64_t>(g.k, 1);
    const bool blocked = kc_ < g.k;
    const int64_t kBlocks = blocked ? ceilDiv(g.k, kc_) : 1;
    if (f_.conv)
      shiftedInputBuffers();
    // B is read in place (a short last panel through masked loads) when
    // its form allows and the schedule says so, always for an ihwo filter;
    // else it is packed per task, but for a convolution's input copy.
    directB_ = io_.bBuffer >= 0 && f_.bBase && (pixelRows_ || !s_.packB);
    if (!directB_ && !f_.conv)
      packedB_ = scratch("packed_b", kc_ * s_.nc);
    directA_ = !s_.packA && io_.aBuffer >= 0 && f_.aBase;
    if (!s_.packA && !directA_ && !f_.conv)
      viewA_ = viewOfA();
    if (viewA_ >= 0) {
      aRows_ = scratch("a_rows", s_.mc, DType::I64);
      aSteps_ = scratch("a_steps", g.k, DType::I64);
    }
    if (!pixelRows_)
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
    std::vector<StmtRef> block, body;
    if (f_.conv) {
      // The task's first output row: that of its first pixel, or of its
      // first column of the widened grid; 0 where whole images are copied.
      firstImage_ = imagePixel(i0).first;
      firstRow_ =
          f_.conv->images > 1 ? B::i64(0)
          : pixelRows_
              ? ix(B::binary(BinaryFn::Div, i0, B::i64(f_.conv->ow)))
              : ix(B::binary(BinaryFn::Div, j0, B::i64(f_.conv->gridWidth)));
      body.push_back(rowTable());
      if (pixelRows_)
        body.push_back(pixelTable(i0));
      auto copy = copyShiftedInput(batch);
      if (!copy.ok())
        return copy.status();
      body.push_back(*copy);
    } else if (!directB_) {
      auto packB = packBlock(batch, j0, panels);
      if (!packB.ok())
        return packB.status();
      block.push_back(*packB);
    }
    if (viewA_ >= 0) {
      auto tables = viewTables(batch, i0);
      if (!tables.ok())
        return tables.status();
      body.insert(body.end(), tables->begin(), tables->end());
    }

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
    const TileSteps steps = tileSteps(i, rows, B::ref(kBlock), blocked);

    absl::StatusOr<StmtRef> epilogue =
        !f_.conv     ? store(batch, i, rows, j, cols, tileAt)
        : pixelRows_ ? storePixels(batch, i, rows, j, cols, tileAt)
                     : storeConv(batch, i, rows, j, cols, tileAt);
    if (!epilogue.ok())
      return epilogue.status();
    auto as = aVariants(batch, i, i0, rows, steps.start);
    if (!as.ok())
      return as.status();
    const std::vector<TileVariant> bs =
        bVariants(batch, j, cols, colPanel, steps.start);
    auto tile = [&](const TileVariant &v) {
      std::vector<StmtRef> run = v.prepare;
      StmtRef product = B::matmulTile(tile_, tileAt, steps.count, v.args);
      run.push_back(
          steps.mayBeNone
              ? B::ifThen(B::compare(CmpFn::Gt, steps.count, B::i64(0)),
                          {product})
              : product);
      if (!blocked)
        run.push_back(*epilogue);
      return run;
    };

    auto inRows = [&](std::vector<StmtRef> body) {
      return B::loop(
          rowPanel, B::i64(s_.mc / s_.mr),
          {B::ifThen(B::compare(CmpFn::Lt, i, B::i64(g.m)), std::move(body))});
    };
    auto inColumns = [&](std::vector<StmtRef> body) {
      return B::loop(
          colPanel, B::i64(panels),
          {B::ifThen(B::compare(CmpFn::Lt, j, B::i64(g.n)), std::move(body))});
    };
    if (directB_) {
      // A B panel read in place (an hwio filter, a matmul's weights) is the
      // operand to keep in cache: it stays there across the row panels.
      std::vector<StmtRef> panel = steps.locals;
      if (skipsTapColumns()) {
        auto taps = tapColumnTiles(batch, i, i0, j, cols, colPanel, tileAt,
                                   steps, B::ref(kBlock), blocked);
        if (!taps.ok())
          return taps.status();
        panel.insert(panel.end(), taps->begin(), taps->end());
        if (!blocked)
          panel.push_back(*epilogue);
      } else {
        panel.push_back(
            firstThatHolds(pairings(*as, bs, steps.accumulate), tile));
      }
      block.push_back(inColumns({inRows(std::move(panel))}));
    } else {
      // The row panel of A is packed once for all the task's column panels.
      std::vector<StmtRef> panel = steps.locals;
      panel.push_back(firstThatHolds(*as, [&](const TileVariant &a) {
        TileVariant read = a;
        read.when = nullptr;
        read.prepare.clear();
        std::vector<StmtRef> run = a.prepare;
        run.push_back(inColumns(
            {firstThatHolds(pairings({read}, bs, steps.accumulate), tile)}));
        return run;
      }));
      block.push_back(inRows(std::move(panel)));
    }
    if (blocked) {
      body.push_back(B::loop(kBlock, B::i64(kBlocks), std::move(block)));
      body.push_back(inRows({inColumns({*epilogue})}));
    } else {
      body.insert(body.end(), block.begin(), block.end());
    }
    return B::loop(task, B::i64(g.batch * tilesM * tilesN), std::move(body),
                   LoopKind::Parallel);
  }

private:
  Var var(std::string name, int64_t extent) {
    return vars_.var(std::move(name), extent);
  }

  ExprRef ix(const ExprRef &e) { return vars_.simplified(e); }

  int scratch(std::string name, int64_t elements, DType dtype = DType::F32) {
    return kernel_.addScratch(std::move(name), elements, dtype);
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

  // The K steps the tile of rows [i, i + rows) runs in K block `kBlock`:
  // `count` from `start`, onto the tile's sums when `accumulate` (null:
  // never), after `locals` (declared in the row panel's loop). With
  // `mayBeNone`, count may be 0 or less: the tile runs none.
  struct TileSteps {
    ExprRef start, count, accumulate;
    std::vector<StmtRef> locals;
    bool mayBeNone = false;
  };

  TileSteps tileSteps(ExprRef i, ExprRef rows, ExprRef kBlock, bool blocked) {
    if (!pixelRows_ || !f_.shape.pixelRowWidth)
      return {k0_,
              kLen_,
              blocked ? B::compare(CmpFn::Gt, kBlock, B::i64(0)) : nullptr,
              {}};
    // The tile's own steps, cut to the block; the block holding the first
    // of them starts the sums.
    auto [firstStep, endStep] = tapRows(i, rows);
    Var first = b_.newVar(DType::I64, "k_first"),
        end = b_.newVar(DType::I64, "k_end");
    ExprRef start = B::binary(BinaryFn::Max, k0_, B::ref(first));
    ExprRef stop = minIndex(ix(addIndex(k0_, kLen_)), B::ref(end));
    return {start,
            stop - start,
            blocked ? B::compare(CmpFn::Gt, k0_, B::ref(first)) : nullptr,
            {B::declare(first, firstStep), B::declare(end, endStep)},
            blocked};
  }

  // ceil(max(v, 0) / d).
  static ExprRef ceilDivNonNegative(ExprRef v, int64_t d) {
    return B::binary(
        BinaryFn::Div,
        addIndex(B::binary(BinaryFn::Max, v, B::i64(0)), B::i64(d - 1)),
        B::i64(d));
  }

  // The K steps [first, end) of the tap rows a pixel-rows tile of rows
  // [i, i + rows) reads the image with. K runs over (kh, kw, channel), so
  // the tap rows above the image for the tile's last output row, and
  // those below it for its first, are K's first and last steps. All of K
  // where the tile spans two images, or reads nothing but padding.
  std::pair<ExprRef, ExprRef> tapRows(ExprRef i, ExprRef rows) {
    const GemmForm::ConvInput &cv = *f_.conv;
    auto [firstImage, firstPixel] = imagePixel(i);
    auto [lastImage, lastPixel] = imagePixel(ix(i + rows - B::i64(1)));
    ExprRef top = ix(B::binary(BinaryFn::Div, firstPixel, B::i64(cv.ow)));
    ExprRef bottom = ix(B::binary(BinaryFn::Div, lastPixel, B::i64(cv.ow)));
    // Tap row kh reads input row oh*sH - padTop + kh*dH: above the image
    // for every pixel of the tile while that is negative at the bottom row,
    // below it from where it reaches H at the top row.
    ExprRef lo = ix(ceilDivNonNegative(
        B::i64(cv.padTop) - mulIndex(bottom, cv.strideH), cv.dilationH));
    ExprRef hi = ix(minIndex(
        B::i64(cv.kh),
        ceilDivNonNegative(B::i64(cv.h + cv.padTop) - mulIndex(top, cv.strideH),
                           cv.dilationH)));
    ExprRef skip = B::compare(CmpFn::Lt, lo, hi);
    if (cv.images > 1)
      skip = B::binary(BinaryFn::And, skip,
                       B::compare(CmpFn::Eq, firstImage, lastImage));
    const int64_t tapRow = cv.kw * cv.channels;
    return {ix(B::select(skip, mulIndex(lo, tapRow), B::i64(0))),
            ix(B::select(skip, mulIndex(hi, tapRow), B::i64(f_.shape.k)))};
  }

  // Whether pixel-rows tiles also skip the tap columns left and right of
  // the image: where the taps' padding columns exist, each tile is part of
  // one output row (mr divides OW, so its edge pixels are its first and
  // last rows), and each tap's run of K (the channels) is long enough to
  // pay for a tile's load and store.
  bool skipsTapColumns() const {
    if (!pixelRows_ || !f_.shape.pixelRowWidth)
      return false;
    const GemmForm::ConvInput &cv = *f_.conv;
    const bool padded =
        cv.padLeft > 0 ||
        (cv.ow - 1) * cv.strideW - cv.padLeft + (cv.kw - 1) * cv.dilationW >=
            cv.w;
    return padded && cv.kw > 1 && cv.ow % s_.mr == 0 &&
           cv.channels >= kTapColumnSteps;
  }

  // The tile of rows [i, i + mr) and columns [j, j + cols) over its K
  // steps in this block, tap by tap, each over the rows whose pixels read
  // the image with that tap's column: a tile of fewer rows where one or
  // two edge pixels read padding there. The tile's sums start at zero.
  absl::StatusOr<std::vector<StmtRef>>
  tapColumnTiles(ExprRef batch, ExprRef i, ExprRef i0, ExprRef j, ExprRef cols,
                 const Var &colPanel, ExprRef tileAt, const TileSteps &steps,
                 ExprRef kBlock, bool blocked) {
    const GemmForm::ConvInput &cv = *f_.conv;
    const int64_t channels = cv.channels, taps = cv.kh * cv.kw;
    std::vector<StmtRef> out;
    Var z = var("z", s_.mr * s_.nr);
    StmtRef zero = B::loop(z, B::i64(s_.mr * s_.nr),
                           {B::store(tile_, ix(addIndex(tileAt, B::ref(z))),
                                     B::constant(DType::F32, 0))});
    out.push_back(
        blocked ? B::ifThen(B::compare(CmpFn::Eq, kBlock, B::i64(0)), {zero})
                : zero);
    // Taps [first, first + count) meet the steps [start, stop).
    ExprRef start = steps.start, stop = ix(addIndex(steps.start, steps.count));
    ExprRef first = ix(B::binary(BinaryFn::Div, start, B::i64(channels)));
    ExprRef count = ix(B::binary(
        BinaryFn::Max, B::i64(0),
        ix(B::binary(BinaryFn::Div, addIndex(stop, B::i64(channels - 1)),
                     B::i64(channels)) -
           first)));
    Var t = var("tap", taps);
    ExprRef tap = ix(addIndex(first, B::ref(t)));
    Var from = b_.newVar(DType::I64, "k_from"),
        stepCount = b_.newVar(DType::I64, "k_steps"),
        row = b_.newVar(DType::I64, "r_first"),
        rows = b_.newVar(DType::I64, "r_count");
    ExprRef tapStart = mulIndex(tap, channels);
    ExprRef segStart = ix(B::binary(BinaryFn::Max, start, tapStart));
    ExprRef segStop = ix(minIndex(stop, addIndex(tapStart, B::i64(channels))));
    // Output column ow reads input column ow*sW - padLeft + kw*dW: in the
    // image from column ceil((padLeft - kw*dW) / sW) to before
    // ceil((W + padLeft - kw*dW) / sW).
    ExprRef kw = B::binary(BinaryFn::Rem, tap, B::i64(cv.kw));
    ExprRef ow0 = B::binary(BinaryFn::Rem, imagePixel(i).second, B::i64(cv.ow));
    auto tileRow = [&](int64_t shift) {
      ExprRef column = ceilDivNonNegative(
          B::i64(shift) - mulIndex(kw, cv.dilationW), cv.strideW);
      return B::binary(BinaryFn::Max, B::i64(0),
                       minIndex(B::i64(s_.mr), column - ow0));
    };
    ExprRef lo = ix(tileRow(cv.padLeft));
    ExprRef hi = ix(tileRow(cv.w + cv.padLeft));
    std::vector<StmtRef> body = {B::declare(from, segStart),
                                 B::declare(stepCount, ix(segStop - segStart)),
                                 B::declare(row, lo),
                                 B::declare(rows, ix(hi - lo))};
    auto as = aVariants(batch, ix(addIndex(i, B::ref(row))), i0, nullptr,
                        B::ref(from));
    if (!as.ok())
      return as.status();
    const std::vector<TileVariant> bs =
        bVariants(batch, j, cols, colPanel, B::ref(from));
    // Tiles of mr - 1 and mr - 2 rows where one or two edge pixels read
    // padding, else the whole tile (right for any rows: the input copy
    // holds the padding's zeros).
    std::vector<TileVariant> variants;
    for (int64_t shorter = 1; shorter <= 2 && s_.mr - shorter >= 1; ++shorter)
      for (TileVariant v : pairings(*as, bs, B::boolean(true))) {
        ExprRef fewer =
            B::compare(CmpFn::Eq, B::ref(rows), B::i64(s_.mr - shorter));
        v.when = v.when ? B::binary(BinaryFn::And, fewer, v.when) : fewer;
        v.args.rows = s_.mr - shorter;
        variants.push_back(std::move(v));
      }
    for (TileVariant v : pairings(*as, bs, B::boolean(true))) {
      v.args.aRow = TileStride::byTable(pixelTable_, ix(i - i0));
      variants.push_back(std::move(v));
    }
    body.push_back(B::ifThen(
        B::binary(BinaryFn::And,
                  B::compare(CmpFn::Gt, B::ref(stepCount), B::i64(0)),
                  B::compare(CmpFn::Gt, B::ref(rows), B::i64(0))),
        {firstThatHolds(variants, [&](const TileVariant &v) {
          ExprRef at = v.args.rows == s_.mr
                           ? tileAt
                           : ix(addIndex(tileAt, mulIndex(B::ref(row), s_.nr)));
          std::vector<StmtRef> run = v.prepare;
          run.push_back(B::matmulTile(tile_, at, B::ref(stepCount), v.args));
          return run;
        })}));
    out.push_back(B::loop(t, count, std::move(body)));
    return out;
  }

  // The task's K x nc block of B as nr-wide panels, each K x nr row-major;
  // columns past N are zero.
  absl::StatusOr<StmtRef> packBlock(ExprRef batch, ExprRef j0, int64_t panels) {
    const GemmShape &g = f_.shape;
    Var q = var("q", panels), p = var("p", kc_), c = var("c", s_.nr);
    ExprRef jq = ix(addIndex(j0, mulIndex(B::ref(q), s_.nr)));
    ExprRef valid = minIndex(B::i64(s_.nr), ix(B::i64(g.n) - jq));
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

  // A convolution task's copy of the input: for each channel of the group
  // and stride phase (ph, pw), the rows [firstRow, firstRow + rows) of the
  // phase plane, each gridWidth wide, where plane element (u, v) is the
  // zero-padded input at (u*sH + ph - padTop, v*sW + pw - padLeft). The
  // tap (kh, kw) of output (oh, ow) is then plane element (oh + kh*dH/sH,
  // ow + kw*dW/sW) of phase (kh*dH%sH, kw*dW%sW): at a fixed offset from
  // the output's own column, so B's rows are runs of this copy.
  void shiftedInputBuffers() {
    const GemmForm::ConvInput &cv = *f_.conv;
    // A task's nc columns of the widened grid (or mc pixels) cover at most
    // ceil(nc / gridWidth) + 1 (ceil(mc / ow) + 1) output rows; the taps
    // reach (kh-1)*dH/sH rows further, and the widened grid's last columns
    // one more.
    // Stacked images are copied whole, those the task's mc pixels meet.
    const int64_t tapRows = (cv.kh - 1) * cv.dilationH / cv.strideH;
    const int64_t rows = cv.images > 1
                             ? cv.oh + tapRows
                             : (pixelRows_ ? ceilDiv(s_.mc, cv.ow)
                                           : ceilDiv(s_.nc, cv.gridWidth)) +
                                   tapRows + 2;
    planeRows_ = rows;
    taskImages_ = cv.images > 1
                      ? std::min(cv.images, ceilDiv(s_.mc, cv.oh * cv.ow) + 1)
                      : 1;
    input_ = scratch("conv_input", taskImages_ * imageSize());
    rowTable_ = scratch("conv_rows", f_.shape.k, DType::I64);
    if (pixelRows_)
      pixelTable_ = scratch("conv_pixels", s_.mc, DType::I64);
  }

  int64_t planeSize() const { return planeRows_ * f_.conv->gridWidth; }
  // One image's planes in the input copy.
  int64_t imageSize() const {
    const GemmForm::ConvInput &cv = *f_.conv;
    return cv.channels * cv.strideH * cv.strideW * planeSize();
  }

  // conv_rows[p]: where row p of the im2col view starts in the input copy,
  // relative to the task's first output row. Row p is (channel, kh, kw)
  // of the oihw filter, or (kh, kw, channel) with pixel rows, the order of
  // their filters' rows.
  StmtRef rowTable() {
    const GemmForm::ConvInput &cv = *f_.conv;
    Var c = var("ci", cv.channels), kh = var("kh", cv.kh),
        kw = var("kw", cv.kw);
    ExprRef tapH = mulIndex(B::ref(kh), cv.dilationH);
    ExprRef tapW = mulIndex(B::ref(kw), cv.dilationW);
    ExprRef phase =
        addIndex(mulIndex(B::binary(BinaryFn::Rem, tapH, B::i64(cv.strideH)),
                          cv.strideW),
                 B::binary(BinaryFn::Rem, tapW, B::i64(cv.strideW)));
    ExprRef plane =
        addIndex(mulIndex(B::ref(c), cv.strideH * cv.strideW), phase);
    ExprRef offset = addIndex(
        addIndex(mulIndex(plane, planeSize()),
                 mulIndex(B::binary(BinaryFn::Div, tapH, B::i64(cv.strideH)),
                          cv.gridWidth)),
        B::binary(BinaryFn::Div, tapW, B::i64(cv.strideW)));
    ExprRef p =
        pixelRows_
            ? addIndex(
                  mulIndex(addIndex(mulIndex(B::ref(kh), cv.kw), B::ref(kw)),
                           cv.channels),
                  B::ref(c))
            : addIndex(
                  mulIndex(addIndex(mulIndex(B::ref(c), cv.kh), B::ref(kh)),
                           cv.kw),
                  B::ref(kw));
    return B::loop(
        c, B::i64(cv.channels),
        {B::loop(kh, B::i64(cv.kh),
                 {B::loop(kw, B::i64(cv.kw),
                          {B::store(rowTable_, ix(p), ix(offset))})})});
  }

  absl::StatusOr<StmtRef> copyShiftedInput(ExprRef batch) {
    const ExprRef &firstRow = firstRow_;
    const GemmForm::ConvInput &cv = *f_.conv;
    Var c = var("ci", cv.channels), ph = var("ph", cv.strideH),
        pw = var("pw", cv.strideW), u = var("u", planeRows_);
    Var image = var("img", taskImages_);
    const bool stacked = cv.images > 1;
    ExprRef rowBase = ix(mulIndex(
        addIndex(
            mulIndex(addIndex(mulIndex(addIndex(mulIndex(B::ref(c), cv.strideH),
                                                B::ref(ph)),
                                       cv.strideW),
                              B::ref(pw)),
                     planeRows_),
            B::ref(u)),
        cv.gridWidth));
    if (stacked)
      rowBase = ix(addIndex(mulIndex(B::ref(image), imageSize()), rowBase));
    ExprRef ih = ix(
        addIndex(addIndex(mulIndex(addIndex(firstRow, B::ref(u)), cv.strideH),
                          B::ref(ph)),
                 B::i64(-cv.padTop)));
    // Plane columns v whose input column v*sW + pw - padLeft lies in
    // [0, W): [lo, hi).
    auto ceilDivPos = [&](ExprRef v) {
      return B::binary(BinaryFn::Div,
                       addIndex(B::binary(BinaryFn::Max, v, B::i64(0)),
                                B::i64(cv.strideW - 1)),
                       B::i64(cv.strideW));
    };
    ExprRef lo = ix(minIndex(ceilDivPos(B::i64(cv.padLeft) - B::ref(pw)),
                             B::i64(cv.gridWidth)));
    ExprRef hi = ix(
        B::binary(BinaryFn::Max, lo,
                  minIndex(ceilDivPos(B::i64(cv.w + cv.padLeft) - B::ref(pw)),
                           B::i64(cv.gridWidth))));
    auto zeros = [&](ExprRef from, ExprRef to) {
      Var z = var("v", cv.gridWidth);
      return B::loop(
          z, ix(to - from),
          {B::store(input_, ix(addIndex(rowBase, addIndex(from, B::ref(z)))),
                    B::constant(DType::F32, 0))});
    };
    Var t = var("v", cv.gridWidth);
    ExprRef v = ix(addIndex(lo, B::ref(t)));
    ExprRef iw = ix(addIndex(addIndex(mulIndex(v, cv.strideW), B::ref(pw)),
                             B::i64(-cv.padLeft)));
    ExprRef n = stacked ? addIndex(mulIndex(batch, cv.images),
                                   addIndex(firstImage_, B::ref(image)))
                        : B::binary(BinaryFn::Div, batch, B::i64(cv.groups));
    ExprRef channel =
        addIndex(mulIndex(B::binary(BinaryFn::Rem, batch, B::i64(cv.groups)),
                          cv.channels),
                 B::ref(c));
    auto value = io_.load(kConvInput, {ix(n), ix(channel), ih, iw});
    if (!value.ok())
      return value.status();
    StmtRef copy = B::loop(
        t, ix(hi - lo), {B::store(input_, ix(addIndex(rowBase, v)), *value)});
    ExprRef rowInside =
        B::binary(BinaryFn::And, B::compare(CmpFn::Ge, ih, B::i64(0)),
                  B::compare(CmpFn::Lt, ih, B::i64(cv.h)));
    StmtRef row =
        B::ifThen(rowInside,
                  {zeros(B::i64(0), lo), copy, zeros(hi, B::i64(cv.gridWidth))},
                  {zeros(B::i64(0), B::i64(cv.gridWidth))});
    StmtRef planes =
        B::loop(c, B::i64(cv.channels),
                {B::loop(ph, B::i64(cv.strideH),
                         {B::loop(pw, B::i64(cv.strideW),
                                  {B::loop(u, B::i64(planeRows_), {row})})})});
    if (!stacked)
      return planes;
    return B::loop(
        image,
        ix(minIndex(B::i64(taskImages_), B::i64(cv.images) - firstImage_)),
        {planes});
  }

  // Row q of a pixel-rows A as (image among the stacked ones, pixel of
  // the image); (0, q) when images are not stacked.
  std::pair<ExprRef, ExprRef> imagePixel(ExprRef q) {
    const GemmForm::ConvInput &cv = *f_.conv;
    if (cv.images == 1)
      return {B::i64(0), q};
    const int64_t pixels = cv.oh * cv.ow;
    return {ix(B::binary(BinaryFn::Div, q, B::i64(pixels))),
            ix(B::binary(BinaryFn::Rem, q, B::i64(pixels)))};
  }

  // conv_pixels[x]: where pixel i0 + x's row starts in the input copy;
  // pixels past the last one read the first.
  StmtRef pixelTable(ExprRef i0) {
    const GemmForm::ConvInput &cv = *f_.conv;
    Var x = var("x", s_.mc);
    ExprRef q = ix(addIndex(i0, B::ref(x)));
    auto [image, pixel] = imagePixel(q);
    ExprRef oh = B::binary(BinaryFn::Div, pixel, B::i64(cv.ow));
    ExprRef ow = B::binary(BinaryFn::Rem, pixel, B::i64(cv.ow));
    ExprRef offset =
        ix(addIndex(mulIndex(ix(image - firstImage_), imageSize()),
                    addIndex(mulIndex(ix(oh - firstRow_), cv.gridWidth), ow)));
    return B::loop(
        x, B::i64(s_.mc),
        {B::store(pixelTable_, B::ref(x),
                  B::select(B::compare(CmpFn::Lt, q, B::i64(f_.shape.m)),
                            offset, B::i64(0)))});
  }

  // Where A's elements are those of one f32 buffer at offsets that are a
  // part of the row plus a part of the inner index (a fused prologue of
  // transposes, reshapes and slices; e.g. attention's heads put back side
  // by side, A[i, p] = h[(p / 64) * 8192 + i * 64 + p % 64]): that buffer,
  // which full panels then read in place through the offset tables of
  // viewTables. Else -1.
  int viewOfA() {
    const GemmShape &g = f_.shape;
    Var b = var("b", g.batch), i = var("i", g.m), p = var("p", g.k);
    ExprRef index = aOffset(B::ref(b), B::ref(i), B::ref(p));
    if (!index)
      return -1;
    const int buffer = aOffsetBuffer_;
    const Buffer &buf = kernel_.buffers[buffer];
    if (buf.dtype != DType::F32 || buf.isOutput || buf.sameMemoryAs >= 0)
      return -1;
    for (const Buffer &other : kernel_.buffers)
      if (other.sameMemoryAs == buffer)
        return -1;
    std::vector<ExprRef> terms;
    additiveTerms(index, terms);
    for (const ExprRef &t : terms) {
      std::set<int> vars;
      usedVars(*t, vars);
      if (readsMemory(*t) ||
          (vars.count(p.id) && (vars.count(i.id) || vars.count(b.id))))
        return -1; // an offset read from memory, or rows and K mixed
    }
    return buffer;
  }

  // The offset of A[b, i, p] in the buffer viewOfA reads (which it sets in
  // aOffsetBuffer_), or null where the element is computed, padded or read
  // from another buffer.
  ExprRef aOffset(ExprRef b, ExprRef i, ExprRef p) {
    OperandElement e = f_.a(b, i, p);
    if (e.inside)
      return nullptr;
    auto value = io_.load(f_.aOperand, e.coords);
    if (!value.ok() || (*value)->kind != Expr::Kind::Load ||
        (aOffsetBuffer_ >= 0 && (*value)->buffer != aOffsetBuffer_))
      return nullptr;
    aOffsetBuffer_ = (*value)->buffer;
    return ix((*value)->args[0]);
  }

  static void additiveTerms(const ExprRef &e, std::vector<ExprRef> &terms) {
    if (e->kind == Expr::Kind::Binary && e->binary == BinaryFn::Add) {
      additiveTerms(e->args[0], terms);
      additiveTerms(e->args[1], terms);
    } else {
      terms.push_back(e);
    }
  }

  static bool readsMemory(const Expr &e) {
    return e.kind == Expr::Kind::Load ||
           std::any_of(e.args.begin(), e.args.end(),
                       [](const ExprRef &a) { return readsMemory(*a); });
  }

  // a_steps[p]: the offset of A[b, i, p] less that of A[b, i, 0], the
  // same for every row; a_rows[x]: the offset of A[b, i0 + x, 0] for the
  // task's rows.
  absl::StatusOr<std::vector<StmtRef>> viewTables(ExprRef batch, ExprRef i0) {
    const GemmShape &g = f_.shape;
    Var p = var("p", g.k), x = var("x", s_.mc);
    ExprRef zero = B::i64(0);
    ExprRef step = aOffset(zero, zero, B::ref(p));
    ExprRef first = aOffset(zero, zero, zero);
    ExprRef row = aOffset(batch, ix(addIndex(i0, B::ref(x))), zero);
    if (!step || !first || !row)
      return absl::InternalError("A's view lost its buffer");
    return std::vector<StmtRef>{
        B::loop(p, B::i64(g.k),
                {B::store(aSteps_, B::ref(p), ix(step - first))}),
        B::loop(x, ix(minIndex(B::i64(s_.mc), ix(B::i64(g.m) - i0))),
                {B::store(aRows_, B::ref(x), row)})};
  }

  // One way to read a tile's operand (A or B): the first variant whose
  // `when` holds (null: always) runs `prepare` (packing) and reads the
  // operand as the MatmulTile fields it sets say.
  struct TileVariant {
    ExprRef when;
    std::vector<StmtRef> prepare;
    MatmulTileArgs args;
  };

  // A for the tile of rows [i, i + rows) from K step `start`: through the
  // input copy's tables (pixel rows), or read in place when the panel is
  // full, else packed (from the block's first step, which is `start`).
  absl::StatusOr<std::vector<TileVariant>>
  aVariants(ExprRef batch, ExprRef i, ExprRef i0, ExprRef rows, ExprRef start) {
    if (pixelRows_) {
      TileVariant v;
      v.args.aBuffer = input_;
      v.args.aIndex = B::i64(0);
      v.args.aRow = TileStride::byTable(pixelTable_, ix(i - i0));
      v.args.aStep = TileStride::byTable(rowTable_, start);
      return std::vector<TileVariant>{v};
    }
    auto packA = packPanel(batch, i, rows);
    if (!packA.ok())
      return packA.status();
    TileVariant packed{nullptr, {*packA}, {}};
    packed.args.aBuffer = packedA_;
    packed.args.aIndex = B::i64(0);
    packed.args.aRow = TileStride::fixed(1);
    packed.args.aStep = TileStride::fixed(s_.mr);
    // Full panels read A in place; the last, short one is packed so the
    // tile never reads past A's rows.
    TileVariant direct{B::compare(CmpFn::Eq, rows, B::i64(s_.mr)), {}, {}};
    if (viewA_ >= 0) {
      direct.args.aBuffer = viewA_;
      direct.args.aIndex = B::i64(0);
      direct.args.aRow = TileStride::byTable(aRows_, ix(i - i0));
      direct.args.aStep = TileStride::byTable(aSteps_, start);
      return std::vector<TileVariant>{direct, packed};
    }
    if (!directA_)
      return std::vector<TileVariant>{packed};
    direct.args.aBuffer = io_.aBuffer;
    direct.args.aIndex =
        ix(addIndex(addIndex(f_.aBase(batch), mulIndex(i, f_.aRowStride)),
                    mulIndex(start, f_.aInnerStride)));
    direct.args.aRow = TileStride::fixed(f_.aRowStride);
    direct.args.aStep = TileStride::fixed(f_.aInnerStride);
    return std::vector<TileVariant>{direct, packed};
  }

  // B for the panel of columns [j, j + cols) from K step `start`: a
  // convolution's input copy through the row table, the task's packed
  // block, or read in place, the columns past a short last panel masked
  // off.
  std::vector<TileVariant> bVariants(ExprRef batch, ExprRef j, ExprRef cols,
                                     const Var &colPanel, ExprRef start) {
    TileVariant v;
    if (f_.conv && !pixelRows_) {
      v.args.bBuffer = input_;
      v.args.bIndex = ix(j - mulIndex(firstRow_, f_.conv->gridWidth));
      v.args.bRow = TileStride::byTable(rowTable_, start);
      return {v};
    }
    if (!directB_) {
      v.args.bBuffer = packedB_;
      v.args.bIndex = mulIndex(B::ref(colPanel), s_.nr * kc_);
      v.args.bRow = TileStride::fixed(s_.nr);
      return {v};
    }
    v.args.bBuffer = io_.bBuffer;
    // A blocked B's panel starts a block (nr covers whole blocks).
    const int64_t block = f_.shape.bBlock;
    ExprRef column = block
                         ? mulIndex(B::binary(BinaryFn::Div, j, B::i64(block)),
                                    f_.bBlockStride)
                         : j;
    v.args.bIndex = ix(addIndex(
        addIndex(f_.bBase(batch), mulIndex(start, f_.bRowStride)), column));
    v.args.bRow = TileStride::fixed(f_.bRowStride);
    v.args.bBlock = block;
    v.args.bBlockStride = f_.bBlockStride;
    if (f_.shape.n % s_.nr == 0)
      return {v};
    TileVariant full = v;
    full.when = B::compare(CmpFn::Eq, cols, B::i64(s_.nr));
    v.args.bCols = cols;
    return {full, v};
  }

  // The first of `variants` whose `when` holds runs `body` of it.
  template <typename Body>
  static StmtRef firstThatHolds(const std::vector<TileVariant> &variants,
                                const Body &body) {
    StmtRef chain;
    for (auto v = variants.rbegin(); v != variants.rend(); ++v)
      chain =
          chain ? B::ifThen(v->when, body(*v), {chain}) : B::block(body(*v));
    return chain;
  }

  // Every pairing of an A and a B variant, in order: the first whose
  // conditions both hold runs the tile.
  std::vector<TileVariant> pairings(const std::vector<TileVariant> &as,
                                    const std::vector<TileVariant> &bs,
                                    ExprRef accumulate) {
    std::vector<TileVariant> out;
    for (const TileVariant &a : as)
      for (const TileVariant &b : bs) {
        TileVariant v = a;
        v.when = !a.when   ? b.when
                 : !b.when ? a.when
                           : B::binary(BinaryFn::And, a.when, b.when);
        v.prepare.insert(v.prepare.end(), b.prepare.begin(), b.prepare.end());
        v.args.bBuffer = b.args.bBuffer;
        v.args.bIndex = b.args.bIndex;
        v.args.bRow = b.args.bRow;
        v.args.bCols = b.args.bCols;
        v.args.bBlock = b.args.bBlock;
        v.args.bBlockStride = b.args.bBlockStride;
        v.args.rows = s_.mr;
        v.args.cols = s_.nr;
        v.args.accumulate = accumulate;
        out.push_back(std::move(v));
      }
    return out;
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
    auto biased = withBias(batch, row, value);
    if (!biased.ok())
      return biased.status();
    value = *biased;
    std::vector<ExprRef> coords;
    for (const ExprRef &e : f_.c(batch, row, ix(addIndex(j, B::ref(c)))))
      coords.push_back(ix(e));
    auto stores = io_.store(coords, value);
    if (!stores.ok())
      return stores.status();
    return B::loop(r, rows, {B::loop(c, cols, simplified(*stores))});
  }

  // The tile's value plus the bias of output channel `channel` of the
  // batch's group, if the op has one.
  absl::StatusOr<ExprRef> withBias(ExprRef batch, ExprRef channel,
                                   ExprRef value) {
    if (f_.biasOperand < 0)
      return value;
    std::vector<ExprRef> coords;
    for (const ExprRef &e : f_.bias(batch, channel))
      coords.push_back(ix(e));
    auto bias = io_.load(f_.biasOperand, coords);
    if (!bias.ok())
      return bias.status();
    return B::binary(BinaryFn::Add, value, ix(*bias));
  }

  // A pixel-rows convolution tile: row r is pixel i + r, column c output
  // channel j + c of the batch's group.
  absl::StatusOr<StmtRef> storePixels(ExprRef batch, ExprRef i, ExprRef rows,
                                      ExprRef j, ExprRef cols, ExprRef tileAt) {
    const GemmForm::ConvInput &cv = *f_.conv;
    Var r = var("r", s_.mr), c = var("c", s_.nr);
    ExprRef q = ix(addIndex(i, B::ref(r)));
    ExprRef channel = ix(addIndex(j, B::ref(c)));
    auto value = withBias(
        batch, channel,
        B::load(tile_, DType::F32,
                ix(addIndex(tileAt,
                            addIndex(mulIndex(B::ref(r), s_.nr), B::ref(c))))));
    if (!value.ok())
      return value.status();
    // Batch b is image b / groups, or with stacked images (one group) the
    // images from b * images.
    auto [image, pixel] = imagePixel(q);
    auto stores = io_.store(
        {ix(addIndex(
             mulIndex(B::binary(BinaryFn::Div, batch, B::i64(cv.groups)),
                      cv.images),
             image)),
         ix(addIndex(
             mulIndex(B::binary(BinaryFn::Rem, batch, B::i64(cv.groups)),
                      f_.shape.n),
             channel)),
         ix(B::binary(BinaryFn::Div, pixel, B::i64(cv.ow))),
         ix(B::binary(BinaryFn::Rem, pixel, B::i64(cv.ow)))},
        *value);
    if (!stores.ok())
      return stores.status();
    return B::loop(r, rows, {B::loop(c, cols, simplified(*stores))});
  }

  // The caller ravels coordinates into offsets; cancel what the ranges
  // allow there too.
  std::vector<StmtRef> simplified(const std::vector<StmtRef> &stores) {
    std::vector<StmtRef> out;
    for (const StmtRef &st : stores) {
      if (st->kind != Stmt::Kind::Store && st->kind != Stmt::Kind::Declare) {
        out.push_back(st);
        continue;
      }
      auto copy = std::make_shared<Stmt>(*st);
      if (copy->index)
        copy->index = ix(copy->index);
      copy->value = ix(copy->value);
      out.push_back(copy);
    }
    return out;
  }

  // A convolution tile's rows x cols elements: C's column j is output
  // (j / gridWidth, j % gridWidth); each output row the tile meets is a
  // contiguous span of it, and the widened grid's extra columns are
  // skipped.
  absl::StatusOr<StmtRef> storeConv(ExprRef batch, ExprRef i, ExprRef rows,
                                    ExprRef j, ExprRef cols, ExprRef tileAt) {
    const GemmForm::ConvInput &cv = *f_.conv;
    const int64_t width = cv.gridWidth;
    ExprRef first = B::binary(BinaryFn::Div, j, B::i64(width));
    ExprRef last = B::binary(BinaryFn::Div, ix(addIndex(j, cols) - B::i64(1)),
                             B::i64(width));
    Var r = var("r", s_.mr), t = var("oh", cv.oh), c = var("ow", cv.ow);
    ExprRef oh = ix(addIndex(first, B::ref(t)));
    ExprRef rowStart = mulIndex(oh, width);
    ExprRef lo = ix(B::binary(BinaryFn::Max, j - rowStart, B::i64(0)));
    ExprRef hi = ix(minIndex(addIndex(j, cols) - rowStart, B::i64(cv.ow)));
    ExprRef ow = ix(addIndex(lo, B::ref(c)));
    ExprRef value =
        B::load(tile_, DType::F32,
                ix(addIndex(addIndex(tileAt, mulIndex(B::ref(r), s_.nr)),
                            addIndex(rowStart, ow) - j)));
    ExprRef row = ix(addIndex(i, B::ref(r)));
    auto biased = withBias(batch, row, value);
    if (!biased.ok())
      return biased.status();
    value = *biased;
    ExprRef channel =
        addIndex(mulIndex(B::binary(BinaryFn::Rem, batch, B::i64(cv.groups)),
                          f_.shape.m),
                 row);
    auto stores =
        io_.store({ix(B::binary(BinaryFn::Div, batch, B::i64(cv.groups))),
                   ix(channel), oh, ow},
                  value);
    if (!stores.ok())
      return stores.status();
    return B::loop(r, rows,
                   {B::loop(t, ix(last - first + B::i64(1)),
                            {B::loop(c, ix(hi - lo), simplified(*stores))})});
  }

  const GemmForm &f_;
  const GemmSchedule s_; // cut to the problem (withinProblem)
  const GemmIo &io_;
  Kernel &kernel_;
  Builder &b_;
  IndexVars vars_;
  int packedA_ = -1, packedB_ = -1, tile_ = -1;
  // A convolution's input copy and its row and pixel tables.
  int input_ = -1, rowTable_ = -1, pixelTable_ = -1;
  int64_t planeRows_ = 0;  // rows of each input copy plane
  int64_t taskImages_ = 1; // stacked images a task's copy holds
  ExprRef firstImage_;     // the first of them
  bool pixelRows_ = false;
  ExprRef firstRow_; // the task's first output row
  bool directA_ = false, directB_ = false;
  // The buffer A is a view of (viewOfA), and its offset tables; -1: none.
  int viewA_ = -1, aRows_ = -1, aSteps_ = -1, aOffsetBuffer_ = -1;
  int64_t kc_ = 0;    // depth of the K blocks (K when not blocked)
  ExprRef k0_, kLen_; // the current K block's start and length
};

} // namespace

std::optional<GemmForm> gemmFormOf(const ir::Op &op) {
  if (GpuForm::active())
    return std::nullopt;
  if (op.results.size() != 1)
    return std::nullopt;
  if (op.name() == "matmul") {
    for (const ir::Value *v : {op.operand(0), op.operand(1), op.result(0)})
      if (v->type.dtype != DType::F32)
        return std::nullopt;
    return matmulGemmForm(op);
  }
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

GemmIo opGemmIo(const ir::Op &op) {
  const int out = static_cast<int>(op.numOperands());
  GemmIo io;
  io.load =
      [&op](int operand,
            const std::vector<ExprRef> &coords) -> absl::StatusOr<ExprRef> {
    const ir::TensorType &t = op.operand(operand)->type;
    return B::load(operand, t.dtype, ravel(coords, t.shape));
  };
  io.store = [&op, out](const std::vector<ExprRef> &coords,
                        ExprRef value) -> absl::StatusOr<std::vector<StmtRef>> {
    return std::vector<StmtRef>{
        B::store(out, ravel(coords, op.result()->type.shape), value)};
  };
  return io;
}

absl::StatusOr<Kernel> lowerGemmOp(const ir::Op &op, const GemmForm &form,
                                   std::string name) {
  auto schedule = scheduleOf(op, form.shape);
  if (!schedule.ok())
    return schedule.status();
  Kernel k = kernelSkeleton(op, std::move(name));
  GemmIo io = opGemmIo(op);
  io.aBuffer = form.aOperand;
  io.bBuffer = form.bOperand;
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
