// The loop nest of a kernel that does the same work at every position of a
// shape (a standalone Injective op, a fused loop group).
#pragma once

#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "codegen/kernel/loop_ir.h"
#include "codegen/kernel/simplify.h"
#include "ir/types.h"

namespace nyx::kernel {

// The statements of one iteration at `coords` (one simplified i64 index per
// dimension of the iteration shape). `b` hands out the variables of the
// nest, so locals the body declares get ids of their own; `extents` holds
// the loop indices' extents for simplify().
using IterationBody = std::function<absl::StatusOr<std::vector<StmtRef>>(
    Builder &b, const std::vector<ExprRef> &coords, const VarExtents &extents)>;

// Which dimensions of the iteration shape may share a loop.
enum class Merging {
  // Any adjacent dimensions, wherever that adds no index division or
  // remainder to the body.
  Adjacent,
  // All of them (one flat loop) when that adds none, else none.
  AllOrNone,
};

// A loop nest over `shape` around `body`, the outermost loop parallel (the
// iterations must write disjoint elements), with dimensions merged as
// `merging` allows: an elementwise chain over same-shape operands is one
// flat loop, while a broadcast or transposed operand keeps the dimensions
// it needs. `body` is called once per candidate nest.
absl::StatusOr<StmtRef> mergedLoopNest(const ir::Shape &shape,
                                       const IterationBody &body,
                                       Merging merging = Merging::Adjacent);

// The i64 divisions and remainders in the statements (see countIndexDivRem).
int countIndexDivRem(const Stmt &s);

} // namespace nyx::kernel
