// Rewrites f32 3x3 convolutions with stride 1 whose filters are known at
// compile time into Winograd's F(4x4, 3x3) (ir/winograd.h):
//
//   %v = winograd_input(%x) {padding = [...]}      : [36, C, tiles]
//   %u = constant (the transformed filter)          : [36, M, C]
//   %p = matmul(%u, %v)                              : [36, M, tiles]
//   %y = winograd_output(%p, %bias) {output_size = [OH, OW]}
//
// The products do 36 multiply-adds per 4x4 tile and channel pair where the
// convolution does 144, so the GEMM kernel does a quarter of the work
// (more where the last tile of a row reaches past the output). What it
// costs: the two transforms, memory traffic for the 36 matrices, and a
// transformed filter 4x the size of the original, which at batch 1 is
// read from memory on every run.
//
// The filter is read once per run and saves work once per image, so a
// convolution qualifies when its transformed filter is at most
// `max-filter-bytes-per-image` (the option; default 2.5 MiB: ResNet-18's
// 128-channel layers at batch 1, its 256-channel ones from batch 4) times
// the batch, it has at least 16 input and output channels and
// at least 16 tiles in all (the columns of the products). One group, no
// dilation, padding at most 2 on each side. The pass is for CPU
// targets: it runs before filter-layout, which gives the convolutions left
// the layout of the direct kernel.
#include <memory>

#include "ir/conv_filter.h"
#include "ir/op_registry.h"
#include "ir/rewrite.h"
#include "ir/strings.h"
#include "ir/winograd.h"
#include "passes/pass.h"

namespace nyx::passes {
namespace {

namespace wg = ir::winograd;

constexpr int64_t kMinChannels = 16;
// The tiles are the columns of the products: fewer than a vector's worth
// leave lanes idle (ResNet-18's 7x7 layer4 at batch 1 has 4 and ran at
// a fifth of the direct kernel's speed).
constexpr int64_t kMinTiles = 16;
constexpr int64_t kDefaultMaxFilterBytesPerImage = 2560 * 1024;

bool hasInts(const ir::Op &op, std::string_view attr,
             const std::vector<int64_t> &want) {
  auto v = op.getInts(attr, want);
  return v.ok() && *v == want;
}

bool qualifies(const ir::Op &op, int64_t maxFilterBytesPerImage) {
  // A schedule written on the convolution asks for the direct kernel.
  if (op.name() != "conv2d" || op.numOperands() < 2 ||
      op.attrs.count(ir::kScheduleAttr))
    return false;
  auto layout = ir::filterLayout(op);
  auto padding = op.getInts("padding", std::vector<int64_t>{0, 0, 0, 0});
  const ir::TensorType &x = op.operand(0)->type, &w = op.operand(1)->type;
  if (!layout.ok() || layout->kind != ir::FilterLayout::OIHW || !padding.ok() ||
      padding->size() != 4 || x.dtype != ir::DType::F32 ||
      w.dtype != ir::DType::F32 || w.rank() != 4 || x.rank() != 4)
    return false;
  if (op.getInt("groups", 1).value_or(0) != 1 ||
      !hasInts(op, "strides", {1, 1}) || !hasInts(op, "dilations", {1, 1}))
    return false;
  for (int64_t p : *padding)
    if (p < 0 || p > 2)
      return false;
  const int64_t m = w.shape[0], c = w.shape[1];
  const ir::Shape &y = op.result()->type.shape;
  if (y.size() != 4 || w.shape[2] != 3 || w.shape[3] != 3 || c != x.shape[1] ||
      m < kMinChannels || c < kMinChannels ||
      y[0] * wg::tilesAlong(y[2]) * wg::tilesAlong(y[3]) < kMinTiles)
    return false;
  // Per image (y[0] >= 1 with 16 tiles), rounded up; the filter has
  // fewer than 2^48 elements, so its bytes do not overflow. The constant
  // must stay one a module can hold.
  const int64_t bytes = wg::kPoints * m * c * 4;
  return bytes <= ir::kMaxConstantBytes &&
         (bytes + y[0] - 1) / y[0] <= maxFilterBytesPerImage;
}

absl::StatusOr<size_t> rewrite(ir::Module &m, ir::Function &fn, size_t pos,
                               const ir::Tensor &filter) {
  ir::Op &conv = *fn.ops[pos];
  ir::Value *x = conv.operand(0);
  ir::Value *bias = conv.numOperands() > 2 ? conv.operand(2) : nullptr;
  const ir::Shape &y = conv.result()->type.shape;
  std::vector<int64_t> padding =
      conv.getInts("padding", std::vector<int64_t>{0, 0, 0, 0}).value();
  auto u = std::make_shared<const ir::Tensor>(wg::transformFilter(filter));
  ir::OpInserter r(m, fn, pos, conv.loc, "winograd");
  auto v = r.emit("winograd_input", {x}, {{"padding", padding}});
  if (!v.ok())
    return v.status();
  auto weights = r.emit("constant", {}, {{"value", u}});
  if (!weights.ok())
    return weights.status();
  auto products = r.emit("matmul", {*weights, *v}, {});
  if (!products.ok())
    return products.status();
  std::vector<ir::Value *> operands = {*products};
  if (bias)
    operands.push_back(bias);
  auto out = r.emit("winograd_output", operands,
                    {{"output_size", std::vector<int64_t>{y[2], y[3]}}});
  if (!out.ok())
    return out.status();
  if ((*out)->type != conv.result()->type)
    return absl::InternalError(strCat("winograd built ", (*out)->type.str(),
                                      " for a conv2d of ",
                                      conv.result()->type.str()));
  ir::replaceAllUses(fn, conv.result(), *out);
  ir::eraseOp(fn, r.pos());
  return r.pos();
}

} // namespace

absl::Status runWinograd(ir::Module &m, const Options &o) {
  auto maxBytes =
      o.intArg("max-filter-bytes-per-image", kDefaultMaxFilterBytesPerImage);
  if (!maxBytes.ok())
    return maxBytes.status();
  if (*maxBytes < 0)
    return absl::InvalidArgumentError(
        strCat("winograd max-filter-bytes-per-image=", *maxBytes,
               "; expected a number of bytes >= 0"));
  auto changed = rewriteOpsWithKnownOperand(
      m, o, 1, [&](const ir::Op &op) { return qualifies(op, *maxBytes); },
      [&m](ir::Function &fn, size_t pos, const ir::Tensor &filter) {
        return rewrite(m, fn, pos, filter);
      });
  if (!changed.ok())
    return changed.status();
  o.count("winograd.convolutions", *changed);
  return absl::OkStatus();
}

} // namespace nyx::passes
