// Gives the filters of f32 convolutions that are known at compile time (a
// `constant`, or a `param` whose weights are embedded) the layout the CPU
// GEMM kernel reads in place (ir/conv_filter.h): with the option block=B
// (the pipeline passes the target's vector lanes) "Ohwi<B>o" where each
// group's output channels are a multiple of B, else "hwio". Either way the
// weights of one tap and input channel lie side by side over output
// channels, so the kernel computes output pixels as the tile's rows, which
// pads nothing when the output is small (7x7, 14x14) and reads no weight
// twice; blocked, each vector of a register tile streams through one
// contiguous block instead of short runs M channels apart. The copy is
// made here, once, instead of on every run.
//
// A convolution qualifies when it is not depthwise-like: at least 16
// output channels per group (one vector) and C/groups * kH * kW >= 256,
// below which the transposed stores of its epilogue cost more than the
// pixel rows save (ResNet's 7x7 stem, K = 147). The pass is for CPU
// targets; GPU kernels read any layout as a plain nest.
#include <array>
#include <memory>

#include "ir/conv_filter.h"
#include "ir/op_registry.h"
#include "ir/strings.h"
#include "passes/pass.h"

namespace nyx::passes {
namespace {

constexpr int64_t kMinDepth = 256;
constexpr int64_t kMinChannels = 16;

bool qualifies(const ir::Op &op) {
  if (op.name() != "conv2d" || op.numOperands() < 2)
    return false;
  auto layout = ir::filterLayout(op);
  auto groups = op.getInt("groups", 1);
  const ir::TensorType &w = op.operand(1)->type;
  if (!layout.ok() || layout->kind != ir::FilterLayout::OIHW || !groups.ok() ||
      *groups < 1 || w.dtype != ir::DType::F32 || w.rank() != 4 ||
      op.operand(0)->type.dtype != ir::DType::F32)
    return false;
  const int64_t depth = w.shape[1] * w.shape[2] * w.shape[3];
  return w.shape[0] % *groups == 0 && w.shape[0] / *groups >= kMinChannels &&
         depth >= kMinDepth;
}

std::shared_ptr<const ir::Tensor> relayout(const ir::Tensor &oihw,
                                           const ir::FilterLayout &layout) {
  const ir::Shape &s = oihw.shape();
  const std::array<int64_t, 4> dims = {s[0], s[1], s[2], s[3]};
  auto out = std::make_shared<ir::Tensor>(
      ir::TensorType{oihw.type().dtype, ir::filterShape(dims, layout)});
  const float *from = oihw.data<float>();
  float *to = out->data<float>();
  int64_t i = 0;
  for (int64_t o = 0; o < s[0]; ++o)
    for (int64_t c = 0; c < s[1]; ++c)
      for (int64_t kh = 0; kh < s[2]; ++kh)
        for (int64_t kw = 0; kw < s[3]; ++kw)
          to[ir::filterOffset(dims, layout, o, c, kh, kw)] = from[i++];
  return out;
}

// The filter in `layout`, as a new constant before the conv at `pos`;
// returns the position after the conv.
size_t relayoutFilter(ir::Function &fn, size_t pos, const ir::Tensor &filter,
                      int64_t block) {
  ir::Op &op = *fn.ops[pos];
  const int64_t perGroup = filter.shape()[0] / op.getInt("groups", 1).value();
  const ir::FilterLayout layout =
      block > 0 && perGroup % block == 0
          ? ir::FilterLayout::blocked(block)
          : ir::FilterLayout{ir::FilterLayout::HWIO};
  std::shared_ptr<const ir::Tensor> w = relayout(filter, layout);
  ir::Op *c = fn.insertOp(pos, ir::lookupOp("constant"), {}, {{"value", w}},
                          {w->type()}, op.loc);
  op.operands[1] = c->result();
  op.attrs[std::string(ir::kFilterLayoutAttr)] = layout.name();
  return pos + 2;
}

} // namespace

absl::Status runFilterLayout(ir::Module &m, const Options &o) {
  auto block = o.intArg("block", 0);
  if (!block.ok())
    return block.status();
  if (*block < 0)
    return absl::InvalidArgumentError(
        strCat("filter-layout block=", *block,
               "; expected 0 (the hwio layout) or a block of output "
               "channels"));
  auto changed = rewriteOpsWithKnownOperand(
      m, o, 1, qualifies,
      [&](ir::Function &fn, size_t pos,
          const ir::Tensor &filter) -> absl::StatusOr<size_t> {
        return relayoutFilter(fn, pos, filter, *block);
      });
  if (!changed.ok())
    return changed.status();
  o.count("filter-layout.filters", *changed);
  return absl::OkStatus();
}

} // namespace nyx::passes
