// The gradient of fake_quantize: straight through where x quantizes without
// saturating, zero where it saturates (as PyTorch's fake quantization and
// the usual quantization-aware training define it). The rounding itself has
// no useful derivative, so it is skipped; the scale and zero point get none.
#include "ir/grad/grad_helpers.h"
#include "ir/op_registry.h"

namespace nyx::ir {
namespace {

absl::Status fakeQuantizeGrad(Builder &b, const Op &op,
                              std::span<Value *const> gy,
                              std::span<Value *> gx) {
  Value *x = op.operand(0), *scale = op.operand(1), *zp = op.operand(2);
  const DType t = x->type.dtype;
  // round(x / scale) + zero_point before it is clamped to [-128, 127].
  Value *unclamped = b.op("add", {b.op("round", {b.op("div", {x, scale})}),
                                  b.op("cast", {zp}, {{"to", t}})});
  Value *inRange = b.op("and", {b.op("ge", {unclamped, b.scalar(-128, t)}),
                                b.op("le", {unclamped, b.scalar(127, t)})});
  Value *g = b.op("select", {inRange, gy[0], b.scalar(0, t)});
  gx[0] = grad::unbroadcast(b, g, x->type.shape);
  return absl::OkStatus();
}

} // namespace

void registerQuantizeGrads(OpRegistry &r) {
  r.setGrad("fake_quantize", fakeQuantizeGrad);
}

} // namespace nyx::ir
