#include "ir/builder.h"

#include <algorithm>

#include "ir/op_registry.h"
#include "ir/status_macros.h"
#include "ir/strings.h"
#include "ir/verifier.h"

namespace nyx::ir {

Attrs::Attrs(std::initializer_list<NamedAttr> attrs) {
  for (const NamedAttr &a : attrs)
    attrs_[a.name] = a.value.value();
}

Builder::Builder(std::string moduleName, std::string functionName)
    : owned_(std::make_unique<Module>()), module_(owned_.get()) {
  module_->name = std::move(moduleName);
  fn_ = module_->addFunction(std::move(functionName));
}

Builder::Builder(Module &module, Function &fn) : module_(&module), fn_(&fn) {}

Builder::Scope::Scope(Builder &b, std::string_view name)
    : b_(b), previousLength_(b.scope_.size()) {
  if (!name.empty())
    b_.scope_ = b_.scopedName(name);
}

Builder::Scope::~Scope() { b_.scope_.resize(previousLength_); }

std::string Builder::scopedName(std::string_view name) const {
  return scope_.empty() ? std::string(name) : strCat(scope_, ".", name);
}

void Builder::fail(std::string message) {
  if (!status_.ok())
    return;
  std::string where = strCat("@", fn_->name);
  if (!scope_.empty())
    where += strCat(" (in ", scope_, ")");
  status_ = absl::InvalidArgumentError(strCat(where, ": ", message));
}

Value *Builder::input(std::string name, TensorType type) {
  if (!ok())
    return nullptr;
  if (returned_) {
    fail(strCat("input %", name, " added after the return"));
    return nullptr;
  }
  if (absl::Status s = checkTensorType(type); !s.ok()) {
    fail(strCat("input %", name, ": ", std::string(s.message())));
    return nullptr;
  }
  return fn_->addParam(std::move(name), std::move(type));
}

Value *Builder::param(std::string_view name, TensorType type) {
  if (!ok())
    return nullptr;
  std::string full = scopedName(name);
  if (const Param *p = module_->lookupParam(full)) {
    if (!(p->type == type)) {
      fail(strCat("param @", full, " is declared as ", p->type.str(),
                  "; it is asked for again as ", type.str(),
                  ", expected the same type"));
      return nullptr;
    }
  } else {
    if (absl::Status s = checkTensorType(type); !s.ok()) {
      fail(strCat("param @", full, ": ", std::string(s.message())));
      return nullptr;
    }
    module_->params.push_back(Param{full, type, {}});
  }
  return op("param", {}, {{"name", SymbolRef{full}}}, full);
}

Value *Builder::constant(Tensor value) {
  if (!ok())
    return nullptr;
  if (absl::Status s = checkConstantType(value.type()); !s.ok()) {
    fail(strCat("constant: ", std::string(s.message())));
    return nullptr;
  }
  return op("constant", {},
            {{"value", std::make_shared<const Tensor>(std::move(value))}});
}

Value *Builder::scalar(double v, DType dtype) {
  if (!isFloat(dtype)) {
    fail(strCat("scalar ", v, " of dtype ", dtypeName(dtype),
                "; expected a float dtype"));
    return nullptr;
  }
  Tensor t(TensorType{dtype, {}});
  t.setDouble(0, v);
  return constant(std::move(t));
}

Value *Builder::op(std::string_view opName, std::vector<Value *> operands,
                   const Attrs &attrs, std::string resultName) {
  std::vector<std::string> names;
  if (!resultName.empty())
    names.push_back(std::move(resultName));
  std::vector<Value *> results =
      append(opName, std::move(operands), attrs, std::move(names));
  if (!ok())
    return nullptr;
  if (results.size() != 1) {
    fail(strCat("'", opName, "' produces ", results.size(),
                " results; expected one"));
    return nullptr;
  }
  return results[0];
}

std::vector<Value *> Builder::append(std::string_view opName,
                                     std::vector<Value *> operands,
                                     const Attrs &attrs,
                                     std::vector<std::string> names) {
  if (!ok())
    return {};
  if (returned_) {
    fail(strCat("'", opName, "' added after the return"));
    return {};
  }
  if (std::find(operands.begin(), operands.end(), nullptr) != operands.end()) {
    fail(strCat("'", opName, "' has a null operand"));
    return {};
  }
  const OpDef *def = lookupOp(opName);
  if (!def) {
    fail(strCat("unknown op '", opName, "'"));
    return {};
  }
  int n = static_cast<int>(operands.size());
  if (n < def->minOperands || (def->maxOperands >= 0 && n > def->maxOperands)) {
    fail(strCat("'", opName, "' takes ", def->minOperands,
                def->maxOperands == def->minOperands ? ""
                : def->maxOperands < 0               ? " or more"
                                       : strCat(" to ", def->maxOperands),
                " operands; found ", n));
    return {};
  }
  if (!def->inferTypes) {
    fail(strCat("'", opName, "' has no shape rule"));
    return {};
  }
  Op probe;
  probe.def = def;
  probe.operands = operands;
  probe.attrs = attrs.map();
  auto types = def->inferTypes(probe, *module_);
  if (!types.ok()) {
    fail(std::string(types.status().message()));
    return {};
  }
  for (const TensorType &t : *types)
    if (absl::Status s = checkTensorType(t); !s.ok()) {
      fail(strCat("'", opName, "' result: ", std::string(s.message())));
      return {};
    }
  // A name already taken in the function gets a fresh one instead.
  Op *op = fn_->appendOp(def, std::move(operands), attrs.map(),
                         std::move(*types), loc_, std::move(names));
  return op->results;
}

void Builder::rename(Value *v, std::string name) {
  if (v)
    fn_->renameValue(v, std::move(name));
}

void Builder::ret(std::vector<Value *> values) {
  if (!ok())
    return;
  if (returned_) {
    fail("the function returns twice");
    return;
  }
  if (std::find(values.begin(), values.end(), nullptr) != values.end()) {
    fail("return has a null value");
    return;
  }
  fn_->resultTypes.clear();
  for (const Value *v : values)
    fn_->resultTypes.push_back(v->type);
  fn_->returns = std::move(values);
  returned_ = true;
}

absl::StatusOr<std::unique_ptr<Module>> Builder::finish() {
  if (!owned_)
    return absl::FailedPreconditionError("the builder was already finished");
  if (ok() && !returned_)
    fail("no return; expected ret() before finish()");
  if (!ok())
    return status_;
  NYX_RETURN_IF_ERROR(verifyModule(*module_));
  module_ = nullptr;
  return std::move(owned_);
}

} // namespace nyx::ir
