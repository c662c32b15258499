// Converters of Conv and ConvTranspose over 1, 2 or 3 spatial axes. The
// IR's conv2d does the work: 1-D and 3-D convolutions are reshaped onto it
// (window.h), and a transposed convolution is a convolution of the input
// with zeros interleaved, described where it is built.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "frontends/onnx/convert_helpers.h"
#include "frontends/onnx/converters.h"
#include "frontends/onnx/window.h"
#include "ir/strings.h"

namespace nyx::onnx_import {
namespace {

using ir::Shape;
using ir::Value;

// ---- Conv ----

Value *conv2d(NodeContext &n, Value *x, Value *w, Value *bias,
              const Window &win, int64_t groups) {
  std::vector<Value *> operands = {x, w};
  if (bias)
    operands.push_back(bias);
  return n.op("conv2d", operands,
              {{"strides", win.strides},
               {"padding", win.pads},
               {"dilations", win.dilations},
               {"groups", groups}});
}

// A 3-D convolution as one conv2d over depth slices: the kD input slices
// each output depth reads are stacked on the channel axis (inside each
// group, so groups still see their own channels), and the kernel's depth
// axis joins its channel axis in the same order.
Value *conv3d(NodeContext &n, Value *x, Value *w, Value *bias,
              const Window &win, int64_t groups) {
  if (!x || !w)
    return nullptr;
  const Shape xs = x->type.shape, ws = w->type.shape;
  const int64_t batch = xs[0], c = xs[1], m = ws[0], kd = win.kernel[0];
  const int64_t sd = win.strides[0], dd = win.dilations[0];
  const int64_t depth = xs[2] + win.pads[0] + win.pads[3];
  if (groups < 1 || c % groups != 0) {
    n.fail(strCat("group ", groups, " does not divide the input's ", c,
                  " channels; expected a divisor"))
        .IgnoreError();
    return nullptr;
  }
  if (depth < reach(kd, dd)) {
    n.fail(strCat("the kernel depth ", kd, " (dilation ", dd,
                  ") does not fit the padded input depth ", depth,
                  "; expected a window no larger than the input"))
        .IgnoreError();
    return nullptr;
  }
  const int64_t od = (depth - reach(kd, dd)) / sd + 1;
  Value *padded = padSpatial(n, x, {win.pads[0], 0, 0, win.pads[3], 0, 0});
  Value *depthMajor = transpose(n, padded, {0, 2, 1, 3, 4});
  std::vector<Value *> slices;
  for (int64_t j = 0; j < kd; ++j)
    slices.push_back(
        sliceAxis(n, depthMajor, 1, j * dd, j * dd + (od - 1) * sd + 1, sd));
  Value *stacked = kd == 1 ? slices[0] : n.op("concat", slices, {{"axis", 2}});
  const int64_t h = xs[3], wd = xs[4];
  if (groups > 1) {
    Value *split =
        reshape(n, stacked, {batch, od, kd, groups, c / groups, h, wd});
    stacked = transpose(n, split, {0, 1, 3, 2, 4, 5, 6});
  }
  Value *input = reshape(n, stacked, {batch * od, kd * c, h, wd});
  Value *kernel = reshape(n, transpose(n, w, {0, 2, 1, 3, 4}),
                          {m, kd * ws[1], ws[3], ws[4]});
  const Window plane{2,
                     {win.kernel[1], win.kernel[2]},
                     {win.strides[1], win.strides[2]},
                     {win.dilations[1], win.dilations[2]},
                     {win.pads[1], win.pads[2], win.pads[4], win.pads[5]}};
  Value *y = conv2d(n, input, kernel, bias, plane, groups);
  if (!y)
    return nullptr;
  const Shape ys = y->type.shape;
  return transpose(n, reshape(n, y, {batch, od, m, ys[2], ys[3]}),
                   {0, 2, 1, 3, 4});
}

// A convolution over 1, 2 or 3 spatial axes.
Value *convolution(NodeContext &n, Value *x, Value *w, Value *bias,
                   const Window &win, int64_t groups) {
  switch (win.spatial) {
  case 1:
    return dropHeight(n, conv2d(n, addHeight(n, x), addHeight(n, w), bias,
                                withHeight(win), groups));
  case 2:
    return conv2d(n, x, w, bias, win, groups);
  default:
    return conv3d(n, x, w, bias, win, groups);
  }
}

absl::Status convertConv(NodeContext &n) {
  Value *x = n.input(0);
  Value *w = n.input(1);
  if (!x || !w)
    return n.status();
  if (!requireFloat(n, x))
    return n.status();
  std::optional<int64_t> spatial = spatialAxes(n, x);
  if (!spatial)
    return n.status();
  if (w->type.rank() != x->type.rank())
    return n.fail(strCat("the weight is ", w->type.str(), " for input ",
                         x->type.str(), "; expected the same rank"));
  auto kernel = kernelOf(n, w);
  if (!kernel)
    return n.status();
  auto win = readWindow(n, x, *spatial, std::move(*kernel));
  if (!win)
    return n.status();
  Value *bias = n.hasInput(2) ? n.input(2) : nullptr;
  n.setOutput(0, convolution(n, x, w, bias, *win, n.attrInt("group", 1)));
  return n.status();
}

// ---- ConvTranspose ----

// Pads (positive) or crops (negative) the spatial axes of x [N, C,
// spatial...]; `amounts` has S begins then S ends.
Value *padOrCrop(NodeContext &n, Value *x,
                 const std::vector<int64_t> &amounts) {
  if (!x)
    return nullptr;
  const Shape &s = x->type.shape;
  const int64_t spatial = x->type.rank() - 2;
  std::vector<int64_t> starts, ends, axes;
  std::vector<int64_t> pads(amounts.size());
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t begin = amounts[i], end = amounts[spatial + i];
    if (begin < 0 || end < 0) {
      axes.push_back(2 + i);
      starts.push_back(std::max<int64_t>(0, -begin));
      ends.push_back(s[2 + i] - std::max<int64_t>(0, -end));
    }
    pads[i] = std::max<int64_t>(0, begin);
    pads[spatial + i] = std::max<int64_t>(0, end);
  }
  if (!axes.empty())
    x = n.op("slice", {x},
             {{"starts", starts},
              {"ends", ends},
              {"axes", axes},
              {"steps", std::vector<int64_t>(axes.size(), 1)}});
  return padSpatial(n, x, pads);
}

// Inserts stride - 1 zeros after every element of each spatial axis:
// [N, C, H, W] -> [N, C, H * sh, W * sw] through [N, C, H, 1, W, 1] padded
// to [N, C, H, sh, W, sw]. The trailing stride - 1 zeros of each axis are
// there too; the caller accounts for them.
Value *interleaveZeros(NodeContext &n, Value *x,
                       const std::vector<int64_t> &strides) {
  if (!x || std::all_of(strides.begin(), strides.end(),
                        [](int64_t s) { return s == 1; }))
    return x;
  const Shape s = x->type.shape;
  Shape expanded = {s[0], s[1]}, dilated = {s[0], s[1]};
  for (size_t i = 0; i < strides.size(); ++i) {
    expanded.push_back(s[2 + i]);
    expanded.push_back(1);
    dilated.push_back(s[2 + i] * strides[i]);
  }
  const int64_t rank = static_cast<int64_t>(expanded.size());
  std::vector<int64_t> pads(2 * rank, 0);
  for (size_t i = 0; i < strides.size(); ++i)
    pads[rank + 3 + 2 * i] = strides[i] - 1;
  Value *padded = n.op("pad", {reshape(n, x, expanded)}, {{"pads", pads}});
  return reshape(n, padded, dilated);
}

// ConvTranspose's weight [C, M/g, k...] as a convolution weight [M, C/g,
// k...]: the channel axes swapped within each group, the kernel flipped.
Value *transposedKernel(NodeContext &n, Value *w, int64_t groups) {
  const Shape s = w->type.shape;
  const int64_t c = s[0], mPerGroup = s[1], rank = w->type.rank();
  Shape grouped = {groups, c / groups, mPerGroup};
  Shape swappedShape = {groups * mPerGroup, c / groups};
  std::vector<int64_t> perm = {0, 2, 1};
  std::vector<int64_t> starts, ends, axes;
  for (int64_t i = 2; i < rank; ++i) {
    grouped.push_back(s[i]);
    swappedShape.push_back(s[i]);
    perm.push_back(i + 1);
    starts.push_back(-1);
    ends.push_back(-s[i] - 1);
    axes.push_back(i);
  }
  Value *swapped =
      reshape(n, transpose(n, reshape(n, w, grouped), perm), swappedShape);
  return n.op("slice", {swapped},
              {{"starts", starts},
               {"ends", ends},
               {"axes", axes},
               {"steps", std::vector<int64_t>(axes.size(), -1)}});
}

// The pads of a ConvTranspose: given, or derived from output_shape (or
// SAME's input * stride) by the spec's split of the total padding, with
// Python's floor division (a negative total makes the output larger, at
// the end).
std::optional<std::vector<int64_t>>
transposePads(NodeContext &n, AutoPad mode, const Shape &in,
              const std::vector<int64_t> &strides,
              const std::vector<int64_t> &full) {
  const int64_t spatial = static_cast<int64_t>(in.size());
  std::optional<std::vector<int64_t>> outputShape;
  if (n.hasAttr("output_shape")) {
    std::vector<int64_t> shape = n.attrInts("output_shape", {});
    // Some exporters give the whole shape [N, M, ...].
    if (static_cast<int64_t>(shape.size()) == spatial + 2)
      shape.erase(shape.begin(), shape.begin() + 2);
    if (static_cast<int64_t>(shape.size()) != spatial) {
      n.fail(strCat("attribute 'output_shape' is ", listString(shape),
                    "; expected ", spatial, " spatial sizes"))
          .IgnoreError();
      return std::nullopt;
    }
    outputShape = shape;
  } else if (mode == AutoPad::SameUpper || mode == AutoPad::SameLower) {
    outputShape.emplace();
    for (int64_t i = 0; i < spatial; ++i)
      outputShape->push_back(in[i] * strides[i]);
  } else if (mode == AutoPad::Valid) {
    return std::vector<int64_t>(2 * spatial, 0);
  } else {
    return explicitPads(n, spatial);
  }
  std::vector<int64_t> pads(2 * spatial);
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t total = full[i] - (*outputShape)[i];
    int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);
    bool upper = mode == AutoPad::SameUpper;
    pads[i] = upper ? half : total - half;
    pads[spatial + i] = upper ? total - half : half;
  }
  return pads;
}

// A transposed convolution is a stride-1 convolution of the input with
// stride - 1 zeros between its elements, padded by dilation * (k - 1)
// minus the ONNX pads (cropped where that is negative), with the kernel
// flipped and its channel axes swapped.
absl::Status convertConvTranspose(NodeContext &n) {
  Value *x = n.input(0);
  Value *w = n.input(1);
  if (!x || !w)
    return n.status();
  if (!requireFloat(n, x))
    return n.status();
  std::optional<int64_t> spatial = spatialAxes(n, x);
  if (!spatial)
    return n.status();
  if (w->type.rank() != x->type.rank())
    return n.fail(strCat("the weight is ", w->type.str(), " for input ",
                         x->type.str(), "; expected the same rank"));
  const int64_t groups = n.attrInt("group", 1);
  const int64_t channels = x->type.shape[1];
  if (groups < 1 || channels % groups != 0 || w->type.shape[0] != channels)
    return n.fail(strCat("the weight is ", w->type.str(), " for input ",
                         x->type.str(), " and group ", groups,
                         "; expected the weight's first axis to be the ",
                         "input's channels, divisible by group"));
  auto kernel = kernelOf(n, w);
  auto strides = spatialInts(n, "strides", *spatial, 1);
  auto dilations = spatialInts(n, "dilations", *spatial, 1);
  auto outputPadding = spatialInts(n, "output_padding", *spatial, 0);
  auto mode = autoPad(n);
  if (!kernel || !strides || !dilations || !outputPadding || !mode)
    return n.status();
  const Shape in = spatialSizes(x);
  // The output size before the pads remove anything.
  std::vector<int64_t> full(*spatial);
  for (int64_t i = 0; i < *spatial; ++i)
    full[i] = (*strides)[i] * (in[i] - 1) + (*outputPadding)[i] +
              reach((*kernel)[i], (*dilations)[i]);
  auto pads = transposePads(n, *mode, in, *strides, full);
  if (!pads)
    return n.status();
  std::vector<int64_t> amounts(2 * *spatial);
  for (int64_t i = 0; i < *spatial; ++i) {
    int64_t extent = reach((*kernel)[i], (*dilations)[i]) - 1;
    amounts[i] = extent - (*pads)[i];
    // interleaveZeros already left stride - 1 zeros at the end.
    amounts[*spatial + i] = extent - (*pads)[*spatial + i] +
                            (*outputPadding)[i] - ((*strides)[i] - 1);
  }
  Value *input = padOrCrop(n, interleaveZeros(n, x, *strides), amounts);
  const Window win{*spatial, *kernel, std::vector<int64_t>(*spatial, 1),
                   *dilations, std::vector<int64_t>(2 * *spatial, 0)};
  Value *bias = n.hasInput(2) ? n.input(2) : nullptr;
  n.setOutput(0, convolution(n, input, transposedKernel(n, w, groups), bias,
                             win, groups));
  return n.status();
}

constexpr ConverterEntry kTable[] = {
    {"Conv", convertConv},
    {"ConvTranspose", convertConvTranspose},
};

} // namespace

std::span<const ConverterEntry> convConverters() { return kTable; }

} // namespace nyx::onnx_import
