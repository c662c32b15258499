// Convolution and pooling over NCHW tensors.
#include <cmath>
#include <cstdint>
#include <limits>

#include "absl/status/status.h"
#include "ir/conv_filter.h"
#include "ir/op_registry.h"
#include "ir/ops/op_helpers.h"
#include "ir/strings.h"

namespace nyx::ir {
namespace {

using TypesOr = absl::StatusOr<std::vector<TensorType>>;

std::string listString(const std::vector<int64_t> &v) {
  return strCat("[", strJoin(v, ", "), "]");
}

// A list attribute of `count` entries, each at least `min`.
absl::StatusOr<std::vector<int64_t>>
getSizedInts(const Op &op, std::string_view attr, size_t count, int64_t min,
             std::optional<std::vector<int64_t>> dflt = {}) {
  NYX_ASSIGN_OR_RETURN(std::vector<int64_t> v, op.getInts(attr, dflt));
  if (v.size() != count)
    return ops::opError(op, strCat("attribute '", attr, "' is ", listString(v),
                                   "; expected ", count, " entries"));
  // The upper bound, like the limit on dimensions, keeps the window
  // arithmetic far from overflow.
  for (int64_t e : v) {
    if (e < min)
      return ops::opError(op,
                          strCat("attribute '", attr, "' is ", listString(v),
                                 "; expected entries >= ", min));
    if (e > kMaxElements)
      return ops::opError(op,
                          strCat("attribute '", attr, "' is ", listString(v),
                                 "; expected entries <= 2^", kMaxElementsLog2));
  }
  return v;
}

// The window geometry shared by convolution and pooling: window (oh, ow)
// reads input rows oh * stride - top + kh * dilation.
struct Window {
  int64_t kH = 1, kW = 1;
  std::vector<int64_t> strides{1, 1};
  std::vector<int64_t> padding{0, 0, 0, 0}; // top, left, bottom, right
  std::vector<int64_t> dilations{1, 1};
  int64_t outH = 0, outW = 0;
};

// Computes outH/outW for an input of spatial size h x w.
absl::Status computeOutputSize(const Op &op, Window &win, int64_t h,
                               int64_t w) {
  // Every term is at most 2^48, so the padded sizes cannot overflow; the
  // dilated window is compared by division, as its size may.
  const int64_t paddedH = h + win.padding[0] + win.padding[2];
  const int64_t paddedW = w + win.padding[1] + win.padding[3];
  auto fits = [](int64_t padded, int64_t dilation, int64_t k) {
    return padded >= 1 && (k == 1 || dilation <= (padded - 1) / (k - 1));
  };
  if (!fits(paddedH, win.dilations[0], win.kH) ||
      !fits(paddedW, win.dilations[1], win.kW)) {
    auto extent = [](int64_t dilation, int64_t k) {
      return k - 1 > (kMaxElements - 1) / dilation
                 ? strCat("more than 2^", kMaxElementsLog2)
                 : strCat(dilation * (k - 1) + 1);
    };
    std::string dilated;
    if (win.dilations[0] != 1 || win.dilations[1] != 1)
      dilated = strCat(" (dilated to ", extent(win.dilations[0], win.kH), "x",
                       extent(win.dilations[1], win.kW), ")");
    return ops::opError(
        op, strCat("window ", win.kH, "x", win.kW, dilated,
                   " does not fit the input ", h, "x", w, " with padding ",
                   listString(win.padding),
                   "; expected a window no larger than the padded input"));
  }
  win.outH =
      (paddedH - win.dilations[0] * (win.kH - 1) - 1) / win.strides[0] + 1;
  win.outW =
      (paddedW - win.dilations[1] * (win.kW - 1) - 1) / win.strides[1] + 1;
  return absl::OkStatus();
}

absl::Status checkFloatRank4(const Op &op, int index, std::string_view what) {
  NYX_RETURN_IF_ERROR(
      ops::checkOperandDType(op, index, ops::DTypeClass::Float));
  const TensorType &t = op.operand(index)->type;
  if (t.rank() != 4)
    return ops::opError(
        op, strCat(what, " is ", t.str(), "; expected rank 4 (NCHW)"));
  return absl::OkStatus();
}

// ---- conv2d ----

struct ConvSpec {
  Window win;
  int64_t groups = 1;
  FilterLayout layout;
  std::array<int64_t, 4> filter{}; // {M, C/groups, kH, kW}
};

absl::StatusOr<ConvSpec> convSpec(const Op &op, const TensorType &x,
                                  const TensorType &w) {
  ConvSpec spec;
  NYX_ASSIGN_OR_RETURN(spec.win.strides,
                       getSizedInts(op, "strides", 2, 1, spec.win.strides));
  NYX_ASSIGN_OR_RETURN(spec.win.padding,
                       getSizedInts(op, "padding", 4, 0, spec.win.padding));
  NYX_ASSIGN_OR_RETURN(spec.win.dilations,
                       getSizedInts(op, "dilations", 2, 1, spec.win.dilations));
  NYX_ASSIGN_OR_RETURN(spec.groups, op.getInt("groups", 1));
  auto layout = filterLayout(op);
  if (!layout.ok())
    return ops::opError(op, std::string(layout.status().message()));
  spec.layout = *layout;
  if (w.rank() != layout->rank())
    return ops::opError(op, strCat("w is ", w.str(), " in filter_layout \"",
                                   layout->name(), "\"; expected rank ",
                                   layout->rank()));
  spec.filter = filterDims(w.shape, spec.layout);
  const int64_t c = x.shape[1], m = spec.filter[0];
  if (spec.groups < 1)
    return ops::opError(
        op, strCat("groups is ", spec.groups, "; expected groups >= 1"));
  if (c % spec.groups != 0 || m % spec.groups != 0)
    return ops::opError(
        op, strCat("groups ", spec.groups, " does not divide the ", c,
                   " input channels of x: ", x.str(), " and the ", m,
                   " output channels of w: ", w.str(),
                   "; expected both divisible by groups"));
  if (layout->kind == FilterLayout::BLOCKED &&
      (m / spec.groups) % layout->block != 0)
    return ops::opError(op, strCat("filter_layout \"", layout->name(),
                                   "\" splits the ", m / spec.groups,
                                   " output channels per group into blocks of ",
                                   layout->block, "; expected a multiple of ",
                                   layout->block));
  if (spec.filter[1] != c / spec.groups)
    return ops::opError(op, strCat("w is ", w.str(), " for x: ", x.str(),
                                   " and groups ", spec.groups, "; expected ",
                                   c / spec.groups,
                                   " input channels per group in w"));
  spec.win.kH = spec.filter[2];
  spec.win.kW = spec.filter[3];
  if (spec.win.kH < 1 || spec.win.kW < 1)
    return ops::opError(
        op, strCat("w is ", w.str(), "; expected a kernel of at least 1x1"));
  NYX_RETURN_IF_ERROR(computeOutputSize(op, spec.win, x.shape[2], x.shape[3]));
  return spec;
}

TypesOr inferConv2d(const Op &op, const Module &) {
  NYX_RETURN_IF_ERROR(ops::checkOpBasics(
      op, {"strides", "padding", "dilations", "groups", kFilterLayoutAttr}));
  NYX_RETURN_IF_ERROR(checkFloatRank4(op, 0, "x"));
  NYX_RETURN_IF_ERROR(ops::checkOperandDType(op, 1, ops::DTypeClass::Float));
  NYX_RETURN_IF_ERROR(ops::checkSameDType(op, 0, 1));
  const TensorType &x = op.operand(0)->type;
  const TensorType &w = op.operand(1)->type;
  NYX_ASSIGN_OR_RETURN(ConvSpec spec, convSpec(op, x, w));
  const int64_t m = spec.filter[0];
  if (op.numOperands() == 3) {
    NYX_RETURN_IF_ERROR(ops::checkSameDType(op, 0, 2));
    const TensorType &bias = op.operand(2)->type;
    if (bias.shape != Shape{m})
      return ops::opError(op, strCat("bias is ", bias.str(), " for w: ",
                                     w.str(), "; expected shape [", m, "]"));
  }
  return ops::oneResult(x.dtype, {x.shape[0], m, spec.win.outH, spec.win.outW});
}

absl::Status interpretConv2d(const Op &op, std::span<const Tensor *const> in,
                             std::span<Tensor> out, const InterpContext &) {
  const Tensor &x = *in[0];
  const Tensor &w = *in[1];
  const Tensor *bias = in.size() > 2 ? in[2] : nullptr;
  Tensor &y = out[0];
  NYX_ASSIGN_OR_RETURN(ConvSpec spec, convSpec(op, x.type(), w.type()));
  const Window &win = spec.win;
  const int64_t n = x.shape()[0], c = x.shape()[1], h = x.shape()[2],
                wd = x.shape()[3];
  const int64_t m = spec.filter[0];
  const int64_t cPerGroup = c / spec.groups, mPerGroup = m / spec.groups;
  int64_t outIndex = 0;
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t oc = 0; oc < m; ++oc) {
      const int64_t firstIn = (oc / mPerGroup) * cPerGroup;
      for (int64_t oh = 0; oh < win.outH; ++oh) {
        for (int64_t ow = 0; ow < win.outW; ++ow) {
          // Accumulates in f64 and rounds once per output element.
          double acc = bias ? bias->getDouble(oc) : 0.0;
          for (int64_t ic = 0; ic < cPerGroup; ++ic) {
            for (int64_t kh = 0; kh < win.kH; ++kh) {
              int64_t ih =
                  oh * win.strides[0] - win.padding[0] + kh * win.dilations[0];
              if (ih < 0 || ih >= h)
                continue;
              for (int64_t kw = 0; kw < win.kW; ++kw) {
                int64_t iw = ow * win.strides[1] - win.padding[1] +
                             kw * win.dilations[1];
                if (iw < 0 || iw >= wd)
                  continue;
                int64_t xi = ((b * c + firstIn + ic) * h + ih) * wd + iw;
                int64_t wi =
                    filterOffset(spec.filter, spec.layout, oc, ic, kh, kw);
                acc += x.getDouble(xi) * w.getDouble(wi);
              }
            }
          }
          ops::storeRounded(y, outIndex++, acc);
        }
      }
    }
  }
  return absl::OkStatus();
}

// ---- im2col ----

// The window of im2col: `kernel` is required, the rest as for conv2d.
absl::StatusOr<Window> im2colWindow(const Op &op, const TensorType &x) {
  Window win;
  NYX_ASSIGN_OR_RETURN(std::vector<int64_t> kernel,
                       getSizedInts(op, "kernel", 2, 1));
  win.kH = kernel[0];
  win.kW = kernel[1];
  NYX_ASSIGN_OR_RETURN(win.strides,
                       getSizedInts(op, "strides", 2, 1, win.strides));
  NYX_ASSIGN_OR_RETURN(win.padding,
                       getSizedInts(op, "padding", 4, 0, win.padding));
  NYX_ASSIGN_OR_RETURN(win.dilations,
                       getSizedInts(op, "dilations", 2, 1, win.dilations));
  NYX_RETURN_IF_ERROR(computeOutputSize(op, win, x.shape[2], x.shape[3]));
  return win;
}

TypesOr inferIm2col(const Op &op, const Module &) {
  NYX_RETURN_IF_ERROR(ops::checkOpBasics(
      op, {"kernel", "strides", "padding", "dilations", "value"}));
  NYX_RETURN_IF_ERROR(ops::checkOperandDType(op, 0, ops::DTypeClass::Numeric));
  const TensorType &x = op.operand(0)->type;
  if (x.rank() != 4)
    return ops::opError(op,
                        strCat("x is ", x.str(), "; expected rank 4 (NCHW)"));
  NYX_RETURN_IF_ERROR(op.getFloat("value", 0.0).status());
  NYX_ASSIGN_OR_RETURN(Window win, im2colWindow(op, x));
  return ops::oneResult(
      x.dtype, {x.shape[0], x.shape[1] * win.kH * win.kW, win.outH * win.outW});
}

absl::Status interpretIm2col(const Op &op, std::span<const Tensor *const> in,
                             std::span<Tensor> out, const InterpContext &) {
  const Tensor &x = *in[0];
  NYX_ASSIGN_OR_RETURN(Window win, im2colWindow(op, x.type()));
  NYX_ASSIGN_OR_RETURN(double value, op.getFloat("value", 0.0));
  const int64_t n = x.shape()[0], c = x.shape()[1], h = x.shape()[2],
                w = x.shape()[3];
  int64_t o = 0;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ic = 0; ic < c; ++ic)
      for (int64_t kh = 0; kh < win.kH; ++kh)
        for (int64_t kw = 0; kw < win.kW; ++kw)
          for (int64_t oh = 0; oh < win.outH; ++oh)
            for (int64_t ow = 0; ow < win.outW; ++ow, ++o) {
              const int64_t ih =
                  oh * win.strides[0] - win.padding[0] + kh * win.dilations[0];
              const int64_t iw =
                  ow * win.strides[1] - win.padding[1] + kw * win.dilations[1];
              if (ih < 0 || ih >= h || iw < 0 || iw >= w)
                ops::storeRounded(out[0], o, value);
              else
                ops::copyElement(x, ((b * c + ic) * h + ih) * w + iw, out[0],
                                 o);
            }
  return absl::OkStatus();
}

// ---- pooling ----

absl::StatusOr<Window> poolWindow(const Op &op, const TensorType &x) {
  Window win;
  NYX_ASSIGN_OR_RETURN(std::vector<int64_t> kernel,
                       getSizedInts(op, "kernel", 2, 1));
  win.kH = kernel[0];
  win.kW = kernel[1];
  NYX_ASSIGN_OR_RETURN(win.strides, getSizedInts(op, "strides", 2, 1, kernel));
  NYX_ASSIGN_OR_RETURN(win.padding,
                       getSizedInts(op, "padding", 4, 0, win.padding));
  // A pad smaller than the kernel keeps at least one input element in every
  // window, so max never sees an all-padding window and avg never divides
  // by zero.
  if (win.padding[0] >= win.kH || win.padding[2] >= win.kH ||
      win.padding[1] >= win.kW || win.padding[3] >= win.kW)
    return ops::opError(op, strCat("padding ", listString(win.padding),
                                   " for kernel ", listString(kernel),
                                   "; expected each pad smaller than the "
                                   "kernel along its axis"));
  NYX_RETURN_IF_ERROR(computeOutputSize(op, win, x.shape[2], x.shape[3]));
  return win;
}

TypesOr inferPool(const Op &op, std::initializer_list<std::string_view> attrs) {
  NYX_RETURN_IF_ERROR(ops::checkOpBasics(op, attrs));
  NYX_RETURN_IF_ERROR(checkFloatRank4(op, 0, "x"));
  const TensorType &x = op.operand(0)->type;
  NYX_ASSIGN_OR_RETURN(Window win, poolWindow(op, x));
  if (op.has("count_include_pad"))
    NYX_RETURN_IF_ERROR(op.getBool("count_include_pad").status());
  return ops::oneResult(x.dtype, {x.shape[0], x.shape[1], win.outH, win.outW});
}

// Calls visit(outIndex, window) for each output element, where window(f)
// calls f(value) on each input element inside the window (padding skipped)
// and returns how many it visited.
template <class Visit>
void forEachWindow(const Tensor &x, const Window &win, Visit visit) {
  const int64_t n = x.shape()[0], c = x.shape()[1], h = x.shape()[2],
                w = x.shape()[3];
  int64_t outIndex = 0;
  for (int64_t plane = 0; plane < n * c; ++plane) {
    for (int64_t oh = 0; oh < win.outH; ++oh) {
      for (int64_t ow = 0; ow < win.outW; ++ow) {
        int64_t h0 = oh * win.strides[0] - win.padding[0];
        int64_t w0 = ow * win.strides[1] - win.padding[1];
        auto window = [&](auto &&f) {
          int64_t count = 0;
          for (int64_t ih = std::max<int64_t>(h0, 0);
               ih < std::min(h0 + win.kH, h); ++ih)
            for (int64_t iw = std::max<int64_t>(w0, 0);
                 iw < std::min(w0 + win.kW, w); ++iw, ++count)
              f(x.getDouble((plane * h + ih) * w + iw));
          return count;
        };
        visit(outIndex++, window);
      }
    }
  }
}

TypesOr inferMaxPool(const Op &op, const Module &) {
  return inferPool(op, {"kernel", "strides", "padding"});
}

absl::Status interpretMaxPool(const Op &op, std::span<const Tensor *const> in,
                              std::span<Tensor> out, const InterpContext &) {
  NYX_ASSIGN_OR_RETURN(Window win, poolWindow(op, in[0]->type()));
  forEachWindow(*in[0], win, [&](int64_t o, auto &&window) {
    double best = -std::numeric_limits<double>::infinity();
    // NaN propagates, as in reduce_max.
    window([&](double v) {
      if (!std::isnan(best) && (std::isnan(v) || v > best))
        best = v;
    });
    ops::storeRounded(out[0], o, best);
  });
  return absl::OkStatus();
}

TypesOr inferAvgPool(const Op &op, const Module &) {
  return inferPool(op, {"kernel", "strides", "padding", "count_include_pad"});
}

absl::Status interpretAvgPool(const Op &op, std::span<const Tensor *const> in,
                              std::span<Tensor> out, const InterpContext &) {
  NYX_ASSIGN_OR_RETURN(Window win, poolWindow(op, in[0]->type()));
  NYX_ASSIGN_OR_RETURN(bool includePad, op.getBool("count_include_pad", false));
  forEachWindow(*in[0], win, [&](int64_t o, auto &&window) {
    double sum = 0;
    int64_t count = window([&](double v) { sum += v; });
    double divisor = includePad ? static_cast<double>(win.kH * win.kW)
                                : static_cast<double>(count);
    ops::storeRounded(out[0], o, sum / divisor);
  });
  return absl::OkStatus();
}

} // namespace

void registerConvOps(OpRegistry &r) {
  r.add(OpDef{.name = "conv2d",
              .minOperands = 2,
              .maxOperands = 3,
              .inferTypes = inferConv2d,
              .interpret = interpretConv2d});
  r.add(OpDef{.name = "im2col",
              .minOperands = 1,
              .maxOperands = 1,
              .inferTypes = inferIm2col,
              .interpret = interpretIm2col});
  r.add(OpDef{.name = "max_pool2d",
              .minOperands = 1,
              .maxOperands = 1,
              .inferTypes = inferMaxPool,
              .interpret = interpretMaxPool});
  r.add(OpDef{.name = "avg_pool2d",
              .minOperands = 1,
              .maxOperands = 1,
              .inferTypes = inferAvgPool,
              .interpret = interpretAvgPool});
  r.setFusionKind({"conv2d", "max_pool2d", "avg_pool2d"},
                  FusionKind::Contraction);
}

} // namespace nyx::ir
