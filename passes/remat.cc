// Rematerialization: recompute a value near its late uses instead of keeping
// it alive across the gap before them. In a training step the activations
// the backward ops read live from the forward ops to the backward ones and
// set the peak of the arena; many of them are cheap to compute again from
// values the backward keeps anyway (a relu output from the pre-activation
// kept for the relu's mask).
//
// The rule needs no forward/backward marker. For an op D with float results
// (not constant, param, call or fusion; none of its results returned) whose
// uses, in schedule order, leave a gap of at least one op before a use at
// position p, and whose operands are all live at p anyway (each is read at
// or after p, or is returned, or is not in the arena at all), a copy of D is
// inserted right before p and every use at or after p reads the copy. So the
// original dies at the last use before the gap, the copy is born where the
// original's life resumes, and no other value lives longer: the bytes live
// at any op never grow. When D has no use before the gap, D itself moves
// down to p instead of being copied. Each op is recomputed (or moved) at
// most once, and copies are not recomputed again, so the function grows by
// at most one op per op; of the gaps an op's uses leave, the one chosen
// spans the most positions where the live bytes peak, then is the longest.
//
// `remat` recomputes the cheap ops (Elementwise and Injective, about as cheap
// as reading the value back) wherever the rule allows, and Normalization ops
// only where that lowers the peak of the live bytes (the gap spans every
// position where the peak is reached). `remat-all` also recomputes every
// other computing op (reductions, matmul, conv2d, ...) wherever the rule
// allows: more compute for less memory. Both repeat until nothing changes,
// since lowering the peak moves it.
//
// Copies compute bit for bit what the originals do (the same op on the same
// operand values), so results do not change. cse would merge the copies
// back: the pass runs after the last cse of a pipeline.
#include <algorithm>
#include <limits>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "ir/buffer_rules.h"
#include "ir/op_registry.h"
#include "ir/strings.h"
#include "passes/pass.h"

namespace nyx::passes {
namespace {

enum class Scope {
  Cheap, // Elementwise and Injective; Normalization where it lowers the peak
  All,   // every computing op
};

bool isCheap(const ir::Op &op) {
  return op.def->fusion == ir::FusionKind::Elementwise ||
         op.def->fusion == ir::FusionKind::Injective;
}

// Ops the rule may recompute at all in `scope`.
bool isCandidate(const ir::Op &op, Scope scope) {
  if (op.def->fusion == ir::FusionKind::Opaque || op.results.empty())
    return false;
  for (const ir::Value *r : op.results)
    if (!ir::isFloat(r->type.dtype))
      return false;
  return scope == Scope::All || isCheap(op) ||
         op.def->fusion == ir::FusionKind::Normalization;
}

// The ops at which the most arena bytes are live, counted as the memory
// plan counts them.
std::vector<const ir::Op *> peakOps(const ir::Function &f) {
  auto ranges = ir::liveRanges(f);
  auto direct = ir::directOutputs(f);
  auto n = static_cast<int64_t>(f.ops.size());
  std::vector<int64_t> delta(n + 2, 0);
  for (const auto &op : f.ops)
    for (const ir::Value *r : op->results) {
      if (!ir::isArenaValue(*r, direct))
        continue;
      const ir::LiveRange &range = ranges.at(r);
      auto bytes = static_cast<int64_t>(ir::alignedBytes(r->type.byteSize()));
      delta[range.first] += bytes;
      delta[std::min(range.last, n) + 1] -= bytes;
    }
  std::vector<int64_t> live(n);
  int64_t bytes = 0, peak = 0;
  for (int64_t i = 0; i < n; ++i)
    peak = std::max(peak, live[i] = bytes += delta[i]);
  std::vector<const ir::Op *> ops;
  if (peak > 0)
    for (int64_t i = 0; i < n; ++i)
      if (live[i] == peak)
        ops.push_back(f.ops[i].get());
  return ops;
}

// A gap in the reads of an op's results: nothing reads them strictly
// between `before` (the last read before the gap, or the op itself) and
// `resume` (the first read after it), `length` ops apart.
struct Gap {
  const ir::Op *before = nullptr;
  ir::Op *resume = nullptr;
  bool sink = false; // no read before the gap: move the op, do not copy it
  int64_t length = 0;
  int64_t peaksSpanned = 0;
};

class Rematerializer {
public:
  Rematerializer(ir::Function &f, Scope scope) : f_(f), scope_(scope) {}

  // Applies the rule until nothing changes; returns the number of ops
  // copied and moved.
  std::pair<int64_t, int64_t> run() {
    index();
    int64_t copied = 0, moved = 0;
    for (bool changed = true; changed;) {
      changed = false;
      // The peak as it stands at the start of each round (recounting it
      // after every change would make the pass quadratic).
      peaks_ = peakOps(f_);
      // Consumers first: once a copy reads its operands at p, an operand
      // may itself be recomputed there, so whole chains move down together.
      std::vector<ir::Op *> order;
      for (auto it = f_.ops.rbegin(); it != f_.ops.rend(); ++it)
        order.push_back(it->get());
      for (ir::Op *op : order) {
        if (done_.contains(op) || !isCandidate(*op, scope_))
          continue;
        std::optional<Gap> gap = chooseGap(*op);
        if (!gap)
          continue;
        if (gap->sink) {
          sink(*op, *gap->resume);
          ++moved;
        } else {
          copy(*op, *gap->resume);
          ++copied;
        }
        done_.insert(op);
        changed = true;
      }
    }
    return {copied, moved};
  }

private:
  // Ops are ordered by keys spaced apart, so that an op inserted between
  // two others takes a key between theirs and no other key changes.
  static constexpr int64_t kSpacing = int64_t(1) << 20;

  void index() {
    renumber();
    for (const auto &op : f_.ops)
      for (ir::Value *v : op->operands)
        addReader(v, op.get());
    returned_.insert(f_.returns.begin(), f_.returns.end());
  }

  void renumber() {
    for (size_t i = 0; i < f_.ops.size(); ++i)
      key_[f_.ops[i].get()] = static_cast<int64_t>(i + 1) * kSpacing;
  }

  int64_t key(const ir::Op *op) const { return key_.at(op); }

  // The position of `op` in f_.ops, which is sorted by key.
  size_t indexOf(const ir::Op *op) const {
    int64_t k = key(op);
    auto it = std::lower_bound(f_.ops.begin(), f_.ops.end(), k,
                               [&](const std::unique_ptr<ir::Op> &o,
                                   int64_t x) { return key(o.get()) < x; });
    return static_cast<size_t>(it - f_.ops.begin());
  }

  // Gives the op just placed at f_.ops[i] a key between its neighbours'.
  void keyInserted(size_t i) {
    int64_t lo = i > 0 ? key(f_.ops[i - 1].get()) : 0;
    auto next =
        i + 1 < f_.ops.size() ? key(f_.ops[i + 1].get()) : lo + 2 * kSpacing;
    if (next - lo < 2) {
      renumber();
      return;
    }
    key_[f_.ops[i].get()] = lo + (next - lo) / 2;
  }

  void addReader(ir::Value *v, ir::Op *op) {
    std::vector<ir::Op *> &readers = readers_[v];
    if (std::find(readers.begin(), readers.end(), op) == readers.end())
      readers.push_back(op);
  }

  // The key of the last op reading `v` (its own when none reads it), or
  // the largest key when `v` is returned.
  int64_t lastRead(const ir::Value *v) const {
    if (returned_.contains(v))
      return std::numeric_limits<int64_t>::max();
    int64_t last = key(v->definingOp);
    if (auto it = readers_.find(v); it != readers_.end())
      for (const ir::Op *op : it->second)
        last = std::max(last, key(op));
    return last;
  }

  // The value that holds `v` at key `at`: its copy once the copy is made
  // before that point (every read from there on reads the copy), else `v`.
  ir::Value *versionAt(ir::Value *v, int64_t at) const {
    auto it = copyOf_.find(v);
    if (it != copyOf_.end() && key(it->second->definingOp) < at)
      return it->second;
    return v;
  }

  // True when computing `op` right before `at` makes no value live longer:
  // each operand there is read at or after `at` anyway, or returned, or not
  // in the arena (inputs, params, constants).
  bool operandsLiveAt(const ir::Op &op, int64_t at) const {
    for (ir::Value *operand : op.operands) {
      const ir::Value *v = versionAt(operand, at);
      if (!v->definingOp || !ir::computesResults(*v->definingOp))
        continue;
      if (lastRead(v) < at)
        return false;
    }
    return true;
  }

  bool lowersPeak(const Gap &gap) const {
    return gap.peaksSpanned > 0 &&
           gap.peaksSpanned == static_cast<int64_t>(peaks_.size());
  }

  std::optional<Gap> chooseGap(const ir::Op &op) const {
    std::vector<std::pair<int64_t, ir::Op *>> reads;
    for (const ir::Value *r : op.results) {
      // A returned result stays as it is, alive to the end: nothing saved.
      if (returned_.contains(r))
        return std::nullopt;
      if (auto it = readers_.find(r); it != readers_.end())
        for (ir::Op *reader : it->second)
          reads.emplace_back(key(reader), reader);
    }
    std::sort(reads.begin(), reads.end());
    reads.erase(std::unique(reads.begin(), reads.end()), reads.end());

    std::optional<Gap> best;
    const ir::Op *before = &op;
    size_t beforeIndex = indexOf(&op);
    for (const auto &[at, reader] : reads) {
      size_t index = indexOf(reader);
      Gap gap{before, reader, before == &op,
              static_cast<int64_t>(index - beforeIndex) - 1};
      int64_t from = gap.sink ? key(before) : key(before) + 1;
      before = reader;
      beforeIndex = index;
      if (gap.length < 1 || !operandsLiveAt(op, at))
        continue;
      for (const ir::Op *peak : peaks_)
        gap.peaksSpanned += key(peak) >= from && key(peak) < at;
      bool worth = scope_ == Scope::All || isCheap(op) || lowersPeak(gap);
      if (worth && (!best || gap.peaksSpanned > best->peaksSpanned ||
                    (gap.peaksSpanned == best->peaksSpanned &&
                     gap.length > best->length)))
        best = gap;
    }
    return best;
  }

  // Moves `op` to right before `resume`, reading there the copies of its
  // operands made since its old position.
  void sink(ir::Op &op, const ir::Op &resume) {
    std::vector<ir::Value *> old = op.operands;
    for (ir::Value *&operand : op.operands)
      operand = versionAt(operand, key(&resume));
    for (ir::Value *v : old)
      if (std::find(op.operands.begin(), op.operands.end(), v) ==
          op.operands.end())
        std::erase(readers_[v], &op);
    for (ir::Value *v : op.operands)
      addReader(v, &op);
    size_t from = indexOf(&op);
    std::unique_ptr<ir::Op> owned = std::move(f_.ops[from]);
    f_.ops.erase(f_.ops.begin() + static_cast<std::ptrdiff_t>(from));
    size_t to = indexOf(&resume);
    f_.ops.insert(f_.ops.begin() + static_cast<std::ptrdiff_t>(to),
                  std::move(owned));
    keyInserted(to);
  }

  // Inserts a copy of `op` right before `resume`; every read from `resume`
  // on reads the copy.
  void copy(const ir::Op &op, const ir::Op &resume) {
    int64_t at = key(&resume);
    std::vector<ir::Value *> operands;
    for (ir::Value *operand : op.operands)
      operands.push_back(versionAt(operand, at));
    std::vector<ir::TensorType> types;
    std::vector<std::string> names;
    for (const ir::Value *r : op.results) {
      types.push_back(r->type);
      names.push_back(strCat(r->name, ".remat"));
    }
    size_t to = indexOf(&resume);
    ir::Op *twin = f_.insertOp(to, op.def, std::move(operands), op.attrs,
                               std::move(types), op.loc, std::move(names));
    keyInserted(to);
    at = key(&resume); // keys may have been renumbered
    for (ir::Value *v : twin->operands)
      addReader(v, twin);
    for (size_t i = 0; i < op.results.size(); ++i) {
      ir::Value *original = op.results[i], *recomputed = twin->results[i];
      copyOf_[original] = recomputed;
      // Moved out first: adding readers of the copy may rehash readers_.
      std::vector<ir::Op *> later;
      std::erase_if(readers_[original], [&](ir::Op *reader) {
        bool moves = key(reader) >= at;
        if (moves)
          later.push_back(reader);
        return moves;
      });
      for (ir::Op *reader : later) {
        std::replace(reader->operands.begin(), reader->operands.end(), original,
                     recomputed);
        addReader(recomputed, reader);
      }
    }
    done_.insert(twin);
  }

  ir::Function &f_;
  Scope scope_;
  absl::flat_hash_map<const ir::Op *, int64_t> key_;
  absl::flat_hash_map<const ir::Value *, std::vector<ir::Op *>> readers_;
  absl::flat_hash_set<const ir::Value *> returned_;
  std::vector<const ir::Op *> peaks_;
  // Ops copied or moved, and the copies: none is considered again.
  absl::flat_hash_set<const ir::Op *> done_;
  absl::flat_hash_map<const ir::Value *, ir::Value *> copyOf_;
};

absl::Status rematerialize(ir::Module &m, const Options &o, Scope scope,
                           std::string_view name) {
  int64_t copied = 0, moved = 0;
  for (auto &fn : m.functions) {
    if (fn->isKernel)
      continue;
    auto [c, s] = Rematerializer(*fn, scope).run();
    copied += c;
    moved += s;
  }
  o.count(strCat(name, ".recomputed"), copied);
  o.count(strCat(name, ".moved"), moved);
  return absl::OkStatus();
}

} // namespace

absl::Status runRemat(ir::Module &m, const Options &o) {
  return rematerialize(m, o, Scope::Cheap, "remat");
}

absl::Status runRematAll(ir::Module &m, const Options &o) {
  return rematerialize(m, o, Scope::All, "remat-all");
}

} // namespace nyx::passes
