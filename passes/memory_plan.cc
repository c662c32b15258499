// Places the intermediate values of the entry function in one scratch arena.
// The schedule is the op order. A result may take over the buffer of an
// operand that dies at its op when the op reads each element before writing
// it (ir/buffer_rules.h); values chained that way share one buffer. Buffers
// whose lifetimes overlap get disjoint 64-aligned byte ranges, found by
// greedy first fit in a few orders (largest first, longest-lived first,
// schedule order), keeping the smallest arena. Each op with arena results
// records its offsets in `arena_offsets`, which code generation checks and
// uses.
#include <algorithm>
#include <functional>
#include <numeric>
#include <optional>

#include "ir/buffer_rules.h"
#include "ir/strings.h"
#include "passes/pass.h"

namespace nyx::passes {
namespace {

// Memory shared by one value or a chain of values written in place.
struct Buffer {
  uint64_t bytes = 0; // aligned
  int64_t first = 0, last = 0;
  uint64_t offset = 0;
};

struct Plan {
  std::vector<Buffer> buffers;
  absl::flat_hash_map<const ir::Value *, size_t> bufferOf;
  int64_t inPlace = 0;
};

absl::StatusOr<ir::Function *> entryOf(ir::Module &m, const Options &o) {
  if (o.entry.empty())
    return m.entry();
  if (ir::Function *f = m.lookupFunction(o.entry))
    return f;
  return absl::InvalidArgumentError(
      strCat("entry function @", o.entry, " is not in the module"));
}

// One buffer per arena value, except that a result written over a dying
// operand joins the operand's buffer.
Plan assignBuffers(const ir::Module &m, const ir::Function &f) {
  auto direct = ir::directOutputs(f);
  auto ranges = ir::liveRanges(f);
  Plan plan;
  for (size_t i = 0; i < f.ops.size(); ++i) {
    const ir::Op &op = *f.ops[i];
    std::vector<size_t> claimed; // operand buffers taken at this op
    for (size_t r = 0; r < op.results.size(); ++r) {
      const ir::Value *result = op.results[r];
      if (!ir::isArenaValue(*result, direct))
        continue;
      const ir::LiveRange &live = ranges.at(result);
      std::optional<size_t> reuse;
      for (const ir::Value *operand : op.operands) {
        auto it = plan.bufferOf.find(operand);
        if (it == plan.bufferOf.end() ||
            ranges.at(operand).last != static_cast<int64_t>(i) ||
            std::count(claimed.begin(), claimed.end(), it->second) ||
            !ir::mayWriteOver(m, op, static_cast<int>(r), operand))
          continue;
        reuse = it->second;
        break;
      }
      if (reuse) {
        plan.buffers[*reuse].last = live.last;
        claimed.push_back(*reuse);
        plan.bufferOf[result] = *reuse;
        ++plan.inPlace;
        continue;
      }
      plan.bufferOf[result] = plan.buffers.size();
      plan.buffers.push_back(
          {ir::alignedBytes(result->type.byteSize()), live.first, live.last});
    }
  }
  return plan;
}

bool overlapInTime(const Buffer &a, const Buffer &b) {
  return a.first <= b.last && b.first <= a.last;
}

// Places buffers in `order`, each at the lowest offset clear of every
// buffer placed before it whose lifetime overlaps; returns the arena size.
uint64_t placeFirstFit(std::vector<Buffer> &buffers,
                       const std::vector<size_t> &order) {
  std::vector<size_t> placed;
  uint64_t total = 0;
  for (size_t b : order) {
    std::vector<std::pair<uint64_t, uint64_t>> taken; // [begin, end)
    for (size_t p : placed)
      if (overlapInTime(buffers[p], buffers[b]) && buffers[p].bytes > 0)
        taken.emplace_back(buffers[p].offset,
                           buffers[p].offset + buffers[p].bytes);
    std::sort(taken.begin(), taken.end());
    uint64_t offset = 0;
    for (const auto &[begin, end] : taken) {
      if (begin >= offset + buffers[b].bytes)
        break;
      offset = std::max(offset, end);
    }
    buffers[b].offset = offset;
    total = std::max(total, offset + buffers[b].bytes);
    placed.push_back(b);
  }
  return total;
}

// Tries a few placement orders and keeps the smallest arena.
uint64_t placeBuffers(std::vector<Buffer> &buffers) {
  auto length = [](const Buffer &b) { return b.last - b.first; };
  using Less = std::function<bool(const Buffer &, const Buffer &)>;
  const Less orders[] = {
      [](const Buffer &a, const Buffer &b) {
        return a.bytes != b.bytes ? a.bytes > b.bytes : a.first < b.first;
      },
      [&](const Buffer &a, const Buffer &b) {
        return length(a) != length(b) ? length(a) > length(b)
                                      : a.bytes > b.bytes;
      },
      [](const Buffer &a, const Buffer &b) { return a.first < b.first; },
  };
  std::vector<Buffer> best;
  uint64_t bestTotal = 0;
  for (const Less &less : orders) {
    std::vector<size_t> order(buffers.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return less(buffers[a], buffers[b]);
    });
    std::vector<Buffer> tried = buffers;
    uint64_t total = placeFirstFit(tried, order);
    if (best.empty() || total < bestTotal) {
      best = std::move(tried);
      bestTotal = total;
    }
  }
  if (!best.empty())
    buffers = std::move(best);
  return bestTotal;
}

// The most bytes live at any one op: no arena can be smaller.
uint64_t lowerBound(const std::vector<Buffer> &buffers, size_t numOps) {
  std::vector<int64_t> delta(numOps + 2, 0);
  for (const Buffer &b : buffers) {
    delta[b.first] += static_cast<int64_t>(b.bytes);
    delta[b.last + 1] -= static_cast<int64_t>(b.bytes);
  }
  int64_t live = 0, most = 0;
  for (int64_t d : delta)
    most = std::max(most, live += d);
  return static_cast<uint64_t>(most);
}

} // namespace

absl::Status runMemoryPlan(ir::Module &m, const Options &o) {
  auto entry = entryOf(m, o);
  if (!entry.ok())
    return entry.status();
  ir::Function &f = **entry;

  Plan plan = assignBuffers(m, f);
  uint64_t intermediate = 0;
  for (const auto &[value, buffer] : plan.bufferOf)
    intermediate += ir::alignedBytes(value->type.byteSize());
  uint64_t bound = lowerBound(plan.buffers, f.ops.size());
  uint64_t arena = placeBuffers(plan.buffers);

  for (const auto &op : f.ops) {
    op->attrs.erase(std::string(ir::kArenaOffsetsAttr));
    std::vector<int64_t> offsets;
    bool any = false;
    for (const ir::Value *r : op->results) {
      auto it = plan.bufferOf.find(r);
      any |= it != plan.bufferOf.end();
      offsets.push_back(
          it == plan.bufferOf.end()
              ? -1
              : static_cast<int64_t>(plan.buffers[it->second].offset));
    }
    if (any)
      op->attrs[std::string(ir::kArenaOffsetsAttr)] = std::move(offsets);
  }

  if (o.stats) {
    o.stats->set("memory-plan.intermediate-bytes",
                 static_cast<int64_t>(intermediate));
    o.stats->set("memory-plan.arena-bytes", static_cast<int64_t>(arena));
    o.stats->set("memory-plan.lower-bound-bytes", static_cast<int64_t>(bound));
    o.stats->set("memory-plan.in-place", plan.inPlace);
  }
  return absl::OkStatus();
}

} // namespace nyx::passes
