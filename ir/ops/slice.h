// The normalized form of a `slice` op's attributes, shared by its shape
// rule, its interpreter kernel and its lowering.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/module.h"

namespace nyx::ir::ops {

// Per axis of the input: the first index read and the step between reads
// (0 and 1 for axes the slice does not list), and the result shape.
struct SliceSpec {
  std::vector<int64_t> start, step;
  Shape shape;
};

// Python slicing per docs/ops.md: negative bounds count from the end and
// are clamped; an error names the attribute that is wrong.
absl::StatusOr<SliceSpec> resolveSlice(const Op &op, const TensorType &x);

} // namespace nyx::ir::ops
