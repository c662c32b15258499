// Winograd's minimal filtering F(4x4, 3x3) (Lavin and Gray, "Fast
// Algorithms for Convolutional Neural Networks", 2016), for 3x3
// convolutions with stride 1. Each 4x4 tile of outputs comes from the 6x6
// tile of input around it:
//   Y = AT [ U ⊙ V ] A,  U = G g GT (per filter), V = BT d B (per tile),
// summed over input channels between the two transforms. Per tile and
// channel pair that is 36 multiplications where the direct convolution
// does 144; the sum over channels is a batch of 36 matrix products
// (docs/kernels.md). The interpolation points are 0, ±1, ±2 and infinity.
//
// The pass `winograd` rewrites a conv2d into winograd_input, a batched
// matmul with the transformed filter (computed at compile time by
// transformFilter) and winograd_output (docs/ops.md).
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "ir/module.h"
#include "ir/tensor.h"

namespace nyx::ir::winograd {

inline constexpr int64_t kTile = 4;   // outputs per tile side
inline constexpr int64_t kWindow = 6; // inputs per tile side: kTile + 2
inline constexpr int64_t kPoints = kWindow * kWindow; // products per tile

// The transforms (rows x columns).
extern const double kBT[kWindow][kWindow]; // input:  V = BT d B
extern const double kG[kWindow][3];        // filter: U = G g GT
extern const double kAT[kTile][kWindow];   // output: Y = AT M A

// Tiles along an output axis of `outSize` elements (the last one may reach
// past the end; its extra outputs are not stored).
inline int64_t tilesAlong(int64_t outSize) {
  return (outSize + kTile - 1) / kTile;
}

// The tiling of one transform op, from its operand's type and attributes
// (errors name the op and what was expected):
// - winograd_input(x) {padding = [top, left, bottom, right]}: x is
//   [N, C, H, W] and the convolution's output (outH, outW) is
//   (H + top + bottom - 2, W + left + right - 2);
// - winograd_output(m) {output_size = [OH, OW]}: m is [36, M, N·TH·TW].
// Tile p = (n·TH + th)·TW + tw has outputs from row th·4 and column tw·4
// of image n; it reads the input from row th·4 - top, column tw·4 - left.
struct Geometry {
  int64_t images = 0, channels = 0;
  int64_t inH = 0, inW = 0, top = 0, left = 0; // winograd_input only
  int64_t outH = 0, outW = 0;
  int64_t tilesH = 0, tilesW = 0;
  int64_t tiles() const { return images * tilesH * tilesW; }
};
absl::StatusOr<Geometry> inputGeometry(const Op &op);
absl::StatusOr<Geometry> outputGeometry(const Op &op);

// The transformed filter of an f32 oihw filter [M, C, 3, 3]:
// U[6·ξ + ν, m, c] = Σ_{i,j} G[ξ][i] · g[m, c, i, j] · G[ν][j], shape
// [36, M, C], each element rounded once from a double sum.
Tensor transformFilter(const Tensor &oihw);

} // namespace nyx::ir::winograd
