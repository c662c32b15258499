// How a GEMM-shaped kernel (f32 matmul, conv2d as an implicit GEMM) is
// tiled: the choice the autotune pass makes and records on the op as the
// string attribute `schedule`, e.g. "mr=6,nr=64,mc=96,nc=256,pack_a=1".
//
// The kernel (codegen/kernel/gemm.h) splits C = A·B (M x N, inner K, per
// batch) into tasks of mc x nc elements run in parallel; a task packs its
// K x nc block of B into nr-wide panels, and for each mr-row panel of A
// (packed into mr-interleaved order, or read in place when pack_a=0 and A
// is a plain row-major or column-major buffer) runs the mr x nr register
// tile over the whole K with vector FMAs, then stores the tile through the
// epilogue. With kc, K is walked in blocks of kc: each block's B panel stays
// in L2 and A's in L1, the task's tiles accumulate in an mc x nc scratch,
// and the epilogue runs after the last block.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace nyx::kernel {

// The revision of the GEMM kernel generator and of what a schedule means.
// Raise it with any change that alters a schedule's speed: tuning databases
// measured before then become stale (docs/autotuning.md).
inline constexpr int kGemmRevision = 6;

// The GEMM problem one op poses.
struct GemmShape {
  int64_t batch = 1; // independent products (matmul batch dims, conv N*groups)
  int64_t m = 0, n = 0, k = 0;
  // B is a row-major operand the kernel can read in place (pack_b=0).
  bool bInPlace = false;
  // B's columns lie in blocks of this many (a blocked conv2d filter, read
  // in place): register tiles cover whole blocks. 0: no blocks.
  int64_t bBlock = 0;
  // A's rows are a convolution's output pixels, this many to an output
  // row, and the filter taps of its top or bottom rows fall on padding: a
  // register tile whose rows lie in those output rows skips those taps.
  // 0: no such taps.
  int64_t pixelRowWidth = 0;
  bool operator==(const GemmShape &) const = default;
};

struct GemmSchedule {
  int64_t mr = 6;   // rows of the register tile
  int64_t nr = 16;  // columns of the register tile, a multiple of the lanes
  int64_t mc = 96;  // rows per task, a multiple of mr
  int64_t nc = 256; // columns per task, a multiple of nr
  int64_t kc = 0;   // depth of a K block; 0: K is not blocked
  bool packA = true;
  // false: B is read in place where the op's form allows (a row-major
  // matmul operand), each full nr-column panel where it lies.
  bool packB = true;
  bool operator==(const GemmSchedule &) const = default;

  // "mr=6,nr=64,mc=96,nc=256,pack_a=1", with ",kc=256" before pack_a when
  // K is blocked and ",pack_b=0" after it when B is read in place.
  std::string str() const;
  // Parses str()'s form; every key once, in any order, kc and pack_b
  // optional. The
  // message names the offending key or value.
  static absl::StatusOr<GemmSchedule> parse(std::string_view text);
};

// Checks the schedule's own invariants (positive sizes, mc a multiple of mr,
// nc of nr, nr of `lanes` and of B's blocks, the register tile fitting the 32
// or 16 vector registers `lanes` implies, packed blocks, as withinProblem
// cuts them, within the scratch limit for a problem of `shape`).
absl::Status validateSchedule(const GemmSchedule &s, const GemmShape &shape,
                              int lanes);

// `s` with mc and nc cut to the problem (in whole tiles): a block wider
// than the problem is one block, so this changes nothing the schedule
// means, and keeps scratch sized by the blocks (a convolution's input copy,
// its pixel table, a packed B block) within the problem's size.
GemmSchedule withinProblem(GemmSchedule s, const GemmShape &shape);

// The f32 lanes of the target's preferred vector: 16 with AVX-512, 8 with
// AVX2, 4 otherwise.
int vectorLanes(int vectorBits);

// A good schedule without measuring: the register tile by the vector width,
// the B block sized to stay in L2, enough tasks for `threads`.
GemmSchedule defaultSchedule(const GemmShape &shape, int lanes, int threads);

// The candidates the autotuner measures, the default among them, each valid
// for `shape` and `lanes`; at most `limit` of them, the most promising
// first.
std::vector<GemmSchedule> scheduleSpace(const GemmShape &shape, int lanes,
                                        int threads, size_t limit = 64);

} // namespace nyx::kernel
