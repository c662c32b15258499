// Index arithmetic shared by the lowerings: loop nests over a shape,
// row-major and broadcasting offsets, axis normalization and typed
// constants. Index expressions fold constants as they are built so printed
// kernels stay readable and extent-1 dimensions cost nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "codegen/kernel/loop_ir.h"
#include "ir/module.h"

namespace nyx::kernel {

using ir::Shape;

// `axis` of `op` (an attribute named `attr`) counted from the end when
// negative; an error unless -rank <= axis < rank.
absl::StatusOr<int64_t> normalizeAxis(const ir::Op &op, std::string_view attr,
                                      int64_t axis, int64_t rank);
// The integer attribute `attr` of `op` (or `dflt` when absent, or an error
// when absent with no default), normalized as an axis of rank `rank`.
absl::StatusOr<int64_t> axisAttribute(const ir::Op &op, std::string_view attr,
                                      std::optional<int64_t> dflt,
                                      int64_t rank);

// i64 index arithmetic with constant folding (x + 0, x * 1, x * 0, c1 + c2).
ExprRef addIndex(ExprRef a, ExprRef b);
ExprRef mulIndex(ExprRef a, int64_t c);

// The row-major offset of `idx` within `shape` (one index per dimension).
ExprRef ravel(std::span<const ExprRef> idx, const Shape &shape);
// The row-major offset, within `from`, of the element that position `idx`
// of the broadcast result reads (NumPy broadcasting: `from` aligns to the
// trailing dimensions; its extent-1 dimensions read index 0).
ExprRef broadcastRavel(std::span<const ExprRef> idx, const Shape &from);

// The coordinates within `shape` of row-major offset `flat` (the inverse of
// ravel): (flat / stride) % extent per dimension, with no remainder on the
// outermost dimension and the constant 0 on extent-1 dimensions. A shape
// without elements has no offsets; its coordinates are all 0. Pass the
// result through simplify() to cancel what the loop ranges allow.
std::vector<ExprRef> unravel(ExprRef flat, const Shape &shape);
// The coordinates within `from` that position `coords` of a broadcast result
// reads (NumPy broadcasting: `from` aligns to the trailing dimensions; its
// extent-1 dimensions read index 0).
std::vector<ExprRef> broadcastCoords(std::span<const ExprRef> coords,
                                     const Shape &from);

// One loop per dimension of a shape. Dimensions of extent 1 get no loop
// (their index is the constant 0), so a kernel over [1, n] is a single
// loop that can run in parallel.
class LoopNest {
public:
  LoopNest(Builder &b, const Shape &shape, std::string_view prefix);
  const std::vector<ExprRef> &indices() const { return indices_; }
  // Wraps `body` in the loops, outermost first. With `parallel`, every
  // loop is LoopKind::Parallel: the caller guarantees that the iterations
  // of the whole nest write disjoint elements. The CPU backend splits the
  // outermost across threads; the GPU backend gives each iteration of the
  // nest a thread.
  StmtRef wrap(std::vector<StmtRef> body, bool parallel) const;

private:
  Shape shape_;
  std::vector<Var> vars_; // one per dimension; unused for extent 1
  std::vector<ExprRef> indices_;
};

// The loops of an op that works along one axis (softmax, argmax): one loop
// per other axis, and the input offset of position `i` along the axis.
class AlongAxis {
public:
  AlongAxis(Builder &b, const Shape &shape, int64_t axis);
  // Loops over every axis but `axis`, in order; its indices address the
  // output of a reduction over `axis` (without keepdims).
  const LoopNest &others() const { return others_; }
  const Shape &othersShape() const { return othersShape_; }
  int64_t extent() const { return shape_[axis_]; }
  // The row-major offset in `shape` of position `i` along the axis.
  ExprRef at(ExprRef i) const;

private:
  Shape shape_, othersShape_;
  int64_t axis_;
  LoopNest others_;
};

// A constant of the arithmetic type of storage dtype `storage` (f32 for
// f16/bf16, bool for bool: v != 0).
ExprRef constantFor(DType storage, double v);
// `v` converted like `cast` from f64 to the stored type of `storage`: the
// value to store beside loadStored values (f16/bf16 stay bits).
ExprRef storedConstant(DType storage, double v);

// The buffer of a graph value, as the kernel ABI lays it out.
Buffer bufferFor(const ir::Value &v, bool isOutput);
// A kernel whose buffers are `op`'s operands then its results.
Kernel kernelSkeleton(const ir::Op &op, std::string name);

} // namespace nyx::kernel
