// Reductions in independent partial results ("lanes"): the form of every
// float reduction that the reduction and normalization lowerings emit over
// more than a few elements.
//
// A floating-point reduction into one accumulator is a chain of dependent
// additions that LLVM may not reorder (no fast-math), so it runs one add per
// add latency and never vectorizes. Written instead as locals that are
// updated once per step, the updates of a step are independent and alike,
// and LLVM's SLP vectorizer packs them into vector registers. The order of
// the additions is fixed here, by the kernel, so a result does not depend
// on the target's vector width.
//
// A contiguous run of n elements is summed (RunSum) in kRunLanes = 16
// lanes (one AVX-512 register of f32), each step taking G = 1, 2, 4 or 8
// elements per lane (the most that n allows, see runGroups), in this order:
// - step s adds to lane l the pairwise sum of elements 16 (G s + g) + l for
//   g = 0 .. G-1 (((e0 + e1) + (e2 + e3)) + ...), steps in increasing
//   order;
// - when there are more than kBlockSteps steps, each block of kBlockSteps
//   consecutive steps is summed into fresh partials first, which are then
//   added to the lanes (two levels), and the steps after the last whole
//   block go to the lanes directly;
// - the last n % (16 G) elements (the tail) come first: its whole groups
//   of 16 start the lanes, lane l taking the pairwise sum of its elements
//   (as a step with fewer groups), and its last n % 16 elements are summed
//   pairwise on their own (the tail sum);
// - the lanes, then the tail sum, are added in order to 0 in f64 (for an
//   f64 sum, in f64 as well), and the total is rounded once.
// Several runs (say, every position of reduced axes before the run's) add
// to the same lanes and tail sum. No element passes through more than about
// n / (16 G kBlockSteps) + 2 kBlockSteps + G + 17 roundings, where a
// sequential sum has n: the result is at least as accurate as the
// sequential one.
//
// Why this shape. The pre-summed groups leave one dependent add per lane
// and step, so the loop runs at the speed of its loads rather than of the
// add latency. SLP vectorizes the code after a loop before the loop; were
// there two alike values there that lead back to neighbouring lanes (the
// lanes combined pairwise, or a tail added to the lanes after the loop),
// SLP would vectorize them, and with them the whole loop, two lanes wide.
// The one chain of the combination, whose every add takes a conversion
// to f64 as its second operand, offers no such pair, even when LLVM unrolls
// a short loop into the code around it; nor do lanes that all start alike
// before the loop. (Fully unrolled, a short run's lanes offer SLP nothing
// to start from and stay scalar: still 16 independent chains.)
//
// The lanes of a column tile (columnTiles) are separate outputs instead:
// each steps down its column in blocks of kBlockSteps as above, and is
// never combined with the others. The consecutive stores of a tile's
// results lead SLP to vectorize its loop whole.
//
// Max and min over a contiguous run need no lanes: extremeOfRun keeps one
// running value with the loop IR's Max/Min (NaN-propagating), a reduction
// LLVM's loop vectorizer reorders by itself, exactly (only which zero the
// maximum of -0 and +0 is, and a NaN's payload, may depend on the order).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "codegen/kernel/loop_ir.h"
#include "ir/types.h"

namespace nyx::kernel {

// How values combine into a lane and lanes into one another.
struct Combiner {
  DType type;       // the lanes' type (the compute type)
  ExprRef identity; // each lane's start value
  // acc ⊕ x, for an accumulated value and the next element (or lane).
  std::function<ExprRef(const ExprRef &acc, const ExprRef &x)> combine;
  // The order of the operands changes nothing (max, min): no two-level
  // blocks.
  bool exact = false;
};

// acc + x from 0.
Combiner sumCombiner(DType type);
// The larger (smaller) of acc and x for a float type, a NaN in x or acc
// sticking, from -inf (+inf).
Combiner maxCombiner(DType type);
Combiner minCombiner(DType type);

// Steps of one lane summed into a partial before it joins the lane.
inline constexpr int64_t kBlockSteps = 64;
// The lanes of a contiguous run.
inline constexpr int64_t kRunLanes = 16;

// Elements per lane and step for a run of `n` elements: 8, 4, 2 or 1, the
// most for which two steps fit in n (so there is a loop to vectorize); 0
// when n < 2 kRunLanes, where one sequential accumulator costs less than
// combining lanes.
int64_t runGroups(int64_t n);

// The fewest columns worth tiling (columnTiles); below, one sequential
// accumulator per column costs less.
inline constexpr int64_t kMinTileColumns = 16;

// Element `lane` at step `step` (an i64 expression).
using LaneValue = std::function<ExprRef(const ExprRef &step, int64_t lane)>;

// Accumulators stepped together: each step updates every lane once.
class Lanes {
public:
  // `count` lanes of `combiner`'s type, named `name`0, `name`1, ...
  Lanes(Builder &b, Combiner combiner, int64_t count, std::string_view name);

  int64_t count() const { return static_cast<int64_t>(lanes_.size()); }
  ExprRef lane(int64_t l) const;

  // Declares every lane with the identity.
  std::vector<StmtRef> declare() const;
  // Every lane l takes value(s, l) for s = 0 .. steps - 1, in order (in
  // blocks of kBlockSteps for sums).
  std::vector<StmtRef> addSteps(int64_t steps, const LaneValue &value);

private:
  std::vector<StmtRef> stepStatements(const std::vector<Var> &into,
                                      const ExprRef &step,
                                      const LaneValue &value) const;

  Builder &b_;
  Combiner combiner_;
  std::string name_;
  std::vector<Var> lanes_;
};

// The sum of one or more contiguous runs of elements of type `type` (the
// compute type), in the order described above.
class RunSum {
public:
  RunSum(Builder &b, DType type, std::string_view name);

  // Declares the lanes and the tail sum, at 0.
  std::vector<StmtRef> declare() const;
  // Adds a run of `n` elements, element i being at(i), `groups` elements
  // per lane and step (runGroups(n) or less).
  std::vector<StmtRef> add(int64_t n, int64_t groups,
                           const std::function<ExprRef(const ExprRef &)> &at);
  // Adds the lanes and the tail sum into the total.
  std::vector<StmtRef> combine() const;
  // The sum, once combine() has run.
  ExprRef total() const;

private:
  DType type_, wide_;
  Lanes lanes_;
  Var tail_, total_;
};

// acc = max(acc, at(i)) (min with !max) for i = 0 .. n - 1, the loop IR's
// NaN-propagating Max/Min.
StmtRef extremeOfRun(Builder &b, const Var &acc, bool max, int64_t n,
                     const std::function<ExprRef(const ExprRef &)> &at);

// The body of one tile of `lanes` columns starting at column `first`, in
// the row at flat position `row` of the prefix.
using ColumnTile = std::function<StmtRef(const ExprRef &row,
                                         const ExprRef &first, int64_t lanes)>;

// For data viewed as rows (a `prefix` shape of them) of `columns` contiguous
// positions (at least kMinTileColumns), each processed in tiles: a parallel
// nest over the prefix, or, when the prefix is a single row, a parallel
// loop over the tiles. The tiles are the fewest of at most `maxWidth`
// columns (at least two of 256 or more for a single row, so that threads
// can share it), of equal widths rounded up to a multiple of 16, the last
// narrower. A tile as wide as a row reads the rows in memory order; its
// lanes beyond the registers live on the stack, like a row of partial
// results. The tiles of one row must write disjoint elements.
StmtRef columnTiles(Builder &b, const ir::Shape &prefix, int64_t columns,
                    int64_t maxWidth, const ColumnTile &tile);

} // namespace nyx::kernel
