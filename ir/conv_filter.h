// The layouts of conv2d's filter operand. The attribute `filter_layout`
// says which: "oihw" (the default, [M, C/groups, kH, kW]) or "ihwo"
// ([C/groups, kH, kW, M]), where the weights of one input channel and tap
// for all output channels are contiguous. The filter-layout pass gives
// compile-time filters the ihwo layout, which the CPU GEMM kernel reads in
// place as rows of vectors over output channels.
#pragma once

#include <array>
#include <cstdint>

#include "absl/status/statusor.h"
#include "ir/module.h"

namespace nyx::ir {

enum class FilterLayout { OIHW, IHWO };

inline constexpr std::string_view kFilterLayoutAttr = "filter_layout";

// The op's filter layout; the error (without the op's name) names a value
// that is neither.
absl::StatusOr<FilterLayout> filterLayout(const Op &op);

// A filter's dimensions as {M, C/groups, kH, kW}, whatever its layout.
std::array<int64_t, 4> filterDims(const Shape &w, FilterLayout layout);

// The shape of a filter of dims {M, C/groups, kH, kW} in `layout`.
Shape filterShape(const std::array<int64_t, 4> &dims, FilterLayout layout);

// Where filter element (o, i, kh, kw) is, for dims {M, C/groups, kH, kW}.
int64_t filterOffset(const std::array<int64_t, 4> &dims, FilterLayout layout,
                     int64_t o, int64_t i, int64_t kh, int64_t kw);

} // namespace nyx::ir
