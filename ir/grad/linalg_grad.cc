// Gradient rule of matmul: products with the result's gradient, written
// with matmul's own transpose attributes (no transpose ops), summed over
// the batch axes an operand was broadcast along.
#include "ir/grad/grad_helpers.h"
#include "ir/op_registry.h"
#include "ir/status_macros.h"

namespace nyx::ir {
namespace {

using grad::unbroadcast;

Value *product(Builder &b, Value *lhs, bool transposeLhs, Value *rhs,
               bool transposeRhs) {
  Attributes attrs;
  if (transposeLhs)
    attrs["transpose_a"] = true;
  if (transposeRhs)
    attrs["transpose_b"] = true;
  return b.op("matmul", {lhs, rhs}, Attrs(std::move(attrs)));
}

// `v` with its batch axes merged into the row axis: [..., R, C] -> [B*R, C].
// The row count is spelled out: a -1 cannot be inferred beside C = 0.
Value *mergeBatchIntoRows(Builder &b, Value *v) {
  const Shape &s = v->type.shape;
  int64_t rows = 1;
  for (size_t d = 0; d + 1 < s.size(); ++d)
    rows *= s[d];
  return b.op("reshape", {v}, {{"shape", Shape{rows, s.back()}}});
}

// With A = op_a(a), B = op_b(b) (op: the optional transpose) and C = A B:
// dA = G B^T and dB = A^T G, so, by the transposes,
//   a: G b^T | G b  | b G^T   | b^T G^T   (no transpose, b, a, both)
//   b: a^T G | G^T a | a G    | G^T a^T
absl::Status matmulGrad(Builder &b, const Op &op, std::span<Value *const> gy,
                        std::span<Value *> gx) {
  NYX_ASSIGN_OR_RETURN(bool ta, op.getBool("transpose_a", false));
  NYX_ASSIGN_OR_RETURN(bool tb, op.getBool("transpose_b", false));
  Value *x = op.operand(0), *y = op.operand(1), *g = gy[0];

  Value *da = ta ? product(b, y, tb, g, true) : product(b, g, false, y, !tb);
  gx[0] = unbroadcast(b, da, x->type.shape);

  Value *db;
  if (y->type.rank() == 2 && x->type.rank() > 2 && !ta) {
    // b is shared by every batch (a linear layer on [batch..., M, K]): one
    // product over the rows of all batches instead of a batched product and
    // a sum.
    Value *rows = mergeBatchIntoRows(b, x), *gRows = mergeBatchIntoRows(b, g);
    db = tb ? product(b, gRows, true, rows, false)
            : product(b, rows, true, gRows, false);
  } else {
    db = tb ? product(b, g, true, x, ta) : product(b, x, !ta, g, false);
  }
  gx[1] = unbroadcast(b, db, y->type.shape);
  return absl::OkStatus();
}

} // namespace

void registerLinalgGrads(OpRegistry &r) { r.setGrad("matmul", matmulGrad); }

} // namespace nyx::ir
