#include "codegen/kernel/partial_sums.h"

#include <algorithm>
#include <limits>

#include "codegen/kernel/index_math.h"
#include "ir/strings.h"

namespace nyx::kernel {
namespace {

using B = Builder;

ExprRef isNaN(const ExprRef &x) { return B::compare(CmpFn::Ne, x, x); }

Combiner extremeCombiner(DType type, bool max) {
  Combiner c;
  c.type = type;
  c.identity = B::constant(type, max ? -std::numeric_limits<double>::infinity()
                                     : std::numeric_limits<double>::infinity());
  c.exact = true;
  // A select, so a NaN in x, or already in acc, sticks. (LLVM's loop
  // vectorizer takes maximum/minimum intrinsics for reductions and would
  // vectorize a lane's steps with gathers.)
  c.combine = [max](const ExprRef &acc, const ExprRef &x) {
    ExprRef better = B::compare(max ? CmpFn::Gt : CmpFn::Lt, x, acc);
    return B::select(B::binary(BinaryFn::Or, better, isNaN(x)), x, acc);
  };
  return c;
}

} // namespace

Combiner sumCombiner(DType type) {
  Combiner c;
  c.type = type;
  c.identity = B::constant(type, 0);
  c.combine = [](const ExprRef &acc, const ExprRef &x) {
    return B::binary(BinaryFn::Add, acc, x);
  };
  return c;
}

Combiner maxCombiner(DType type) { return extremeCombiner(type, true); }
Combiner minCombiner(DType type) { return extremeCombiner(type, false); }

int64_t runGroups(int64_t n) {
  for (int64_t groups : {8, 4, 2, 1})
    if (n >= 2 * groups * kRunLanes)
      return groups;
  return 0;
}

Lanes::Lanes(Builder &b, Combiner combiner, int64_t count,
             std::string_view name)
    : b_(b), combiner_(std::move(combiner)), name_(name) {
  for (int64_t l = 0; l < count; ++l)
    lanes_.push_back(b.newVar(combiner_.type, strCat(name, l)));
}

ExprRef Lanes::lane(int64_t l) const { return B::ref(lanes_.at(l)); }

std::vector<StmtRef> Lanes::declare() const {
  std::vector<StmtRef> out;
  for (const Var &v : lanes_)
    out.push_back(B::declare(v, combiner_.identity));
  return out;
}

std::vector<StmtRef> Lanes::stepStatements(const std::vector<Var> &into,
                                           const ExprRef &step,
                                           const LaneValue &value) const {
  std::vector<StmtRef> out;
  for (size_t l = 0; l < into.size(); ++l)
    out.push_back(B::assign(
        into[l], combiner_.combine(B::ref(into[l]),
                                   value(step, static_cast<int64_t>(l)))));
  return out;
}

// A loop over [0, extent) around body(index); no loop for one iteration.
static std::vector<StmtRef>
repeat(Builder &b, int64_t extent, std::string_view name,
       const std::function<std::vector<StmtRef>(const ExprRef &)> &body) {
  if (extent <= 0)
    return {};
  if (extent == 1)
    return body(B::i64(0));
  Var v = b.newVar(DType::I64, std::string(name));
  return {B::loop(v, B::i64(extent), body(B::ref(v)))};
}

std::vector<StmtRef> Lanes::addSteps(int64_t steps, const LaneValue &value) {
  if (combiner_.exact || steps <= kBlockSteps)
    return repeat(b_, steps, "s", [&](const ExprRef &s) {
      return stepStatements(lanes_, s, value);
    });
  // Two levels: each block of kBlockSteps steps sums into fresh partials,
  // which then join the lanes; the steps after the last whole block go to
  // the lanes directly.
  std::vector<Var> partials;
  for (int64_t l = 0; l < count(); ++l)
    partials.push_back(b_.newVar(combiner_.type, strCat(name_, "_block", l)));
  const int64_t blocks = steps / kBlockSteps, rest = steps % kBlockSteps;
  std::vector<StmtRef> out = repeat(b_, blocks, "blk", [&](const ExprRef &blk) {
    std::vector<StmtRef> body;
    for (const Var &p : partials)
      body.push_back(B::declare(p, combiner_.identity));
    ExprRef first = mulIndex(blk, kBlockSteps);
    for (StmtRef &s : repeat(b_, kBlockSteps, "s", [&](const ExprRef &s) {
           return stepStatements(partials, addIndex(first, s), value);
         }))
      body.push_back(std::move(s));
    for (int64_t l = 0; l < count(); ++l)
      body.push_back(B::assign(
          lanes_[l], combiner_.combine(lane(l), B::ref(partials[l]))));
    return body;
  });
  ExprRef restStart = B::i64(blocks * kBlockSteps);
  for (StmtRef &s : repeat(b_, rest, "s", [&](const ExprRef &s) {
         return stepStatements(lanes_, addIndex(restStart, s), value);
       }))
    out.push_back(std::move(s));
  return out;
}

// The pairwise sum of values[first .. first + n), n >= 1.
static ExprRef pairwiseSum(const std::vector<ExprRef> &values, size_t first,
                           size_t n) {
  if (n == 1)
    return values[first];
  const size_t half = n / 2;
  return B::binary(BinaryFn::Add, pairwiseSum(values, first, half),
                   pairwiseSum(values, first + half, n - half));
}

RunSum::RunSum(Builder &b, DType type, std::string_view name)
    : type_(type), wide_(DType::F64),
      lanes_(b, sumCombiner(type), kRunLanes, name),
      tail_(b.newVar(type, strCat(name, "_tail"))),
      total_(b.newVar(wide_, strCat(name, "_total"))) {}

std::vector<StmtRef> RunSum::declare() const {
  std::vector<StmtRef> out = lanes_.declare();
  out.push_back(B::declare(tail_, B::constant(type_, 0)));
  return out;
}

std::vector<StmtRef>
RunSum::add(int64_t n, int64_t groups,
            const std::function<ExprRef(const ExprRef &)> &at) {
  const int64_t stride = kRunLanes * groups;
  const int64_t steps = n / stride, tail = n % stride;
  // Lane l's pairwise sum of elements first + g * kRunLanes + l, g < count.
  auto laneGroup = [&](const ExprRef &first, int64_t count, int64_t l) {
    std::vector<ExprRef> group;
    for (int64_t g = 0; g < count; ++g)
      group.push_back(at(addIndex(first, B::i64(g * kRunLanes + l))));
    return pairwiseSum(group, 0, group.size());
  };
  // The whole lane groups of the tail go to every lane alike before the
  // steps; what is left is summed on its own.
  const int64_t tailGroups = tail / kRunLanes, rest = tail % kRunLanes;
  ExprRef tailFirst = B::i64(steps * stride);
  std::vector<StmtRef> out;
  if (tailGroups > 0)
    out = lanes_.addSteps(1, [&](const ExprRef &, int64_t l) {
      return laneGroup(tailFirst, tailGroups, l);
    });
  for (StmtRef &s : lanes_.addSteps(steps, [&](const ExprRef &step, int64_t l) {
         return laneGroup(mulIndex(step, stride), groups, l);
       }))
    out.push_back(std::move(s));
  if (rest > 0) {
    std::vector<ExprRef> last;
    for (int64_t t = tail - rest; t < tail; ++t)
      last.push_back(at(B::i64(steps * stride + t)));
    out.push_back(B::assign(tail_, B::binary(BinaryFn::Add, B::ref(tail_),
                                             pairwiseSum(last, 0, rest))));
  }
  return out;
}

std::vector<StmtRef> RunSum::combine() const {
  auto wide = [&](ExprRef e) {
    return wide_ == type_ ? e : B::cast(wide_, std::move(e));
  };
  std::vector<StmtRef> out = {B::declare(total_, B::constant(wide_, 0))};
  for (int64_t l = 0; l <= lanes_.count(); ++l) {
    ExprRef part = l < lanes_.count() ? lanes_.lane(l) : B::ref(tail_);
    out.push_back(B::assign(
        total_, B::binary(BinaryFn::Add, B::ref(total_), wide(part))));
  }
  return out;
}

ExprRef RunSum::total() const {
  return wide_ == type_ ? B::ref(total_) : B::cast(type_, B::ref(total_));
}

StmtRef extremeOfRun(Builder &b, const Var &acc, bool max, int64_t n,
                     const std::function<ExprRef(const ExprRef &)> &at) {
  Var i = b.newVar(DType::I64, "r");
  return B::loop(i, B::i64(n),
                 {B::assign(acc, B::binary(max ? BinaryFn::Max : BinaryFn::Min,
                                           B::ref(acc), at(B::ref(i))))});
}

StmtRef columnTiles(Builder &b, const ir::Shape &prefix, int64_t columns,
                    int64_t maxWidth, const ColumnTile &tile) {
  constexpr int64_t kShared = 256; // the narrowest tile split for threads
  const bool singleRow = std::all_of(prefix.begin(), prefix.end(),
                                     [](int64_t e) { return e == 1; });
  int64_t count = (columns + maxWidth - 1) / maxWidth;
  if (singleRow && count == 1 && columns >= 2 * kShared)
    count = 2;
  const int64_t width =
      count == 1 ? columns : ((columns + count - 1) / count + 15) / 16 * 16;
  LoopNest rows(b, prefix, "o");
  ExprRef row = ravel(rows.indices(), prefix);
  const int64_t tiles = columns / width, rest = columns % width;
  Var t = b.newVar(DType::I64, "tile");
  ExprRef first = mulIndex(B::ref(t), width), restFirst = B::i64(tiles * width);
  auto wholeTiles = [&](LoopKind kind) {
    return tiles == 1
               ? tile(row, B::i64(0), width)
               : B::loop(t, B::i64(tiles), {tile(row, first, width)}, kind);
  };
  if (!singleRow) {
    std::vector<StmtRef> body;
    if (tiles > 0)
      body.push_back(wholeTiles(LoopKind::Serial));
    if (rest > 0)
      body.push_back(tile(row, restFirst, rest));
    return rows.wrap(std::move(body), true);
  }
  if (rest == 0)
    return wholeTiles(LoopKind::Parallel);
  if (tiles == 0)
    return tile(row, restFirst, rest);
  // The last iteration takes the narrower tile, so the tiles stay one
  // parallel loop.
  StmtRef whole = tile(row, first, width);
  StmtRef narrower = tile(row, restFirst, rest);
  return B::loop(t, B::i64(tiles + 1),
                 {B::ifThen(B::compare(CmpFn::Lt, B::ref(t), B::i64(tiles)),
                            {whole}, {narrower})},
                 LoopKind::Parallel);
}

} // namespace nyx::kernel
