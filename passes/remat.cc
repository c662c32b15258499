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

// Where values are read in the current schedule, and how many arena bytes
// are live at each position.
struct Schedule {
  int64_t numOps = 0;
  absl::flat_hash_map<const ir::Op *, int64_t> position;
  // Sorted distinct positions of the ops reading a value; numOps for the
  // function's return.
  absl::flat_hash_map<const ir::Value *, std::vector<int64_t>> uses;
  absl::flat_hash_map<const ir::Value *, ir::LiveRange> live;
  std::vector<int64_t> peakPositions; // where the live bytes are greatest
};

Schedule scheduleOf(const ir::Function &f) {
  Schedule s;
  s.numOps = static_cast<int64_t>(f.ops.size());
  for (int64_t i = 0; i < s.numOps; ++i) {
    const ir::Op &op = *f.ops[i];
    s.position[&op] = i;
    for (const ir::Value *v : op.operands) {
      std::vector<int64_t> &at = s.uses[v];
      if (at.empty() || at.back() != i)
        at.push_back(i);
    }
  }
  for (const ir::Value *v : f.returns) {
    std::vector<int64_t> &at = s.uses[v];
    if (at.empty() || at.back() != s.numOps)
      at.push_back(s.numOps);
  }
  s.live = ir::liveRanges(f);

  // The bytes live at each op, counted as the memory plan counts them.
  auto direct = ir::directOutputs(f);
  std::vector<int64_t> delta(s.numOps + 2, 0);
  for (const auto &op : f.ops)
    for (const ir::Value *r : op->results) {
      if (!ir::isArenaValue(*r, direct))
        continue;
      const ir::LiveRange &range = s.live.at(r);
      auto bytes = static_cast<int64_t>(ir::alignedBytes(r->type.byteSize()));
      delta[range.first] += bytes;
      delta[std::min(range.last, s.numOps) + 1] -= bytes;
    }
  int64_t bytes = 0, peak = 0;
  std::vector<int64_t> liveBytes(s.numOps);
  for (int64_t i = 0; i < s.numOps; ++i) {
    liveBytes[i] = bytes += delta[i];
    peak = std::max(peak, bytes);
  }
  if (peak > 0)
    for (int64_t i = 0; i < s.numOps; ++i)
      if (liveBytes[i] == peak)
        s.peakPositions.push_back(i);
  return s;
}

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

// A gap in the uses of an op's results: nothing reads them at the positions
// strictly between `before` (the last read before the gap, or the op
// itself) and `resume` (the first read after it).
struct Gap {
  int64_t before = 0;
  int64_t resume = 0;
  bool sink = false; // no read before the gap: move the op, do not copy it
  int64_t peaksSpanned = 0;
  // The ops between the last read and the next; at least one, or nothing
  // would be saved.
  int64_t length() const { return resume - before - 1; }
  // The first position where the values no longer live: moving the op
  // frees its own position too.
  int64_t firstSaved() const { return sink ? before : before + 1; }
};

class Rematerializer {
public:
  Rematerializer(ir::Function &f, Scope scope) : f_(f), scope_(scope) {}

  // Applies the rule until nothing changes; returns the number of ops
  // copied and moved.
  std::pair<int64_t, int64_t> run() {
    int64_t copied = 0, moved = 0;
    for (bool changed = true; changed;) {
      changed = false;
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
          sink(*op, gap->resume);
          ++moved;
        } else {
          copy(*op, gap->resume);
          ++copied;
        }
        done_.insert(op);
        changed = true;
      }
    }
    return {copied, moved};
  }

private:
  const Schedule &schedule() {
    if (!schedule_)
      schedule_ = scheduleOf(f_);
    return *schedule_;
  }

  // The value that holds `v` at position `p`: its copy once the copy is
  // made before p (every read from there on reads the copy), else `v`.
  ir::Value *versionAt(ir::Value *v, int64_t p) {
    auto it = copyOf_.find(v);
    if (it != copyOf_.end() &&
        schedule().position.at(it->second->definingOp) < p)
      return it->second;
    return v;
  }

  // True when computing `op` right before position `p` makes no value live
  // longer: each operand there is read at or after p anyway, or returned,
  // or not in the arena (inputs, params, constants).
  bool operandsLiveAt(const ir::Op &op, int64_t p) {
    for (ir::Value *operand : op.operands) {
      const ir::Value *v = versionAt(operand, p);
      if (!v->definingOp || !ir::computesResults(*v->definingOp))
        continue;
      if (schedule().live.at(v).last < p)
        return false;
    }
    return true;
  }

  bool lowersPeak(const Gap &gap) {
    return gap.peaksSpanned > 0 &&
           gap.peaksSpanned ==
               static_cast<int64_t>(schedule().peakPositions.size());
  }

  std::optional<Gap> chooseGap(const ir::Op &op) {
    const Schedule &s = schedule();
    std::vector<int64_t> reads;
    for (const ir::Value *r : op.results)
      if (auto it = s.uses.find(r); it != s.uses.end())
        reads.insert(reads.end(), it->second.begin(), it->second.end());
    std::sort(reads.begin(), reads.end());
    reads.erase(std::unique(reads.begin(), reads.end()), reads.end());
    // A returned result stays as it is, alive to the end: nothing to save.
    if (reads.empty() || reads.back() == s.numOps)
      return std::nullopt;

    std::optional<Gap> best;
    int64_t before = s.position.at(&op);
    for (int64_t resume : reads) {
      Gap gap{before, resume, before == s.position.at(&op)};
      before = resume;
      if (gap.length() < 1 || !operandsLiveAt(op, resume))
        continue;
      for (int64_t peak : s.peakPositions)
        gap.peaksSpanned += peak >= gap.firstSaved() && peak < gap.resume;
      bool worth = scope_ == Scope::All || isCheap(op) || lowersPeak(gap);
      if (!worth)
        continue;
      if (!best || gap.peaksSpanned > best->peaksSpanned ||
          (gap.peaksSpanned == best->peaksSpanned &&
           gap.length() > best->length()))
        best = gap;
    }
    return best;
  }

  // Moves `op` to right before the op now at position `p`, reading there
  // the copies of its operands made since its old position.
  void sink(ir::Op &op, int64_t p) {
    for (ir::Value *&operand : op.operands)
      operand = versionAt(operand, p);
    int64_t from = schedule().position.at(&op);
    std::unique_ptr<ir::Op> owned = std::move(f_.ops[from]);
    f_.ops.erase(f_.ops.begin() + from);
    f_.ops.insert(f_.ops.begin() + (p - 1), std::move(owned));
    schedule_.reset();
  }

  // Inserts a copy of `op` right before the op now at position `p`; every
  // read at or after p reads the copy.
  void copy(const ir::Op &op, int64_t p) {
    std::vector<ir::Value *> operands;
    for (ir::Value *operand : op.operands)
      operands.push_back(versionAt(operand, p));
    std::vector<ir::TensorType> types;
    std::vector<std::string> names;
    for (const ir::Value *r : op.results) {
      types.push_back(r->type);
      names.push_back(strCat(r->name, ".remat"));
    }
    ir::Op *twin =
        f_.insertOp(static_cast<size_t>(p), op.def, std::move(operands),
                    op.attrs, std::move(types), op.loc, std::move(names));
    absl::flat_hash_map<const ir::Value *, ir::Value *> replacement;
    for (size_t i = 0; i < op.results.size(); ++i) {
      replacement[op.results[i]] = twin->results[i];
      copyOf_[op.results[i]] = twin->results[i];
    }
    for (size_t i = static_cast<size_t>(p) + 1; i < f_.ops.size(); ++i)
      for (ir::Value *&v : f_.ops[i]->operands)
        if (auto it = replacement.find(v); it != replacement.end())
          v = it->second;
    done_.insert(twin);
    schedule_.reset();
  }

  ir::Function &f_;
  Scope scope_;
  std::optional<Schedule> schedule_;
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
