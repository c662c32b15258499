#include "ir/rewrite.h"

#include <algorithm>
#include <cassert>

#include "ir/diagnostic.h"
#include "ir/op_registry.h"
#include "ir/ops/op_helpers.h"
#include "ir/strings.h"
#include "ir/tensor.h"

namespace nyx::ir {

void replaceAllUses(Function &fn, const Value *from, Value *to) {
  for (auto &op : fn.ops)
    std::replace(op->operands.begin(), op->operands.end(),
                 const_cast<Value *>(from), to);
  std::replace(fn.returns.begin(), fn.returns.end(), const_cast<Value *>(from),
               to);
}

bool hasUses(const Function &fn, const Value *v) {
  for (const auto &op : fn.ops)
    if (std::find(op->operands.begin(), op->operands.end(), v) !=
        op->operands.end())
      return true;
  return std::find(fn.returns.begin(), fn.returns.end(), v) != fn.returns.end();
}

void eraseOp(Function &fn, size_t index) {
  assert(index < fn.ops.size());
  for (const Value *r : fn.ops[index]->results) {
    assert(!hasUses(fn, r) && "erasing an op whose result is still used");
    (void)r;
  }
  fn.ops.erase(fn.ops.begin() + static_cast<std::ptrdiff_t>(index));
}

absl::StatusOr<Value *> OpInserter::emit(std::string_view opName,
                                         std::vector<Value *> operands,
                                         Attributes attrs) {
  const OpDef *def = lookupOp(opName);
  if (!def)
    return absl::InternalError(strCat(pass_, ": no op '", opName, "'"));
  Op *op = fn_.insertOp(pos_, def, std::move(operands), std::move(attrs),
                        {TensorType{}}, loc_);
  auto types = def->inferTypes(*op, m_);
  if (!types.ok()) {
    eraseOp(fn_, pos_);
    return absl::InternalError(strCat(pass_, " built an invalid '", opName,
                                      "': ", types.status().message()));
  }
  op->result()->type = (*types)[0];
  ++pos_;
  return op->result();
}

absl::StatusOr<Value *> OpInserter::scalar(DType dtype, double v) {
  auto value = std::make_shared<Tensor>(TensorType{dtype, {}});
  ops::storeRounded(*value, 0, v);
  return emit("constant", {},
              {{"value", std::shared_ptr<const Tensor>(value)}});
}

void retypeFloats(Function &fn, size_t begin,
                  const std::function<DType(DType)> &retype) {
  for (size_t i = begin; i < fn.ops.size(); ++i) {
    Op &op = *fn.ops[i];
    if (op.name() == "constant") {
      auto value = op.getTensor("value");
      if (!value.ok() || !isFloat((*value)->type().dtype))
        continue;
      TensorType type{retype((*value)->type().dtype), (*value)->type().shape};
      Tensor converted(type);
      for (int64_t k = 0; k < converted.numElements(); ++k)
        converted.setDouble(k, (*value)->getDouble(k));
      op.attrs["value"] = std::make_shared<const Tensor>(std::move(converted));
    } else if (op.name() == "cast") {
      auto to = op.getDType("to");
      if (to.ok() && isFloat(*to))
        op.attrs["to"] = retype(*to);
    }
  }
}

absl::StatusOr<std::vector<Value *>>
cloneBody(const Module &module, const Function &src, Function &dst,
          std::map<const Value *, Value *> mapped,
          const std::map<std::string, Value *, std::less<>> &params) {
  for (const auto &op : src.ops) {
    std::vector<Value *> operands;
    for (const Value *v : op->operands)
      operands.push_back(mapped.at(v));
    if (op->name() == "param") {
      auto name = op->getSymbol("name");
      auto it = name.ok() ? params.find(*name) : params.end();
      if (it != params.end()) {
        mapped[op->result()] = it->second;
        continue;
      }
    }
    if (op->name() == "call") {
      auto callee = op->getSymbol("callee");
      const Function *f =
          callee.ok() ? module.lookupFunction(*callee) : nullptr;
      if (!f)
        return errorAt(module.filename, op->loc, "call to an unknown function");
      std::map<const Value *, Value *> args;
      for (size_t i = 0; i < f->params.size(); ++i)
        args[f->params[i]] = operands[i];
      auto results = cloneBody(module, *f, dst, std::move(args), params);
      if (!results.ok())
        return results.status();
      for (size_t i = 0; i < op->results.size(); ++i)
        mapped[op->results[i]] = (*results)[i];
      continue;
    }
    std::vector<TensorType> types;
    std::vector<std::string> names;
    for (const Value *r : op->results) {
      types.push_back(r->type);
      names.push_back(r->name);
    }
    Op *copy = dst.appendOp(op->def, std::move(operands), op->attrs,
                            std::move(types), op->loc, std::move(names));
    for (size_t i = 0; i < op->results.size(); ++i)
      mapped[op->results[i]] = copy->results[i];
  }
  std::vector<Value *> returns;
  for (const Value *v : src.returns)
    returns.push_back(mapped.at(v));
  return returns;
}

} // namespace nyx::ir
