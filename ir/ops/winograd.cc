// The two data transforms of a Winograd F(4x4, 3x3) convolution
// (ir/winograd.h): winograd_input turns NCHW input into the 36 matrices
// the batched product multiplies, winograd_output turns the products back
// into NCHW output. Both sum in f64 and round each element once.
#include <cstdint>

#include "ir/op_registry.h"
#include "ir/ops/op_helpers.h"
#include "ir/strings.h"
#include "ir/winograd.h"

namespace nyx::ir {
namespace {

using TypesOr = absl::StatusOr<std::vector<TensorType>>;
using namespace winograd;

TypesOr inferInput(const Op &op, const Module &) {
  NYX_RETURN_IF_ERROR(ops::checkOpBasics(op, {"padding"}));
  NYX_ASSIGN_OR_RETURN(Geometry g, inputGeometry(op));
  return ops::oneResult(op.operand(0)->type.dtype,
                        {kPoints, g.channels, g.tiles()});
}

absl::Status interpretInput(const Op &op, std::span<const Tensor *const> in,
                            std::span<Tensor> out, const InterpContext &) {
  const Tensor &x = *in[0];
  NYX_ASSIGN_OR_RETURN(Geometry g, inputGeometry(op));
  const int64_t tiles = g.tiles();
  for (int64_t c = 0; c < g.channels; ++c)
    for (int64_t p = 0; p < tiles; ++p) {
      const int64_t n = p / (g.tilesH * g.tilesW);
      const int64_t row0 = (p / g.tilesW) % g.tilesH * kTile - g.top;
      const int64_t col0 = p % g.tilesW * kTile - g.left;
      double d[kWindow][kWindow];
      for (int64_t i = 0; i < kWindow; ++i)
        for (int64_t j = 0; j < kWindow; ++j) {
          const int64_t r = row0 + i, col = col0 + j;
          d[i][j] = r >= 0 && r < g.inH && col >= 0 && col < g.inW
                        ? x.getDouble(
                              ((n * g.channels + c) * g.inH + r) * g.inW + col)
                        : 0.0;
        }
      for (int64_t xi = 0; xi < kWindow; ++xi)
        for (int64_t nu = 0; nu < kWindow; ++nu) {
          double sum = 0;
          for (int64_t i = 0; i < kWindow; ++i)
            for (int64_t j = 0; j < kWindow; ++j)
              sum += kBT[xi][i] * d[i][j] * kBT[nu][j];
          ops::storeRounded(
              out[0], ((xi * kWindow + nu) * g.channels + c) * tiles + p, sum);
        }
    }
  return absl::OkStatus();
}

TypesOr inferOutput(const Op &op, const Module &) {
  NYX_RETURN_IF_ERROR(ops::checkOpBasics(op, {"output_size"}));
  NYX_ASSIGN_OR_RETURN(Geometry g, outputGeometry(op));
  const TensorType &m = op.operand(0)->type;
  if (op.numOperands() > 1) {
    NYX_RETURN_IF_ERROR(ops::checkSameDType(op, 0, 1));
    const TensorType &bias = op.operand(1)->type;
    if (bias.shape != Shape{g.channels})
      return ops::opError(op, strCat("bias is ", bias.str(), "; expected [",
                                     g.channels, "] (one per channel)"));
  }
  return ops::oneResult(m.dtype, {g.images, g.channels, g.outH, g.outW});
}

absl::Status interpretOutput(const Op &op, std::span<const Tensor *const> in,
                             std::span<Tensor> out, const InterpContext &) {
  const Tensor &m = *in[0];
  const Tensor *bias = in.size() > 1 ? in[1] : nullptr;
  NYX_ASSIGN_OR_RETURN(Geometry g, outputGeometry(op));
  const int64_t tiles = g.tiles();
  for (int64_t c = 0; c < g.channels; ++c)
    for (int64_t p = 0; p < tiles; ++p) {
      const int64_t n = p / (g.tilesH * g.tilesW);
      const int64_t row0 = (p / g.tilesW) % g.tilesH * kTile;
      const int64_t col0 = p % g.tilesW * kTile;
      for (int64_t i = 0; i < kTile && row0 + i < g.outH; ++i)
        for (int64_t j = 0; j < kTile && col0 + j < g.outW; ++j) {
          double sum = 0;
          for (int64_t xi = 0; xi < kWindow; ++xi)
            for (int64_t nu = 0; nu < kWindow; ++nu)
              sum += kAT[i][xi] *
                     m.getDouble(
                         ((xi * kWindow + nu) * g.channels + c) * tiles + p) *
                     kAT[j][nu];
          // The bias comes after the sum, as in the convolution kernels.
          if (bias)
            sum += bias->getDouble(c);
          ops::storeRounded(
              out[0],
              ((n * g.channels + c) * g.outH + row0 + i) * g.outW + col0 + j,
              sum);
        }
    }
  return absl::OkStatus();
}

} // namespace

void registerWinogradOps(OpRegistry &r) {
  r.add(OpDef{.name = "winograd_input",
              .minOperands = 1,
              .maxOperands = 1,
              .inferTypes = inferInput,
              .interpret = interpretInput});
  r.add(OpDef{.name = "winograd_output",
              .minOperands = 1,
              .maxOperands = 2,
              .inferTypes = inferOutput,
              .interpret = interpretOutput});
  r.setFusionKind({"winograd_input", "winograd_output"},
                  FusionKind::Contraction);
}

} // namespace nyx::ir
