#include "frontends/onnx/window.h"

#include <algorithm>
#include <string>
#include <utility>

#include "frontends/onnx/convert_helpers.h"
#include "ir/strings.h"

namespace nyx::onnx_import {

using ir::Shape;
using ir::Value;

namespace {

constexpr int64_t kMaxSpatialAxes = 3;

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

} // namespace

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

Shape spatialSizes(const Value *x) {
  return Shape(x->type.shape.begin() + 2, x->type.shape.end());
}

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

int64_t reach(int64_t kernel, int64_t dilation) {
  return (kernel - 1) * dilation + 1;
}

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

Window withHeight(const Window &w) {
  return Window{2,
                {1, w.kernel[0]},
                {1, w.strides[0]},
                {1, w.dilations[0]},
                {0, w.pads[0], 0, w.pads[1]}};
}

Value *addHeight(NodeContext &n, Value *x) {
  if (!x)
    return nullptr;
  const Shape &s = x->type.shape;
  return reshape(n, x, {s[0], s[1], 1, s[2]});
}

Value *dropHeight(NodeContext &n, Value *y) {
  if (!y)
    return nullptr;
  const Shape &s = y->type.shape;
  return reshape(n, y, {s[0], s[1], s[3]});
}

Value *padSpatial(NodeContext &n, Value *x, const std::vector<int64_t> &pads,
                  double value) {
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

} // namespace nyx::onnx_import
