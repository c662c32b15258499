// A range-aware simplifier for the i64 index arithmetic of loop nests.
//
// Fused kernels index their operands through chains of unravel (flat index
// to coordinates: divisions and remainders) and ravel (coordinates to a flat
// index). Knowing that a loop index lies in [0, extent), most of that
// arithmetic cancels: (a*K + b) / K is a and (a*K + b) % K is b when
// 0 <= b < K, and (x / K)*K + x % K is x. What is left is plain affine
// arithmetic, which LLVM vectorizes.
//
// Sums are normalized to a list of terms (coefficient times an atom: a loop
// index, a division, a load, ...) in the order they first appear, plus a
// constant, so an expression that has nothing to simplify prints as it was
// written.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "codegen/kernel/loop_ir.h"

namespace nyx::kernel {

// The extent of each loop index by variable id: the index lies in
// [0, extent).
using VarExtents = std::unordered_map<int, int64_t>;

// An inclusive range of values.
struct IndexRange {
  int64_t lo = 0, hi = 0;
};

// Simplifies every i64 arithmetic expression in `e`, including the indices
// of the loads inside element expressions. The result computes the same
// value whenever each loop index lies within its extent.
ExprRef simplify(const ExprRef &e, const VarExtents &extents);

// Hands out loop indices and remembers their extents, so index arithmetic
// over them simplifies.
class IndexVars {
public:
  explicit IndexVars(Builder &b) : b_(b) {}
  // A new i64 index that lies in [0, extent).
  Var var(std::string name, int64_t extent) {
    Var v = b_.newVar(DType::I64, std::move(name));
    extents_[v.id] = extent;
    return v;
  }
  ExprRef simplified(const ExprRef &e) const { return simplify(e, extents_); }

private:
  Builder &b_;
  VarExtents extents_;
};

// The values an i64 expression can take, when bounded by what is known.
std::optional<IndexRange> indexRange(const ExprRef &e,
                                     const VarExtents &extents);

// The number of i64 divisions and remainders in `e` (load indices included):
// what an index computation costs beyond affine arithmetic.
int countIndexDivRem(const Expr &e);

// Structural equality of expression trees, and a string that is equal for
// equal trees (for memoizing by expression).
bool sameExpr(const Expr &a, const Expr &b);
std::string exprKey(const Expr &e);

} // namespace nyx::kernel
