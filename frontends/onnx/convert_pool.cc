// Converters of ONNX's pooling: MaxPool and AveragePool over 1, 2 or 3
// spatial axes (the IR's 2-D pools, reshaped as window.h describes, or
// strided slices for a dilated max), and GlobalAveragePool/GlobalMaxPool as
// reductions over the spatial axes.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <vector>

#include "frontends/onnx/convert_helpers.h"
#include "frontends/onnx/converters.h"
#include "frontends/onnx/window.h"
#include "ir/strings.h"

namespace nyx::onnx_import {
namespace {

using ir::Shape;
using ir::Value;

Value *pool2d(NodeContext &n, Value *x, const Window &win, bool isMax,
              bool countPad) {
  ir::Attributes attrs = {
      {"kernel", win.kernel}, {"strides", win.strides}, {"padding", win.pads}};
  if (!isMax)
    attrs["count_include_pad"] = countPad;
  return n.op(isMax ? "max_pool2d" : "avg_pool2d", {x},
              ir::Attrs(std::move(attrs)));
}

// Max and average pooling are separable: a 3-D pool is a 2-D pool over
// (H, W) of [N, C*D, H, W], then a pool over D of [N*C, 1, D, OH*OW]. An
// average without count_include_pad divides by the number of input
// elements in the window, which is the product of the counts per axis.
Value *pool3d(NodeContext &n, Value *x, const Window &win, bool isMax,
              bool countPad) {
  const Shape s = x->type.shape;
  const Window plane{2,
                     {win.kernel[1], win.kernel[2]},
                     {win.strides[1], win.strides[2]},
                     {1, 1},
                     {win.pads[1], win.pads[2], win.pads[4], win.pads[5]}};
  Value *y = pool2d(n, reshape(n, x, {s[0], s[1] * s[2], s[3], s[4]}), plane,
                    isMax, countPad);
  if (!y)
    return nullptr;
  const int64_t oh = y->type.shape[2], ow = y->type.shape[3];
  const Window column{2,
                      {win.kernel[0], 1},
                      {win.strides[0], 1},
                      {1, 1},
                      {win.pads[0], 0, win.pads[3], 0}};
  Value *z = pool2d(n, reshape(n, y, {s[0] * s[1], 1, s[2], oh * ow}), column,
                    isMax, countPad);
  if (!z)
    return nullptr;
  return reshape(n, z, {s[0], s[1], z->type.shape[2], oh, ow});
}

Value *pooling(NodeContext &n, Value *x, const Window &win, bool isMax,
               bool countPad) {
  switch (win.spatial) {
  case 1:
    return dropHeight(
        n, pool2d(n, addHeight(n, x), withHeight(win), isMax, countPad));
  case 2:
    return pool2d(n, x, win, isMax, countPad);
  default:
    return pool3d(n, x, win, isMax, countPad);
  }
}

// Max pooling with dilations, one spatial axis at a time (max is
// separable): the axis is padded with -inf, and the window's k elements
// are k strided slices combined by max.
Value *dilatedMaxPool(NodeContext &n, Value *x, const Window &win) {
  const int64_t s = win.spatial;
  Value *y = x;
  for (int64_t i = 0; i < s && y; ++i) {
    std::vector<int64_t> pads(2 * s, 0);
    pads[i] = win.pads[i];
    pads[s + i] = win.pads[s + i];
    y = padSpatial(n, y, pads, -std::numeric_limits<double>::infinity());
    if (!y)
      return nullptr;
    const int64_t axis = 2 + i, k = win.kernel[i], d = win.dilations[i],
                  stride = win.strides[i];
    const int64_t out = (y->type.shape[axis] - reach(k, d)) / stride + 1;
    Value *max = nullptr;
    for (int64_t j = 0; j < k; ++j) {
      Value *tap =
          sliceAxis(n, y, axis, j * d, j * d + (out - 1) * stride + 1, stride);
      max = max ? n.op("max", {max, tap}) : tap;
    }
    y = max;
  }
  return y;
}

// MaxPool and AveragePool. ceil_mode becomes extra padding at the end of an
// axis: padded positions never win a max, and an average without
// count_include_pad does not count them, so the result is the same.
absl::Status convertPool(NodeContext &n, bool isMax) {
  Value *x = n.input(0);
  if (!x)
    return n.status();
  if (isMax && n.hasOutput(1))
    return n.unsupported("output 'Indices'");
  if (!requireFloat(n, x))
    return n.status();
  std::optional<int64_t> spatial = spatialAxes(n, x);
  if (!spatial)
    return n.status();
  std::optional<std::vector<int64_t>> kernel = n.requireInts("kernel_shape");
  if (!kernel)
    return n.status();
  if (static_cast<int64_t>(kernel->size()) != *spatial)
    return n.fail(strCat("attribute 'kernel_shape' is ", listString(*kernel),
                         "; expected ", *spatial, " entries"));
  for (int64_t k : *kernel)
    if (k < 1)
      return n.fail(strCat("attribute 'kernel_shape' is ", listString(*kernel),
                           "; expected entries >= 1"));
  auto win = readWindow(n, x, *spatial, *kernel);
  if (!win)
    return n.status();
  const bool dilated = std::any_of(win->dilations.begin(), win->dilations.end(),
                                   [](int64_t d) { return d != 1; });
  if (dilated && !isMax) // AveragePool has dilations from opset 19
    return n.unsupported(strCat("dilations = ", listString(win->dilations)));
  const bool ceilMode = n.opset() >= 10 && n.attrInt("ceil_mode", 0) != 0;
  const bool countPad = !isMax && n.attrInt("count_include_pad", 0) != 0;
  const Shape in = spatialSizes(x);
  const int64_t s = *spatial;
  for (int64_t i = 0; i < s; ++i) {
    const int64_t extent = reach(win->kernel[i], win->dilations[i]);
    const int64_t stride = win->strides[i];
    const int64_t padded = in[i] + win->pads[i] + win->pads[s + i];
    if (padded < extent)
      return n.fail(strCat("the window ", listString(win->kernel),
                           " does not fit the padded input ", listString(in),
                           "; expected a window no larger than the input"));
    const int64_t floorOut = (padded - extent) / stride + 1;
    const int64_t ceilOut = (padded - extent + stride - 1) / stride + 1;
    if (!ceilMode || ceilOut == floorOut)
      continue;
    if (countPad)
      return n.unsupported("ceil_mode = 1 with count_include_pad = 1");
    if ((ceilOut - 1) * stride >= in[i] + win->pads[i])
      return n.unsupported(
          "ceil_mode = 1 where the last window lies in the padding");
    win->pads[s + i] += (ceilOut - 1) * stride + extent - padded;
  }
  if (dilated) {
    n.setOutput(0, dilatedMaxPool(n, x, *win));
    return n.status();
  }
  for (int64_t i = 0; i < 2 * s; ++i)
    if (win->pads[i] >= win->kernel[i % s])
      return n.unsupported(strCat("padding ", listString(win->pads),
                                  " not smaller than the window ",
                                  listString(win->kernel)));
  n.setOutput(0, pooling(n, x, *win, isMax, countPad));
  return n.status();
}

absl::Status convertMaxPool(NodeContext &n) { return convertPool(n, true); }
absl::Status convertAveragePool(NodeContext &n) {
  return convertPool(n, false);
}

absl::Status convertGlobalPool(NodeContext &n, std::string_view irOp) {
  Value *x = n.input(0);
  if (!x)
    return n.status();
  if (x->type.rank() < 2)
    return n.fail(
        strCat("input 0 is ", x->type.str(), "; expected [N, C, spatial...]"));
  if (irOp == "reduce_mean" && !requireFloat(n, x))
    return n.status();
  n.setOutput(
      0, n.op(irOp, {x},
              {{"axes", allAxesFrom(2, x->type.rank())}, {"keepdims", true}}));
  return n.status();
}

absl::Status convertGlobalAveragePool(NodeContext &n) {
  return convertGlobalPool(n, "reduce_mean");
}
absl::Status convertGlobalMaxPool(NodeContext &n) {
  return convertGlobalPool(n, "reduce_max");
}

constexpr ConverterEntry kTable[] = {
    {"AveragePool", convertAveragePool},
    {"GlobalAveragePool", convertGlobalAveragePool},
    {"GlobalMaxPool", convertGlobalMaxPool},
    {"MaxPool", convertMaxPool},
};

} // namespace

std::span<const ConverterEntry> poolConverters() { return kTable; }

} // namespace nyx::onnx_import
