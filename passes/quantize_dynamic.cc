// Dynamic int8 quantization of every f32 matmul whose second operand, the
// weights ([K, N], or [N, K] with transpose_b), is known at compile time:
//
//   %a  = abs(%x)
//   %m  = reduce_max(%a)                 : f32[]   this run's range
//   %sx = div(%m, 127)                   : f32[]
//   %xq = quantize(%x, %sx, 0)           : i8[..., M, K]
//   %wq = quantize(%w, sw, 0)            : i8[K, N]  (const-fold makes it
//                                                     an i8 constant)
//   %p  = matmul(%xq, %wq)               : i32[..., M, N]
//   %s  = mul(%sx, sw)                   : f32[N]
//   %y  = dequantize(%p, %s, 0)          : f32[..., M, N]
//
// Activations get one symmetric scale per tensor, from the largest
// magnitude of each run; weights one symmetric scale per output column,
// sw[n] = max_k |w[k, n]| / 127 in f32 (1 for a column of zeros), computed
// here. Symmetric scales need no zero-point compensation.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

#include "ir/diagnostic.h"
#include "ir/op_registry.h"
#include "ir/rewrite.h"
#include "ir/status_macros.h"
#include "ir/strings.h"
#include "passes/pass.h"

namespace nyx::passes {
namespace {

using ir::DType;

constexpr float kI8Max = 127;

bool qualifies(const ir::Op &op) {
  if (op.name() != "matmul" || op.numOperands() != 2)
    return false;
  const ir::TensorType &x = op.operand(0)->type, &w = op.operand(1)->type;
  return x.dtype == DType::F32 && w.dtype == DType::F32 && w.rank() == 2 &&
         x.rank() >= 2;
}

// sw[n] for the weights `w` as stored, where column n of the K x N view is
// row n with transpose_b.
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

absl::StatusOr<size_t> rewrite(ir::Module &m, ir::Function &fn, size_t pos,
                               const ir::Tensor &weights) {
  ir::Op &mm = *fn.ops[pos];
  ir::Value *x = mm.operand(0), *w = mm.operand(1);
  NYX_ASSIGN_OR_RETURN(bool transposeA, mm.getBool("transpose_a", false));
  NYX_ASSIGN_OR_RETURN(bool transposeB, mm.getBool("transpose_b", false));
  const std::vector<float> sw = columnScales(weights, transposeB);
  const int64_t n = static_cast<int64_t>(sw.size());

  ir::OpInserter at(m, fn, pos, mm.loc, "quantize-dynamic");
  NYX_ASSIGN_OR_RETURN(ir::Value * zero, at.scalar(DType::I8, 0));
  NYX_ASSIGN_OR_RETURN(ir::Value * magnitude, at.emit("abs", {x}));
  NYX_ASSIGN_OR_RETURN(ir::Value * range, at.emit("reduce_max", {magnitude}));
  NYX_ASSIGN_OR_RETURN(ir::Value * i8Max, at.scalar(DType::F32, kI8Max));
  NYX_ASSIGN_OR_RETURN(ir::Value * sx, at.emit("div", {range, i8Max}));
  NYX_ASSIGN_OR_RETURN(ir::Value * xq, at.emit("quantize", {x, sx, zero}));
  NYX_ASSIGN_OR_RETURN(
      ir::Value * swWeights,
      constantOf(at, sw, transposeB ? ir::Shape{n, 1} : ir::Shape{1, n}));
  NYX_ASSIGN_OR_RETURN(ir::Value * wq,
                       at.emit("quantize", {w, swWeights, zero}));
  NYX_ASSIGN_OR_RETURN(
      ir::Value * products,
      at.emit("matmul", {xq, wq},
              {{"transpose_a", transposeA}, {"transpose_b", transposeB}}));
  NYX_ASSIGN_OR_RETURN(ir::Value * swColumns, constantOf(at, sw, {n}));
  NYX_ASSIGN_OR_RETURN(ir::Value * scale, at.emit("mul", {sx, swColumns}));
  NYX_ASSIGN_OR_RETURN(ir::Value * zero32, at.scalar(DType::I32, 0));
  NYX_ASSIGN_OR_RETURN(ir::Value * y,
                       at.emit("dequantize", {products, scale, zero32}));
  if (y->type != mm.result()->type)
    return absl::InternalError(strCat("quantize-dynamic built ", y->type.str(),
                                      " for a matmul of ",
                                      mm.result()->type.str()));
  const std::string name = mm.result()->name;
  ir::replaceAllUses(fn, mm.result(), y);
  ir::eraseOp(fn, at.pos());
  y->name = name; // the value that replaces the product takes its name
  return at.pos();
}

// With strict=1 (what `nyxc --quantize=dynamic` runs), a model that
// would stay f32 is an error rather than an unquantized object: weights
// that are params bound at run time (--weights=external), or no matmul
// with compile-time weights at all.
absl::Status checkStrict(const ir::Module &m, const Options &o,
                         int64_t changed) {
  for (const auto &fn : m.functions) {
    if (fn->isKernel)
      continue;
    for (const auto &op : fn->ops) {
      const ir::Op *def = qualifies(*op) ? op->operand(1)->definingOp : nullptr;
      if (def && def->name() == "param" && !o.knownValue(*def))
        return ir::errorAt(
            m.filename, op->loc,
            strCat("'matmul' %", op->result()->name, " reads weights %",
                   def->result()->name,
                   " that are bound at run time; dynamic quantization needs "
                   "them known at compile time (embedded weights)"));
    }
  }
  if (changed == 0)
    return absl::InvalidArgumentError(
        "dynamic quantization found no f32 matmul with compile-time weights "
        "to quantize; expected at least one (the model would stay f32)");
  return absl::OkStatus();
}

} // namespace

absl::Status runQuantizeDynamic(ir::Module &m, const Options &o) {
  NYX_ASSIGN_OR_RETURN(int64_t strict, o.intArg("strict", 0));
  NYX_ASSIGN_OR_RETURN(
      int64_t changed,
      rewriteOpsWithKnownOperand(
          m, o, 1, qualifies,
          [&m](ir::Function &fn, size_t pos, const ir::Tensor &weights) {
            return rewrite(m, fn, pos, weights);
          }));
  o.count("quantize-dynamic.matmuls", changed);
  if (strict)
    return checkStrict(m, o, changed);
  return absl::OkStatus();
}

} // namespace nyx::passes
