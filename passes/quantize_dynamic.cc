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
// sw[n] = max_k |w[k, n]| / 127 in f32 (1 for a column of zeros; the
// rewrite after %xq is quantized_ops.h's). Symmetric scales need no
// zero-point compensation.
#include "ir/diagnostic.h"
#include "ir/status_macros.h"
#include "ir/strings.h"
#include "passes/pass.h"
#include "passes/quantized_ops.h"

namespace nyx::passes {
namespace {

using ir::DType;

absl::StatusOr<size_t> rewrite(ir::Module &m, ir::Function &fn, size_t pos,
                               const ir::Tensor &weights) {
  ir::Op &mm = *fn.ops[pos];
  ir::Value *x = mm.operand(0);
  ir::OpInserter at(m, fn, pos, mm.loc, "quantize-dynamic");
  NYX_ASSIGN_OR_RETURN(ir::Value * zero, at.scalar(DType::I8, 0));
  NYX_ASSIGN_OR_RETURN(ir::Value * magnitude, at.emit("abs", {x}));
  NYX_ASSIGN_OR_RETURN(ir::Value * range, at.emit("reduce_max", {magnitude}));
  NYX_ASSIGN_OR_RETURN(ir::Value * i8Max, at.scalar(DType::F32, 127));
  NYX_ASSIGN_OR_RETURN(ir::Value * sx, at.emit("div", {range, i8Max}));
  NYX_ASSIGN_OR_RETURN(ir::Value * xq, at.emit("quantize", {x, sx, zero}));
  return replaceWithQuantized(at, fn, mm, weights, xq, sx, 0);
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
      const ir::Op *def =
          isQuantizableMatmul(*op) ? op->operand(1)->definingOp : nullptr;
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
          m, o, 1, isQuantizableMatmul,
          [&m](ir::Function &fn, size_t pos, const ir::Tensor &weights) {
            return rewrite(m, fn, pos, weights);
          }));
  o.count("quantize-dynamic.matmuls", changed);
  if (strict)
    return checkStrict(m, o, changed);
  return absl::OkStatus();
}

} // namespace nyx::passes
