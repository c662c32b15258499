#include "passes/quantized_ops.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "ir/conv_filter.h"
#include "ir/status_macros.h"
#include "ir/strings.h"

namespace nyx::passes {

using ir::DType;

namespace {

constexpr float kI8Max = 127;

// max |w| / 127 over each of `channels` output channels (1 for a channel
// of zeros), the weights seen as a matrix of `channels` rows
// (`channelIsRow`) or columns.
std::vector<float> channelScales(const ir::Tensor &w, int64_t channels,
                                 bool channelIsRow) {
  const int64_t count = w.numElements();
  const int64_t inner = channels > 0 ? count / channels : 0;
  std::vector<float> scale(channels, 0.0f);
  for (int64_t e = 0; e < count; ++e) {
    float &s = scale[channelIsRow ? e / inner : e % channels];
    s = std::max(s, std::fabs(static_cast<float>(w.getDouble(e))));
  }
  for (float &s : scale)
    s = s > 0 ? s / kI8Max : 1.0f;
  return scale;
}

absl::StatusOr<ir::Value *> constantOf(ir::OpInserter &at,
                                       const std::vector<float> &values,
                                       ir::Shape shape) {
  auto t = std::make_shared<ir::Tensor>(ir::TensorType{DType::F32, shape});
  for (size_t i = 0; i < values.size(); ++i)
    t->setDouble(static_cast<int64_t>(i), values[i]);
  return at.emit("constant", {},
                 {{"value", std::shared_ptr<const ir::Tensor>(t)}});
}

// The product's zero point: zx times the sums of the quantized weights
// along `axis` (kept as a size-1 axis when `keepdims`), or 0.
absl::StatusOr<ir::Value *> productZeroPoint(ir::OpInserter &at, ir::Value *wq,
                                             int64_t axis, bool keepdims,
                                             int zx) {
  // sum_k (xq - zx) wq = sum_k xq wq - zx sum_k wq.
  if (zx == 0)
    return at.scalar(DType::I32, 0);
  NYX_ASSIGN_OR_RETURN(ir::Value * wide,
                       at.emit("cast", {wq}, {{"to", DType::I32}}));
  NYX_ASSIGN_OR_RETURN(
      ir::Value * sums,
      at.emit("reduce_sum", {wide},
              {{"axes", std::vector<int64_t>{axis}}, {"keepdims", keepdims}}));
  NYX_ASSIGN_OR_RETURN(ir::Value * zx32, at.scalar(DType::I32, zx));
  return at.emit("mul", {sums, zx32});
}

// Makes `y` take `op`'s place and name; returns the position after.
absl::StatusOr<size_t> takePlace(ir::OpInserter &at, ir::Function &fn,
                                 ir::Op &op, ir::Value *y) {
  if (y->type != op.result()->type)
    return absl::InternalError(strCat("int8 quantization built ", y->type.str(),
                                      " for '", op.name(), "' of ",
                                      op.result()->type.str()));
  const std::string name = op.result()->name;
  ir::replaceAllUses(fn, op.result(), y);
  ir::eraseOp(fn, at.pos());
  y->name = name;
  return at.pos();
}

absl::StatusOr<size_t> quantizedMatmul(ir::OpInserter &at, ir::Function &fn,
                                       ir::Op &mm, const ir::Tensor &weights,
                                       ir::Value *xq, ir::Value *sx, int zx) {
  NYX_ASSIGN_OR_RETURN(bool transposeA, mm.getBool("transpose_a", false));
  NYX_ASSIGN_OR_RETURN(bool transposeB, mm.getBool("transpose_b", false));
  // Column n of the K x N view is row n of [N, K] weights (transpose_b).
  const int64_t n = weights.shape()[transposeB ? 0 : 1];
  const std::vector<float> sw = channelScales(weights, n, transposeB);

  NYX_ASSIGN_OR_RETURN(ir::Value * zero, at.scalar(DType::I8, 0));
  NYX_ASSIGN_OR_RETURN(
      ir::Value * swWeights,
      constantOf(at, sw, transposeB ? ir::Shape{n, 1} : ir::Shape{1, n}));
  NYX_ASSIGN_OR_RETURN(ir::Value * wq,
                       at.emit("quantize", {mm.operand(1), swWeights, zero}));
  NYX_ASSIGN_OR_RETURN(
      ir::Value * products,
      at.emit("matmul", {xq, wq},
              {{"transpose_a", transposeA}, {"transpose_b", transposeB}}));
  NYX_ASSIGN_OR_RETURN(ir::Value * swColumns, constantOf(at, sw, {n}));
  NYX_ASSIGN_OR_RETURN(ir::Value * scale, at.emit("mul", {sx, swColumns}));
  NYX_ASSIGN_OR_RETURN(ir::Value * zeroPoint,
                       productZeroPoint(at, wq, transposeB ? 1 : 0, false, zx));
  NYX_ASSIGN_OR_RETURN(ir::Value * y,
                       at.emit("dequantize", {products, scale, zeroPoint}));
  return takePlace(at, fn, mm, y);
}

absl::StatusOr<size_t> quantizedConv(ir::OpInserter &at, ir::Function &fn,
                                     ir::Op &conv, const ir::Tensor &weights,
                                     ir::Value *xq, ir::Value *sx, int zx) {
  const ir::Shape &w = weights.shape(), &y = conv.result()->type.shape;
  const int64_t m = w[0], k = w[1] * w[2] * w[3];
  const std::vector<float> sw = channelScales(weights, m, true);

  ir::Attributes window = {{"kernel", std::vector<int64_t>{w[2], w[3]}},
                           {"value", static_cast<double>(zx)}};
  for (const char *attr : {"strides", "padding", "dilations"})
    if (auto it = conv.attrs.find(attr); it != conv.attrs.end())
      window.insert(*it);
  NYX_ASSIGN_OR_RETURN(ir::Value * columns, at.emit("im2col", {xq}, window));
  NYX_ASSIGN_OR_RETURN(ir::Value * filter,
                       at.emit("reshape", {conv.operand(1)},
                               {{"shape", std::vector<int64_t>{m, k}}}));
  NYX_ASSIGN_OR_RETURN(ir::Value * zero, at.scalar(DType::I8, 0));
  NYX_ASSIGN_OR_RETURN(ir::Value * swRows, constantOf(at, sw, {m, 1}));
  NYX_ASSIGN_OR_RETURN(ir::Value * wq,
                       at.emit("quantize", {filter, swRows, zero}));
  NYX_ASSIGN_OR_RETURN(ir::Value * products, at.emit("matmul", {wq, columns}));
  NYX_ASSIGN_OR_RETURN(ir::Value * scale, at.emit("mul", {sx, swRows}));
  NYX_ASSIGN_OR_RETURN(ir::Value * zeroPoint,
                       productZeroPoint(at, wq, 1, true, zx));
  NYX_ASSIGN_OR_RETURN(ir::Value * out,
                       at.emit("dequantize", {products, scale, zeroPoint}));
  if (conv.numOperands() == 3) {
    NYX_ASSIGN_OR_RETURN(ir::Value * bias,
                         at.emit("reshape", {conv.operand(2)},
                                 {{"shape", std::vector<int64_t>{m, 1}}}));
    NYX_ASSIGN_OR_RETURN(out, at.emit("add", {out, bias}));
  }
  NYX_ASSIGN_OR_RETURN(
      out, at.emit("reshape", {out}, {{"shape", std::vector<int64_t>(y)}}));
  return takePlace(at, fn, conv, out);
}

} // namespace

bool isQuantizableMatmul(const ir::Op &op) {
  if (op.name() != "matmul" || op.numOperands() != 2)
    return false;
  const ir::TensorType &x = op.operand(0)->type, &w = op.operand(1)->type;
  return x.dtype == DType::F32 && w.dtype == DType::F32 && w.rank() == 2 &&
         x.rank() >= 2;
}

bool isQuantizableConv(const ir::Op &op) {
  if (op.name() != "conv2d" || op.numOperands() < 2)
    return false;
  auto layout = ir::filterLayout(op);
  auto groups = op.getInt("groups", 1);
  const ir::TensorType &x = op.operand(0)->type, &w = op.operand(1)->type;
  return layout.ok() && layout->kind == ir::FilterLayout::OIHW && groups.ok() &&
         *groups == 1 && x.dtype == DType::F32 && w.dtype == DType::F32 &&
         x.rank() == 4 && w.rank() == 4;
}

absl::StatusOr<size_t> replaceWithQuantized(ir::OpInserter &at,
                                            ir::Function &fn, ir::Op &op,
                                            const ir::Tensor &weights,
                                            ir::Value *xq, ir::Value *sx,
                                            int zx) {
  if (op.name() == "conv2d")
    return quantizedConv(at, fn, op, weights, xq, sx, zx);
  return quantizedMatmul(at, fn, op, weights, xq, sx, zx);
}

} // namespace nyx::passes
