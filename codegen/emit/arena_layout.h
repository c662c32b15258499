// Placement of intermediate values in the scratch arena. Without a memory
// plan every value gets its own aligned slot (layoutArena); with one, the
// plan's offsets are checked (checkPlannedArena) and used as they are.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/buffer_rules.h"

namespace nyx::codegen {

inline constexpr uint64_t kBufferAlign = ir::kArenaAlign;

struct ArenaLayout {
  std::vector<uint64_t> offsets; // one per requested size, in order
  uint64_t totalBytes = 0;       // a multiple of kBufferAlign
};

// Places buffers of the given byte sizes one after another at
// kBufferAlign-aligned offsets.
ArenaLayout layoutArena(const std::vector<uint64_t> &sizes);

// A value the memory plan put in the arena.
struct PlannedBuffer {
  std::string name; // the IR value's name, for messages
  uint64_t offset = 0;
  uint64_t bytes = 0;
  int64_t first = 0, last = 0; // live range in op positions (inclusive)
  // Buffers (indices into the same list) whose memory this one may take
  // over: operands that die at its op and that its op may write over.
  std::vector<size_t> mayReuse;
};

// Checks a memory plan: every offset is kBufferAlign-aligned, and two
// buffers live at the same op never share a byte, unless one takes over the
// other in place (same offset and size, the other dying at the op that
// writes this one, and listed in mayReuse). Returns the arena size, the
// largest end rounded up to kBufferAlign; an error names the values.
absl::StatusOr<uint64_t>
checkPlannedArena(const std::vector<PlannedBuffer> &buffers);

} // namespace nyx::codegen
