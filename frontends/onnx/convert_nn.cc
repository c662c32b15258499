// Converters of ONNX's neural-network ops: linear algebra (MatMul, Gemm,
// Einsum), convolution and pooling, normalizations, Softmax and friends,
// losses, and a few generators (Trilu, OneHot, EyeLike). Most map onto one
// IR op; the rest are small compositions of IR ops, described where they
// are built.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "frontends/onnx/converters.h"
#include "frontends/onnx/tensor_proto.h"
#include "ir/strings.h"

namespace nyx::onnx_import {
namespace {

using ir::DType;
using ir::Shape;
using ir::Value;

// ---- Helpers ----

std::string listString(const std::vector<int64_t> &v) {
  return strCat("[", strJoin(v, ", "), "]");
}

int64_t product(const Shape &shape, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end; ++i)
    p *= shape[i];
  return p;
}

std::vector<int64_t> allAxesFrom(int64_t first, int64_t rank) {
  std::vector<int64_t> axes;
  for (int64_t i = first; i < rank; ++i)
    axes.push_back(i);
  return axes;
}

Value *reshape(NodeContext &n, Value *x, Shape shape) {
  if (x && x->type.shape == shape)
    return x;
  return n.op("reshape", {x}, {{"shape", std::move(shape)}});
}

Value *transpose(NodeContext &n, Value *x, std::vector<int64_t> perm) {
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i)
    identity = identity && perm[i] == static_cast<int64_t>(i);
  if (identity)
    return x;
  return n.op("transpose", {x}, {{"perm", std::move(perm)}});
}

Value *sliceAxis(NodeContext &n, Value *x, int64_t axis, int64_t start,
                 int64_t end, int64_t step = 1) {
  return n.op("slice", {x},
              {{"starts", {start}},
               {"ends", {end}},
               {"axes", {axis}},
               {"steps", {step}}});
}

Value *castTo(NodeContext &n, Value *x, DType dtype) {
  if (x && x->type.dtype == dtype)
    return x;
  return n.op("cast", {x}, {{"to", dtype}});
}

// A rank-`rank` i64 (or `dtype`) tensor 0, 1, ..., size-1 laid along `axis`
// with size-1 axes elsewhere, to compare indices against.
Value *iotaAlong(NodeContext &n, int64_t size, int64_t axis, int64_t rank,
                 DType dtype = DType::I64) {
  Shape shape(rank, 1);
  shape[axis] = size;
  ir::Tensor t(ir::TensorType{dtype, shape});
  for (int64_t i = 0; i < size; ++i)
    t.setInt(i, i);
  return n.constant(std::move(t));
}

Value *int64Scalar(NodeContext &n, int64_t v) {
  ir::Tensor t(ir::TensorType{DType::I64, {}});
  t.setInt(0, v);
  return n.constant(std::move(t));
}

// Records "unsupported: dtype X" for an op that the IR defines on floats
// only; true when x is a float.
bool requireFloat(NodeContext &n, const Value *x) {
  if (ir::isFloat(x->type.dtype))
    return true;
  n.unsupported(strCat("dtype ", ir::dtypeName(x->type.dtype))).IgnoreError();
  return false;
}

// ---- MatMul, Gemm ----

// NumPy's matmul: a 1-D operand becomes a matrix (a row on the left, a
// column on the right) and its axis is dropped from the result.
absl::Status convertMatMul(NodeContext &n) {
  Value *a = n.input(0);
  Value *b = n.input(1);
  if (!a || !b)
    return n.status();
  const Shape sa = a->type.shape, sb = b->type.shape;
  if (sa.empty() || sb.empty())
    return n.fail(strCat("operands are ", a->type.str(), " and ", b->type.str(),
                         "; expected rank >= 1"));
  if (a->type.dtype == DType::I8 || a->type.dtype == DType::Bool)
    return n.unsupported(strCat("dtype ", ir::dtypeName(a->type.dtype)));
  if (sa.size() == 1)
    a = reshape(n, a, {1, sa[0]});
  if (sb.size() == 1)
    b = reshape(n, b, {sb[0], 1});
  Value *y = n.op("matmul", {a, b});
  if (!y)
    return n.status();
  if (sa.size() == 1 || sb.size() == 1) {
    const Shape &s = y->type.shape;
    Shape out(s.begin(), s.end() - 2);
    if (sa.size() != 1)
      out.push_back(s[s.size() - 2]);
    if (sb.size() != 1)
      out.push_back(s.back());
    y = reshape(n, y, out);
  }
  n.setOutput(0, y);
  return n.status();
}

// Y = alpha * A' B' + beta * C, with C broadcast to Y's shape.
absl::Status convertGemm(NodeContext &n) {
  Value *a = n.input(0);
  Value *b = n.input(1);
  if (!a || !b)
    return n.status();
  if (a->type.rank() != 2 || b->type.rank() != 2)
    return n.fail(strCat("A is ", a->type.str(), " and B is ", b->type.str(),
                         "; expected matrices"));
  const double alpha = n.attrFloat("alpha", 1.0);
  const double beta = n.attrFloat("beta", 1.0);
  const bool transA = n.attrInt("transA", 0) != 0;
  const bool transB = n.attrInt("transB", 0) != 0;
  Value *y = n.op("matmul", {a, b},
                  {{"transpose_a", transA}, {"transpose_b", transB}});
  if (alpha != 1.0)
    y = n.op("mul", {y, n.scalarLike(alpha, y)});
  if (n.hasInput(2)) {
    Value *c = n.input(2);
    if (beta != 1.0)
      c = n.op("mul", {c, n.scalarLike(beta, c)});
    Value *sum = n.op("add", {y, c});
    if (sum && y && sum->type.shape != y->type.shape)
      return n.fail(strCat("C is ", c->type.str(),
                           "; expected a shape that "
                           "broadcasts to the product's ",
                           y->type.str()));
    y = sum;
  }
  n.setOutput(0, y);
  return n.status();
}

// ---- Windows: the geometry shared by Conv, ConvTranspose and pooling ----

// A window op over S = 1, 2 or 3 spatial axes. The IR's convolution and
// pooling are 2-D: 1-D ops run with a height of 1, 3-D ones are decomposed
// into 2-D ones (conv3d, pool3d below).
struct Window {
  int64_t spatial = 0;
  std::vector<int64_t> kernel, strides, dilations; // one entry per axis
  std::vector<int64_t> pads; // the begins, then the ends (ONNX's order)
};

constexpr int64_t kMaxSpatialAxes = 3;

std::optional<int64_t> spatialAxes(NodeContext &n, const Value *x) {
  const int64_t spatial = x->type.rank() - 2;
  if (spatial < 1) {
    n.fail(strCat("input 0 is ", x->type.str(),
                  "; expected [N, C, spatial...] with at least one spatial "
                  "axis"))
        .IgnoreError();
    return std::nullopt;
  }
  if (spatial > kMaxSpatialAxes) {
    n.unsupported(strCat(spatial, " spatial axes")).IgnoreError();
    return std::nullopt;
  }
  return spatial;
}

// The spatial sizes of x [N, C, spatial...].
Shape spatialSizes(const Value *x) {
  return Shape(x->type.shape.begin() + 2, x->type.shape.end());
}

// An ints attribute with one entry per spatial axis, each >= `min`.
std::optional<std::vector<int64_t>> spatialInts(NodeContext &n,
                                                std::string_view name,
                                                int64_t spatial, int64_t min) {
  std::vector<int64_t> v = n.attrInts(
      name, std::vector<int64_t>(spatial, std::max<int64_t>(min, 0)));
  if (!n.status().ok())
    return std::nullopt;
  if (static_cast<int64_t>(v.size()) != spatial) {
    n.fail(strCat("attribute '", name, "' is ", listString(v), "; expected ",
                  spatial, " entries (one per spatial axis)"))
        .IgnoreError();
    return std::nullopt;
  }
  for (int64_t e : v)
    if (e < min) {
      n.fail(strCat("attribute '", name, "' is ", listString(v),
                    "; expected entries >= ", min))
          .IgnoreError();
      return std::nullopt;
    }
  return v;
}

// The pads attribute: [x1_begin, x2_begin, ..., x1_end, x2_end, ...].
std::optional<std::vector<int64_t>> explicitPads(NodeContext &n,
                                                 int64_t spatial) {
  std::vector<int64_t> pads =
      n.attrInts("pads", std::vector<int64_t>(2 * spatial, 0));
  if (!n.status().ok())
    return std::nullopt;
  if (static_cast<int64_t>(pads.size()) != 2 * spatial) {
    n.fail(strCat("attribute 'pads' is ", listString(pads), "; expected ",
                  2 * spatial, " entries (begin and end per spatial axis)"))
        .IgnoreError();
    return std::nullopt;
  }
  for (int64_t p : pads)
    if (p < 0) {
      n.fail(strCat("attribute 'pads' is ", listString(pads),
                    "; expected entries >= 0"))
          .IgnoreError();
      return std::nullopt;
    }
  return pads;
}

enum class AutoPad { NotSet, SameUpper, SameLower, Valid };

std::optional<AutoPad> autoPad(NodeContext &n) {
  std::string s = n.attrString("auto_pad", "NOTSET");
  if (s == "NOTSET" || s.empty())
    return AutoPad::NotSet;
  if (s == "SAME_UPPER")
    return AutoPad::SameUpper;
  if (s == "SAME_LOWER")
    return AutoPad::SameLower;
  if (s == "VALID")
    return AutoPad::Valid;
  n.fail(strCat("attribute 'auto_pad' is \"", s,
                "\"; expected NOTSET, SAME_UPPER, SAME_LOWER or VALID"))
      .IgnoreError();
  return std::nullopt;
}

// The extent of a dilated window.
int64_t reach(int64_t kernel, int64_t dilation) {
  return (kernel - 1) * dilation + 1;
}

// The padding of a window op on input sizes `in`: explicit pads, none
// (VALID), or SAME's, which gives ceil(in / stride) outputs with the odd
// unit at the end (SAME_UPPER) or at the beginning (SAME_LOWER).
std::optional<std::vector<int64_t>>
windowPads(NodeContext &n, AutoPad mode, const Shape &in, const Window &w) {
  const int64_t s = w.spatial;
  if (mode == AutoPad::NotSet)
    return explicitPads(n, s);
  std::vector<int64_t> pads(2 * s, 0);
  if (mode == AutoPad::Valid)
    return pads;
  for (int64_t i = 0; i < s; ++i) {
    int64_t out = (in[i] + w.strides[i] - 1) / w.strides[i];
    int64_t total =
        std::max<int64_t>(0, (out - 1) * w.strides[i] +
                                 reach(w.kernel[i], w.dilations[i]) - in[i]);
    int64_t small = total / 2, big = total - small;
    pads[i] = mode == AutoPad::SameUpper ? small : big;
    pads[s + i] = mode == AutoPad::SameUpper ? big : small;
  }
  return pads;
}

// Reads strides, dilations and the padding of a Conv or pooling node whose
// kernel is `kernel`.
std::optional<Window> readWindow(NodeContext &n, const Value *x,
                                 int64_t spatial, std::vector<int64_t> kernel) {
  Window w;
  w.spatial = spatial;
  w.kernel = std::move(kernel);
  auto strides = spatialInts(n, "strides", spatial, 1);
  auto dilations = spatialInts(n, "dilations", spatial, 1);
  auto mode = autoPad(n);
  if (!strides || !dilations || !mode)
    return std::nullopt;
  w.strides = std::move(*strides);
  w.dilations = std::move(*dilations);
  auto pads = windowPads(n, *mode, spatialSizes(x), w);
  if (!pads)
    return std::nullopt;
  w.pads = std::move(*pads);
  return w;
}

// The kernel's spatial sizes from the weight [*, *, k...], checked against
// the kernel_shape attribute where one is given.
std::optional<std::vector<int64_t>> kernelOf(NodeContext &n, const Value *w) {
  std::vector<int64_t> kernel(w->type.shape.begin() + 2, w->type.shape.end());
  if (n.hasAttr("kernel_shape")) {
    std::vector<int64_t> attr = n.attrInts("kernel_shape", {});
    if (attr != kernel) {
      n.fail(strCat("attribute 'kernel_shape' is ", listString(attr),
                    " but the weight is ", w->type.str(),
                    "; expected them to agree"))
          .IgnoreError();
      return std::nullopt;
    }
  }
  return kernel;
}

// A 1-D window as a 2-D one of height 1.
Window withHeight(const Window &w) {
  return Window{2,
                {1, w.kernel[0]},
                {1, w.strides[0]},
                {1, w.dilations[0]},
                {0, w.pads[0], 0, w.pads[1]}};
}

// [N, C, W] -> [N, C, 1, W].
Value *addHeight(NodeContext &n, Value *x) {
  if (!x)
    return nullptr;
  const Shape &s = x->type.shape;
  return reshape(n, x, {s[0], s[1], 1, s[2]});
}

// [N, C, 1, W] -> [N, C, W].
Value *dropHeight(NodeContext &n, Value *y) {
  if (!y)
    return nullptr;
  const Shape &s = y->type.shape;
  return reshape(n, y, {s[0], s[1], s[3]});
}

// The axes [2, 2 + S) of x [N, C, spatial...] padded with `value`; `pads`
// has S begins then S ends.
Value *padSpatial(NodeContext &n, Value *x, const std::vector<int64_t> &pads,
                  double value = 0.0) {
  if (!x ||
      std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p == 0; }))
    return x;
  const int64_t rank = x->type.rank(), s = rank - 2;
  std::vector<int64_t> full(2 * rank, 0);
  for (int64_t i = 0; i < s; ++i) {
    full[2 + i] = pads[i];
    full[rank + 2 + i] = pads[s + i];
  }
  return n.op("pad", {x}, {{"pads", full}, {"value", value}});
}

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

// ---- Pooling ----

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

// ---- Normalizations ----

absl::Status convertBatchNormalization(NodeContext &n) {
  Value *x = n.input(0);
  if (!x)
    return n.status();
  if (n.opset() >= 14 && n.attrInt("training_mode", 0) != 0)
    return n.unsupported("training_mode = 1");
  // Before opset 7, is_test = 0 (the default) asks for training mode.
  if (n.opset() < 7 && n.attrInt("is_test", 0) == 0)
    return n.unsupported("is_test = 0 (training mode)");
  for (int i = 1; i < 5; ++i)
    if (n.hasOutput(i))
      return n.unsupported(
          "the training outputs (running and saved statistics)");
  if (!requireFloat(n, x))
    return n.status();
  if (x->type.rank() < 2)
    return n.fail(
        strCat("input 0 is ", x->type.str(), "; expected [N, C, ...]"));
  const double epsilon = n.attrFloat("epsilon", 1e-5);
  const DType dtype = x->type.dtype;
  // Opset 15 lets the statistics and the affine parameters have their own
  // float types.
  std::vector<Value *> params;
  for (int i = 1; i < 5; ++i)
    params.push_back(castTo(n, n.input(i), dtype));
  if (!n.status().ok())
    return n.status();
  // Opsets 7 and 8: spatial = 0 keeps one statistic per element of
  // x.shape[1:] instead of one per channel.
  if (n.opset() < 9 && n.attrInt("spatial", 1) == 0) {
    Value *scale = n.op(
        "mul",
        {params[0],
         n.op("rsqrt", {n.op("add", {params[3], n.scalarLike(epsilon, x)})})});
    Value *centered = n.op("sub", {x, params[2]});
    n.setOutput(0, n.op("add", {n.op("mul", {centered, scale}), params[1]}));
    return n.status();
  }
  const int64_t channels = x->type.shape[1];
  for (Value *&p : params) {
    if (p->type.numElements() != channels)
      return n.fail(strCat("a statistic or parameter is ", p->type.str(),
                           " for input ", x->type.str(), "; expected ",
                           channels, " elements (one per channel)"));
    p = reshape(n, p, {channels});
  }
  n.setOutput(0, n.op("batch_norm",
                      {x, params[0], params[1], params[2], params[3]},
                      {{"axis", 1}, {"epsilon", epsilon}}));
  return n.status();
}

// Per (n, c), normalized over the spatial axes: a layer_norm of [N, C, S]
// over S, then the per-channel scale and bias.
absl::Status convertInstanceNormalization(NodeContext &n) {
  Value *x = n.input(0);
  Value *scale = n.input(1);
  Value *bias = n.input(2);
  if (!x || !scale || !bias)
    return n.status();
  if (!requireFloat(n, x))
    return n.status();
  const Shape shape = x->type.shape;
  if (shape.size() < 3)
    return n.fail(
        strCat("input 0 is ", x->type.str(), "; expected [N, C, spatial...]"));
  const int64_t channels = shape[1];
  if (scale->type.numElements() != channels ||
      bias->type.numElements() != channels)
    return n.fail(strCat("scale is ", scale->type.str(), " and B is ",
                         bias->type.str(), "; expected ", channels,
                         " elements each"));
  Value *flat =
      reshape(n, x, {shape[0], channels, product(shape, 2, shape.size())});
  Value *norm = n.op("layer_norm", {flat},
                     {{"axis", -1}, {"epsilon", n.attrFloat("epsilon", 1e-5)}});
  Shape perChannel(shape.size() - 1, 1);
  perChannel[0] = channels;
  Value *y =
      n.op("mul", {reshape(n, norm, shape), reshape(n, scale, perChannel)});
  n.setOutput(0, n.op("add", {y, reshape(n, bias, perChannel)}));
  return n.status();
}

absl::Status convertLayerNormalization(NodeContext &n) {
  Value *x = n.input(0);
  Value *scale = n.input(1);
  if (!x || !scale)
    return n.status();
  Value *bias = n.hasInput(2) ? n.input(2) : nullptr;
  if (!requireFloat(n, x))
    return n.status();
  const int64_t rank = x->type.rank();
  const int64_t axis = n.axis(n.attrInt("axis", -1), rank);
  const double epsilon = n.attrFloat("epsilon", 1e-5);
  if (!n.status().ok())
    return n.status();
  if (rank == 0)
    return n.fail("input 0 is a scalar; expected rank >= 1");
  const Shape normShape(x->type.shape.begin() + axis, x->type.shape.end());
  auto fits = [&](const Value *p) {
    return !p || (p->type.shape == normShape && p->type.dtype == x->type.dtype);
  };
  Value *y;
  if (fits(scale) && fits(bias)) {
    std::vector<Value *> operands = {x, scale};
    if (bias)
      operands.push_back(bias);
    y = n.op("layer_norm", operands, {{"axis", axis}, {"epsilon", epsilon}});
  } else {
    // Scale and B broadcast like the spec's Mul and Add.
    y = n.op("layer_norm", {x}, {{"axis", axis}, {"epsilon", epsilon}});
    y = n.op("mul", {y, scale});
    if (bias)
      y = n.op("add", {y, bias});
    if (y && y->type != x->type)
      return n.fail(strCat("Scale and B give ", y->type.str(), " for X ",
                           x->type.str(), "; expected X's type"));
  }
  n.setOutput(0, y);
  if (!n.hasOutput(1) && !n.hasOutput(2))
    return n.status();
  // Mean and InvStdDev, in the stash type, with the normalized axes kept.
  const int64_t stashType = n.attrInt("stash_type", 1);
  auto stash = dtypeFromOnnx(static_cast<int32_t>(stashType));
  if (!stash.ok() || !ir::isFloat(*stash))
    return n.fail(strCat("attribute 'stash_type' is ", stashType,
                         "; expected a float type (1 for float)"));
  Value *xs = castTo(n, x, *stash);
  const std::vector<int64_t> axes = allAxesFrom(axis, rank);
  ir::Attrs reduceAttrs{{"axes", axes}, {"keepdims", true}};
  Value *mean = n.op("reduce_mean", {xs}, reduceAttrs);
  Value *d = n.op("sub", {xs, mean});
  Value *var = n.op("reduce_mean", {n.op("mul", {d, d})}, reduceAttrs);
  n.setOutput(1, mean);
  n.setOutput(2,
              n.op("rsqrt", {n.op("add", {var, n.scalarLike(epsilon, var)})}));
  return n.status();
}

// The spec's function: (x - E[x]) / (sqrt(E[x^2] - E[x]^2) + 1e-9).
absl::Status convertMeanVarianceNormalization(NodeContext &n) {
  Value *x = n.input(0);
  if (!x || !requireFloat(n, x))
    return n.status();
  const int64_t rank = x->type.rank();
  std::vector<int64_t> axes;
  for (int64_t a : n.attrInts("axes", {0, 2, 3})) {
    int64_t axis = n.axis(a, rank);
    if (std::find(axes.begin(), axes.end(), axis) != axes.end())
      return n.fail(strCat("attribute 'axes' names axis ", axis,
                           " twice; expected distinct axes"));
    axes.push_back(axis);
  }
  if (!n.status().ok())
    return n.status();
  ir::Attrs reduceAttrs{{"axes", axes}, {"keepdims", true}};
  Value *mean = n.op("reduce_mean", {x}, reduceAttrs);
  Value *meanOfSquares =
      n.op("reduce_mean", {n.op("mul", {x, x})}, reduceAttrs);
  Value *var = n.op("sub", {meanOfSquares, n.op("mul", {mean, mean})});
  Value *deviation = n.op("add", {n.op("sqrt", {var}), n.scalarLike(1e-9, x)});
  n.setOutput(0, n.op("div", {n.op("sub", {x, mean}), deviation}));
  return n.status();
}

// y = x / (bias + alpha / size * sum of x^2 over a window of channels)^beta.
// The window sum is an average pool over the channel axis of [N, 1, C, S]
// (count_include_pad, so it divides by size exactly).
absl::Status convertLRN(NodeContext &n) {
  Value *x = n.input(0);
  if (!x || !requireFloat(n, x))
    return n.status();
  if (!n.hasAttr("size"))
    return n.fail("attribute 'size' is missing; expected the window size");
  const int64_t size = n.attrInt("size", 1);
  if (size < 1)
    return n.fail(strCat("attribute 'size' is ", size, "; expected >= 1"));
  const Shape shape = x->type.shape;
  if (shape.size() < 2)
    return n.fail(
        strCat("input 0 is ", x->type.str(), "; expected [N, C, ...]"));
  const int64_t before = (size - 1) / 2, after = size - 1 - before;
  Value *squares =
      reshape(n, n.op("mul", {x, x}),
              {shape[0], 1, shape[1], product(shape, 2, shape.size())});
  Value *mean = n.op("avg_pool2d", {squares},
                     {{"kernel", {size, 1}},
                      {"strides", {1, 1}},
                      {"padding", {before, 0, after, 0}},
                      {"count_include_pad", true}});
  Value *scaled = n.op("mul", {reshape(n, mean, shape),
                               n.scalarLike(n.attrFloat("alpha", 1e-4), x)});
  Value *base =
      n.op("add", {scaled, n.scalarLike(n.attrFloat("bias", 1.0), x)});
  Value *denom =
      n.op("pow", {base, n.scalarLike(n.attrFloat("beta", 0.75), x)});
  n.setOutput(0, n.op("div", {x, denom}));
  return n.status();
}

// ---- Softmax, LogSoftmax, Hardmax ----

// One-hot of the first maximal element along `axis`.
Value *hardmax(NodeContext &n, Value *x, int64_t axis) {
  Value *index = n.op("argmax", {x}, {{"axis", axis}, {"keepdims", true}});
  Value *iota = iotaAlong(n, x->type.shape[axis], axis, x->type.rank());
  return castTo(n, n.op("eq", {index, iota}), x->type.dtype);
}

// Before opset 13 these ops flatten the input to 2-D at `axis` (default 1)
// and normalize each row; from 13 they normalize along `axis` (default -1).
absl::Status convertSoftmaxLike(NodeContext &n, std::string_view kind) {
  Value *x = n.input(0);
  if (!x || !requireFloat(n, x))
    return n.status();
  const int64_t rank = x->type.rank();
  if (rank == 0)
    return n.fail("input 0 is a scalar; expected rank >= 1");
  const bool flatten = n.opset() < 13;
  const int64_t axis = n.axis(n.attrInt("axis", flatten ? 1 : -1), rank);
  if (!n.status().ok())
    return n.status();
  auto apply = [&](Value *v, int64_t a) {
    if (kind == "hardmax")
      return hardmax(n, v, a);
    return n.op(kind, {v}, {{"axis", a}});
  };
  if (!flatten || axis == rank - 1) {
    n.setOutput(0, apply(x, axis));
    return n.status();
  }
  const Shape &shape = x->type.shape;
  Value *rows = reshape(
      n, x, {product(shape, 0, axis), product(shape, axis, shape.size())});
  n.setOutput(0, reshape(n, apply(rows, 1), shape));
  return n.status();
}

absl::Status convertSoftmax(NodeContext &n) {
  return convertSoftmaxLike(n, "softmax");
}
absl::Status convertLogSoftmax(NodeContext &n) {
  return convertSoftmaxLike(n, "log_softmax");
}
absl::Status convertHardmax(NodeContext &n) {
  return convertSoftmaxLike(n, "hardmax");
}

// ---- Dropout ----

// Inference: the identity, with a mask of all ones. Training mode is
// supported only where it is an identity too (ratio 0).
absl::Status convertDropout(NodeContext &n) {
  Value *x = n.input(0);
  if (!x)
    return n.status();
  // Before opset 7, is_test = 0 (the default) asks for a random mask.
  if (n.opset() < 7 && n.attrInt("is_test", 0) == 0 &&
      n.attrFloat("ratio", 0.5) != 0.0)
    return n.unsupported("is_test = 0 (a random mask)");
  // From opset 12 ratio and training_mode are inputs; a zero ratio is an
  // identity in either mode.
  const ir::Tensor *ratio = n.hasInput(1) ? n.constantInput(1) : nullptr;
  const bool zeroRatio =
      ratio && ratio->numElements() == 1 && ratio->getDouble(0) == 0.0;
  if (n.opset() >= 12 && n.hasInput(2) && !zeroRatio) {
    const ir::Tensor *training = n.requireConstant(2, "training_mode");
    if (!training)
      return n.status();
    if (training->numElements() != 1)
      return n.fail(strCat("training_mode is ", training->type().str(),
                           "; expected a scalar"));
    if (training->getInt(0) != 0)
      return n.unsupported("training_mode = true and a ratio other than 0 "
                           "(a random mask)");
  }
  n.setOutput(0, x);
  if (n.hasOutput(1)) {
    // The mask is bool from opset 10, of x's type before.
    ir::Tensor one(
        ir::TensorType{n.opset() >= 10 ? DType::Bool : x->type.dtype, {}});
    one.setDouble(0, 1);
    n.setOutput(1, n.op("broadcast_to", {n.constant(std::move(one))},
                        {{"shape", x->type.shape}}));
  }
  return n.status();
}

// ---- PRelu ----

absl::Status convertPRelu(NodeContext &n) {
  Value *x = n.input(0);
  Value *slope = n.input(1);
  if (!x || !slope)
    return n.status();
  // Before opset 7 a 1-D slope holds one value per channel (axis 1).
  const int64_t rank = x->type.rank();
  if (n.opset() < 7 && rank >= 2 && slope->type.rank() == 1 &&
      slope->type.shape[0] == x->type.shape[1]) {
    Shape perChannel(rank - 1, 1);
    perChannel[0] = x->type.shape[1];
    slope = reshape(n, slope, perChannel);
  }
  Value *negative = n.op("lt", {x, n.scalarLike(0, x)});
  Value *y = n.op("select", {negative, n.op("mul", {x, slope}), x});
  if (y && y->type.shape != x->type.shape)
    return n.fail(strCat("slope is ", slope->type.str(), " for X ",
                         x->type.str(),
                         "; expected a slope that broadcasts "
                         "to X's shape"));
  n.setOutput(0, y);
  return n.status();
}

// ---- Einsum ----

// A labelled operand: labels[i] names axis i. Letters are their character
// codes; the axes an ellipsis stands for are kEllipsisLabel + k.
constexpr int kEllipsisLabel = 256;

struct Labelled {
  Value *value = nullptr;
  std::vector<int> labels;
};

bool contains(const std::vector<int> &labels, int label) {
  return std::find(labels.begin(), labels.end(), label) != labels.end();
}

// Parses one term ("bij", "...ii") of an operand of rank `rank`; the
// ellipsis' axes get the last labels of the `ellipsisRank` shared ones (they
// broadcast from the right).
std::optional<std::vector<int>> parseTerm(NodeContext &n, std::string_view term,
                                          int64_t rank, int64_t ellipsisRank) {
  std::vector<int> labels;
  size_t dots = term.find("...");
  int64_t letters = static_cast<int64_t>(term.size()) -
                    (dots == std::string_view::npos ? 0 : 3);
  if (dots != std::string_view::npos &&
      term.find("...", dots + 3) != std::string_view::npos) {
    n.fail(strCat("term '", term, "' has two ellipses; expected at most one"))
        .IgnoreError();
    return std::nullopt;
  }
  int64_t covered = rank - letters;
  if (covered < 0 || (dots == std::string_view::npos && covered != 0) ||
      covered > ellipsisRank) {
    n.fail(strCat("term '", term, "' does not match an operand of rank ", rank))
        .IgnoreError();
    return std::nullopt;
  }
  for (size_t i = 0; i < term.size(); ++i) {
    if (i == dots) {
      for (int64_t k = ellipsisRank - covered; k < ellipsisRank; ++k)
        labels.push_back(kEllipsisLabel + static_cast<int>(k));
      i += 2;
      continue;
    }
    char c = term[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
      n.fail(strCat("term '", term, "' has '", std::string(1, c),
                    "'; expected letters and at most one '...'"))
          .IgnoreError();
      return std::nullopt;
    }
    labels.push_back(c);
  }
  return labels;
}

// The size of each label across the operands (1 where it broadcasts).
std::map<int, int64_t> labelSizes(const std::vector<Labelled> &ops) {
  std::map<int, int64_t> sizes;
  for (const Labelled &op : ops)
    for (size_t i = 0; i < op.labels.size(); ++i) {
      int64_t d = op.value->type.shape[i];
      auto [it, inserted] = sizes.emplace(op.labels[i], d);
      if (!inserted && it->second == 1)
        it->second = d;
    }
  return sizes;
}

// Takes the diagonal of two axes with the same label: both move last,
// flatten to d*d, and every (d+1)-th element is kept.
void takeDiagonals(NodeContext &n, Labelled &op) {
  for (size_t p = 0; p < op.labels.size() && op.value; ++p) {
    for (size_t q = p + 1; q < op.labels.size(); ++q) {
      if (op.labels[q] != op.labels[p])
        continue;
      const Shape &shape = op.value->type.shape;
      const int64_t d = shape[p];
      if (shape[q] != d) {
        n.fail(strCat("a repeated label has sizes ", d, " and ", shape[q],
                      "; expected them equal"))
            .IgnoreError();
        return;
      }
      std::vector<int64_t> perm;
      std::vector<int> labels;
      Shape flat;
      for (size_t i = 0; i < op.labels.size(); ++i)
        if (i != p && i != q) {
          perm.push_back(static_cast<int64_t>(i));
          labels.push_back(op.labels[i]);
          flat.push_back(shape[i]);
        }
      perm.push_back(static_cast<int64_t>(p));
      perm.push_back(static_cast<int64_t>(q));
      labels.push_back(op.labels[p]);
      flat.push_back(d * d);
      Value *moved = reshape(n, transpose(n, op.value, perm), flat);
      op.value = sliceAxis(n, moved, static_cast<int64_t>(flat.size()) - 1, 0,
                           d * d, d + 1);
      op.labels = std::move(labels);
      p = static_cast<size_t>(-1); // start over: labels moved
      break;
    }
  }
}

// Sums out the labels of `op` that are not in `keep`.
void sumOutExcept(NodeContext &n, Labelled &op, const std::vector<int> &keep) {
  std::vector<int64_t> axes;
  std::vector<int> labels;
  for (size_t i = 0; i < op.labels.size(); ++i) {
    if (contains(keep, op.labels[i]))
      labels.push_back(op.labels[i]);
    else
      axes.push_back(static_cast<int64_t>(i));
  }
  if (axes.empty())
    return;
  op.value = n.op("reduce_sum", {op.value}, {{"axes", axes}});
  op.labels = std::move(labels);
}

// Broadcasts the axes of `op` that have size 1 where the label's size is
// larger (an ellipsis broadcasting against another operand's).
void broadcastLabels(NodeContext &n, Labelled &op,
                     const std::map<int, int64_t> &sizes) {
  if (!op.value)
    return;
  Shape shape = op.value->type.shape;
  bool changed = false;
  for (size_t i = 0; i < op.labels.size(); ++i)
    if (shape[i] != sizes.at(op.labels[i])) {
      shape[i] = sizes.at(op.labels[i]);
      changed = true;
    }
  if (changed)
    op.value = n.op("broadcast_to", {op.value}, {{"shape", shape}});
}

// Contracts two operands with one batched matmul, keeping the labels in
// `keep`: a is moved to [batch, left, summed], b to [batch, summed, right].
Labelled contract(NodeContext &n, Labelled a, Labelled b,
                  const std::vector<int> &keep) {
  std::vector<int> keepA = keep, keepB = keep;
  keepA.insert(keepA.end(), b.labels.begin(), b.labels.end());
  keepB.insert(keepB.end(), a.labels.begin(), a.labels.end());
  sumOutExcept(n, a, keepA);
  sumOutExcept(n, b, keepB);
  if (!a.value || !b.value)
    return {};
  std::map<int, int64_t> sizes = labelSizes({a, b});
  broadcastLabels(n, a, sizes);
  broadcastLabels(n, b, sizes);
  std::vector<int> batch, left, summed, right;
  for (int l : a.labels) {
    if (!contains(b.labels, l))
      left.push_back(l);
    else if (contains(keep, l))
      batch.push_back(l);
    else
      summed.push_back(l);
  }
  for (int l : b.labels)
    if (!contains(a.labels, l))
      right.push_back(l);
  auto moveTo = [&](const Labelled &op, std::vector<std::vector<int>> groups) {
    std::vector<int64_t> perm;
    Shape shape;
    for (const std::vector<int> &group : groups) {
      int64_t size = 1;
      for (int l : group) {
        perm.push_back(std::find(op.labels.begin(), op.labels.end(), l) -
                       op.labels.begin());
        size *= sizes.at(l);
      }
      shape.push_back(size);
    }
    return reshape(n, transpose(n, op.value, perm), shape);
  };
  Value *lhs = moveTo(a, {batch, left, summed});
  Value *rhs = moveTo(b, {batch, summed, right});
  Labelled out;
  out.value = n.op("matmul", {lhs, rhs});
  Shape shape;
  for (const std::vector<int> *group : {&batch, &left, &right})
    for (int l : *group) {
      out.labels.push_back(l);
      shape.push_back(sizes.at(l));
    }
  out.value = reshape(n, out.value, shape);
  return out;
}

absl::Status convertEinsum(NodeContext &n) {
  std::string equation;
  for (char c : n.attrString("equation", ""))
    if (c != ' ')
      equation += c;
  if (!n.status().ok())
    return n.status();
  size_t arrow = equation.find("->");
  std::string lhs = equation.substr(0, arrow);
  std::vector<std::string> terms;
  for (size_t start = 0;;) {
    size_t comma = lhs.find(',', start);
    terms.push_back(lhs.substr(start, comma - start));
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  if (static_cast<int>(terms.size()) != n.numInputs())
    return n.fail(strCat("equation '", equation, "' has ", terms.size(),
                         " operand terms for ", n.numInputs(),
                         " inputs; expected one term per input"));
  std::vector<Labelled> ops(terms.size());
  int64_t ellipsisRank = 0;
  for (size_t i = 0; i < terms.size(); ++i) {
    ops[i].value = n.input(static_cast<int>(i));
    if (!ops[i].value)
      return n.status();
    if (terms[i].find("...") != std::string::npos)
      ellipsisRank = std::max<int64_t>(
          ellipsisRank, ops[i].value->type.rank() -
                            static_cast<int64_t>(terms[i].size() - 3));
  }
  for (size_t i = 0; i < terms.size(); ++i) {
    auto labels =
        parseTerm(n, terms[i], ops[i].value->type.rank(), ellipsisRank);
    if (!labels)
      return n.status();
    ops[i].labels = std::move(*labels);
  }
  std::vector<int> output;
  if (arrow != std::string::npos) {
    std::string term = equation.substr(arrow + 2);
    bool dots = term.find("...") != std::string::npos;
    int64_t rank =
        static_cast<int64_t>(term.size()) - (dots ? 3 - ellipsisRank : 0);
    auto labels = parseTerm(n, term, rank, ellipsisRank);
    if (!labels)
      return n.status();
    output = std::move(*labels);
  } else {
    // Implicit output: the ellipsis' axes, then the letters that occur
    // once, in alphabetical order.
    std::map<int, int> counts;
    for (const Labelled &op : ops)
      for (int l : op.labels)
        ++counts[l];
    for (int64_t k = 0; k < ellipsisRank; ++k)
      output.push_back(kEllipsisLabel + static_cast<int>(k));
    for (auto [l, count] : counts)
      if (l < kEllipsisLabel && count == 1)
        output.push_back(l);
  }
  for (size_t i = 0; i < output.size(); ++i) {
    if (std::find(output.begin() + i + 1, output.end(), output[i]) !=
        output.end())
      return n.fail(strCat("equation '", equation,
                           "' repeats a label in its output; expected each "
                           "output label once"));
    bool found = false;
    for (const Labelled &op : ops)
      found = found || contains(op.labels, output[i]);
    if (!found)
      return n.fail(strCat("equation '", equation,
                           "' has an output label no operand has"));
  }
  for (Labelled &op : ops)
    takeDiagonals(n, op);
  if (!n.status().ok())
    return n.status();
  Labelled acc = ops[0];
  for (size_t i = 1; i < ops.size(); ++i) {
    // Labels still needed: by later operands or by the output.
    std::vector<int> keep = output;
    for (size_t j = i + 1; j < ops.size(); ++j)
      keep.insert(keep.end(), ops[j].labels.begin(), ops[j].labels.end());
    acc = contract(n, acc, ops[i], keep);
    if (!acc.value)
      return n.status();
  }
  sumOutExcept(n, acc, output);
  if (!acc.value)
    return n.status();
  std::vector<int64_t> perm;
  for (int l : output)
    perm.push_back(std::find(acc.labels.begin(), acc.labels.end(), l) -
                   acc.labels.begin());
  n.setOutput(0, transpose(n, acc.value, perm));
  return n.status();
}

// ---- Losses ----

// The negative log-likelihood of `logProb` [N, C, d...] at the classes
// `target` [N, d...], with the class weights and ignore_index of
// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss. The class's
// element is picked with a one-hot mask (target == iota over C), so no
// gather is needed and ignored or out-of-range targets pick nothing.
Value *nllLoss(NodeContext &n, Value *logProb, Value *target, Value *weight) {
  const Shape &shape = logProb->type.shape;
  const int64_t rank = logProb->type.rank();
  if (rank < 2) {
    n.fail(strCat("the scores are ", logProb->type.str(),
                  "; expected [N, C, d...]"))
        .IgnoreError();
    return nullptr;
  }
  Shape targetShape = shape;
  targetShape.erase(targetShape.begin() + 1);
  if (target->type.shape != targetShape || !ir::isInteger(target->type.dtype)) {
    n.fail(strCat("the target is ", target->type.str(), " for scores ",
                  logProb->type.str(), "; expected integers of shape [",
                  ir::shapeString(targetShape), "]"))
        .IgnoreError();
    return nullptr;
  }
  const std::string reduction = n.attrString("reduction", "mean");
  if (reduction != "none" && reduction != "sum" && reduction != "mean") {
    n.fail(strCat("attribute 'reduction' is \"", reduction,
                  "\"; expected none, sum or mean"))
        .IgnoreError();
    return nullptr;
  }
  const int64_t classes = shape[1];
  Shape withClassAxis = shape;
  withClassAxis[1] = 1;
  Value *hot = n.op("eq", {reshape(n, target, withClassAxis),
                           iotaAlong(n, classes, 1, rank, target->type.dtype)});
  Value *zero = n.scalarLike(0, logProb);
  auto pick = [&](Value *v) {
    return n.op("reduce_sum", {n.op("select", {hot, v, zero})},
                {{"axes", {1}}});
  };
  Value *loss = n.op("neg", {pick(logProb)});
  Value *weights = nullptr; // per target element; null means all 1
  if (weight) {
    if (weight->type.shape != Shape{classes}) {
      n.fail(strCat("the weight is ", weight->type.str(), "; expected [",
                    classes, "]"))
          .IgnoreError();
      return nullptr;
    }
    Shape perClass(rank, 1);
    perClass[1] = classes;
    weights = pick(reshape(n, weight, perClass));
    loss = n.op("mul", {loss, weights});
  }
  if (n.hasAttr("ignore_index")) {
    ir::Tensor ignored(ir::TensorType{target->type.dtype, {}});
    ignored.setInt(0, n.attrInt("ignore_index", 0));
    Value *kept = n.op("ne", {target, n.constant(std::move(ignored))});
    loss = n.op("select", {kept, loss, zero});
    weights = weights ? n.op("select", {kept, weights, zero})
                      : castTo(n, kept, logProb->type.dtype);
  }
  if (reduction == "none")
    return loss;
  Value *sum = n.op("reduce_sum", {loss});
  if (reduction == "sum")
    return sum;
  if (!weights)
    return n.op("reduce_mean", {loss});
  return n.op("div", {sum, n.op("reduce_sum", {weights})});
}

absl::Status convertNegativeLogLikelihoodLoss(NodeContext &n) {
  Value *input = n.input(0);
  Value *target = n.input(1);
  if (!input || !target || !requireFloat(n, input))
    return n.status();
  Value *weight = n.hasInput(2) ? n.input(2) : nullptr;
  n.setOutput(0, nllLoss(n, input, target, weight));
  return n.status();
}

absl::Status convertSoftmaxCrossEntropyLoss(NodeContext &n) {
  Value *scores = n.input(0);
  Value *labels = n.input(1);
  if (!scores || !labels || !requireFloat(n, scores))
    return n.status();
  if (scores->type.rank() < 2)
    return n.fail(strCat("the scores are ", scores->type.str(),
                         "; expected [N, C, d...]"));
  Value *weight = n.hasInput(2) ? n.input(2) : nullptr;
  Value *logProb = n.op("log_softmax", {scores}, {{"axis", 1}});
  if (!logProb)
    return n.status();
  n.setOutput(0, nllLoss(n, logProb, labels, weight));
  n.setOutput(1, logProb);
  return n.status();
}

// ---- Generators: Trilu, OneHot, EyeLike ----

// Keeps the elements with column - row >= k (upper) or <= k (lower) of the
// last two axes; the mask compares small row and column iotas.
absl::Status convertTrilu(NodeContext &n) {
  Value *x = n.input(0);
  if (!x)
    return n.status();
  const int64_t rank = x->type.rank();
  if (rank < 2)
    return n.fail(strCat("input 0 is ", x->type.str(), "; expected rank >= 2"));
  Value *k;
  if (!n.hasInput(1)) {
    k = int64Scalar(n, 0);
  } else if (const ir::Tensor *known = n.constantInput(1)) {
    if (known->numElements() != 1)
      return n.fail(
          strCat("k is ", known->type().str(), "; expected a single integer"));
    k = int64Scalar(n, known->getInt(0));
  } else {
    k = n.input(1);
    if (k && (k->type.numElements() != 1 || k->type.dtype != DType::I64))
      return n.fail(strCat("k is ", k->type.str(), "; expected a single i64"));
    k = reshape(n, k, {});
  }
  const Shape &shape = x->type.shape;
  Value *rows = iotaAlong(n, shape[rank - 2], 0, 2);
  Value *cols = iotaAlong(n, shape[rank - 1], 1, 2);
  Value *diagonal = n.op("sub", {cols, rows});
  const bool upper = n.attrInt("upper", 1) != 0;
  Value *mask = n.op(upper ? "ge" : "le", {diagonal, k});
  n.setOutput(0, n.op("select", {mask, x, n.scalarLike(0, x)}));
  return n.status();
}

// Compares the indices with an iota along the new axis; negative indices
// count from the end from opset 11 (before, they are out of range).
absl::Status convertOneHot(NodeContext &n) {
  Value *indices = n.input(0);
  Value *values = n.input(2);
  const ir::Tensor *depthTensor = n.requireConstant(1, "depth");
  if (!indices || !values || !depthTensor)
    return n.status();
  if (depthTensor->numElements() != 1)
    return n.fail(strCat("depth is ", depthTensor->type().str(),
                         "; expected a single number"));
  const int64_t depth = static_cast<int64_t>(depthTensor->getDouble(0));
  if (depth < 1)
    return n.fail(strCat("depth is ", depth, "; expected >= 1"));
  if (values->type.numElements() != 2)
    return n.fail(strCat("values is ", values->type.str(),
                         "; expected [off_value, on_value]"));
  if (indices->type.dtype == DType::Bool)
    return n.fail("indices are bool; expected numbers");
  const int64_t rank = indices->type.rank() + 1;
  const int64_t axis = n.axis(n.attrInt("axis", -1), rank);
  if (!n.status().ok())
    return n.status();
  // Float indices are truncated, as casting to int64 does.
  Value *index = castTo(n, indices, DType::I64);
  if (n.opset() >= 11) {
    Value *depthValue = int64Scalar(n, depth);
    Value *negative = n.op("lt", {index, int64Scalar(n, 0)});
    index = n.op("select", {negative, n.op("add", {index, depthValue}), index});
  }
  Shape expanded = indices->type.shape;
  expanded.insert(expanded.begin() + axis, 1);
  Value *hot = n.op(
      "eq", {reshape(n, index, expanded), iotaAlong(n, depth, axis, rank)});
  Value *flat = reshape(n, values, {2});
  Value *off = reshape(n, sliceAxis(n, flat, 0, 0, 1), {});
  Value *on = reshape(n, sliceAxis(n, flat, 0, 1, 2), {});
  n.setOutput(0, n.op("select", {hot, on, off}));
  return n.status();
}

// A constant: it depends only on the input's shape.
absl::Status convertEyeLike(NodeContext &n) {
  const ir::TensorType *type = n.inputType(0);
  if (!type)
    return n.status();
  if (type->rank() != 2)
    return n.fail(strCat("input 0 is ", type->str(), "; expected a matrix"));
  DType dtype = type->dtype;
  if (n.hasAttr("dtype")) {
    auto d = dtypeFromOnnx(static_cast<int32_t>(n.attrInt("dtype", 1)));
    if (!d.ok())
      return n.unsupported(strCat(
          "dtype ", onnxTypeName(static_cast<int32_t>(n.attrInt("dtype", 1)))));
    dtype = *d;
  }
  const int64_t k = n.attrInt("k", 0);
  const int64_t rows = type->shape[0], cols = type->shape[1];
  ir::Tensor eye(ir::TensorType{dtype, type->shape});
  for (int64_t i = 0; i < rows; ++i)
    if (i + k >= 0 && i + k < cols)
      eye.setDouble(i * cols + i + k, 1);
  n.setConstantOutput(0, std::move(eye));
  return n.status();
}

constexpr ConverterEntry kTable[] = {
    {"AveragePool", convertAveragePool},
    {"BatchNormalization", convertBatchNormalization},
    {"Conv", convertConv},
    {"ConvTranspose", convertConvTranspose},
    {"Dropout", convertDropout},
    {"Einsum", convertEinsum},
    {"EyeLike", convertEyeLike},
    {"Gemm", convertGemm},
    {"GlobalAveragePool", convertGlobalAveragePool},
    {"GlobalMaxPool", convertGlobalMaxPool},
    {"Hardmax", convertHardmax},
    {"InstanceNormalization", convertInstanceNormalization},
    {"LRN", convertLRN},
    {"LayerNormalization", convertLayerNormalization},
    {"LogSoftmax", convertLogSoftmax},
    {"MatMul", convertMatMul},
    {"MaxPool", convertMaxPool},
    {"MeanVarianceNormalization", convertMeanVarianceNormalization},
    {"NegativeLogLikelihoodLoss", convertNegativeLogLikelihoodLoss},
    {"OneHot", convertOneHot},
    {"PRelu", convertPRelu},
    {"Softmax", convertSoftmax},
    {"SoftmaxCrossEntropyLoss", convertSoftmaxCrossEntropyLoss},
    {"Trilu", convertTrilu},
};

} // namespace

std::span<const ConverterEntry> nnConverters() { return kTable; }

} // namespace nyx::onnx_import
