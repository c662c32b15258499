#include "ir/rewrite.h"

#include <algorithm>
#include <cassert>

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

} // namespace nyx::ir
