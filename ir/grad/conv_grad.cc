// Gradient rules of conv2d, max_pool2d and avg_pool2d. The IR has no
// transposed convolution, so the input gradients are convolutions too: the
// result gradient with stride - 1 zeros between its elements, padded (or
// cropped) so that every input position sees the windows that read it,
// convolved with the kernel flipped and its channel axes swapped. Rows the
// windows never reach (the output size is rounded down) get zeros.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "ir/conv_filter.h"
#include "ir/grad/grad_helpers.h"
#include "ir/op_registry.h"
#include "ir/status_macros.h"
#include "ir/strings.h"

namespace nyx::ir {
namespace {

using grad::filled;

using Ints = std::vector<int64_t>;

// The window geometry along H and W (index 0 and 1), as in
// ir/ops/conv.cc: output row o reads padded input rows
// o * stride + k * dilation.
struct Window {
  Ints kernel, strides, dilations;
  Ints padding; // top, left, bottom, right
  Ints out;     // OH, OW
  Ints in;      // H, W

  int64_t reach(int i) const { return (kernel[i] - 1) * dilations[i]; }
  // Padded rows past the last window (the output size rounds down).
  int64_t unused(int i) const {
    return in[i] + padding[i] + padding[i + 2] -
           ((out[i] - 1) * strides[i] + reach(i) + 1);
  }
};

Window windowOf(const Op &op, Ints kernel, Ints strides, Ints padding,
                Ints dilations) {
  const Shape &x = op.operand(0)->type.shape;
  const Shape &y = op.result()->type.shape;
  return Window{std::move(kernel),  std::move(strides), std::move(dilations),
                std::move(padding), Ints{y[2], y[3]},   Ints{x[2], x[3]}};
}

// [N, C, H, W] -> [N, C, H * sH, W * sW] with stride - 1 zeros after every
// element along H and W: a reshape to [N, C, H, 1, W, 1], a pad to
// [N, C, H, sH, W, sW] and a reshape back.
Value *interleaveZeros(Builder &b, Value *v, const Ints &strides) {
  if (!v || (strides[0] == 1 && strides[1] == 1))
    return v;
  const Shape s = v->type.shape;
  Value *expanded =
      b.op("reshape", {v}, {{"shape", Shape{s[0], s[1], s[2], 1, s[3], 1}}});
  Ints pads(12, 0);
  pads[6 + 3] = strides[0] - 1;
  pads[6 + 5] = strides[1] - 1;
  return b.op(
      "reshape", {b.op("pad", {expanded}, {{"pads", pads}})},
      {{"shape", Shape{s[0], s[1], s[2] * strides[0], s[3] * strides[1]}}});
}

// `v` [N, C, H, W] to be padded by `amounts` (top, left, bottom, right),
// where a negative amount crops: the crops done by a slice, and the pads
// left to do (all >= 0). Empty when the crops leave nothing of `v`, so the
// padded result is all zeros.
struct Cropped {
  Value *v;
  Ints pads;
};
std::optional<Cropped> cropNegative(Builder &b, Value *v, const Ints &amounts) {
  Ints starts, ends, axes, pads(4);
  if (!v)
    return Cropped{nullptr, pads}; // the builder holds the error
  for (int i = 0; i < 2; ++i) {
    const int64_t len = v->type.shape[2 + i];
    const int64_t begin = amounts[i], end = amounts[i + 2];
    const int64_t first = std::max<int64_t>(0, -begin);
    const int64_t last = len - std::max<int64_t>(0, -end);
    if (last <= first)
      return std::nullopt;
    if (first != 0 || last != len) {
      axes.push_back(2 + i);
      starts.push_back(first);
      ends.push_back(last);
    }
    pads[i] = std::max<int64_t>(0, begin);
    pads[i + 2] = std::max<int64_t>(0, end);
  }
  if (!axes.empty())
    v = b.op("slice", {v},
             {{"starts", starts},
              {"ends", ends},
              {"axes", axes},
              {"steps", Ints(axes.size(), 1)}});
  return Cropped{v, pads};
}

Value *padSpatial(Builder &b, Value *v, const Ints &pads) {
  if (std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p == 0; }))
    return v;
  return b.op("pad", {v},
              {{"pads", Ints{0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]}}});
}

// The gradient with respect to the input x of a convolution with `win`
// and `groups`, given the result gradient `g` [N, M, OH, OW] and the
// kernel already flipped with its channel axes swapped, [C, M / groups,
// kH, kW]. Input row i collects g[o] * w[k] over o * stride + k * dilation
// = i + top: a stride-1 convolution, dilated like the original, of g with
// zeros between its rows, padded by reach - top in front and reach -
// bottom + unused rows behind (the zeros the interleaving left after the
// last row count toward that).
Value *inputGrad(Builder &b, Value *g, Value *flippedKernel,
                 const TensorType &x, const Window &win, int64_t groups) {
  Ints amounts(4);
  for (int i = 0; i < 2; ++i) {
    amounts[i] = win.reach(i) - win.padding[i];
    amounts[i + 2] = win.reach(i) - win.padding[i + 2] + win.unused(i) -
                     (win.strides[i] - 1);
  }
  std::optional<Cropped> c =
      cropNegative(b, interleaveZeros(b, g, win.strides), amounts);
  if (!c)
    return filled(b, x, 0.0);
  return b.op(
      "conv2d", {c->v, flippedKernel},
      {{"padding", c->pads}, {"dilations", win.dilations}, {"groups", groups}});
}

// w [M, C/g, kH, kW] as the kernel of the input gradient: [C, M/g, kH, kW]
// with the channel axes swapped inside each group and the window flipped.
Value *flippedKernel(Builder &b, Value *w, int64_t groups) {
  const Shape s = w->type.shape;
  const int64_t m = s[0], cPerGroup = s[1], mPerGroup = m / groups;
  Value *swapped;
  if (groups == 1) {
    swapped = b.op("transpose", {w}, {{"perm", Ints{1, 0, 2, 3}}});
  } else {
    Value *grouped =
        b.op("reshape", {w},
             {{"shape", Shape{groups, mPerGroup, cPerGroup, s[2], s[3]}}});
    swapped =
        b.op("reshape",
             {b.op("transpose", {grouped}, {{"perm", Ints{0, 2, 1, 3, 4}}})},
             {{"shape", Shape{groups * cPerGroup, mPerGroup, s[2], s[3]}}});
  }
  if (s[2] == 1 && s[3] == 1)
    return swapped;
  return b.op("slice", {swapped},
              {{"starts", Ints{-1, -1}},
               {"ends", Ints{-s[2] - 1, -s[3] - 1}},
               {"axes", Ints{2, 3}},
               {"steps", Ints{-1, -1}}});
}

// dw[m, c, kh, kw] sums g[n, m, o] * xpad[n, c, o * stride + k * dilation]
// over n and o: a convolution of x with its batch and channel axes swapped
// (batch = channels within a group, channels = groups x batch) by g with
// its batch and channel axes swapped, with stride = the dilation and
// dilation = the stride. The unused rows at the bottom are cropped so the
// result is exactly kH x kW.
Value *weightGrad(Builder &b, Value *g, Value *x, const TensorType &w,
                  const Window &win, int64_t groups) {
  std::optional<Cropped> c = cropNegative(b, x,
                                          {win.padding[0], win.padding[1],
                                           win.padding[2] - win.unused(0),
                                           win.padding[3] - win.unused(1)});
  if (!c)
    return filled(b, w, 0.0);
  if (!c->v)
    return nullptr; // the builder holds the error
  const Shape s = c->v->type.shape;
  const int64_t n = s[0], cPerGroup = s[1] / groups;
  Value *xs;
  if (groups == 1) {
    xs = b.op("transpose", {c->v}, {{"perm", Ints{1, 0, 2, 3}}});
  } else {
    Value *grouped = b.op("reshape", {c->v},
                          {{"shape", Shape{n, groups, cPerGroup, s[2], s[3]}}});
    xs = b.op("reshape",
              {b.op("transpose", {grouped}, {{"perm", Ints{2, 1, 0, 3, 4}}})},
              {{"shape", Shape{cPerGroup, groups * n, s[2], s[3]}}});
  }
  Value *gs = b.op("transpose", {g}, {{"perm", Ints{1, 0, 2, 3}}});
  Value *dw = b.op("conv2d", {xs, gs},
                   {{"strides", win.dilations},
                    {"padding", c->pads},
                    {"dilations", win.strides},
                    {"groups", groups}});
  return b.op("transpose", {dw}, {{"perm", Ints{1, 0, 2, 3}}});
}

absl::Status conv2dGrad(Builder &b, const Op &op, std::span<Value *const> gy,
                        std::span<Value *> gx) {
  Value *x = op.operand(0), *w = op.operand(1), *g = gy[0];
  NYX_ASSIGN_OR_RETURN(Ints strides, op.getInts("strides", Ints{1, 1}));
  NYX_ASSIGN_OR_RETURN(Ints padding, op.getInts("padding", Ints{0, 0, 0, 0}));
  NYX_ASSIGN_OR_RETURN(Ints dilations, op.getInts("dilations", Ints{1, 1}));
  NYX_ASSIGN_OR_RETURN(int64_t groups, op.getInt("groups", 1));
  NYX_ASSIGN_OR_RETURN(FilterLayout layout, filterLayout(op));
  // Code generation alone picks other layouts (the filter-layout pass runs
  // after differentiation), so the gradient rules speak oihw only.
  if (layout.kind != FilterLayout::OIHW)
    return absl::UnimplementedError(
        strCat("the gradient of 'conv2d' with filter_layout \"", layout.name(),
               "\" is not defined; expected the default \"oihw\""));
  const Shape &ws = w->type.shape;
  if (op.numOperands() == 3)
    gx[2] =
        b.op("reduce_sum", {g}, {{"axes", Ints{0, 2, 3}}, {"keepdims", false}});
  if (x->type.numElements() == 0 || w->type.numElements() == 0) {
    gx[0] = filled(b, x->type, 0.0);
    gx[1] = filled(b, w->type, 0.0);
    return absl::OkStatus();
  }
  Window win = windowOf(op, {ws[2], ws[3]}, strides, padding, dilations);
  gx[0] = inputGrad(b, g, flippedKernel(b, w, groups), x->type, win, groups);
  gx[1] = weightGrad(b, g, x, w->type, win, groups);
  return absl::OkStatus();
}

// ---- pooling ----

absl::StatusOr<Window> poolWindow(const Op &op) {
  NYX_ASSIGN_OR_RETURN(Ints kernel, op.getInts("kernel"));
  NYX_ASSIGN_OR_RETURN(Ints strides, op.getInts("strides", kernel));
  NYX_ASSIGN_OR_RETURN(Ints padding, op.getInts("padding", Ints{0, 0, 0, 0}));
  return windowOf(op, kernel, strides, padding, Ints{1, 1});
}

// Whether window position o reads a real (not padded) row at offset k,
// for every output position: a [OH, OW] bool constant, or null when all
// do. `any` is false when none does.
Value *realPositions(Builder &b, const Window &win, int64_t kh, int64_t kw,
                     bool &any) {
  auto real = [&](int i, int64_t o, int64_t k) {
    const int64_t row = o * win.strides[i] + k - win.padding[i];
    return row >= 0 && row < win.in[i];
  };
  Tensor mask(TensorType{DType::Bool, {win.out[0], win.out[1]}});
  bool all = true;
  any = false;
  for (int64_t oh = 0; oh < win.out[0]; ++oh)
    for (int64_t ow = 0; ow < win.out[1]; ++ow) {
      const bool r = real(0, oh, kh) && real(1, ow, kw);
      mask.setInt(oh * win.out[1] + ow, r);
      all = all && r;
      any = any || r;
    }
  return all || !any ? nullptr : b.constant(std::move(mask));
}

// The gradient goes to the first element of each window (row-major) equal
// to its maximum, or to its first NaN when the maximum is NaN, as the
// forward picks it; padded positions never win. For each window offset
// (kh, kw) the candidates x[o * stride + k] form a strided slice of the
// padded x; the offsets are visited in window order, each taking the
// windows whose maximum no earlier offset took. The gradients of offset k
// land at o * stride + k in the padded grid: with k = q * stride + rem,
// g reshaped to [N, C, OH, 1, OW, 1] and padded by q before the outer
// axis and rem before the inner one reads, reshaped, as that placement;
// every offset uses the same grid, so they add up, and a final crop drops
// the padding.
absl::Status maxPoolGrad(Builder &b, const Op &op, std::span<Value *const> gy,
                         std::span<Value *> gx) {
  Value *x = op.operand(0), *y = op.result(), *g = gy[0];
  const TensorType &xt = x->type;
  if (xt.numElements() == 0) {
    gx[0] = filled(b, xt, 0.0);
    return absl::OkStatus();
  }
  NYX_ASSIGN_OR_RETURN(Window win, poolWindow(op));
  const Shape &s = xt.shape;
  const Ints &st = win.strides;
  Value *padded = padSpatial(b, x, win.padding);
  Value *zeros = filled(b, g->type, 0.0);
  const Shape expanded = {s[0], s[1], win.out[0], 1, win.out[1], 1};
  // The grid's outer lengths: room for the largest q.
  const int64_t qH = (win.kernel[0] - 1) / st[0];
  const int64_t qW = (win.kernel[1] - 1) / st[1];
  const Shape grid = {s[0], s[1], (win.out[0] + qH) * st[0],
                      (win.out[1] + qW) * st[1]};
  Value *taken = nullptr, *sum = nullptr;
  for (int64_t kh = 0; kh < win.kernel[0]; ++kh) {
    for (int64_t kw = 0; kw < win.kernel[1]; ++kw) {
      bool any = false;
      Value *real = realPositions(b, win, kh, kw, any);
      if (!any)
        continue;
      Value *candidates =
          b.op("slice", {padded},
               {{"starts", Ints{kh, kw}},
                {"ends", Ints{kh + (win.out[0] - 1) * st[0] + 1,
                              kw + (win.out[1] - 1) * st[1] + 1}},
                {"axes", Ints{2, 3}},
                {"steps", st}});
      Value *hit = b.op(
          "or", {b.op("eq", {candidates, y}), b.op("isnan", {candidates})});
      if (real)
        hit = b.op("and", {hit, real});
      Value *first = taken ? b.op("and", {hit, b.op("not", {taken})}) : hit;
      taken = taken ? b.op("or", {taken, hit}) : hit;
      Value *picked = b.op("select", {first, g, zeros});
      Ints pads(12, 0);
      pads[2] = kh / st[0];
      pads[3] = kh % st[0];
      pads[4] = kw / st[1];
      pads[5] = kw % st[1];
      pads[6 + 2] = qH - kh / st[0];
      pads[6 + 3] = st[0] - 1 - kh % st[0];
      pads[6 + 4] = qW - kw / st[1];
      pads[6 + 5] = st[1] - 1 - kw % st[1];
      Value *placed =
          b.op("reshape",
               {b.op("pad", {b.op("reshape", {picked}, {{"shape", expanded}})},
                     {{"pads", pads}})},
               {{"shape", grid}});
      sum = sum ? b.op("add", {sum, placed}) : placed;
    }
  }
  if (!b.ok())
    return b.status();
  std::optional<Cropped> c = cropNegative(b, sum,
                                          {-win.padding[0], -win.padding[1],
                                           s[2] + win.padding[0] - grid[2],
                                           s[3] + win.padding[1] - grid[3]});
  gx[0] = c ? padSpatial(b, c->v, c->pads) : filled(b, xt, 0.0);
  return absl::OkStatus();
}

// Average pooling is a depthwise convolution with a kernel of ones,
// scaled per window: the input gradient of that convolution, from g
// divided by each window's divisor.
absl::Status avgPoolGrad(Builder &b, const Op &op, std::span<Value *const> gy,
                         std::span<Value *> gx) {
  const TensorType &xt = op.operand(0)->type;
  if (xt.numElements() == 0) {
    gx[0] = filled(b, xt, 0.0);
    return absl::OkStatus();
  }
  NYX_ASSIGN_OR_RETURN(Window win, poolWindow(op));
  NYX_ASSIGN_OR_RETURN(bool includePad, op.getBool("count_include_pad", false));
  Value *divisor;
  if (includePad) {
    divisor =
        b.scalar(static_cast<double>(win.kernel[0] * win.kernel[1]), xt.dtype);
  } else {
    // The real elements of each window: the product of its real rows and
    // columns.
    auto realCount = [&](int i, int64_t o) {
      const int64_t first = o * win.strides[i] - win.padding[i];
      return std::min(first + win.kernel[i], win.in[i]) -
             std::max<int64_t>(first, 0);
    };
    Tensor counts(TensorType{xt.dtype, {win.out[0], win.out[1]}});
    for (int64_t oh = 0; oh < win.out[0]; ++oh)
      for (int64_t ow = 0; ow < win.out[1]; ++ow)
        counts.setDouble(
            oh * win.out[1] + ow,
            static_cast<double>(realCount(0, oh) * realCount(1, ow)));
    divisor = b.constant(std::move(counts));
  }
  const int64_t channels = xt.shape[1];
  Value *ones = filled(
      b, TensorType{xt.dtype, {channels, 1, win.kernel[0], win.kernel[1]}},
      1.0);
  gx[0] = inputGrad(b, b.op("div", {gy[0], divisor}), ones, xt, win, channels);
  return absl::OkStatus();
}

} // namespace

void registerConvGrads(OpRegistry &r) {
  r.setGrad("conv2d", conv2dGrad);
  r.setGrad("max_pool2d", maxPoolGrad);
  r.setGrad("avg_pool2d", avgPoolGrad);
}

} // namespace nyx::ir
