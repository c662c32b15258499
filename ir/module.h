// The graph IR: a module of functions; a function is a list of ops in SSA
// form over tensor values with static types.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "ir/attribute.h"
#include "ir/types.h"

namespace nyx::ir {

struct OpDef;
class Op;
class Function;

// A position in the source text (1-based); line 0 means "no location".
struct Loc {
  int line = 0;
  int col = 0;
  bool known() const { return line > 0; }
};

class Value {
public:
  std::string name; // printed as %name; unique within its function
  TensorType type;
  Op *definingOp = nullptr; // null for a function parameter
  int index = 0;            // result index, or parameter index
};

class Op {
public:
  const OpDef *def = nullptr;
  std::vector<Value *> operands;
  std::vector<Value *> results;
  Attributes attrs;
  Loc loc;

  std::string_view name() const;
  Value *result(int i = 0) const { return results[i]; }
  Value *operand(int i) const { return operands[i]; }
  int numOperands() const { return static_cast<int>(operands.size()); }

  bool has(std::string_view attr) const { return attrs.count(attr) > 0; }
  const Attribute *find(std::string_view attr) const;
  // Typed getters. A missing attribute yields the default; a present one of
  // the wrong kind yields an error naming the attribute and the kind wanted.
  // Ints are accepted where floats are wanted.
  absl::StatusOr<int64_t> getInt(std::string_view attr,
                                 std::optional<int64_t> dflt = {}) const;
  absl::StatusOr<double> getFloat(std::string_view attr,
                                  std::optional<double> dflt = {}) const;
  absl::StatusOr<bool> getBool(std::string_view attr,
                               std::optional<bool> dflt = {}) const;
  absl::StatusOr<std::string>
  getString(std::string_view attr, std::optional<std::string> dflt = {}) const;
  absl::StatusOr<std::vector<int64_t>>
  getInts(std::string_view attr,
          std::optional<std::vector<int64_t>> dflt = {}) const;
  absl::StatusOr<DType> getDType(std::string_view attr) const;
  absl::StatusOr<std::string> getSymbol(std::string_view attr) const;
  absl::StatusOr<std::shared_ptr<const Tensor>>
  getTensor(std::string_view attr) const;
};

class Function {
public:
  explicit Function(std::string name) : name(std::move(name)) {}
  Function(const Function &) = delete;
  Function &operator=(const Function &) = delete;

  std::string name; // printed as @name
  Loc loc;
  // The body of one fused kernel (printed `kernel @name`), called only by
  // `fusion` ops; code generation turns it into a single loop nest.
  bool isKernel = false;
  std::vector<Value *> params;
  std::vector<TensorType> resultTypes; // the declared signature
  std::vector<std::unique_ptr<Op>> ops;
  std::vector<Value *> returns; // operands of `return`
  Loc returnLoc;

  Value *addParam(std::string name, TensorType type);
  // Creates an op at the end of the body with fresh result values named by
  // `resultNames` (generated if empty or shorter than `resultTypes`).
  Op *appendOp(const OpDef *def, std::vector<Value *> operands,
               Attributes attrs, std::vector<TensorType> resultTypes,
               Loc loc = {}, std::vector<std::string> resultNames = {});
  // Like appendOp but inserted before position `pos` in `ops`.
  Op *insertOp(size_t pos, const OpDef *def, std::vector<Value *> operands,
               Attributes attrs, std::vector<TensorType> resultTypes,
               Loc loc = {}, std::vector<std::string> resultNames = {});
  // A name of the form %N that no value of this function has yet.
  std::string freshName();
  // Names `v` `wanted` unless another value has that name (then keeps its
  // own); front ends use it to carry their value names into the IR.
  void renameValue(Value *v, std::string wanted);

private:
  std::string claimName(std::string wanted);
  std::deque<std::unique_ptr<Value>> values_;
  absl::flat_hash_set<std::string> usedNames_;
  int64_t nextName_ = 0;
};

// A named parameter (weight) of the module: `param @fc1.weight : f32[128,784]`.
struct Param {
  std::string name;
  TensorType type;
  Loc loc;
};

class Module {
public:
  std::string name;     // `module @name`; names the generated symbols
  std::string filename; // for diagnostics; may be empty
  std::vector<Param> params;
  std::vector<std::unique_ptr<Function>> functions;

  Function *lookupFunction(std::string_view name) const;
  const Param *lookupParam(std::string_view name) const;
  Function *addFunction(std::string name);
  // The function a compiled model exposes: @main, else the only function
  // that is not a kernel.
  absl::StatusOr<Function *> entry() const;
};

} // namespace nyx::ir
