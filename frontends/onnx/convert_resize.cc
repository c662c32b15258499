// Converters of ONNX's Resize (opsets 10, 11, 13) and Upsample (opsets 1, 7,
// 9). The IR has no resize op and its shapes are static, so the output shape
// must be known at import (`scales` or `sizes` are constants), and the resize
// becomes, one resized axis at a time, gathers of the input at constant
// indices mixed with constant weights. The index and weight tables are
// computed in double precision the way ONNX's reference implementation
// computes them (onnx/backend/test/case/node/resize.py): each output position
// maps to a source coordinate, reads the n input positions nearest to it in
// the edge-padded axis, and weighs them with coefficients of the fractional
// part of the coordinate.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "frontends/onnx/convert_helpers.h"
#include "frontends/onnx/converters.h"
#include "ir/strings.h"

namespace nyx::onnx_import {
namespace {

using ir::DType;
using ir::Shape;
using ir::Value;

enum class Mode { Nearest, Linear, Cubic };

enum class Transform {
  HalfPixel,
  PytorchHalfPixel,
  AlignCorners,
  Asymmetric,
  TfHalfPixelForNn,
  TfCropAndResize,
};

// How nearest mode picks between the two input positions around a source
// coordinate. `Legacy` is Resize-10 and Upsample, which have no nearest_mode:
// ONNX's test data of those opsets (and onnxruntime) take the floor when an
// axis grows and the ceiling when it shrinks.
enum class Rounding { PreferFloor, PreferCeil, Floor, Ceil, Legacy };

struct ResizeSpec {
  Mode mode = Mode::Nearest;
  Transform transform = Transform::HalfPixel;
  Rounding rounding = Rounding::PreferFloor;
  double cubicA = -0.75;
  bool excludeOutside = false;
  double extrapolation = 0.0;
  // Per axis: the output size, and the scale the coordinate transform
  // divides by (the given scale, or output size / input size).
  std::vector<int64_t> outSizes;
  std::vector<double> scales;
  // tf_crop_and_resize, per axis: the region's normalized start, and its
  // length (end - start) rounded to roi's dtype as the reference rounds it.
  std::vector<double> roiStart, roiLength;
};

// How one axis is resampled: output position o reads the input positions
// index[t][o] with the weights weight[t][o] (t < taps), and takes the
// extrapolation value instead where outside[o].
struct AxisSampling {
  std::vector<std::vector<int64_t>> index;
  std::vector<std::vector<double>> weight;
  std::vector<bool> outside;
};

// One dimension resized: output sizes are at most this, since the index and
// weight tables of an axis are constants.
constexpr int64_t kMaxResizedSize = int64_t(1) << 24;

// ---- Attributes and the output shape ----

bool parseMode(NodeContext &n, std::string_view text, bool cubicAllowed,
               Mode &mode) {
  if (text == "nearest")
    mode = Mode::Nearest;
  else if (text == "linear" || (n.opset() < 7 && text == "bilinear"))
    mode = Mode::Linear;
  else if (text == "cubic" && cubicAllowed)
    mode = Mode::Cubic;
  else {
    n.fail(strCat("mode is '", text, "'; expected ",
                  cubicAllowed    ? "nearest, linear or cubic"
                  : n.opset() < 7 ? "nearest or bilinear"
                                  : "nearest or linear"));
    return false;
  }
  return true;
}

bool parseTransform(NodeContext &n, std::string_view text,
                    Transform &transform) {
  struct Name {
    std::string_view text;
    Transform transform;
  };
  static constexpr Name kNames[] = {
      {"half_pixel", Transform::HalfPixel},
      {"pytorch_half_pixel", Transform::PytorchHalfPixel},
      {"align_corners", Transform::AlignCorners},
      {"asymmetric", Transform::Asymmetric},
      {"tf_crop_and_resize", Transform::TfCropAndResize},
      {"tf_half_pixel_for_nn", Transform::TfHalfPixelForNn}};
  // tf_half_pixel_for_nn is in Resize-11 only.
  const size_t count = n.opset() == 11 || n.opset() == 12
                           ? std::size(kNames)
                           : std::size(kNames) - 1;
  std::vector<std::string_view> names;
  for (size_t i = 0; i < count; ++i) {
    if (kNames[i].text == text) {
      transform = kNames[i].transform;
      return true;
    }
    names.push_back(kNames[i].text);
  }
  n.fail(strCat("coordinate_transformation_mode is '", text,
                "'; expected one of ", strJoin(names, ", ")));
  return false;
}

bool parseRounding(NodeContext &n, std::string_view text, Rounding &rounding) {
  if (text == "round_prefer_floor")
    rounding = Rounding::PreferFloor;
  else if (text == "round_prefer_ceil")
    rounding = Rounding::PreferCeil;
  else if (text == "floor")
    rounding = Rounding::Floor;
  else if (text == "ceil")
    rounding = Rounding::Ceil;
  else {
    n.fail(strCat("nearest_mode is '", text,
                  "'; expected round_prefer_floor, round_prefer_ceil, floor "
                  "or ceil"));
    return false;
  }
  return true;
}

// A float input (scales, roi) as doubles; the input must be known at import.
std::optional<std::vector<double>> constantDoubles(NodeContext &n, int i,
                                                   std::string_view what) {
  const ir::Tensor *t = n.requireConstant(i, what);
  if (!t)
    return std::nullopt;
  if (!ir::isFloat(t->dtype())) {
    n.fail(strCat("input ", i, " (", what, ") is ", t->type().str(),
                  "; expected a float tensor"));
    return std::nullopt;
  }
  std::vector<double> values;
  for (int64_t k = 0; k < t->numElements(); ++k)
    values.push_back(t->getDouble(k));
  return values;
}

// Output sizes from scales: floor(input size * scale), multiplied in float
// as ONNX's shape inference (and onnxruntime) do.
bool sizesFromScales(NodeContext &n, const Shape &in,
                     const std::vector<double> &scales, bool upsample,
                     ResizeSpec &spec) {
  if (scales.size() != in.size()) {
    n.fail(strCat("scales has ", scales.size(), " elements; expected ",
                  in.size(), ", one per axis of the input"));
    return false;
  }
  for (size_t a = 0; a < in.size(); ++a) {
    const double s = scales[a];
    if (!(s > 0) || !std::isfinite(s) || (upsample && s < 1)) {
      n.fail(strCat("scales[", a, "] is ", s, "; expected a finite scale ",
                    upsample ? ">= 1" : "> 0"));
      return false;
    }
    const double size =
        std::floor(static_cast<float>(in[a]) * static_cast<float>(s));
    if (!(size <= static_cast<double>(kMaxResizedSize))) {
      n.unsupported(strCat("an output size above ", kMaxResizedSize, " (axis ",
                           a, ", scale ", s, ")"))
          .IgnoreError();
      return false;
    }
    spec.outSizes.push_back(static_cast<int64_t>(size));
    spec.scales.push_back(s);
  }
  return true;
}

bool sizesGiven(NodeContext &n, const Shape &in,
                const std::vector<int64_t> &sizes, ResizeSpec &spec) {
  if (sizes.size() != in.size()) {
    n.fail(strCat("sizes is ", listString(sizes), "; expected ", in.size(),
                  " sizes, one per axis of the input"));
    return false;
  }
  for (size_t a = 0; a < in.size(); ++a) {
    if (sizes[a] < 0 || sizes[a] > kMaxResizedSize) {
      if (sizes[a] < 0)
        n.fail(strCat("sizes is ", listString(sizes), "; expected sizes >= 0"));
      else
        n.unsupported(strCat("an output size above ", kMaxResizedSize,
                             " (sizes ", listString(sizes), ")"))
            .IgnoreError();
      return false;
    }
    spec.outSizes.push_back(sizes[a]);
    // The reference divides in double: output_size / input_shape.
    spec.scales.push_back(static_cast<double>(sizes[a]) /
                          static_cast<double>(in[a]));
  }
  return true;
}

// The start and length of the region of interest per axis, from roi =
// [start_0, ..., start_{r-1}, end_0, ..., end_{r-1}].
bool readRoi(NodeContext &n, int input, const Shape &in, ResizeSpec &spec) {
  if (!n.hasInput(input)) {
    n.fail("coordinate_transformation_mode is tf_crop_and_resize but roi is "
           "not given; expected a roi of 2 * rank values");
    return false;
  }
  const ir::Tensor *t = n.constantInput(input);
  if (!t) {
    n.unsupported("a roi computed at run time").IgnoreError();
    return false;
  }
  auto roi = constantDoubles(n, input, "roi");
  if (!roi)
    return false;
  const size_t rank = in.size();
  if (roi->size() != 2 * rank) {
    n.fail(strCat("roi has ", roi->size(), " elements; expected ", 2 * rank,
                  " (a start and an end per axis)"));
    return false;
  }
  for (size_t a = 0; a < rank; ++a) {
    double length = (*roi)[rank + a] - (*roi)[a];
    // The reference subtracts two elements of roi in roi's dtype.
    if (t->dtype() == DType::F32)
      length = static_cast<float>(length);
    spec.roiStart.push_back((*roi)[a]);
    spec.roiLength.push_back(length);
  }
  return true;
}

// ---- Sampling tables ----

// The input coordinate output position `x` maps to. The reference takes the
// output width as scale * input size (not the rounded size), and so do we.
double sourceCoordinate(const ResizeSpec &spec, size_t axis, int64_t x,
                        int64_t inSize, bool &outside) {
  const double scale = spec.scales[axis];
  const double xd = static_cast<double>(x);
  const double outWidth = scale * static_cast<double>(inSize);
  const double lastIn = static_cast<double>(inSize - 1);
  outside = false;
  switch (spec.transform) {
  case Transform::HalfPixel:
    return (xd + 0.5) / scale - 0.5;
  case Transform::PytorchHalfPixel:
    return outWidth == 1 ? -0.5 : (xd + 0.5) / scale - 0.5;
  case Transform::AlignCorners:
    return outWidth == 1 ? 0.0 : xd * lastIn / (outWidth - 1);
  case Transform::Asymmetric:
    return xd / scale;
  case Transform::TfHalfPixelForNn:
    return (xd + 0.5) / scale;
  case Transform::TfCropAndResize: {
    const double length = spec.roiLength[axis];
    double c = outWidth == 1 ? length * lastIn / 2
                             : xd * length * lastIn / (outWidth - 1);
    c += spec.roiStart[axis] * lastIn;
    outside = c < 0 || c > lastIn;
    return c;
  }
  }
  return 0;
}

// The `count` integers of [0, limit) nearest to x, ties going to the smaller
// one, in ascending order (the reference's get_neighbor_idxes). They form a
// window around the nearest one, grown one step at a time toward the nearer
// side.
std::vector<int64_t> nearestWindow(double x, int count, int64_t limit) {
  auto before = [x](int64_t a, int64_t b) {
    const double da = std::fabs(x - static_cast<double>(a));
    const double db = std::fabs(x - static_cast<double>(b));
    return da < db || (da == db && a < b);
  };
  int64_t lo;
  if (!(x > 0))
    lo = 0;
  else if (x >= static_cast<double>(limit - 1))
    lo = limit - 1;
  else {
    const auto f = static_cast<int64_t>(std::floor(x));
    lo = before(f + 1, f) ? f + 1 : f;
  }
  int64_t hi = lo;
  while (hi - lo + 1 < count) {
    const bool left = lo > 0, right = hi + 1 < limit;
    if (left && (!right || before(lo - 1, hi + 1)))
      --lo;
    else
      ++hi;
  }
  std::vector<int64_t> window(count);
  std::iota(window.begin(), window.end(), lo);
  return window;
}

std::vector<double> cubicCoefficients(double r, double a) {
  const double s = 1 - r;
  return {((a * (r + 1) - 5 * a) * (r + 1) + 8 * a) * (r + 1) - 4 * a,
          ((a + 2) * r - (a + 3)) * r * r + 1,
          ((a + 2) * s - (a + 3)) * s * s + 1,
          ((a * (s + 1) - 5 * a) * (s + 1) + 8 * a) * (s + 1) - 4 * a};
}

// The coefficients of the window around a coordinate whose fractional part
// is `ratio` (1 when the coordinate is an integer).
std::vector<double> coefficients(const ResizeSpec &spec, double ratio) {
  switch (spec.mode) {
  case Mode::Linear:
    return {1 - ratio, ratio};
  case Mode::Cubic:
    return cubicCoefficients(ratio, spec.cubicA);
  case Mode::Nearest:
    break;
  }
  bool upper = true;
  if (ratio != 1) {
    switch (spec.rounding) {
    case Rounding::PreferFloor:
      upper = ratio > 0.5;
      break;
    case Rounding::PreferCeil:
      upper = ratio >= 0.5;
      break;
    case Rounding::Floor:
      upper = false;
      break;
    case Rounding::Ceil:
    case Rounding::Legacy: // sampleAxis rounds these coordinates itself
      upper = true;
      break;
    }
  }
  return {upper ? 0.0 : 1.0, upper ? 1.0 : 0.0};
}

AxisSampling sampleAxis(const ResizeSpec &spec, size_t axis, int64_t inSize) {
  const int64_t outSize = spec.outSizes[axis];
  const int taps = spec.mode == Mode::Cubic ? 4 : 2;
  const int pad = (taps + 1) / 2;
  AxisSampling s;
  s.index.assign(taps, std::vector<int64_t>(outSize));
  s.weight.assign(taps, std::vector<double>(outSize));
  s.outside.assign(outSize, false);
  for (int64_t o = 0; o < outSize; ++o) {
    bool outside;
    const double x = sourceCoordinate(spec, axis, o, inSize, outside);
    s.outside[o] = outside;
    if (spec.mode == Mode::Nearest && spec.rounding == Rounding::Legacy) {
      // Asymmetric, computed in float as onnxruntime computes it.
      const float xf =
          static_cast<float>(o) / static_cast<float>(spec.scales[axis]);
      const double picked =
          spec.scales[axis] < 1 ? std::ceil(xf) : std::floor(xf);
      s.index[0][o] =
          std::clamp<int64_t>(static_cast<int64_t>(picked), 0, inSize - 1);
      s.weight[0][o] = 1;
      continue;
    }
    const double floorX = std::floor(x);
    const double ratio = x == floorX ? 1.0 : x - floorX;
    std::vector<double> coeffs = coefficients(spec, ratio);
    const std::vector<int64_t> window =
        nearestWindow(x + pad, taps, inSize + 2 * pad);
    if (spec.excludeOutside) {
      double sum = 0;
      for (int t = 0; t < taps; ++t) {
        const int64_t i = window[t] - pad;
        if (i < 0 || i >= inSize)
          coeffs[t] = 0;
        sum += coeffs[t];
      }
      for (double &c : coeffs)
        c /= sum;
    }
    for (int t = 0; t < taps; ++t) {
      s.index[t][o] = std::clamp<int64_t>(window[t] - pad, 0, inSize - 1);
      s.weight[t][o] = coeffs[t];
    }
  }
  return s;
}

// When every output position reads one input position with weight 1 (a
// nearest resize, or linear and cubic ones whose coordinates all fall on
// input positions), that position per output position.
std::optional<std::vector<int64_t>> singleIndices(const AxisSampling &s) {
  const size_t outSize = s.outside.size();
  std::vector<int64_t> picked(outSize);
  for (size_t o = 0; o < outSize; ++o) {
    std::optional<int64_t> index;
    double sum = 0;
    for (size_t t = 0; t < s.index.size(); ++t) {
      if (s.weight[t][o] == 0)
        continue;
      if (index && *index != s.index[t][o])
        return std::nullopt;
      index = s.index[t][o];
      sum += s.weight[t][o];
    }
    // Weights of one position that add up to 1 within rounding: the
    // reference's dot product gives the value itself, once in f32.
    if (!index || !(std::fabs(sum - 1) <= 1e-12))
      return std::nullopt;
    picked[o] = *index;
  }
  return picked;
}

// ---- Emitting IR ----

// A constant of `values` laid along `axis` of a rank-`rank` tensor, with
// size-1 axes elsewhere, so that it broadcasts against the resized tensor.
template <class T>
Value *alongAxis(NodeContext &n, const std::vector<T> &values, DType dtype,
                 int64_t axis, int64_t rank) {
  Shape shape(rank, 1);
  shape[axis] = static_cast<int64_t>(values.size());
  ir::Tensor t(ir::TensorType{dtype, shape});
  for (size_t i = 0; i < values.size(); ++i)
    t.setDouble(static_cast<int64_t>(i), static_cast<double>(values[i]));
  return n.constant(std::move(t));
}

Value *gatherAlong(NodeContext &n, Value *x, const std::vector<int64_t> &index,
                   int64_t axis) {
  return n.op("gather", {x, n.int64s(index)}, {{"axis", axis}});
}

// x resampled along `axis`: one gather where each output position reads one
// input position; for linear, a lerp of the two neighbours, a + (b - a) * w;
// for cubic, the weighted sum of up to four gathers.
Value *resampleAxis(NodeContext &n, Value *x, int64_t axis, Mode mode,
                    const AxisSampling &s) {
  const int64_t rank = x->type.rank();
  const int64_t inSize = x->type.shape[axis];
  const auto outSize = static_cast<int64_t>(s.outside.size());
  const DType dtype = x->type.dtype;
  if (auto picked = singleIndices(s)) {
    bool identity = outSize == inSize;
    for (int64_t o = 0; identity && o < outSize; ++o)
      identity = (*picked)[o] == o;
    return identity ? x : gatherAlong(n, x, *picked, axis);
  }
  if (mode == Mode::Linear) {
    std::vector<int64_t> lo = s.index[0], hi = s.index[1];
    std::vector<double> w = s.weight[1];
    for (int64_t o = 0; o < outSize; ++o) {
      if (s.weight[0][o] == 0) // reads only the upper neighbour
        lo[o] = hi[o];
      if (lo[o] == hi[o] || w[o] == 0) {
        hi[o] = lo[o];
        w[o] = 0;
      }
    }
    Value *a = gatherAlong(n, x, lo, axis);
    Value *b = gatherAlong(n, x, hi, axis);
    Value *weight = alongAxis(n, w, dtype, axis, rank);
    return n.op("add", {a, n.op("mul", {n.op("sub", {b, a}), weight})});
  }
  Value *sum = nullptr;
  for (size_t t = 0; t < s.index.size(); ++t) {
    const std::vector<double> &w = s.weight[t];
    if (std::all_of(w.begin(), w.end(), [](double v) { return v == 0; }))
      continue;
    Value *term = n.op("mul", {gatherAlong(n, x, s.index[t], axis),
                               alongAxis(n, w, dtype, axis, rank)});
    sum = sum ? n.op("add", {sum, term}) : term;
  }
  return sum;
}

// Resizes input 0 to spec.outSizes and sets output 0.
absl::Status emitResize(NodeContext &n, Value *x, const ResizeSpec &spec) {
  const Shape &in = x->type.shape;
  const auto rank = static_cast<int64_t>(in.size());
  for (int64_t a = 0; a < rank; ++a)
    if (in[a] == 0 && spec.outSizes[a] > 0)
      return n.fail(strCat("input ", x->type.str(), " is empty along axis ", a,
                           " but the output has size ", spec.outSizes[a],
                           "; expected a non-empty axis to resize"));
  if (absl::Status s = ir::checkTensorType({x->type.dtype, spec.outSizes});
      !s.ok())
    return n.fail(std::string(s.message()));
  const DType dtype = x->type.dtype;
  DType computeType = dtype;
  if (spec.mode != Mode::Nearest) {
    if (!ir::isFloat(dtype))
      return n.unsupported(strCat(
          spec.mode == Mode::Linear ? "mode linear" : "mode cubic", " on ",
          ir::dtypeName(dtype), " data (interpolation is defined on floats)"));
    // f16 and bf16 are storage types: interpolate in f32, round once.
    if (dtype == DType::F16 || dtype == DType::BF16)
      computeType = DType::F32;
  }
  Value *y =
      computeType == dtype ? x : n.op("cast", {x}, {{"to", computeType}});
  // Shrinking axes first keeps the intermediate tensors small.
  std::vector<int64_t> axes(rank);
  std::iota(axes.begin(), axes.end(), 0);
  auto ratio = [&](int64_t a) {
    return static_cast<double>(spec.outSizes[a]) /
           static_cast<double>(std::max<int64_t>(in[a], 1));
  };
  std::stable_sort(axes.begin(), axes.end(),
                   [&](int64_t a, int64_t b) { return ratio(a) < ratio(b); });
  Value *outsideMask = nullptr;
  for (int64_t a : axes) {
    if (in[a] == 0)
      continue; // an empty axis stays empty
    AxisSampling s = sampleAxis(spec, a, in[a]);
    y = resampleAxis(n, y, a, spec.mode, s);
    if (std::find(s.outside.begin(), s.outside.end(), true) !=
        s.outside.end()) {
      Value *mask = alongAxis(n, s.outside, DType::Bool, a, rank);
      outsideMask = outsideMask ? n.op("or", {outsideMask, mask}) : mask;
    }
    if (!n.status().ok())
      return n.status();
  }
  // tf_crop_and_resize: a position outside the region along any axis takes
  // the extrapolation value (the reference returns it before weighing).
  if (outsideMask)
    y = n.op("select", {outsideMask, n.scalarLike(spec.extrapolation, y), y});
  if (computeType != dtype)
    y = n.op("cast", {y}, {{"to", dtype}});
  n.setOutput(0, y);
  return n.status();
}

// ---- Converters ----

// Resize-10 and Upsample: scales only, asymmetric coordinates, nearest
// without a rounding mode (see Rounding::Legacy).
absl::Status convertLegacy(NodeContext &n, bool upsample) {
  Value *x = n.input(0);
  if (!x)
    return n.status();
  ResizeSpec spec;
  spec.transform = Transform::Asymmetric;
  spec.rounding = Rounding::Legacy;
  if (!parseMode(n, n.attrString("mode", "nearest"), false, spec.mode))
    return n.status();
  std::vector<double> scales;
  if (upsample && n.opset() < 7) { // Upsample-1: a 4-D input, two scales
    if (x->type.rank() != 4)
      return n.fail(strCat("input is ", x->type.str(),
                           "; expected a 4-D tensor [N, C, H, W]"));
    if (!n.hasAttr("height_scale") || !n.hasAttr("width_scale"))
      return n.fail("attributes height_scale and width_scale are required");
    scales = {1, 1, n.attrFloat("height_scale", 1),
              n.attrFloat("width_scale", 1)};
  } else if (upsample && n.opset() < 9) { // Upsample-7: an attribute
    if (!n.hasAttr("scales"))
      return n.fail("attribute 'scales' is missing; expected a list of "
                    "floats, one per axis");
    scales = n.attrFloats("scales", {});
  } else {
    if (!n.hasInput(1))
      return n.fail("input 1 (scales) is missing");
    if (!n.constantInput(1))
      return n.unsupported("scales computed at run time (the output shape "
                           "must be known when the model is compiled)");
    auto given = constantDoubles(n, 1, "scales");
    if (!given)
      return n.status();
    scales = std::move(*given);
  }
  if (!n.status().ok() ||
      !sizesFromScales(n, x->type.shape, scales, upsample, spec))
    return n.status();
  return emitResize(n, x, spec);
}

absl::Status convertUpsample(NodeContext &n) { return convertLegacy(n, true); }

// Whether optional input i is given and not an empty tensor (Resize-11
// passes an empty `scales` when `sizes` is given).
bool givenNonEmpty(NodeContext &n, int i) {
  if (!n.hasInput(i))
    return false;
  const ir::TensorType *type = n.inputType(i);
  return type && type->numElements() > 0;
}

absl::Status convertResize(NodeContext &n) {
  if (n.opset() < 11)
    return convertLegacy(n, false);
  Value *x = n.input(0);
  if (!x)
    return n.status();
  ResizeSpec spec;
  if (!parseMode(n, n.attrString("mode", "nearest"), true, spec.mode) ||
      !parseTransform(
          n, n.attrString("coordinate_transformation_mode", "half_pixel"),
          spec.transform) ||
      !parseRounding(n, n.attrString("nearest_mode", "round_prefer_floor"),
                     spec.rounding))
    return n.status();
  spec.cubicA = n.attrFloat("cubic_coeff_a", -0.75);
  spec.excludeOutside = n.attrInt("exclude_outside", 0) != 0;
  spec.extrapolation = n.attrFloat("extrapolation_value", 0.0);
  const Shape &in = x->type.shape;
  const bool hasScales = givenNonEmpty(n, 2);
  const bool hasSizes = givenNonEmpty(n, 3);
  if (!n.status().ok())
    return n.status();
  if (hasScales == hasSizes)
    return n.fail(hasScales ? "both scales and sizes are given; expected one"
                            : "neither scales nor sizes is given; expected "
                              "one of them");
  const int shapeInput = hasScales ? 2 : 3;
  if (!n.constantInput(shapeInput))
    return n.unsupported(strCat(hasScales ? "scales" : "sizes",
                                " computed at run time (the output shape "
                                "must be known when the model is compiled)"));
  if (hasScales) {
    auto scales = constantDoubles(n, 2, "scales");
    if (!scales || !sizesFromScales(n, in, *scales, false, spec))
      return n.status();
  } else {
    auto sizes = n.constantInts(3, "sizes");
    if (!sizes || !sizesGiven(n, in, *sizes, spec))
      return n.status();
  }
  if (spec.transform == Transform::TfCropAndResize && !readRoi(n, 1, in, spec))
    return n.status();
  return emitResize(n, x, spec);
}

} // namespace

std::span<const ConverterEntry> resizeConverters() {
  static constexpr ConverterEntry kTable[] = {
      {"Resize", convertResize},
      {"Upsample", convertUpsample},
  };
  return kTable;
}

} // namespace nyx::onnx_import
