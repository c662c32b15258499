#include "ir/grad/grad_helpers.h"

namespace nyx::ir::grad {

Value *unbroadcast(Builder &b, Value *g, const Shape &shape) {
  if (!g)
    return nullptr;
  const Shape &gs = g->type.shape;
  int64_t lead =
      static_cast<int64_t>(gs.size()) - static_cast<int64_t>(shape.size());
  std::vector<int64_t> axes;
  for (int64_t i = 0; i < static_cast<int64_t>(gs.size()); ++i)
    if (i < lead || (shape[i - lead] == 1 && gs[i] != 1))
      axes.push_back(i);
  Value *summed = g;
  if (!axes.empty())
    summed = b.op("reduce_sum", {g}, {{"axes", axes}, {"keepdims", false}});
  if (summed && summed->type.shape != shape)
    summed = b.op("reshape", {summed}, {{"shape", shape}});
  return summed;
}

Value *filled(Builder &b, const TensorType &type, double v) {
  Value *s = b.scalar(v, type.dtype);
  if (type.shape.empty())
    return s;
  return b.op("broadcast_to", {s}, {{"shape", type.shape}});
}

Value *keepAxes(Builder &b, Value *x, const Shape &operandShape,
                const std::vector<int64_t> &axes) {
  Shape kept = operandShape;
  for (int64_t a : axes)
    kept[a] = 1;
  if (!x || x->type.shape == kept)
    return x;
  return b.op("reshape", {x}, {{"shape", kept}});
}

} // namespace nyx::ir::grad
