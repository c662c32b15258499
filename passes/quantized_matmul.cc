#include "passes/quantized_matmul.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "ir/status_macros.h"
#include "ir/strings.h"

namespace nyx::passes {

using ir::DType;

namespace {

constexpr float kI8Max = 127;

// sw[n] = max_k |w[k, n]| / 127 (1 for a column of zeros) for the weights
// `w` as stored, where column n of the K x N view is row n with
// transpose_b.
std::vector<float> columnScales(const ir::Tensor &w, bool transposed) {
  const int64_t rows = w.shape()[0], cols = w.shape()[1];
  std::vector<float> scale(transposed ? rows : cols, 0.0f);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      float &s = scale[transposed ? i : j];
      s = std::max(s, std::fabs(static_cast<float>(w.getDouble(i * cols + j))));
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

} // namespace

bool isQuantizableMatmul(const ir::Op &op) {
  if (op.name() != "matmul" || op.numOperands() != 2)
    return false;
  const ir::TensorType &x = op.operand(0)->type, &w = op.operand(1)->type;
  return x.dtype == DType::F32 && w.dtype == DType::F32 && w.rank() == 2 &&
         x.rank() >= 2;
}

absl::StatusOr<size_t> replaceWithQuantized(ir::OpInserter &at,
                                            ir::Function &fn, ir::Op &mm,
                                            const ir::Tensor &weights,
                                            ir::Value *xq, ir::Value *sx,
                                            int zx) {
  NYX_ASSIGN_OR_RETURN(bool transposeA, mm.getBool("transpose_a", false));
  NYX_ASSIGN_OR_RETURN(bool transposeB, mm.getBool("transpose_b", false));
  const std::vector<float> sw = columnScales(weights, transposeB);
  const int64_t n = static_cast<int64_t>(sw.size());

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
  // sum_k (xq - zx) wq = sum_k xq wq - zx sum_k wq: the zero point of the
  // i32 products is zx times each column's sum of the quantized weights.
  ir::Value *zeroPoint = nullptr;
  if (zx == 0) {
    NYX_ASSIGN_OR_RETURN(zeroPoint, at.scalar(DType::I32, 0));
  } else {
    NYX_ASSIGN_OR_RETURN(ir::Value * wide,
                         at.emit("cast", {wq}, {{"to", DType::I32}}));
    NYX_ASSIGN_OR_RETURN(
        ir::Value * sums,
        at.emit("reduce_sum", {wide},
                {{"axes", std::vector<int64_t>{transposeB ? 1 : 0}}}));
    NYX_ASSIGN_OR_RETURN(ir::Value * zx32, at.scalar(DType::I32, zx));
    NYX_ASSIGN_OR_RETURN(zeroPoint, at.emit("mul", {sums, zx32}));
  }
  NYX_ASSIGN_OR_RETURN(ir::Value * y,
                       at.emit("dequantize", {products, scale, zeroPoint}));
  if (y->type != mm.result()->type)
    return absl::InternalError(strCat("int8 quantization built ",
                                      y->type.str(), " for a matmul of ",
                                      mm.result()->type.str()));
  const std::string name = mm.result()->name;
  ir::replaceAllUses(fn, mm.result(), y);
  ir::eraseOp(fn, at.pos());
  y->name = name; // the value that replaces the product takes its name
  return at.pos();
}

} // namespace nyx::passes
