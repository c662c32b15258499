// The values of a kernel function's body at given coordinates, as loop-IR
// expressions: what a fused kernel computes in place of each intermediate
// tensor. Ops are evaluated through their element functions down to loads
// of the params.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "codegen/kernel/loop_ir.h"
#include "codegen/kernel/simplify.h"
#include "ir/module.h"

namespace nyx::kernel {

class FusedValues {
public:
  // Param i of `body` is read from kernel buffer i. `extents` bounds the
  // loop indices the coordinates use. With `locals`, a value the body uses
  // more than once is declared as a local (see takeDeclares) so it is
  // computed once; `locals` hands out the ids.
  FusedValues(const ir::Function &body, const VarExtents &extents,
              Builder *locals);

  // Reads of `anchor` yield `value` wherever they are made (the epilogue
  // reads the anchor's result at the position being stored).
  void setAnchor(const ir::Value *anchor, ExprRef value);

  // The element of `v` at `coords` (one index per dimension of v's shape):
  // f16/bf16 values of ops are rounded to their type, as storing them would
  // (see element_fn.h for the two forms a value may take).
  absl::StatusOr<ExprRef> at(const ir::Value *v, std::vector<ExprRef> coords);

  // The declarations of the locals made since the last call, in the order
  // they must run; they must precede every use of the values returned.
  std::vector<StmtRef> takeDeclares();
  // Forgets the values computed so far: later calls are placed where the
  // earlier locals are not in scope.
  void forget();

  int uses(const ir::Value *v) const;

private:
  absl::StatusOr<ExprRef> compute(const ir::Value *v,
                                  const std::vector<ExprRef> &coords);

  const ir::Function &body_;
  const VarExtents &extents_;
  Builder *locals_;
  std::unordered_map<const ir::Value *, int> paramIndex_;
  std::unordered_map<const ir::Value *, int> uses_;
  const ir::Value *anchor_ = nullptr;
  ExprRef anchorValue_;
  std::unordered_map<std::string, ExprRef> memo_;
  std::vector<StmtRef> declares_;
};

// The one value of every element of a `constant` op's tensor, or an error
// when its elements differ (a kernel body holds splats only).
absl::StatusOr<ExprRef> splatValue(const ir::Op &constant);

} // namespace nyx::kernel
