// Maps a loop-nest Kernel onto GPU threads.
//
// A kernel's top-level statements run one after another; when they
// communicate only through its buffers, each becomes a launch of its own,
// run in order on one stream. A statement that is a nest of Parallel loops
// with constant extents becomes one thread per iteration of the whole nest:
// the thread's global index is split back into the loop indices. Any other
// statement (a serial loop, a scatter's updates, a scan) runs on a single
// thread; adjacent single-thread statements share a launch. When a
// top-level statement uses a variable an earlier one declares, the whole
// kernel runs on one thread.
//
// The result is exact: every thread runs the same statements, in the same
// order, as the loop iteration it stands for, so a kernel computes the same
// bits on either backend.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "codegen/kernel/loop_ir.h"

namespace nyx::kernel {

struct GpuLaunch {
  // What one thread runs: the original kernel's buffers (all of them, so
  // every launch takes the same arguments) and a body that reads `thread`.
  Kernel kernel;
  // The thread's global index (i64): blockIdx.x * blockDim.x + threadIdx.x.
  // Threads at or past `threads` do nothing.
  Var thread;
  int64_t threads = 1;
  int64_t blockSize = 1; // threads per block
  int64_t blocks() const { return (threads + blockSize - 1) / blockSize; }
};

// Errors: a kernel with scratch buffers or register tiles (CPU GEMM kernels
// have no GPU form), or an iteration space too large for one grid.
absl::StatusOr<std::vector<GpuLaunch>> mapToGpu(const Kernel &kernel);

// The launches as one kernel that runs every thread of every launch in
// order on one CPU thread: what the GPU computes, checkable without a GPU
// (codegen::Options::emulateGpu).
Kernel runLaunchesInOrder(const Kernel &original,
                          const std::vector<GpuLaunch> &launches);

} // namespace nyx::kernel
