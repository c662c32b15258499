// GEMM-shaped kernels: f32 matmul (any transposes and broadcast batch
// axes) and conv2d as an implicit GEMM, tiled as gemm_schedule.h describes.
//
// An op's GEMM form says where each element of A (M x K), B (K x N) and C
// (M x N) of batch b lives in the op's operands and result. The kernel never
// materializes im2col or transposes: packing reads operand elements through
// the form (and, in a fused kernel, computes prologue values there), and the
// epilogue stores each finished C element through it.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "codegen/kernel/gemm_schedule.h"
#include "codegen/kernel/loop_ir.h"
#include "ir/module.h"

namespace nyx::kernel {

// An element of an operand at `coords`; when `inside` is set the element
// exists only where it is true and reads as zero elsewhere (conv padding).
struct OperandElement {
  std::vector<ExprRef> coords;
  ExprRef inside;
};

struct GemmForm {
  GemmShape shape;
  int aOperand = 0, bOperand = 1; // which of the op's operands are A and B
  // A[b, i, p], B[b, p, j] and C[b, i, j] in terms of operand/result
  // coordinates; b is the flattened batch index.
  std::function<OperandElement(ExprRef b, ExprRef i, ExprRef p)> a;
  std::function<OperandElement(ExprRef b, ExprRef p, ExprRef j)> b;
  std::function<std::vector<ExprRef>(ExprRef b, ExprRef i, ExprRef j)> c;
  // When A is a plain operand buffer whose rows and inner index have fixed
  // element strides (matmul without broadcasting surprises): its offset for
  // batch b, and the strides of i and p. Lets pack_a=0 read A in place.
  std::function<ExprRef(ExprRef b)> aBase;
  int64_t aRowStride = 0, aInnerStride = 0;
  // Likewise for B with a fixed row stride and unit column stride (a
  // conv2d filter in the ihwo layout): full column panels read B in place.
  // With shape.bBlock, B's columns lie in blocks bBlockStride elements
  // apart, each with its own rows (a blocked filter, docs/kernels.md).
  std::function<ExprRef(ExprRef b)> bBase;
  int64_t bRowStride = 0, bBlockStride = 0;
  // Set for a convolution (its input x is operand 0, NCHW). The kernel
  // reads x's im2col view in place from a per-task copy of the zero-padded
  // input rows split into stride phases, laid out on the output grid
  // widened to `gridWidth` columns, where every (channel, kh, kw) row of
  // the view is a contiguous run at a fixed offset (docs/kernels.md).
  // - Filter oihw: A is the filter, B the view (b is not used). Column j of
  //   C is output (j / gridWidth, j % gridWidth); the columns past the
  //   output's width are computed but not stored.
  // - Filter ihwo or blocked (`pixelRows`): A is the view (a is not
  //   used) with rows the output pixels, B the filter; C is the
  //   transposed result.
  // Either way c is not used; C[b, ...] is of group b % groups, image
  // b / groups.
  // - With `images` > 1 (pixel rows, one group, small images), the rows
  //   of A are the pixels of that many images, image by image, so the
  //   filter streams through the cache once per product rather than once
  //   per image; the input copy then holds whole images, and C[b, ...] is
  //   images b * images onwards.
  struct ConvInput {
    int64_t groups = 1, channels = 0; // channels per group
    int64_t kh = 1, kw = 1, strideH = 1, strideW = 1;
    int64_t padTop = 0, padLeft = 0, dilationH = 1, dilationW = 1;
    int64_t h = 0, w = 0, oh = 0, ow = 0;
    int64_t gridWidth = 0; // ow plus the widest column shift of a tap
    bool pixelRows = false;
    int64_t images = 1;
  };
  std::optional<ConvInput> conv;
  // A bias per output channel (conv2d's third operand), or -1: its
  // coordinates for the channel `channel` of batch b's group.
  int biasOperand = -1;
  std::function<std::vector<ExprRef>(ExprRef b, ExprRef channel)> bias;
};

// The GEMM form of `op`, or nullopt when the op is not lowered as a GEMM
// (not matmul/conv2d, not f32, or a depthwise convolution, which has no
// inner dimension worth tiling).
// Also nullopt for kernels in the GPU form (GpuForm, lowering.h).
std::optional<GemmForm> gemmFormOf(const ir::Op &op);

// The GEMM form of a matmul of any element type, for kernels of their own
// (gemm_i8.h); nullopt when the op is not a well-formed matmul.
std::optional<GemmForm> matmulGemmForm(const ir::Op &op);

// The op's `schedule` attribute, or the default schedule for its shape
// when it has none. Errors name the attribute's problem.
absl::StatusOr<GemmSchedule> scheduleOf(const ir::Op &op,
                                        const GemmShape &shape);

// How a GEMM kernel reads its operands and hands over results: `load`
// yields the value of an operand element (a buffer load, or a fused
// prologue's value); `store` returns the statements that consume C's
// value at (b, i, j) (a store, or a fused epilogue's stores).
struct GemmIo {
  std::function<absl::StatusOr<ExprRef>(int operand,
                                        const std::vector<ExprRef> &coords)>
      load;
  std::function<absl::StatusOr<std::vector<StmtRef>>(
      const std::vector<ExprRef> &resultCoords, ExprRef value)>
      store;
  // The buffers of the A and B operands when they may be read in place
  // (A with pack_a=0, B when the form has bBase), else -1.
  int aBuffer = -1, bBuffer = -1;
};

// The GemmIo of an op on its own: loads from its operand buffers, stores
// into its result buffer, as kernelSkeleton lays them out; nothing read in
// place. `op` must outlive it.
GemmIo opGemmIo(const ir::Op &op);

// The kernel of a GEMM-shaped op on its own: operands and result are the
// kernel's buffers, as kernelSkeleton lays them out.
absl::StatusOr<Kernel> lowerGemmOp(const ir::Op &op, const GemmForm &form,
                                   std::string name);

// The loop-IR body of the GEMM kernel: tasks in a parallel loop, packing
// into scratch buffers appended to `kernel.buffers`, the MatmulTile
// register tile, and the epilogue. `builder` hands out variable ids.
absl::StatusOr<StmtRef> buildGemm(const GemmForm &form,
                                  const GemmSchedule &schedule,
                                  const GemmIo &io, Kernel &kernel,
                                  Builder &builder);

} // namespace nyx::kernel
