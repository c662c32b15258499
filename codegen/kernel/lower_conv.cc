// Convolution and pooling over NCHW: conv2d, max_pool2d, avg_pool2d, and
// im2col, the view of an input that turns a convolution into a matmul.
// f32 convolutions with a real inner dimension are implicit GEMMs (gemm.h);
// the direct nest below handles depthwise ones and other dtypes.
//
// One output element per iteration of a parallel nest over [N, C, OH, OW]
// (for conv2d, [N, groups, M / groups, OH, OW]), a scalar accumulator in
// the compute type, and a serial nest over the window. Window positions in
// the padding are skipped by a bounds check around the load. The pools on
// CPUs run the outputs of a row in a serial loop instead, those whose
// windows lie inside the input without the checks (a loop that
// vectorizes): max_pool2d 3x3/2 of ResNet-18 ran in 0.22 ms instead of
// 0.6.
#include <algorithm>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "codegen/kernel/gemm.h"
#include "codegen/kernel/index_math.h"
#include "codegen/kernel/lowering.h"
#include "ir/conv_filter.h"
#include "ir/strings.h"

namespace nyx::kernel {
namespace {

using B = Builder;

absl::StatusOr<std::vector<int64_t>> pairAttr(const ir::Op &op,
                                              std::string_view attr,
                                              std::vector<int64_t> dflt,
                                              size_t size) {
  auto v = op.getInts(attr, dflt);
  if (!v.ok())
    return v.status();
  if (v->size() != size)
    return absl::InvalidArgumentError(strCat("'", op.name(), "' attribute '",
                                             attr, "' has ", v->size(),
                                             " entries; expected ", size));
  return v;
}

// The window attributes shared by conv2d, im2col and the pools: padding
// is [top, left, bottom, right].
struct Window {
  std::vector<int64_t> strides, padding, dilations;
};

absl::StatusOr<Window> windowOf(const ir::Op &op,
                                std::vector<int64_t> defaultStrides) {
  Window w;
  auto strides = pairAttr(op, "strides", std::move(defaultStrides), 2);
  if (!strides.ok())
    return strides.status();
  auto padding = pairAttr(op, "padding", {0, 0, 0, 0}, 4);
  if (!padding.ok())
    return padding.status();
  auto dilations = pairAttr(op, "dilations", {1, 1}, 2);
  if (!dilations.ok())
    return dilations.status();
  return Window{*strides, *padding, *dilations};
}

absl::Status requireFloatRank4(const ir::Op &op, int operand) {
  const ir::TensorType &t = op.operand(operand)->type;
  if (!ir::isFloat(t.dtype) || t.rank() != 4)
    return absl::InvalidArgumentError(
        strCat("'", op.name(), "' operand ", operand, " is ", t.str(),
               "; expected a rank-4 float tensor"));
  return absl::OkStatus();
}

// The input element x[n, c, ih, iw] where ih/iw may fall in the padding:
// `inside` says whether it does not.
struct Tap {
  ExprRef inside;
  ExprRef offset;
};

Tap tap(const ir::Shape &x, ExprRef n, ExprRef c, ExprRef ih, ExprRef iw) {
  ExprRef inside =
      B::binary(BinaryFn::And,
                B::binary(BinaryFn::And, B::compare(CmpFn::Ge, ih, B::i64(0)),
                          B::compare(CmpFn::Lt, ih, B::i64(x[2]))),
                B::binary(BinaryFn::And, B::compare(CmpFn::Ge, iw, B::i64(0)),
                          B::compare(CmpFn::Lt, iw, B::i64(x[3]))));
  std::vector<ExprRef> idx = {n, c, ih, iw};
  return {inside, ravel(idx, x)};
}

// ih = oh * stride - top + kh * dilation.
ExprRef inputCoord(ExprRef o, int64_t stride, int64_t pad, ExprRef k,
                   int64_t dilation) {
  return addIndex(addIndex(mulIndex(o, stride), B::i64(-pad)),
                  mulIndex(k, dilation));
}

absl::StatusOr<Kernel> lowerConv2d(const ir::Op &op, std::string name) {
  if (auto s = requireFloatRank4(op, 0); !s.ok())
    return s;
  const ir::TensorType &x = op.operand(0)->type, &w = op.operand(1)->type;
  const ir::TensorType &y = op.result(0)->type;
  const bool hasBias = op.numOperands() == 3;
  auto spatial = windowOf(op, {1, 1});
  if (!spatial.ok())
    return spatial.status();
  const std::vector<int64_t> &strides = spatial->strides,
                             &padding = spatial->padding,
                             &dilations = spatial->dilations;
  auto groups = op.getInt("groups", 1);
  if (!groups.ok())
    return groups.status();
  auto layout = ir::filterLayout(op);
  if (!layout.ok())
    return absl::InvalidArgumentError(
        strCat("'conv2d' ", layout.status().message()));
  if (!ir::isFloat(w.dtype) || w.rank() != layout->rank())
    return absl::InvalidArgumentError(strCat(
        "'conv2d' operand 1 is ", w.str(), "; expected a rank-", layout->rank(),
        " float tensor (filter_layout \"", layout->name(), "\")"));
  const std::array<int64_t, 4> filter = ir::filterDims(w.shape, *layout);
  const int64_t N = x.shape[0], C = x.shape[1];
  const int64_t M = filter[0], kH = filter[2], kW = filter[3];
  if (*groups < 1 || C % *groups != 0 || M % *groups != 0 ||
      filter[1] != C / *groups)
    return absl::InvalidArgumentError(
        strCat("'conv2d' of ", x.str(), " with weights ", w.str(),
               " and groups = ", *groups,
               "; expected groups dividing C and M with w.shape[1] = C / "
               "groups"));
  if (w.dtype != x.dtype ||
      (hasBias && op.operand(2)->type != ir::TensorType{x.dtype, {M}}))
    return absl::InvalidArgumentError(
        strCat("'conv2d' operands are ", x.str(), ", ", w.str(),
               hasBias ? strCat(", ", op.operand(2)->type.str()) : "",
               "; expected one dtype and a bias of [", M, "]"));
  const int64_t G = *groups, Cg = C / G, Mg = M / G;
  const int64_t OH = y.shape[2], OW = y.shape[3];
  if (auto form = gemmFormOf(op))
    return lowerGemmOp(op, *form, std::move(name));

  Kernel k = kernelSkeleton(op, std::move(name));
  Builder b;
  const DType dt = x.dtype, ct = computeType(dt);
  LoopNest outs(b, {N, G, Mg, OH, OW}, "o");
  const auto &o = outs.indices();
  ExprRef m = addIndex(mulIndex(o[1], Mg), o[2]);
  LoopNest window(b, {Cg, kH, kW}, "r");
  const auto &r = window.indices();
  ExprRef c = addIndex(mulIndex(o[1], Cg), r[0]);
  ExprRef ih = inputCoord(o[3], strides[0], padding[0], r[1], dilations[0]);
  ExprRef iw = inputCoord(o[4], strides[1], padding[1], r[2], dilations[1]);
  Tap t = tap(x.shape, o[0], c, ih, iw);
  std::vector<ExprRef> wIdx = {m, r[0], r[1], r[2]};
  if (layout->kind == ir::FilterLayout::HWIO)
    wIdx = {r[1], r[2], r[0], m};
  if (layout->kind == ir::FilterLayout::BLOCKED) {
    ExprRef block = B::i64(layout->block);
    wIdx = {B::binary(BinaryFn::Div, m, block), r[1], r[2], r[0],
            B::binary(BinaryFn::Rem, m, block)};
  }
  Var acc = b.newVar(ct, "acc");
  ExprRef product = B::binary(BinaryFn::Mul, B::load(0, dt, t.offset),
                              B::load(1, dt, ravel(wIdx, w.shape)));
  StmtRef accumulate =
      B::assign(acc, B::binary(BinaryFn::Add, B::ref(acc), product));
  const bool padded = padding[0] || padding[1] || padding[2] || padding[3];
  if (padded)
    accumulate = B::ifThen(t.inside, {accumulate});
  std::vector<ExprRef> yIdx = {o[0], m, o[3], o[4]};
  const int out = op.numOperands();
  k.body = outs.wrap(
      {B::declare(acc, hasBias ? B::load(2, dt, m) : B::constant(ct, 0)),
       window.wrap({accumulate}, false),
       B::store(out, ravel(yIdx, y.shape), B::ref(acc))},
      true);
  return k;
}

// The outputs [from, to) along one axis whose windows of k positions
// (stride, leading padding pad) lie inside an input of `in` positions.
std::pair<int64_t, int64_t> interior(int64_t out, int64_t in, int64_t k,
                                     int64_t stride, int64_t pad) {
  const int64_t from = std::min(out, (pad + stride - 1) / stride);
  const int64_t to = in - k + pad >= 0 ? (in - k + pad) / stride + 1 : 0;
  return {from, std::clamp(to, from, out)};
}

absl::StatusOr<Kernel> lowerPool(const ir::Op &op, std::string name,
                                 bool isMax) {
  if (auto s = requireFloatRank4(op, 0); !s.ok())
    return s;
  const ir::TensorType &x = op.operand(0)->type, &y = op.result(0)->type;
  auto kernel = op.getInts("kernel");
  if (!kernel.ok())
    return kernel.status();
  if (kernel->size() != 2)
    return absl::InvalidArgumentError(
        strCat("'", op.name(), "' attribute 'kernel' has ", kernel->size(),
               " entries; expected 2"));
  auto spatial = windowOf(op, *kernel);
  if (!spatial.ok())
    return spatial.status();
  const std::vector<int64_t> &strides = spatial->strides,
                             &padding = spatial->padding;
  auto countPad = op.getBool("count_include_pad", false);
  if (!countPad.ok())
    return countPad.status();
  const int64_t kH = (*kernel)[0], kW = (*kernel)[1];

  Kernel k = kernelSkeleton(op, std::move(name));
  Builder b;
  const DType dt = x.dtype, ct = computeType(dt);
  // The statements computing output (o[0], o[1], oh, ow), each window
  // position in the padding skipped unless `inside` says none is.
  auto pixel = [&](const std::vector<ExprRef> &o, bool inside) {
    LoopNest window(b, {kH, kW}, "r");
    const auto &r = window.indices();
    ExprRef ih = inputCoord(o[2], strides[0], padding[0], r[0], 1);
    ExprRef iw = inputCoord(o[3], strides[1], padding[1], r[1], 1);
    Tap t = tap(x.shape, o[0], o[1], ih, iw);
    ExprRef v = B::load(0, dt, t.offset);
    Var acc = b.newVar(ct, "acc");
    Var count = b.newVar(ct, "count");
    std::vector<StmtRef> body;
    std::vector<StmtRef> step;
    if (isMax) {
      body.push_back(B::declare(
          acc, B::constant(ct, -std::numeric_limits<double>::infinity())));
      // A NaN in the window sticks, like reduce_max.
      ExprRef takes =
          B::binary(BinaryFn::Or, B::compare(CmpFn::Gt, v, B::ref(acc)),
                    B::compare(CmpFn::Ne, v, v));
      step.push_back(B::assign(acc, B::select(takes, v, B::ref(acc))));
    } else {
      body.push_back(B::declare(acc, B::constant(ct, 0)));
      body.push_back(B::declare(count, B::constant(ct, 0)));
      step.push_back(B::assign(acc, B::binary(BinaryFn::Add, B::ref(acc), v)));
      step.push_back(B::assign(
          count, B::binary(BinaryFn::Add, B::ref(count), B::constant(ct, 1))));
    }
    body.push_back(window.wrap(
        inside ? step : std::vector<StmtRef>{B::ifThen(t.inside, step)},
        false));
    ExprRef result = B::ref(acc);
    if (!isMax)
      result =
          B::binary(BinaryFn::Div, result,
                    *countPad ? B::constant(ct, static_cast<double>(kH * kW))
                              : B::ref(count));
    body.push_back(B::store(1, ravel(o, y.shape), result));
    return body;
  };
  // A GPU thread per output element.
  if (GpuForm::active()) {
    LoopNest outs(b, y.shape, "o");
    k.body = outs.wrap(pixel(outs.indices(), false), true);
    return k;
  }
  // On CPUs, the outputs whose windows lie inside the input along both
  // axes (most of them) go without bounds checks, so the loop over a
  // row's outputs vectorizes.
  const auto [rowsFrom, rowsTo] =
      interior(y.shape[2], x.shape[2], kH, strides[0], padding[0]);
  const auto [colsFrom, colsTo] =
      interior(y.shape[3], x.shape[3], kW, strides[1], padding[1]);
  LoopNest rows(b, {y.shape[0], y.shape[1], y.shape[2]}, "o");
  const auto &o = rows.indices();
  // The outputs [from, to) of a row, appended to `row`.
  auto columns = [&](std::vector<StmtRef> &row, int64_t from, int64_t to,
                     bool inside) {
    if (from >= to)
      return;
    Var ow = b.newVar(DType::I64, "ow");
    row.push_back(B::loop(
        ow, B::i64(to - from),
        pixel({o[0], o[1], o[2], addIndex(B::ref(ow), B::i64(from))}, inside)));
  };
  std::vector<StmtRef> interiorRow, borderRow;
  columns(interiorRow, 0, colsFrom, false);
  columns(interiorRow, colsFrom, colsTo, true);
  columns(interiorRow, colsTo, y.shape[3], false);
  columns(borderRow, 0, y.shape[3], false);
  ExprRef isInterior =
      B::binary(BinaryFn::And, B::compare(CmpFn::Ge, o[2], B::i64(rowsFrom)),
                B::compare(CmpFn::Lt, o[2], B::i64(rowsTo)));
  k.body = rows.wrap(
      {B::ifThen(isInterior, std::move(interiorRow), std::move(borderRow))},
      true);
  return k;
}

// ceil(a / b) for b > 0 and any a.
int64_t ceilDiv(int64_t a, int64_t b) {
  return a >= 0 ? (a + b - 1) / b : -(-a / b);
}

// im2col on CPUs, the result seen as `out` = [N, C, kh, kw, OH, OW]: a
// parallel nest over (n, c, i) and, for each column tap j, the rows oh.
// A row whose input row is in the padding is all `fill`; otherwise it is
// `fill`, a strided copy of the input row, and `fill` again, the bounds of
// the copy fixed by j (so it vectorizes, with no checks).
StmtRef im2colRows(Builder &b, const ir::TensorType &x, const ir::Shape &out,
                   const Window &w, ExprRef fill) {
  const int64_t H = x.shape[2], W = x.shape[3];
  const int64_t kW = out[3], OH = out[4], OW = out[5];
  LoopNest nest(b, {out[0], out[1], out[2]}, "i");
  const auto &i = nest.indices();
  std::vector<StmtRef> body;
  for (int64_t j = 0; j < kW; ++j) {
    // Input column ow * stride - left + j * dilation lies in [0, W) for
    // ow in [from, to).
    const int64_t shift = j * w.dilations[1] - w.padding[1];
    const int64_t from =
        std::clamp<int64_t>(ceilDiv(-shift, w.strides[1]), 0, OW);
    const int64_t to =
        std::clamp<int64_t>(ceilDiv(W - shift, w.strides[1]), from, OW);
    Var oh = b.newVar(DType::I64, "oh");
    ExprRef ih = inputCoord(B::ref(oh), w.strides[0], w.padding[0], i[2],
                            w.dilations[0]);
    const std::vector<ExprRef> rowAt = {i[0],      i[1],       i[2],
                                        B::i64(j), B::ref(oh), B::i64(0)};
    ExprRef rowStart = ravel(rowAt, out);
    // Columns [first, last) of the row: `fill`, or the input.
    auto span = [&](int64_t first, int64_t last,
                    bool copy) -> std::vector<StmtRef> {
      if (first >= last)
        return {};
      Var ow = b.newVar(DType::I64, "ow");
      ExprRef col = addIndex(B::ref(ow), B::i64(first));
      ExprRef v = fill;
      if (copy) {
        ExprRef iw = addIndex(mulIndex(col, w.strides[1]), B::i64(shift));
        const std::vector<ExprRef> at = {i[0], i[1], ih, iw};
        v = B::loadStored(0, x.dtype, ravel(at, x.shape));
      }
      return {B::loop(ow, B::i64(last - first),
                      {B::store(1, addIndex(rowStart, col), v)})};
    };
    std::vector<StmtRef> inside = span(0, from, false);
    for (auto part : {span(from, to, true), span(to, OW, false)})
      inside.insert(inside.end(), part.begin(), part.end());
    ExprRef rowInside =
        B::binary(BinaryFn::And, B::compare(CmpFn::Ge, ih, B::i64(0)),
                  B::compare(CmpFn::Lt, ih, B::i64(H)));
    body.push_back(
        B::loop(oh, B::i64(OH),
                {B::ifThen(rowInside, std::move(inside), span(0, OW, false))}));
  }
  return nest.wrap(std::move(body), true);
}

// im2col: one parallel nest over the result as [N, C, kh, kw, OH, OW],
// the input coordinates clamped into x so the load needs no branch (a
// loop over OW that vectorizes), and the pad value where they were not
// inside.
absl::StatusOr<Kernel> lowerIm2col(const ir::Op &op, std::string name) {
  const ir::TensorType &x = op.operand(0)->type;
  auto kernel = pairAttr(op, "kernel", {1, 1}, 2);
  if (!kernel.ok())
    return kernel.status();
  auto spatial = windowOf(op, {1, 1});
  if (!spatial.ok())
    return spatial.status();
  const std::vector<int64_t> &strides = spatial->strides,
                             &padding = spatial->padding,
                             &dilations = spatial->dilations;
  auto value = op.getFloat("value", 0.0);
  if (!value.ok())
    return value.status();
  const ir::Shape &y = op.result()->type.shape;
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  const int64_t kH = (*kernel)[0], kW = (*kernel)[1];
  if (x.rank() != 4 || y.size() != 3 || y[1] != C * kH * kW)
    return absl::InvalidArgumentError(
        strCat("'im2col' of ", x.str(), " gives ", op.result()->type.str(),
               "; expected [N, C * kh * kw, OH * OW] of an NCHW input"));
  // OW from the padded width, as the shape rule computes it.
  const int64_t OW =
      (W + padding[1] + padding[3] - dilations[1] * (kW - 1) - 1) / strides[1] +
      1;
  const int64_t OH = OW > 0 ? y[2] / OW : 0;

  Kernel k = kernelSkeleton(op, std::move(name));
  Builder b;
  ExprRef fill = storedConstant(x.dtype, *value);
  const ir::Shape out = {N, C, kH, kW, OH, OW};
  if (!GpuForm::active() && x.numElements() > 0) {
    k.body = im2colRows(b, x, out, *spatial, fill);
    return k;
  }
  LoopNest nest(b, out, "i");
  const auto &i = nest.indices();
  ExprRef ih = inputCoord(i[4], strides[0], padding[0], i[2], dilations[0]);
  ExprRef iw = inputCoord(i[5], strides[1], padding[1], i[3], dilations[1]);
  Tap t = tap(x.shape, i[0], i[1], ih, iw);
  auto clamp = [](ExprRef v, int64_t size) {
    return B::select(
        B::compare(CmpFn::Lt, v, B::i64(0)), B::i64(0),
        B::select(B::compare(CmpFn::Ge, v, B::i64(size)), B::i64(size - 1), v));
  };
  std::vector<ExprRef> at = {i[0], i[1], clamp(ih, H), clamp(iw, W)};
  // An empty input has only padding to read.
  ExprRef v =
      x.numElements() == 0
          ? fill
          : B::select(t.inside, B::loadStored(0, x.dtype, ravel(at, x.shape)),
                      fill);
  k.body = nest.wrap({B::store(1, ravel(i, out), v)}, true);
  return k;
}

} // namespace

void registerConvLowerings(LoweringRegistry &r) {
  r.add("conv2d", lowerConv2d);
  r.add("im2col", lowerIm2col);
  r.add("max_pool2d", [](const ir::Op &op, std::string name) {
    return lowerPool(op, std::move(name), true);
  });
  r.add("avg_pool2d", [](const ir::Op &op, std::string name) {
    return lowerPool(op, std::move(name), false);
  });
}

} // namespace nyx::kernel
