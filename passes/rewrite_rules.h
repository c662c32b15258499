// Peephole rewrites written as data: a rule is a pattern over the ops that
// feed one root op, an optional guard, and a replacement for the root's
// result. A driver applies a table of rules to every op of a function until
// none applies. canonicalize.cc holds the table.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/module.h"
#include "passes/pass.h"

namespace nyx::passes::rewrite {

// What a pattern bound while matching: values by name, and for op patterns
// given a name, the op that defined the value.
class Match {
public:
  Match(const ir::Module &module, ir::Op &root)
      : module_(module), root_(root) {}

  const ir::Module &module() const { return module_; }
  ir::Op &root() const { return root_; }
  const ir::TensorType &rootType() const { return root_.result()->type; }
  // The value bound to `name`; the pattern guarantees it exists.
  ir::Value *operator[](std::string_view name) const;
  // The op whose result is bound to `name`.
  const ir::Op &op(std::string_view name) const;
  // The tensor of the constant bound to `name` (a splat pattern).
  const ir::Tensor &tensor(std::string_view name) const;

  // Used by Pattern while matching.
  ir::Value *find(std::string_view name) const;
  void bind(std::string_view name, ir::Value *v) {
    bound_.push_back({name, v});
  }
  size_t mark() const { return bound_.size(); }
  void undo(size_t mark) { bound_.resize(mark); }

private:
  const ir::Module &module_;
  ir::Op &root_;
  std::vector<std::pair<std::string_view, ir::Value *>> bound_;
};

// A test of the one element value a splat constant repeats.
using ElementTest = bool (*)(const ir::Tensor &t);

// A pattern matches a value. Build them with the functions below:
//   op("sub", {any("x"), any("x")})          x - x (both operands the same)
//   op("mul", {any("x"), splat("c", isOne)}) x * 1
class Pattern {
public:
  enum class Kind { Any, Op, Splat, AnyOp };

  bool match(ir::Value *v, Match &m) const;

  Kind kind() const { return kind_; }
  // The op name a root `op(...)` pattern requires ("" for any op).
  std::string_view rootOpName() const { return opName_; }

private:
  friend Pattern any(std::string_view);
  friend Pattern op(std::string_view, std::vector<Pattern>, std::string_view);
  friend Pattern splat(std::string_view, ElementTest);
  friend Pattern opWhere(std::string_view, bool (*)(const ir::Op &));

  bool matchOperands(const ir::Op &op, Match &m, bool swapped) const;

  Kind kind_ = Kind::Any;
  std::string_view name_;   // binding; "" binds nothing
  std::string_view opName_; // Kind::Op
  std::vector<Pattern> operands_;
  ElementTest test_ = nullptr;               // Kind::Splat
  bool (*opTest_)(const ir::Op &) = nullptr; // Kind::AnyOp
};

// Any value. The same name bound twice must be the same value.
Pattern any(std::string_view name);
// A value defined by op `opName` whose operands match `operands` in order
// (in either order when the op is commutative). `name` binds the value.
Pattern op(std::string_view opName, std::vector<Pattern> operands,
           std::string_view name = {});
// A `constant` whose elements (at least one) all have the same bits and
// pass `test` (called on the tensor; look at element 0).
Pattern splat(std::string_view name, ElementTest test);
// A value defined by any op passing `test`, operands not looked at.
Pattern opWhere(std::string_view name, bool (*test)(const ir::Op &));

// Creates the ops of a replacement, each right before the root.
class Builder {
public:
  Builder(const ir::Module &module, ir::Function &fn, size_t pos, ir::Loc loc)
      : module_(module), fn_(fn), pos_(pos), loc_(loc) {}

  // `opName(operands) {attrs}` with its result types from the op's shape
  // rule; an error says which op the shape rule refused.
  absl::StatusOr<ir::Value *> op(std::string_view opName,
                                 std::vector<ir::Value *> operands,
                                 ir::Attributes attrs = {});
  ir::Value *constant(ir::Tensor value);
  // A value of type `type` whose every element is element 0 of `element`
  // (same dtype): a constant when it takes at most `maxBytes`, else a
  // broadcast_to of a one-element constant.
  absl::StatusOr<ir::Value *> splatOf(const ir::TensorType &type,
                                      const ir::Tensor &element,
                                      size_t maxBytes);

  size_t inserted() const { return inserted_; }

private:
  const ir::Module &module_;
  ir::Function &fn_;
  size_t pos_;
  ir::Loc loc_;
  size_t inserted_ = 0;
};

using Replacement =
    std::function<absl::StatusOr<ir::Value *>(const Match &, Builder &)>;

struct Rule {
  std::string_view name; // counted as "<prefix>.<name>", see below
  Pattern pattern;       // rooted at an op pattern
  // Extra conditions on what matched (dtypes, shapes); null means none.
  std::function<bool(const Match &)> guard;
  // The value that replaces the root's result. It must have the root's
  // type; a null value means the rule does not apply after all.
  Replacement replace;
};

// Replaces the root by the value bound to `name`.
Replacement bound(std::string_view name);

// Applies `rules` to every single-result op of `fn`, sweeping forward until
// a sweep changes nothing; `beforeSweep` (may be null) runs first in every
// sweep and says whether it changed anything. Roots that were replaced, and
// the ops feeding them that lost their last use, are erased; ops that were
// unused before are left alone. A replacement made of new ops takes the
// root's value name. Counts each applied rule in `options` as
// "<prefix>.<rule name>" and returns the number of rewrites.
absl::StatusOr<int64_t>
rewriteToFixpoint(const ir::Module &module, ir::Function &fn,
                  std::span<const Rule> rules, const Options &options,
                  std::string_view prefix,
                  const std::function<bool(ir::Function &)> &beforeSweep);

// The canonicalize pass's table (canonicalize.cc), for its tests.
std::span<const Rule> canonicalizationRules();

} // namespace nyx::passes::rewrite
