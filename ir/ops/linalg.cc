// Linear algebra: matmul.
#include <cstdint>

#include "absl/status/status.h"
#include "ir/op_registry.h"
#include "ir/ops/op_helpers.h"
#include "ir/strings.h"

namespace nyx::ir {
namespace {

// The operands' shapes with the transposes applied, split into batch axes
// and the matrix dimensions.
struct MatmulDims {
  bool transposeA = false, transposeB = false;
  Shape batch;          // broadcast batch axes of the result
  Shape batchA, batchB; // each operand's own batch axes
  int64_t m = 0, k = 0, n = 0;
};

absl::StatusOr<MatmulDims> matmulDims(const Op &op, const TensorType &a,
                                      const TensorType &b) {
  MatmulDims d;
  NYX_ASSIGN_OR_RETURN(d.transposeA, op.getBool("transpose_a", false));
  NYX_ASSIGN_OR_RETURN(d.transposeB, op.getBool("transpose_b", false));
  if (a.rank() < 2 || b.rank() < 2)
    return ops::opError(op, strCat("operands are ", a.str(), " and ", b.str(),
                                   "; expected rank >= 2"));
  int64_t ra = a.rank(), rb = b.rank();
  int64_t aRows = a.shape[ra - 2], aCols = a.shape[ra - 1];
  int64_t bRows = b.shape[rb - 2], bCols = b.shape[rb - 1];
  d.m = d.transposeA ? aCols : aRows;
  int64_t ka = d.transposeA ? aRows : aCols;
  int64_t kb = d.transposeB ? bCols : bRows;
  d.n = d.transposeB ? bRows : bCols;
  if (ka != kb)
    return ops::opError(op, strCat("inner dimensions differ: a is ", a.str(),
                                   d.transposeA ? " transposed" : "",
                                   " (K=", ka, ") and b is ", b.str(),
                                   d.transposeB ? " transposed" : "",
                                   " (K=", kb, "); expected them equal"));
  d.k = ka;
  d.batchA.assign(a.shape.begin(), a.shape.end() - 2);
  d.batchB.assign(b.shape.begin(), b.shape.end() - 2);
  auto batch = broadcastShapes(d.batchA, d.batchB);
  if (!batch.ok())
    return ops::opError(op, strCat("batch axes do not broadcast: a is ",
                                   a.str(), " and b is ", b.str()));
  d.batch = *batch;
  return d;
}

absl::StatusOr<std::vector<TensorType>> inferMatmul(const Op &op,
                                                    const Module &) {
  NYX_RETURN_IF_ERROR(ops::checkOpBasics(op, {"transpose_a", "transpose_b"}));
  const TensorType &a = op.operand(0)->type;
  const TensorType &b = op.operand(1)->type;
  if (!isFloat(a.dtype) && !isInteger(a.dtype))
    return ops::opError(
        op, strCat("operand a is ", a.str(),
                   "; expected a float, i8, i32 or i64 element type"));
  if (a.dtype != b.dtype)
    return ops::opError(
        op, strCat("operands have different element types: a is ", a.str(),
                   " and b is ", b.str(), "; expected them equal"));
  NYX_ASSIGN_OR_RETURN(MatmulDims d, matmulDims(op, a, b));
  Shape out = d.batch;
  out.push_back(d.m);
  out.push_back(d.n);
  // i8 products (quantized values) accumulate into i32.
  return ops::oneResult(a.dtype == DType::I8 ? DType::I32 : a.dtype, out);
}

absl::Status interpretMatmul(const Op &op, std::span<const Tensor *const> in,
                             std::span<Tensor> out, const InterpContext &) {
  const Tensor &a = *in[0];
  const Tensor &b = *in[1];
  Tensor &c = out[0];
  NYX_ASSIGN_OR_RETURN(const MatmulDims d, matmulDims(op, a.type(), b.type()));
  const int64_t m = d.m, n = d.n, k = d.k;
  // Element strides of a[i, p] and b[p, j] within one matrix.
  const int64_t aRowStride = d.transposeA ? 1 : k;
  const int64_t aColStride = d.transposeA ? m : 1;
  const int64_t bRowStride = d.transposeB ? 1 : n;
  const int64_t bColStride = d.transposeB ? k : 1;
  const bool isInt = !isFloat(c.dtype());
  const Shape batchShapes[] = {d.batchA, d.batchB};
  ops::forEachBroadcast(
      d.batch, batchShapes, [&](int64_t batch, std::span<const int64_t> src) {
        const int64_t aBase = src[0] * m * k;
        const int64_t bBase = src[1] * k * n;
        const int64_t cBase = batch * m * n;
        for (int64_t i = 0; i < m; ++i) {
          for (int64_t j = 0; j < n; ++j) {
            const int64_t ai = aBase + i * aRowStride;
            const int64_t bj = bBase + j * bColStride;
            if (isInt) {
              int64_t acc = 0;
              for (int64_t p = 0; p < k; ++p)
                acc = ops::wrapAdd(acc,
                                   ops::wrapMul(a.getInt(ai + p * aColStride),
                                                b.getInt(bj + p * bRowStride)));
              c.setInt(cBase + i * n + j, acc);
            } else {
              // Accumulates in f64 (at least the f32 that f16/bf16 ask for) and
              // rounds once.
              double acc = 0;
              for (int64_t p = 0; p < k; ++p)
                acc += a.getDouble(ai + p * aColStride) *
                       b.getDouble(bj + p * bRowStride);
              ops::storeRounded(c, cBase + i * n + j, acc);
            }
          }
        }
      });
  return absl::OkStatus();
}

} // namespace

void registerLinalgOps(OpRegistry &r) {
  r.add(OpDef{.name = "matmul",
              .minOperands = 2,
              .maxOperands = 2,
              .inferTypes = inferMatmul,
              .interpret = interpretMatmul});
  r.setFusionKind({"matmul"}, FusionKind::Contraction);
}

} // namespace nyx::ir
