#include "codegen/emit/arena_layout.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <queue>

#include "ir/strings.h"

namespace nyx::codegen {

ArenaLayout layoutArena(const std::vector<uint64_t> &sizes) {
  ArenaLayout layout;
  uint64_t next = 0;
  for (uint64_t size : sizes) {
    layout.offsets.push_back(next);
    next += ir::alignedBytes(size);
  }
  layout.totalBytes = next;
  return layout;
}

namespace {

std::string describe(const PlannedBuffer &b) {
  return strCat("%", b.name, " (bytes ", b.offset, "..", b.offset + b.bytes,
                ", live at ops ", b.first, "..", b.last, ")");
}

bool takesOver(const PlannedBuffer &b, size_t other, const PlannedBuffer &o) {
  return o.offset == b.offset && o.bytes == b.bytes && o.last == b.first &&
         std::count(b.mayReuse.begin(), b.mayReuse.end(), other) > 0;
}

} // namespace

absl::StatusOr<uint64_t>
checkPlannedArena(const std::vector<PlannedBuffer> &buffers) {
  // Sweeps the schedule keeping the memory of the live buffers in a map
  // from offset to buffer; its ranges stay disjoint.
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return buffers[a].first < buffers[b].first;
  });
  std::map<uint64_t, size_t> live;
  using Expiry = std::pair<int64_t, size_t>; // (last, buffer)
  std::priority_queue<Expiry, std::vector<Expiry>, std::greater<>> expiring;
  uint64_t total = 0;
  constexpr uint64_t kMaxOffset = uint64_t(1) << 62;
  for (size_t i : order) {
    const PlannedBuffer &b = buffers[i];
    if (b.offset % kBufferAlign != 0 || b.offset > kMaxOffset ||
        b.bytes > kMaxOffset)
      return absl::InternalError(strCat(
          "the memory plan places ", describe(b), " at offset ", b.offset,
          "; expected a multiple of ", kBufferAlign, " below 2^62"));
    while (!expiring.empty() && expiring.top().first < b.first) {
      size_t dead = expiring.top().second;
      expiring.pop();
      auto it = live.find(buffers[dead].offset);
      if (it != live.end() && it->second == dead)
        live.erase(it);
    }
    total = std::max(total, b.offset + b.bytes);
    if (b.bytes == 0)
      continue;
    uint64_t end = b.offset + b.bytes;
    auto it = live.upper_bound(b.offset);
    if (it != live.begin()) {
      auto prev = std::prev(it);
      const PlannedBuffer &p = buffers[prev->second];
      if (p.offset + p.bytes > b.offset)
        it = prev;
    }
    std::vector<std::map<uint64_t, size_t>::iterator> takenOver;
    for (; it != live.end() && it->first < end; ++it) {
      const PlannedBuffer &o = buffers[it->second];
      if (!takesOver(b, it->second, o))
        return absl::InternalError(
            strCat("the memory plan places ", describe(o), " and ", describe(b),
                   " in overlapping memory while both are live; expected "
                   "disjoint bytes, or the second written in place of the "
                   "first"));
      takenOver.push_back(it);
    }
    for (auto taken : takenOver)
      live.erase(taken);
    live.emplace(b.offset, i);
    expiring.emplace(b.last, i);
  }
  return ir::alignedBytes(total);
}

} // namespace nyx::codegen
