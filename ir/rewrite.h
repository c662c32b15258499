// Small graph edits shared by passes.
#pragma once

#include "ir/module.h"

namespace nyx::ir {

// Makes every use of `from` in `fn` (operands and returns) use `to`.
void replaceAllUses(Function &fn, const Value *from, Value *to);
// Removes the op at `index`; its results must have no remaining uses.
void eraseOp(Function &fn, size_t index);
// True if any op or return of `fn` uses `v`.
bool hasUses(const Function &fn, const Value *v);

} // namespace nyx::ir
