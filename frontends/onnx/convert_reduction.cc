// ONNX reductions: Reduce* over a set of axes, ArgMax/ArgMin along one, and
// the ops that read along one axis (CumSum, GatherElements, TopK). Each Reduce*
// op is one IR reduction between elementwise steps (ReduceL2 is sqrt of a sum
// of squares); ReduceProd, which has no IR reduction, is a pairwise product
// tree.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
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

// The axes a Reduce* node reduces, normalized and sorted. `noop` is set when
// noop_with_empty_axes asks for no reduction at all.
struct ReduceAxes {
  std::vector<int64_t> axes;
  bool noop = false;
};

// ReduceSum takes its axes as an input from opset 13, the other Reduce* ops
// from opset 18; before that they are an attribute.
constexpr int64_t kReduceSumAxesInputOpset = 13;
constexpr int64_t kAxesInputOpset = 18;

std::optional<ReduceAxes> reduceAxes(NodeContext &n, int64_t rank,
                                     int64_t axesInputOpset) {
  std::vector<int64_t> axes;
  const bool fromInput = n.opset() >= axesInputOpset;
  if (fromInput) {
    if (n.hasInput(1)) {
      std::optional<std::vector<int64_t>> v = n.constantInts(1, "axes");
      if (!v)
        return std::nullopt;
      axes = std::move(*v);
    }
  } else {
    axes = n.attrInts("axes", {});
  }
  ReduceAxes r;
  if (axes.empty()) {
    // noop_with_empty_axes exists only where the axes are an input.
    if (fromInput && n.attrInt("noop_with_empty_axes", 0) != 0) {
      r.noop = true;
      return r;
    }
    for (int64_t i = 0; i < rank; ++i)
      r.axes.push_back(i);
    return r;
  }
  for (int64_t a : axes) {
    int64_t axis = n.axis(a, rank);
    if (!n.status().ok())
      return std::nullopt;
    if (std::find(r.axes.begin(), r.axes.end(), axis) != r.axes.end()) {
      n.fail(strCat("axes [", strJoin(axes, ", "), "] name axis ", axis,
                    " twice; expected distinct axes"))
          .IgnoreError();
      return std::nullopt;
    }
    r.axes.push_back(axis);
  }
  std::sort(r.axes.begin(), r.axes.end());
  return r;
}

bool keepDims(NodeContext &n) { return n.attrInt("keepdims", 1) != 0; }

// The shape of a reduction's result.
Shape reducedShape(const Shape &shape, const std::vector<int64_t> &axes,
                   bool keep) {
  Shape out;
  for (int64_t i = 0; i < static_cast<int64_t>(shape.size()); ++i) {
    bool reduced = std::find(axes.begin(), axes.end(), i) != axes.end();
    if (!reduced)
      out.push_back(shape[i]);
    else if (keep)
      out.push_back(1);
  }
  return out;
}

// One IR reduction (`reduce_sum`, ...) of x; x itself when `r.noop`.
Value *reduce(NodeContext &n, std::string_view irOp, Value *x,
              const ReduceAxes &r, bool keep) {
  if (r.noop)
    return x;
  std::vector<int64_t> axes = r.axes;
  return n.op(irOp, {x}, {{"axes", std::move(axes)}, {"keepdims", keep}});
}

// The number of elements each output element of a reduction reads.
int64_t reducedCount(const Shape &shape, const ReduceAxes &r) {
  int64_t count = 1;
  if (!r.noop)
    for (int64_t a : r.axes)
      count *= shape[a];
  return count;
}

Value *square(NodeContext &n, Value *x) { return n.op("mul", {x, x}); }

// Reads input 0 and its reduction axes; null (with the error recorded) when
// either is not available.
struct ReduceInput {
  Value *x = nullptr;
  ReduceAxes axes;
  bool keep = true;
};

std::optional<ReduceInput>
reduceInput(NodeContext &n, int64_t axesInputOpset = kAxesInputOpset) {
  ReduceInput in;
  in.x = n.input(0);
  if (!in.x)
    return std::nullopt;
  std::optional<ReduceAxes> axes =
      reduceAxes(n, in.x->type.rank(), axesInputOpset);
  if (!axes)
    return std::nullopt;
  in.axes = std::move(*axes);
  in.keep = keepDims(n);
  return in;
}

absl::Status convertSimpleReduce(NodeContext &n, std::string_view irOp,
                                 int64_t axesInputOpset = kAxesInputOpset) {
  std::optional<ReduceInput> in = reduceInput(n, axesInputOpset);
  if (!in)
    return n.status();
  n.setOutput(0, reduce(n, irOp, in->x, in->axes, in->keep));
  return n.status();
}

absl::Status convertReduceSum(NodeContext &n) {
  return convertSimpleReduce(n, "reduce_sum", kReduceSumAxesInputOpset);
}

absl::Status convertReduceMax(NodeContext &n) {
  return convertSimpleReduce(n, "reduce_max");
}

absl::Status convertReduceMin(NodeContext &n) {
  return convertSimpleReduce(n, "reduce_min");
}

absl::Status convertReduceMean(NodeContext &n) {
  std::optional<ReduceInput> in = reduceInput(n);
  if (!in)
    return n.status();
  Value *x = in->x;
  if (ir::isFloat(x->type.dtype)) {
    n.setOutput(0, reduce(n, "reduce_mean", x, in->axes, in->keep));
    return n.status();
  }
  // The IR's mean is float only; an integer mean is the sum divided by the
  // count, truncated as integer division truncates.
  Value *sum = reduce(n, "reduce_sum", x, in->axes, in->keep);
  int64_t count = reducedCount(x->type.shape, in->axes);
  n.setOutput(0, count == 1 ? sum : n.op("div", {sum, n.scalarLike(count, x)}));
  return n.status();
}

absl::Status convertReduceL1(NodeContext &n) {
  std::optional<ReduceInput> in = reduceInput(n);
  if (!in)
    return n.status();
  Value *abs = n.op("abs", {in->x});
  n.setOutput(0, reduce(n, "reduce_sum", abs, in->axes, in->keep));
  return n.status();
}

absl::Status convertReduceSumSquare(NodeContext &n) {
  std::optional<ReduceInput> in = reduceInput(n);
  if (!in)
    return n.status();
  n.setOutput(0, reduce(n, "reduce_sum", square(n, in->x), in->axes, in->keep));
  return n.status();
}

absl::Status convertReduceL2(NodeContext &n) {
  std::optional<ReduceInput> in = reduceInput(n);
  if (!in)
    return n.status();
  Value *x = in->x;
  Value *sum = reduce(n, "reduce_sum", square(n, x), in->axes, in->keep);
  if (ir::isFloat(x->type.dtype)) {
    n.setOutput(0, n.op("sqrt", {sum}));
    return n.status();
  }
  // Integers: the root in f64, truncated back to the integer type.
  Value *root = n.op("sqrt", {n.op("cast", {sum}, {{"to", DType::F64}})});
  n.setOutput(0, n.op("cast", {root}, {{"to", x->type.dtype}}));
  return n.status();
}

absl::Status convertReduceLogSum(NodeContext &n) {
  std::optional<ReduceInput> in = reduceInput(n);
  if (!in || !requireFloat(n, in->x))
    return n.status();
  Value *sum = reduce(n, "reduce_sum", in->x, in->axes, in->keep);
  n.setOutput(0, n.op("log", {sum}));
  return n.status();
}

// log(sum(exp(x))) = m + log(sum(exp(x - m))) with m the maximum, so exp
// cannot overflow. An infinite m is replaced by 0: x - m would be NaN for
// x = m = inf and for a row of -inf, where the unshifted form is exact.
absl::Status convertReduceLogSumExp(NodeContext &n) {
  std::optional<ReduceInput> in = reduceInput(n);
  if (!in || !requireFloat(n, in->x))
    return n.status();
  Value *x = in->x;
  if (in->axes.noop) {
    n.setOutput(0, n.op("log", {n.op("exp", {x})}));
    return n.status();
  }
  Value *max = reduce(n, "reduce_max", x, in->axes, /*keep=*/true);
  Value *infinite =
      n.op("eq", {n.op("abs", {max}),
                  n.scalarLike(std::numeric_limits<double>::infinity(), x)});
  Value *shift = n.op("select", {infinite, n.scalarLike(0, x), max});
  Value *sum = reduce(n, "reduce_sum", n.op("exp", {n.op("sub", {x, shift})}),
                      in->axes, /*keep=*/true);
  Value *y = n.op("add", {n.op("log", {sum}), shift});
  if (!in->keep)
    y = n.op("reshape", {y},
             {{"shape", reducedShape(x->type.shape, in->axes.axes, false)}});
  n.setOutput(0, y);
  return n.status();
}

// The product over the reduced axes, as a tree of pairwise products: the
// reduced axes are moved last and flattened to one axis of length R, which
// is halved (odd lengths padded with a 1) until one element is left.
absl::Status convertReduceProd(NodeContext &n) {
  std::optional<ReduceInput> in = reduceInput(n);
  if (!in)
    return n.status();
  Value *x = in->x;
  if (in->axes.noop) {
    n.setOutput(0, x);
    return n.status();
  }
  const Shape &shape = x->type.shape;
  const std::vector<int64_t> &axes = in->axes.axes;
  std::vector<int64_t> perm;
  int64_t outer = 1;
  for (int64_t i = 0; i < x->type.rank(); ++i)
    if (std::find(axes.begin(), axes.end(), i) == axes.end()) {
      perm.push_back(i);
      outer *= shape[i];
    }
  perm.insert(perm.end(), axes.begin(), axes.end());
  int64_t length = reducedCount(shape, in->axes);
  Value *y = n.op("transpose", {x}, {{"perm", perm}});
  y = n.op("reshape", {y}, {{"shape", {outer, length}}});
  auto padWithOne = [&](Value *v) {
    return n.op("pad", {v}, {{"pads", {0, 0, 0, 1}}, {"value", 1.0}});
  };
  if (length == 0) { // the empty product
    y = padWithOne(y);
    length = 1;
  }
  while (length > 1) {
    if (length % 2 != 0) {
      y = padWithOne(y);
      ++length;
    }
    Value *even = n.op(
        "slice", {y},
        {{"starts", {0}}, {"ends", {length}}, {"axes", {1}}, {"steps", {2}}});
    Value *odd = n.op(
        "slice", {y},
        {{"starts", {1}}, {"ends", {length}}, {"axes", {1}}, {"steps", {2}}});
    y = n.op("mul", {even, odd});
    length /= 2;
  }
  n.setOutput(0, n.op("reshape", {y},
                      {{"shape", reducedShape(shape, axes, in->keep)}}));
  return n.status();
}

// An order-reversing map of x: -x for floats (exact, NaN stays NaN), -1 - x
// for integers (no overflow).
Value *reversedOrder(NodeContext &n, Value *x) {
  return ir::isFloat(x->type.dtype) ? n.op("neg", {x})
                                    : n.op("sub", {n.scalarLike(-1, x), x});
}

// ArgMax and ArgMin through the IR's argmax (first maximal index). ArgMin
// maximizes reversedOrder(x). select_last_index reverses the
// axis and maps the index back.
absl::Status convertArgExtremum(NodeContext &n, bool isMin) {
  Value *x = n.input(0);
  if (!x)
    return n.status();
  const int64_t rank = x->type.rank();
  const int64_t axis = n.axis(n.attrInt("axis", 0), rank);
  const bool keep = keepDims(n);
  const bool last = n.opset() >= 12 && n.attrInt("select_last_index", 0) != 0;
  if (!n.status().ok())
    return n.status();
  if (rank == 0)
    return n.fail("input 0 is a scalar; expected rank >= 1");
  Value *v = isMin ? reversedOrder(n, x) : x;
  const int64_t dim = x->type.shape[axis];
  if (last)
    v = n.op("slice", {v},
             {{"starts", {-1}},
              {"ends", {-dim - 1}},
              {"axes", {axis}},
              {"steps", {-1}}});
  Value *index = n.op("argmax", {v}, {{"axis", axis}, {"keepdims", keep}});
  if (last) {
    ir::Tensor lastIndex(ir::TensorType{DType::I64, {}});
    lastIndex.setInt(0, dim - 1);
    index = n.op("sub", {n.constant(std::move(lastIndex)), index});
  }
  n.setOutput(0, index);
  return n.status();
}

absl::Status convertArgMax(NodeContext &n) {
  return convertArgExtremum(n, /*isMin=*/false);
}

absl::Status convertArgMin(NodeContext &n) {
  return convertArgExtremum(n, /*isMin=*/true);
}

Value *cumsum(NodeContext &n, Value *x, int64_t axis) {
  return n.op("cumsum", {x},
              {{"axis", axis},
               {"exclusive", n.attrInt("exclusive", 0) != 0},
               {"reverse", n.attrInt("reverse", 0) != 0}});
}

// The axis is a scalar input. Where it is known only at run time, the
// result is chosen among the sums along every axis (the shape is the same
// for all of them).
absl::Status convertCumSum(NodeContext &n) {
  Value *x = n.input(0);
  const ir::TensorType *axisType = n.inputType(1);
  if (!x || !axisType)
    return n.status();
  if (axisType->numElements() != 1 || !ir::isInteger(axisType->dtype))
    return n.fail(strCat("input 'axis' is ", axisType->str(),
                         "; expected an integer scalar"));
  const int64_t rank = x->type.rank();
  if (rank == 0)
    return n.fail("input 0 is a scalar; expected rank >= 1");
  if (const ir::Tensor *known = n.constantInput(1)) {
    n.setOutput(0, cumsum(n, x, n.axis(known->getInt(0), rank)));
    return n.status();
  }
  Value *axis = n.op("reshape", {n.input(1)}, {{"shape", Shape{}}});
  Value *negative = n.op("lt", {axis, n.scalarLike(0, axis)});
  axis = n.op("select",
              {negative, n.op("add", {axis, n.scalarLike(rank, axis)}), axis});
  Value *y = cumsum(n, x, rank - 1);
  for (int64_t a = rank - 2; a >= 0; --a)
    y = n.op("select",
             {n.op("eq", {axis, n.scalarLike(a, axis)}), cumsum(n, x, a), y});
  n.setOutput(0, y);
  return n.status();
}

absl::Status convertGatherElements(NodeContext &n) {
  Value *data = n.input(0);
  Value *indices = n.input(1);
  if (!data || !indices)
    return n.status();
  const int64_t axis = n.axis(n.attrInt("axis", 0), data->type.rank());
  n.setOutput(0, n.op("gather_elements", {data, indices}, {{"axis", axis}}));
  return n.status();
}

// TopK ranks the elements along the axis: an element's rank is the number
// of elements before it in the output order (larger, or equal with a lower
// index, as ONNX orders ties). The indices of ranks 0..k-1 are summed out of
// a one-hot of the ranks, and the values gathered at them, so both are
// exact. The pairwise comparison holds N^2 flags per row, which bounds N.
constexpr int64_t kMaxTopKPairs = int64_t(1) << 24;

absl::Status convertTopK(NodeContext &n) {
  Value *x = n.input(0);
  if (!x)
    return n.status();
  const int64_t rank = x->type.rank();
  if (rank == 0)
    return n.fail("input 0 is a scalar; expected rank >= 1");
  const int64_t axis = n.axis(n.attrInt("axis", -1), rank);
  int64_t k = 0;
  if (n.opset() < 10) {
    k = n.attrInt("k", -1);
  } else if (auto known = n.constantInts(1, "K")) {
    if (known->size() != 1)
      return n.fail(
          strCat("input 'K' has ", known->size(), " elements; expected one"));
    k = known->front();
  }
  if (!n.status().ok())
    return n.status();
  const int64_t dim = x->type.shape[axis];
  if (k < 0 || k > dim)
    return n.fail(strCat("k is ", k, "; expected it in [0, ", dim,
                         "] (the size of axis ", axis, ")"));
  const int64_t rows = x->type.numElements() / std::max<int64_t>(dim, 1);
  if (dim > 0 && rows * dim > kMaxTopKPairs / dim)
    return n.unsupported(strCat("an axis of ", dim, " elements in ", rows,
                                " rows (at most 2^24 pairs are compared)"));
  const bool largest = n.opset() < 11 || n.attrInt("largest", 1) != 0;

  // The axis last: xt [..., N].
  std::vector<int64_t> perm;
  for (int64_t a = 0; a < rank; ++a)
    if (a != axis)
      perm.push_back(a);
  perm.push_back(axis);
  Value *xt = transpose(n, x, perm);
  Value *v = largest ? xt : reversedOrder(n, xt);
  if (!n.status().ok())
    return n.status();
  Shape rowShape(xt->type.shape.begin(), xt->type.shape.end() - 1);
  auto withTail = [&](std::vector<int64_t> tail) {
    Shape s = rowShape;
    s.insert(s.end(), tail.begin(), tail.end());
    return s;
  };
  Value *vi = reshape(n, v, withTail({dim, 1}));
  Value *vj = reshape(n, v, withTail({1, dim}));
  ir::Tensor lowerIndex(ir::TensorType{DType::Bool, {dim, dim}});
  for (int64_t i = 0; i < dim; ++i)
    for (int64_t j = 0; j < dim; ++j)
      lowerIndex.setInt(i * dim + j, j < i);
  Value *before =
      n.op("or", {n.op("gt", {vj, vi}),
                  n.op("and", {n.op("eq", {vj, vi}), n.constant(lowerIndex)})});
  Value *ranks = n.op("reduce_sum", {castTo(n, before, DType::I64)},
                      {{"axes", {-1}}, {"keepdims", true}});  // [..., N, 1]
  Value *onehot = n.op("eq", {ranks, iotaAlong(n, k, 1, 2)}); // [..., N, k]
  Value *rowIndex = iotaAlong(n, dim, 0, 2);                  // [N, 1]
  Value *indices =
      n.op("reduce_sum",
           {n.op("select", {onehot, rowIndex, n.scalarLike(0, rowIndex)})},
           {{"axes", {-2}}}); // [..., k]
  Value *values = n.op("gather_elements", {xt, indices}, {{"axis", rank - 1}});
  std::vector<int64_t> back(rank);
  for (int64_t a = 0; a < rank; ++a)
    back[perm[a]] = a;
  n.setOutput(0, transpose(n, values, back));
  n.setOutput(1, transpose(n, indices, back));
  return n.status();
}

constexpr ConverterEntry kTable[] = {
    {"ArgMax", convertArgMax},
    {"ArgMin", convertArgMin},
    {"CumSum", convertCumSum},
    {"GatherElements", convertGatherElements},
    {"ReduceL1", convertReduceL1},
    {"ReduceL2", convertReduceL2},
    {"ReduceLogSum", convertReduceLogSum},
    {"ReduceLogSumExp", convertReduceLogSumExp},
    {"ReduceMax", convertReduceMax},
    {"ReduceMean", convertReduceMean},
    {"ReduceMin", convertReduceMin},
    {"ReduceProd", convertReduceProd},
    {"ReduceSum", convertReduceSum},
    {"ReduceSumSquare", convertReduceSumSquare},
    {"TopK", convertTopK},
};

} // namespace

std::span<const ConverterEntry> reductionConverters() { return kTable; }

} // namespace nyx::onnx_import
