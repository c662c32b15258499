// Building a module in C++: inputs, named parameters (weights), ops called by
// name with attributes, and the returned values. Every op goes through the
// op registry's shape rule as it is added, exactly as the parser does, so a
// built module is one the parser could have read.
//
//   ir::Builder b("mlp");
//   ir::Value *x = b.input("x", {ir::DType::F32, {32, 784}});
//   ir::Value *w = b.param("fc.weight", {ir::DType::F32, {784, 10}});
//   ir::Value *y = b.op("matmul", {x, w});
//   b.ret({b.op("softmax", {y}, {{"axis", -1}})});
//   absl::StatusOr<std::unique_ptr<ir::Module>> m = b.finish();
//
// The first error is kept and every later call does nothing (returning
// null), so a model reads as straight-line code and checks one status at the
// end, like a stream. The error names the op and the scope it was built in.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/attribute.h"
#include "ir/module.h"

namespace nyx::ir {

// One attribute value, convertible from what a literal in C++ looks like:
// -1, 1e-5, true, "tanh", {2, 2}, DType::F16, a tensor.
class AttrValue {
public:
  AttrValue(int v) : value_(static_cast<int64_t>(v)) {}
  AttrValue(int64_t v) : value_(v) {}
  AttrValue(double v) : value_(v) {}
  AttrValue(bool v) : value_(v) {}
  AttrValue(const char *v) : value_(std::string(v)) {}
  AttrValue(std::string v) : value_(std::move(v)) {}
  AttrValue(std::initializer_list<int64_t> v)
      : value_(std::vector<int64_t>(v)) {}
  AttrValue(std::vector<int64_t> v) : value_(std::move(v)) {}
  AttrValue(std::vector<double> v) : value_(std::move(v)) {}
  AttrValue(DType v) : value_(v) {}
  AttrValue(SymbolRef v) : value_(std::move(v)) {}
  AttrValue(std::shared_ptr<const Tensor> v) : value_(std::move(v)) {}

  const Attribute &value() const { return value_; }

private:
  Attribute value_;
};

struct NamedAttr {
  std::string name;
  AttrValue value;
};

// An op's attributes, written inline as {{"axis", -1}, {"epsilon", 1e-5}}.
class Attrs {
public:
  Attrs() = default;
  Attrs(std::initializer_list<NamedAttr> attrs);
  Attrs(Attributes attrs) : attrs_(std::move(attrs)) {}
  const Attributes &map() const { return attrs_; }

private:
  Attributes attrs_;
};

class Builder {
public:
  // A new module `moduleName` with one function, `functionName`, to build.
  explicit Builder(std::string moduleName, std::string functionName = "main");
  // Appends to `fn`, an existing function of `module` (a pass adding ops,
  // such as autodiff). finish() does not apply; check status() instead.
  Builder(Module &module, Function &fn);

  // Adds a parameter (an input) to the function.
  Value *input(std::string name, TensorType type);
  // Declares the module parameter `<scope>.<name>` (a weight) and returns
  // the value a `param` op reads from it. Declaring one name twice is an
  // error unless the types agree, so layers may share a weight.
  Value *param(std::string_view name, TensorType type);
  // A `constant` op holding `value`.
  Value *constant(Tensor value);
  // A rank-0 constant of `dtype` (a float dtype) holding `v`.
  Value *scalar(double v, DType dtype = DType::F32);

  // Appends op `opName` with its result types from the registry's shape
  // rule. `resultName` names the result (%name) when not empty and not
  // taken. Returns null (and keeps the error) when the op is unknown, an
  // operand is null, the shape rule rejects the operands or attributes, or
  // an earlier call failed.
  Value *op(std::string_view opName, std::vector<Value *> operands,
            const Attrs &attrs = {}, std::string resultName = {});
  // Names `v` (%name) `name` unless another value has it.
  void rename(Value *v, std::string name);
  // Ends the function: returns `values`, whose types become its declared
  // result types.
  void ret(std::vector<Value *> values);

  // Parameter names declared inside a scope get `<name>.` in front; scopes
  // nest, and an empty name adds nothing. Error messages name the innermost
  // scope.
  class Scope {
  public:
    Scope(Builder &b, std::string_view name);
    ~Scope();
    Scope(const Scope &) = delete;
    Scope &operator=(const Scope &) = delete;

  private:
    Builder &b_;
    size_t previousLength_;
  };
  // `{auto s = b.scope("layer1"); ...}`
  [[nodiscard]] Scope scope(std::string_view name) {
    return Scope(*this, name);
  }

  // The full name a parameter `name` gets in the current scope.
  std::string scopedName(std::string_view name) const;

  bool ok() const { return status_.ok(); }
  const absl::Status &status() const { return status_; }
  // Records an error of the caller's (a layer that checks its own
  // arguments); like an op error, only the first one is kept.
  void fail(std::string message);

  // The module so far (to read shapes while building).
  const Module &module() const { return *module_; }
  Function &function() const { return *fn_; }
  // The source location the ops appended from now on carry (a pass gives
  // the ops it derives from one op that op's location).
  void setLoc(Loc loc) { loc_ = loc; }

  // The module, verified, or the first error. The builder is spent after.
  absl::StatusOr<std::unique_ptr<Module>> finish();

private:
  std::vector<Value *> append(std::string_view opName,
                              std::vector<Value *> operands, const Attrs &attrs,
                              std::vector<std::string> names);

  std::unique_ptr<Module> owned_; // null when appending to a given module
  Module *module_;
  Function *fn_;
  Loc loc_;
  std::string scope_;
  bool returned_ = false;
  absl::Status status_;
};

} // namespace nyx::ir
