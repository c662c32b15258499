// Small graph edits shared by passes.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/module.h"

namespace nyx::ir {

// Makes every use of `from` in `fn` (operands and returns) use `to`.
void replaceAllUses(Function &fn, const Value *from, Value *to);
// Removes the op at `index`; its results must have no remaining uses.
void eraseOp(Function &fn, size_t index);
// True if any op or return of `fn` uses `v`.
bool hasUses(const Function &fn, const Value *v);

// Rewrites the dtype of the float `constant`s (their values converted) and
// of the float targets of `cast`s among fn's ops from `begin` on: a float
// dtype t becomes retype(t). Result types are left to the caller to
// re-infer (the shape-infer pass), once the operands have changed too.
void retypeFloats(Function &fn, size_t begin,
                  const std::function<DType(DType)> &retype);

// Copies the ops of `src` (a function of `module`) to the end of `dst`,
// which may belong to another module, with src's params replaced as
// `mapped` says and every call inlined. A `param` op whose name `params`
// maps is replaced by that value instead of copied. Returns the values
// `src` returns, as copied.
absl::StatusOr<std::vector<Value *>>
cloneBody(const Module &module, const Function &src, Function &dst,
          std::map<const Value *, Value *> mapped,
          const std::map<std::string, Value *, std::less<>> &params = {});

} // namespace nyx::ir
