#include "codegen/kernel/element_fn.h"

#include <cassert>

#include "absl/status/status.h"
#include "codegen/kernel/index_math.h"
#include "codegen/kernel/iteration.h"
#include "codegen/kernel/simplify.h"
#include "ir/strings.h"

namespace nyx::kernel {

using B = Builder;

ExprRef computeValue(const ExprRef &v) {
  if (v->type != DType::F16 && v->type != DType::BF16)
    return v;
  if (v->kind == Expr::Kind::Load)
    return B::load(v->buffer, v->type, v->args[0]);
  return B::cast(DType::F32, v);
}

ExprRef storedValue(const ExprRef &v, DType storage) {
  return B::cast(storage, v);
}

void ElementFnRegistry::add(std::string_view opName, ElementFn fn) {
  bool inserted = fns.emplace(std::string(opName), std::move(fn)).second;
  assert(inserted && "element function registered twice");
  (void)inserted;
}

static const ElementFnRegistry &registry() {
  static const ElementFnRegistry r = [] {
    ElementFnRegistry r;
    registerElementwiseElementFns(r);
    registerShapeElementFns(r);
    return r;
  }();
  return r;
}

const ElementFn *lookupElementFn(std::string_view opName) {
  auto it = registry().fns.find(opName);
  return it == registry().fns.end() ? nullptr : &it->second;
}

namespace {

absl::StatusOr<const ElementFn *> elementFnOf(const ir::Op &op) {
  const ElementFn *fn = lookupElementFn(op.name());
  if (!fn)
    return absl::InvalidArgumentError(
        strCat("'", op.name(),
               "' has no element function; expected an elementwise or "
               "injective op"));
  return fn;
}

// Operand j read from kernel buffer j at the row-major offset of `coords`.
OperandAt loadOperands(const ir::Op &op, const VarExtents &extents) {
  return [&op, &extents](
             int j, std::vector<ExprRef> coords) -> absl::StatusOr<ExprRef> {
    const ir::TensorType &t = op.operand(j)->type;
    return B::loadStored(j, t.dtype, simplify(ravel(coords, t.shape), extents));
  };
}

} // namespace

absl::StatusOr<Kernel> lowerElementwiseOp(const ir::Op &op, std::string name) {
  auto fn = elementFnOf(op);
  if (!fn.ok())
    return fn.status();
  Kernel k = kernelSkeleton(op, std::move(name));
  const ir::TensorType &out = op.result()->type;
  Builder b;
  Var i = b.newVar(DType::I64, "i");
  VarExtents extents{{i.id, out.numElements()}};
  std::vector<ExprRef> coords;
  for (const ExprRef &c : unravel(B::ref(i), out.shape))
    coords.push_back(simplify(c, extents));
  auto value = (**fn)(op, coords, loadOperands(op, extents));
  if (!value.ok())
    return value.status();
  k.body = B::loop(i, B::i64(out.numElements()),
                   {B::store(op.numOperands(), B::ref(i), *value)},
                   LoopKind::Parallel);
  return k;
}

absl::StatusOr<Kernel> lowerInjectiveOp(const ir::Op &op, std::string name) {
  auto fn = elementFnOf(op);
  if (!fn.ok())
    return fn.status();
  Kernel k = kernelSkeleton(op, std::move(name));
  const ir::TensorType &out = op.result()->type;
  auto nest = mergedLoopNest(
      out.shape,
      [&](Builder &, const std::vector<ExprRef> &coords,
          const VarExtents &extents) -> absl::StatusOr<std::vector<StmtRef>> {
        auto value = (**fn)(op, coords, loadOperands(op, extents));
        if (!value.ok())
          return value.status();
        return std::vector<StmtRef>{
            B::store(op.numOperands(),
                     simplify(ravel(coords, out.shape), extents), *value)};
      },
      Merging::AllOrNone);
  if (!nest.ok())
    return nest.status();
  k.body = *nest;
  return k;
}

} // namespace nyx::kernel
