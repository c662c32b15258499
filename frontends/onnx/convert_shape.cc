// Converters of ONNX's shape and data-movement ops. Shapes are static in the
// IR, so shape-valued inputs (Reshape's shape, Slice's starts, ...) must be
// known at import time; Shape and Size always are.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "frontends/onnx/converters.h"
#include "frontends/onnx/graph_state.h"
#include "ir/strings.h"

namespace nyx::onnx_import {
namespace {

ir::Tensor int64Tensor(const std::vector<int64_t> &values) {
  ir::Tensor t(
      ir::TensorType{ir::DType::I64, {static_cast<int64_t>(values.size())}});
  for (size_t i = 0; i < values.size(); ++i)
    t.setInt(static_cast<int64_t>(i), values[i]);
  return t;
}

// Axes from an attribute (older opsets) or from input `input` (newer ones);
// std::nullopt when neither gives them.
std::optional<std::vector<int64_t>> axesOf(NodeContext &n, int input,
                                           bool fromInput) {
  if (fromInput)
    return n.hasInput(input) ? n.constantInts(input, "axes") : std::nullopt;
  if (!n.hasAttr("axes"))
    return std::nullopt;
  return n.attrInts("axes", {});
}

absl::Status convertIdentity(NodeContext &n) {
  n.setOutput(0, n.input(0));
  return n.status();
}

absl::Status convertConstant(NodeContext &n) {
  if (n.hasAttr("sparse_value"))
    return n.unsupported("a sparse_value");
  if (n.hasAttr("value")) {
    if (auto t = n.attrTensor("value"))
      n.setConstantOutput(0, std::move(*t));
    return n.status();
  }
  auto scalarOr = [&](ir::DType dtype, std::vector<double> values, bool list) {
    ir::Tensor t(ir::TensorType{
        dtype,
        list ? ir::Shape{static_cast<int64_t>(values.size())} : ir::Shape{}});
    for (size_t i = 0; i < values.size(); ++i)
      t.setDouble(static_cast<int64_t>(i), values[i]);
    n.setConstantOutput(0, std::move(t));
  };
  if (n.hasAttr("value_float"))
    scalarOr(ir::DType::F32, {n.attrFloat("value_float", 0)}, false);
  else if (n.hasAttr("value_floats"))
    scalarOr(ir::DType::F32, n.attrFloats("value_floats", {}), true);
  else if (n.hasAttr("value_int"))
    n.setConstantOutput(0, [&] {
      ir::Tensor t(ir::TensorType{ir::DType::I64, {}});
      t.setInt(0, n.attrInt("value_int", 0));
      return t;
    }());
  else if (n.hasAttr("value_ints"))
    n.setConstantOutput(0, int64Tensor(n.attrInts("value_ints", {})));
  else if (n.hasAttr("value_string") || n.hasAttr("value_strings"))
    return n.unsupported("a string value");
  else
    return n.fail("no value attribute; expected one of value, value_float, "
                  "value_floats, value_int, value_ints");
  return n.status();
}

absl::Status convertConstantOfShape(NodeContext &n) {
  auto shape = n.constantInts(0, "shape");
  if (!shape)
    return n.status();
  ir::Tensor value(ir::TensorType{ir::DType::F32, {1}});
  if (n.hasAttr("value"))
    if (auto t = n.attrTensor("value")) {
      if (t->numElements() != 1)
        return n.fail(strCat("attribute 'value' has ", t->numElements(),
                             " elements; expected one"));
      value = std::move(*t);
    }
  for (int64_t d : *shape)
    if (d < 0)
      return n.fail(strCat("shape has size ", d, "; expected sizes >= 0"));
  // A broadcast scalar: evaluated at import time when it is small, and at
  // run time otherwise.
  ir::Tensor scalar(ir::TensorType{value.dtype(), {}});
  std::memcpy(scalar.bytes(), value.bytes(), scalar.byteSize());
  n.setOutput(0, n.op("broadcast_to", {n.constant(std::move(scalar))},
                      {{"shape", *shape}}));
  return n.status();
}

absl::Status convertShape(NodeContext &n) {
  const ir::TensorType *type = n.inputType(0);
  if (!type)
    return n.status();
  int64_t rank = type->rank();
  // Opset 15 added start/end, clamped to [0, rank] after counting negative
  // ones from the end.
  auto clampAxis = [&](int64_t a) {
    if (a < 0)
      a += rank;
    return std::clamp<int64_t>(a, 0, rank);
  };
  int64_t start = clampAxis(n.attrInt("start", 0));
  int64_t end = n.hasAttr("end") ? clampAxis(n.attrInt("end", rank)) : rank;
  std::vector<int64_t> dims;
  for (int64_t i = start; i < end; ++i)
    dims.push_back(type->shape[i]);
  n.setConstantOutput(0, int64Tensor(dims));
  return n.status();
}

absl::Status convertSize(NodeContext &n) {
  const ir::TensorType *type = n.inputType(0);
  if (!type)
    return n.status();
  ir::Tensor t(ir::TensorType{ir::DType::I64, {}});
  t.setInt(0, type->numElements());
  n.setConstantOutput(0, std::move(t));
  return n.status();
}

absl::Status convertReshape(NodeContext &n) {
  ir::Value *x = n.input(0);
  auto shape = n.constantInts(1, "shape");
  if (!x || !shape)
    return n.status();
  bool allowZero = n.attrInt("allowzero", 0) != 0;
  std::vector<int64_t> dims = *shape;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == 0 && !allowZero) { // 0 copies the input's size
      if (static_cast<int64_t>(i) >= x->type.rank())
        return n.fail(strCat("shape[", i,
                             "] is 0 (copy the input's size) "
                             "but the input has rank ",
                             x->type.rank()));
      dims[i] = x->type.shape[i];
    } else if (dims[i] < -1) {
      return n.fail(
          strCat("shape[", i, "] is ", dims[i], "; expected a size, 0 or -1"));
    }
  }
  n.setOutput(0, n.op("reshape", {x}, {{"shape", dims}}));
  return n.status();
}

absl::Status convertFlatten(NodeContext &n) {
  ir::Value *x = n.input(0);
  if (!x)
    return n.status();
  int64_t rank = x->type.rank();
  int64_t axis = n.attrInt("axis", 1);
  if (axis < -rank || axis > rank)
    return n.fail(strCat("axis ", axis, " is out of range for rank ", rank,
                         "; expected it in [", -rank, ", ", rank, "]"));
  if (axis < 0)
    axis += rank;
  const ir::Shape &s = x->type.shape;
  int64_t outer = std::accumulate(s.begin(), s.begin() + axis, int64_t(1),
                                  std::multiplies<>());
  int64_t inner = std::accumulate(s.begin() + axis, s.end(), int64_t(1),
                                  std::multiplies<>());
  n.setOutput(0, n.op("reshape", {x}, {{"shape", {outer, inner}}}));
  return n.status();
}

absl::Status convertSqueeze(NodeContext &n) {
  ir::Value *x = n.input(0);
  if (!x)
    return n.status();
  auto axes = axesOf(n, 1, n.opset() >= 13);
  int64_t rank = x->type.rank();
  std::vector<bool> drop(rank, false);
  if (axes) {
    for (int64_t a : *axes) {
      int64_t axis = n.axis(a, rank);
      if (!n.status().ok())
        return n.status();
      if (x->type.shape[axis] != 1)
        return n.fail(strCat("axis ", a, " has size ", x->type.shape[axis],
                             "; expected 1 to squeeze it"));
      drop[axis] = true;
    }
  } else {
    for (int64_t i = 0; i < rank; ++i)
      drop[i] = x->type.shape[i] == 1;
  }
  std::vector<int64_t> dims;
  for (int64_t i = 0; i < rank; ++i)
    if (!drop[i])
      dims.push_back(x->type.shape[i]);
  n.setOutput(0, n.op("reshape", {x}, {{"shape", dims}}));
  return n.status();
}

absl::Status convertUnsqueeze(NodeContext &n) {
  ir::Value *x = n.input(0);
  auto axes =
      n.opset() >= 13 ? n.constantInts(1, "axes") : n.requireInts("axes");
  if (!x || !axes)
    return n.status();
  int64_t rank = x->type.rank() + static_cast<int64_t>(axes->size());
  std::vector<bool> inserted(rank, false);
  for (int64_t a : *axes) {
    int64_t axis = n.axis(a, rank);
    if (!n.status().ok())
      return n.status();
    if (inserted[axis])
      return n.fail(strCat("axis ", a, " is listed twice"));
    inserted[axis] = true;
  }
  std::vector<int64_t> dims;
  for (int64_t i = 0, k = 0; i < rank; ++i)
    dims.push_back(inserted[i] ? 1 : x->type.shape[k++]);
  n.setOutput(0, n.op("reshape", {x}, {{"shape", dims}}));
  return n.status();
}

absl::Status convertTranspose(NodeContext &n) {
  ir::Value *x = n.input(0);
  if (!x)
    return n.status();
  std::vector<int64_t> perm(x->type.rank());
  std::iota(perm.rbegin(), perm.rend(), 0);
  perm = n.attrInts("perm", perm);
  n.setOutput(0, n.op("transpose", {x}, {{"perm", perm}}));
  return n.status();
}

absl::Status convertConcat(NodeContext &n) {
  std::vector<ir::Value *> xs;
  for (int i = 0; i < n.numInputs(); ++i)
    xs.push_back(n.input(i));
  if (!n.hasAttr("axis"))
    return n.fail("attribute 'axis' is missing; expected an int");
  n.setOutput(0, n.op("concat", xs, {{"axis", n.attrInt("axis", 0)}}));
  return n.status();
}

absl::Status convertSplit(NodeContext &n) {
  ir::Value *x = n.input(0);
  if (!x)
    return n.status();
  int64_t rank = x->type.rank();
  int64_t axis = n.axis(n.attrInt("axis", 0), rank);
  if (!n.status().ok())
    return n.status();
  int64_t dim = x->type.shape[axis];
  std::optional<std::vector<int64_t>> sizes;
  if (n.opset() >= 13)
    sizes = n.hasInput(1) ? n.constantInts(1, "split") : std::nullopt;
  else if (n.hasAttr("split"))
    sizes = n.attrInts("split", {});
  if (!n.status().ok())
    return n.status();
  int64_t parts = n.numOutputs();
  if (!sizes) {
    if (parts == 0 || dim % parts != 0)
      return n.fail(strCat("axis ", axis, " has size ", dim,
                           ", which does not split into ", parts,
                           " equal parts"));
    sizes = std::vector<int64_t>(parts, dim / parts);
  }
  if (static_cast<int64_t>(sizes->size()) != parts ||
      std::accumulate(sizes->begin(), sizes->end(), int64_t(0)) != dim)
    return n.fail(strCat("split sizes [", strJoin(*sizes, ", "),
                         "] do not cover axis ", axis, " (size ", dim, ") in ",
                         parts, " outputs"));
  int64_t start = 0;
  for (int64_t i = 0; i < parts; ++i) {
    int64_t end = start + (*sizes)[i];
    n.setOutput(static_cast<int>(i),
                n.op("slice", {x},
                     {{"starts", {start}}, {"ends", {end}}, {"axes", {axis}}}));
    start = end;
  }
  return n.status();
}

absl::Status convertSlice(NodeContext &n) {
  ir::Value *x = n.input(0);
  if (!x)
    return n.status();
  std::optional<std::vector<int64_t>> starts, ends, axes, steps;
  if (n.opset() < 10) {
    starts = n.requireInts("starts");
    ends = n.requireInts("ends");
    if (n.hasAttr("axes"))
      axes = n.attrInts("axes", {});
  } else {
    starts = n.constantInts(1, "starts");
    ends = n.constantInts(2, "ends");
    if (n.hasInput(3))
      axes = n.constantInts(3, "axes");
    if (n.hasInput(4))
      steps = n.constantInts(4, "steps");
  }
  if (!starts || !ends || !n.status().ok())
    return n.status();
  if (!axes) {
    axes = std::vector<int64_t>(starts->size());
    std::iota(axes->begin(), axes->end(), 0);
  }
  if (!steps)
    steps = std::vector<int64_t>(starts->size(), 1);
  n.setOutput(0, n.op("slice", {x},
                      {{"starts", *starts},
                       {"ends", *ends},
                       {"axes", *axes},
                       {"steps", *steps}}));
  return n.status();
}

absl::Status convertGather(NodeContext &n) {
  ir::Value *data = n.input(0);
  ir::Value *indices = n.input(1);
  n.setOutput(
      0, n.op("gather", {data, indices}, {{"axis", n.attrInt("axis", 0)}}));
  return n.status();
}

// The NumPy broadcast of two shapes, or an error.
std::optional<ir::Shape> broadcastShapes(NodeContext &n, const ir::Shape &a,
                                         const ir::Shape &b) {
  size_t rank = std::max(a.size(), b.size());
  ir::Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1) {
      n.fail(strCat("shapes [", strJoin(a, ","), "] and [", strJoin(b, ","),
                    "] do not broadcast"));
      return std::nullopt;
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

absl::Status convertExpand(NodeContext &n) {
  ir::Value *x = n.input(0);
  auto shape = n.constantInts(1, "shape");
  if (!x || !shape)
    return n.status();
  auto out = broadcastShapes(n, x->type.shape, *shape);
  if (!out)
    return n.status();
  n.setOutput(0, n.op("broadcast_to", {x}, {{"shape", *out}}));
  return n.status();
}

// tile(x, r) = reshape(broadcast_to(reshape(x, [1, d0, 1, d1, ...]),
// [r0, d0, r1, d1, ...]), [r0 * d0, r1 * d1, ...]).
absl::Status convertTile(NodeContext &n) {
  ir::Value *x = n.input(0);
  auto repeats = n.constantInts(1, "repeats");
  if (!x || !repeats)
    return n.status();
  const ir::Shape &s = x->type.shape;
  if (repeats->size() != s.size())
    return n.fail(strCat("repeats has ", repeats->size(),
                         " entries; expected one per axis (", s.size(), ")"));
  std::vector<int64_t> spread, tiled, result;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((*repeats)[i] < 0)
      return n.fail(
          strCat("repeats[", i, "] is ", (*repeats)[i], "; expected >= 0"));
    spread.insert(spread.end(), {1, s[i]});
    tiled.insert(tiled.end(), {(*repeats)[i], s[i]});
    result.push_back((*repeats)[i] * s[i]);
  }
  ir::Value *y = n.op("reshape", {x}, {{"shape", spread}});
  y = n.op("broadcast_to", {y}, {{"shape", tiled}});
  n.setOutput(0, n.op("reshape", {y}, {{"shape", result}}));
  return n.status();
}

absl::Status convertPad(NodeContext &n) {
  ir::Value *x = n.input(0);
  if (!x)
    return n.status();
  std::string mode = n.attrString("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge")
    return n.unsupported(strCat("mode '", mode, "'"));
  std::optional<std::vector<int64_t>> pads;
  double value = 0;
  if (n.opset() < 11) {
    pads = n.requireInts("pads");
    value = n.attrFloat("value", 0);
  } else {
    pads = n.constantInts(1, "pads");
    if (n.hasInput(2)) {
      const ir::Tensor *v = n.requireConstant(2, "constant_value");
      if (!v)
        return n.status();
      if (v->numElements() != 1)
        return n.fail(strCat("constant_value has ", v->numElements(),
                             " elements; expected one"));
      value = v->getDouble(0);
    }
    if (n.hasInput(3))
      return n.unsupported("an axes input");
  }
  if (!pads)
    return n.status();
  int64_t rank = x->type.rank();
  if (static_cast<int64_t>(pads->size()) != 2 * rank)
    return n.fail(strCat("pads has ", pads->size(),
                         " entries; expected 2 * rank = ", 2 * rank));
  // Negative pads crop: slice first, then pad what is left.
  std::vector<int64_t> starts, ends, axes, positive = *pads;
  for (int64_t i = 0; i < rank; ++i) {
    int64_t begin = (*pads)[i], end = (*pads)[i + rank];
    if (begin >= 0 && end >= 0)
      continue;
    starts.push_back(std::max<int64_t>(0, -begin));
    ends.push_back(x->type.shape[i] - std::max<int64_t>(0, -end));
    axes.push_back(i);
    positive[i] = std::max<int64_t>(0, begin);
    positive[i + rank] = std::max<int64_t>(0, end);
  }
  if (!axes.empty())
    x = n.op("slice", {x},
             {{"starts", starts}, {"ends", ends}, {"axes", axes}});
  n.setOutput(0, n.op("pad", {x},
                      {{"pads", positive}, {"mode", mode}, {"value", value}}));
  return n.status();
}

absl::Status convertRange(NodeContext &n) {
  const ir::Tensor *start = n.requireConstant(0, "start");
  const ir::Tensor *limit = n.requireConstant(1, "limit");
  const ir::Tensor *delta = n.requireConstant(2, "delta");
  if (!start || !limit || !delta)
    return n.status();
  double s = start->getDouble(0), l = limit->getDouble(0),
         d = delta->getDouble(0);
  if (d == 0)
    return n.fail("delta is 0; expected a non-zero step");
  double steps = std::ceil((l - s) / d);
  if (!(steps <= static_cast<double>(kMaxFoldedBytes)))
    return n.unsupported(strCat("more than ", kMaxFoldedBytes,
                                " elements (start ", s, ", limit ", l,
                                ", delta ", d, ")"));
  int64_t count = std::max<int64_t>(0, static_cast<int64_t>(steps));
  ir::Tensor t(ir::TensorType{start->dtype(), {count}});
  for (int64_t i = 0; i < count; ++i)
    t.setDouble(i, s + static_cast<double>(i) * d);
  n.setConstantOutput(0, std::move(t));
  return n.status();
}

// DepthToSpace / SpaceToDepth are a reshape, a transpose and a reshape.
absl::Status convertDepthToSpace(NodeContext &n) {
  ir::Value *x = n.input(0);
  if (!x)
    return n.status();
  if (x->type.rank() != 4)
    return n.fail(strCat("input is ", x->type.str(), "; expected rank 4"));
  int64_t b = n.attrInt("blocksize", 0);
  const ir::Shape &s = x->type.shape;
  if (b <= 0 || s[1] % (b * b) != 0)
    return n.fail(strCat("blocksize ", b, " does not divide the ", s[1],
                         " channels into blocksize^2 groups"));
  int64_t c = s[1] / (b * b);
  bool crd = n.attrString("mode", "DCR") == "CRD";
  ir::Value *y =
      crd ? n.op("reshape", {x}, {{"shape", {s[0], c, b, b, s[2], s[3]}}})
          : n.op("reshape", {x}, {{"shape", {s[0], b, b, c, s[2], s[3]}}});
  y = crd ? n.op("transpose", {y}, {{"perm", {0, 1, 4, 2, 5, 3}}})
          : n.op("transpose", {y}, {{"perm", {0, 3, 4, 1, 5, 2}}});
  n.setOutput(0,
              n.op("reshape", {y}, {{"shape", {s[0], c, s[2] * b, s[3] * b}}}));
  return n.status();
}

absl::Status convertSpaceToDepth(NodeContext &n) {
  ir::Value *x = n.input(0);
  if (!x)
    return n.status();
  if (x->type.rank() != 4)
    return n.fail(strCat("input is ", x->type.str(), "; expected rank 4"));
  int64_t b = n.attrInt("blocksize", 0);
  const ir::Shape &s = x->type.shape;
  if (b <= 0 || s[2] % b != 0 || s[3] % b != 0)
    return n.fail(strCat("blocksize ", b,
                         " does not divide the spatial "
                         "size ",
                         s[2], "x", s[3]));
  ir::Value *y =
      n.op("reshape", {x}, {{"shape", {s[0], s[1], s[2] / b, b, s[3] / b, b}}});
  y = n.op("transpose", {y}, {{"perm", {0, 3, 5, 1, 2, 4}}});
  n.setOutput(0, n.op("reshape", {y},
                      {{"shape", {s[0], s[1] * b * b, s[2] / b, s[3] / b}}}));
  return n.status();
}

constexpr ConverterEntry kTable[] = {
    {"Concat", convertConcat},
    {"Constant", convertConstant},
    {"ConstantOfShape", convertConstantOfShape},
    {"DepthToSpace", convertDepthToSpace},
    {"Expand", convertExpand},
    {"Flatten", convertFlatten},
    {"Gather", convertGather},
    {"Identity", convertIdentity},
    {"Pad", convertPad},
    {"Range", convertRange},
    {"Reshape", convertReshape},
    {"Shape", convertShape},
    {"Size", convertSize},
    {"Slice", convertSlice},
    {"SpaceToDepth", convertSpaceToDepth},
    {"Split", convertSplit},
    {"Squeeze", convertSqueeze},
    {"Tile", convertTile},
    {"Transpose", convertTranspose},
    {"Unsqueeze", convertUnsqueeze},
};

} // namespace

std::span<const ConverterEntry> shapeConverters() { return kTable; }

} // namespace nyx::onnx_import
