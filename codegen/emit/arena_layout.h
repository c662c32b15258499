// Placement of intermediate values in the scratch arena. Every value gets its
// own aligned slot; the memory-planning pass will replace this with a
// liveness-based layout that reuses slots.
#pragma once

#include <cstdint>
#include <vector>

namespace nyx::codegen {

inline constexpr uint64_t kBufferAlign = 64;

struct ArenaLayout {
  std::vector<uint64_t> offsets; // one per requested size, in order
  uint64_t totalBytes = 0;       // a multiple of kBufferAlign
};

// Places buffers of the given byte sizes at kBufferAlign-aligned offsets.
ArenaLayout layoutArena(const std::vector<uint64_t> &sizes);

} // namespace nyx::codegen
