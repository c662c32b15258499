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

// Inserts ops into `fn` at a position, one after the other, each typed by
// its shape rule: for passes that rewrite an op into several. An op the
// shape rule rejects is not inserted, and the error names `pass` (it is a
// bug in the pass, not in the input).
class OpInserter {
public:
  OpInserter(const Module &m, Function &fn, size_t pos, Loc loc,
             std::string pass)
      : m_(m), fn_(fn), pos_(pos), loc_(loc), pass_(std::move(pass)) {}

  absl::StatusOr<Value *> emit(std::string_view opName,
                               std::vector<Value *> operands,
                               Attributes attrs = {});
  // A rank-0 `constant` of `dtype` holding `v` (rounded once).
  absl::StatusOr<Value *> scalar(DType dtype, double v);
  // Where the next op goes, and the location it gets.
  size_t pos() const { return pos_; }
  void setLoc(Loc loc) { loc_ = loc; }

private:
  const Module &m_;
  Function &fn_;
  size_t pos_;
  Loc loc_;
  std::string pass_;
};

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
