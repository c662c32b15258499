// The layouts of conv2d's filter operand. The attribute `filter_layout`
// says which:
// - "oihw" (the default): [M, C/groups, kH, kW];
// - "hwio": [kH, kW, C/groups, M], the weights of one tap and input
//   channel for all output channels contiguous;
// - "Ohwi<B>o", e.g. "Ohwi16o" (oneDNN's name for it): [M/B, kH, kW,
//   C/groups, B], the output channels in blocks of B, each block a hwio
//   filter of B channels (M/groups a multiple of B).
// The filter-layout pass gives compile-time filters the blocked layout with
// B the target's vector lanes (or hwio), which the CPU GEMM kernel reads in
// place: a register tile's B vectors then stream through memory one
// contiguous block each, rather than as short runs of rows M apart. Both
// put the taps outermost, so the weights of the taps that fall on a
// convolution's top or bottom padding are one contiguous range the kernel
// skips (docs/kernels.md).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "ir/module.h"

namespace nyx::ir {

struct FilterLayout {
  enum Kind { OIHW, HWIO, BLOCKED };
  Kind kind = OIHW;
  int64_t block = 0; // BLOCKED: output channels per block

  static FilterLayout blocked(int64_t block) { return {BLOCKED, block}; }
  bool operator==(const FilterLayout &) const = default;
  // The attribute's spelling: "oihw", "hwio", "Ohwi16o".
  std::string name() const;
  // The filter's rank: 4, or 5 when blocked.
  int rank() const { return kind == BLOCKED ? 5 : 4; }
};

inline constexpr std::string_view kFilterLayoutAttr = "filter_layout";

// The op's filter layout; the error (without the op's name) names a value
// that is none of them.
absl::StatusOr<FilterLayout> filterLayout(const Op &op);

// A filter's dimensions as {M, C/groups, kH, kW}, whatever its layout (the
// shape has the layout's rank).
std::array<int64_t, 4> filterDims(const Shape &w, const FilterLayout &layout);

// The shape of a filter of dims {M, C/groups, kH, kW} in `layout` (M a
// multiple of the block when blocked).
Shape filterShape(const std::array<int64_t, 4> &dims,
                  const FilterLayout &layout);

// Where filter element (o, i, kh, kw) is, for dims {M, C/groups, kH, kW}.
int64_t filterOffset(const std::array<int64_t, 4> &dims,
                     const FilterLayout &layout, int64_t o, int64_t i,
                     int64_t kh, int64_t kw);

} // namespace nyx::ir
