// The window geometry shared by Conv, ConvTranspose and pooling: the
// kernel, strides, dilations and pads of a node (explicit or from auto_pad),
// and the reshapes that run a 1-D window op as a 2-D one.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "frontends/onnx/node_context.h"

namespace nyx::onnx_import {

// A window op over S = 1, 2 or 3 spatial axes. The IR's convolution and
// pooling are 2-D: 1-D ops run with a height of 1, 3-D ones are decomposed
// into 2-D ones (conv3d in convert_conv.cc, pool3d in convert_pool.cc).
struct Window {
  int64_t spatial = 0;
  std::vector<int64_t> kernel, strides, dilations; // one entry per axis
  std::vector<int64_t> pads; // the begins, then the ends (ONNX's order)
};

// The number of spatial axes of x [N, C, spatial...]: 1 to 3, or
// std::nullopt with the error recorded.
std::optional<int64_t> spatialAxes(NodeContext &n, const ir::Value *x);

// The spatial sizes of x [N, C, spatial...].
ir::Shape spatialSizes(const ir::Value *x);

// An ints attribute with one entry per spatial axis, each >= `min`.
std::optional<std::vector<int64_t>> spatialInts(NodeContext &n,
                                                std::string_view name,
                                                int64_t spatial, int64_t min);

// The pads attribute: [x1_begin, x2_begin, ..., x1_end, x2_end, ...].
std::optional<std::vector<int64_t>> explicitPads(NodeContext &n,
                                                 int64_t spatial);

enum class AutoPad { NotSet, SameUpper, SameLower, Valid };

// The auto_pad attribute.
std::optional<AutoPad> autoPad(NodeContext &n);

// The extent of a dilated window.
int64_t reach(int64_t kernel, int64_t dilation);

// Reads strides, dilations and the padding of a Conv or pooling node whose
// kernel is `kernel`.
std::optional<Window> readWindow(NodeContext &n, const ir::Value *x,
                                 int64_t spatial, std::vector<int64_t> kernel);

// The kernel's spatial sizes from the weight [*, *, k...], checked against
// the kernel_shape attribute where one is given.
std::optional<std::vector<int64_t>> kernelOf(NodeContext &n,
                                             const ir::Value *w);

// A 1-D window as a 2-D one of height 1.
Window withHeight(const Window &w);

// [N, C, W] -> [N, C, 1, W].
ir::Value *addHeight(NodeContext &n, ir::Value *x);

// [N, C, 1, W] -> [N, C, W].
ir::Value *dropHeight(NodeContext &n, ir::Value *y);

// The axes [2, 2 + S) of x [N, C, spatial...] padded with `value`; `pads`
// has S begins then S ends.
ir::Value *padSpatial(NodeContext &n, ir::Value *x,
                      const std::vector<int64_t> &pads, double value = 0.0);

} // namespace nyx::onnx_import
