#include "codegen/kernel/iteration.h"

#include "codegen/kernel/index_math.h"

namespace nyx::kernel {
namespace {

struct Candidate {
  StmtRef nest;
  int cost = 0;
};

// The nest whose loop g runs over the dimensions [groups[g], groups[g+1])
// of `shape` merged into one flat index.
absl::StatusOr<Candidate> buildNest(const ir::Shape &shape,
                                    const std::vector<size_t> &groups,
                                    const IterationBody &body) {
  ir::Shape loopShape;
  for (size_t g = 0; g + 1 < groups.size(); ++g)
    loopShape.push_back(ir::numElements(
        ir::Shape(shape.begin() + groups[g], shape.begin() + groups[g + 1])));
  Builder b;
  LoopNest nest(b, loopShape, "i");
  VarExtents extents;
  for (size_t g = 0; g < loopShape.size(); ++g)
    if (nest.indices()[g]->kind == Expr::Kind::VarRef)
      extents[nest.indices()[g]->var.id] = loopShape[g];
  std::vector<ExprRef> coords;
  for (size_t g = 0; g < loopShape.size(); ++g) {
    ir::Shape dims(shape.begin() + groups[g], shape.begin() + groups[g + 1]);
    for (const ExprRef &c : unravel(nest.indices()[g], dims))
      coords.push_back(simplify(c, extents));
  }
  auto stmts = body(b, coords, extents);
  if (!stmts.ok())
    return stmts.status();
  Candidate c;
  for (const StmtRef &s : *stmts)
    c.cost += countIndexDivRem(*s);
  c.nest = nest.wrap(std::move(*stmts), true);
  return c;
}

} // namespace

int countIndexDivRem(const Stmt &s) {
  int n = 0;
  for (const ExprRef *e : {&s.extent, &s.index, &s.value})
    if (*e)
      n += countIndexDivRem(**e);
  for (const StmtRef &c : s.body)
    n += countIndexDivRem(*c);
  for (const StmtRef &c : s.orElse)
    n += countIndexDivRem(*c);
  return n;
}

absl::StatusOr<StmtRef> mergedLoopNest(const ir::Shape &shape,
                                       const IterationBody &body,
                                       Merging merging) {
  // Group boundaries: loop g covers dimensions [groups[g], groups[g+1]).
  std::vector<size_t> groups;
  for (size_t d = 0; d <= shape.size(); ++d)
    groups.push_back(d);
  auto best = buildNest(shape, groups, body);
  if (!best.ok())
    return best.status();
  if (merging == Merging::AllOrNone) {
    if (shape.size() < 2)
      return best->nest;
    auto flat = buildNest(shape, {0, shape.size()}, body);
    if (!flat.ok())
      return flat.status();
    return flat->cost <= best->cost ? flat->nest : best->nest;
  }
  // Greedily merge each loop into the next while that costs nothing.
  for (size_t g = 1; g + 1 < groups.size();) {
    std::vector<size_t> merged = groups;
    merged.erase(merged.begin() + g);
    auto candidate = buildNest(shape, merged, body);
    if (!candidate.ok())
      return candidate.status();
    if (candidate->cost <= best->cost) {
      groups = std::move(merged);
      best = std::move(candidate);
    } else {
      ++g;
    }
  }
  return best->nest;
}

} // namespace nyx::kernel
