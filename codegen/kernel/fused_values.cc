#include "codegen/kernel/fused_values.h"

#include <cstring>

#include "absl/status/status.h"
#include "codegen/kernel/element_fn.h"
#include "codegen/kernel/index_math.h"
#include "ir/strings.h"

namespace nyx::kernel {

using B = Builder;

absl::StatusOr<ExprRef> splatValue(const ir::Op &constant) {
  auto tensor = constant.getTensor("value");
  if (!tensor.ok())
    return tensor.status();
  const ir::Tensor &t = **tensor;
  const DType dt = t.dtype();
  const size_t size = ir::dtypeSize(dt);
  for (int64_t i = 1; i < t.numElements(); ++i)
    if (std::memcmp(t.bytes(), t.bytes() + i * size, size) != 0)
      return absl::InvalidArgumentError(
          strCat("'constant' of ", t.type().str(),
                 " has different elements; expected a splat (every element "
                 "equal) in a kernel body"));
  if (t.numElements() == 0)
    return constantFor(dt, 0);
  switch (dt) {
  case DType::F16:
  case DType::BF16: {
    uint16_t bits;
    std::memcpy(&bits, t.bytes(), sizeof bits);
    return B::storedBits(dt, bits);
  }
  case DType::I64:
    return B::i64(t.getInt(0));
  case DType::Bool:
    return B::boolean(t.getInt(0) != 0);
  default: // f32, f64, i32, i8: exact as a double
    return B::constant(dt, t.getDouble(0));
  }
}

FusedValues::FusedValues(const ir::Function &body, const VarExtents &extents,
                         Builder *locals)
    : body_(body), extents_(extents), locals_(locals) {
  for (size_t i = 0; i < body.params.size(); ++i)
    paramIndex_[body.params[i]] = static_cast<int>(i);
  for (const auto &op : body.ops)
    for (const ir::Value *v : op->operands)
      ++uses_[v];
  for (const ir::Value *v : body.returns)
    ++uses_[v];
}

void FusedValues::setAnchor(const ir::Value *anchor, ExprRef value) {
  anchor_ = anchor;
  anchorValue_ = std::move(value);
}

int FusedValues::uses(const ir::Value *v) const {
  auto it = uses_.find(v);
  return it == uses_.end() ? 0 : it->second;
}

std::vector<StmtRef> FusedValues::takeDeclares() {
  return std::exchange(declares_, {});
}

void FusedValues::forget() {
  memo_.clear();
  declares_.clear();
}

static bool isCheap(const Expr &e) {
  return e.kind == Expr::Kind::IntConst || e.kind == Expr::Kind::FloatConst ||
         e.kind == Expr::Kind::VarRef || e.kind == Expr::Kind::Load ||
         (e.kind == Expr::Kind::Cast && e.args[0]->kind != Expr::Kind::Cast &&
          isCheap(*e.args[0]));
}

absl::StatusOr<ExprRef> FusedValues::at(const ir::Value *v,
                                        std::vector<ExprRef> coords) {
  std::string key = strCat(static_cast<const void *>(v));
  for (ExprRef &c : coords) {
    c = simplify(c, extents_);
    key += "|" + exprKey(*c);
  }
  auto it = memo_.find(key);
  if (it != memo_.end())
    return it->second;
  auto value = compute(v, coords);
  if (!value.ok())
    return value.status();
  ExprRef result = *value;
  if (locals_ && v->definingOp && uses(v) > 1 && !isCheap(*result)) {
    Var local = locals_->newVar(result->type, v->name);
    declares_.push_back(B::declare(local, result));
    result = B::ref(local);
  }
  memo_.emplace(std::move(key), result);
  return result;
}

absl::StatusOr<ExprRef>
FusedValues::compute(const ir::Value *v, const std::vector<ExprRef> &coords) {
  if (v == anchor_)
    return storedValue(anchorValue_, v->type.dtype);
  if (auto p = paramIndex_.find(v); p != paramIndex_.end())
    return B::loadStored(p->second, v->type.dtype,
                         simplify(ravel(coords, v->type.shape), extents_));
  const ir::Op *op = v->definingOp;
  if (!op)
    return absl::InvalidArgumentError(
        strCat("value %", v->name, " is not a param of kernel @", body_.name));
  if (op->name() == "constant")
    return splatValue(*op);
  const ElementFn *fn = lookupElementFn(op->name());
  if (!fn)
    return absl::InvalidArgumentError(
        strCat("'", op->name(), "' (%", v->name,
               ") has no element function; expected an elementwise or "
               "injective op"));
  OperandAt operandAt = [this, op](int j, std::vector<ExprRef> c) {
    return at(op->operand(j), std::move(c));
  };
  auto value = (*fn)(*op, coords, operandAt);
  if (!value.ok())
    return value.status();
  return storedValue(*value, v->type.dtype);
}

} // namespace nyx::kernel
