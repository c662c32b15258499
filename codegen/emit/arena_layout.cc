#include "codegen/emit/arena_layout.h"

namespace nyx::codegen {

ArenaLayout layoutArena(const std::vector<uint64_t> &sizes) {
  ArenaLayout layout;
  uint64_t next = 0;
  for (uint64_t size : sizes) {
    layout.offsets.push_back(next);
    next += (size + kBufferAlign - 1) / kBufferAlign * kBufferAlign;
  }
  layout.totalBytes = next;
  return layout;
}

} // namespace nyx::codegen
