#include "ir/module.h"

#include "absl/status/status.h"
#include "ir/op_registry.h"
#include "ir/strings.h"

namespace nyx::ir {

std::string_view Op::name() const { return def->name; }

const Attribute *Op::find(std::string_view attr) const {
  auto it = attrs.find(attr);
  return it == attrs.end() ? nullptr : &it->second;
}

template <class T, class D>
static absl::StatusOr<T> getAttr(const Op &op, std::string_view attr,
                                 const std::optional<D> &dflt,
                                 std::string_view kind) {
  const Attribute *a = op.find(attr);
  if (!a) {
    if (dflt)
      return T(*dflt);
    return absl::InvalidArgumentError(
        strCat("'", op.name(), "' needs attribute '", attr, "' (", kind, ")"));
  }
  if (const T *v = std::get_if<T>(a))
    return *v;
  return absl::InvalidArgumentError(
      strCat("attribute '", attr, "' of '", op.name(), "' must be ", kind));
}

absl::StatusOr<int64_t> Op::getInt(std::string_view attr,
                                   std::optional<int64_t> dflt) const {
  return getAttr<int64_t>(*this, attr, dflt, "an integer");
}

absl::StatusOr<double> Op::getFloat(std::string_view attr,
                                    std::optional<double> dflt) const {
  if (const Attribute *a = find(attr))
    if (const int64_t *i = std::get_if<int64_t>(a))
      return static_cast<double>(*i);
  return getAttr<double>(*this, attr, dflt, "a float");
}

absl::StatusOr<bool> Op::getBool(std::string_view attr,
                                 std::optional<bool> dflt) const {
  return getAttr<bool>(*this, attr, dflt, "true or false");
}

absl::StatusOr<std::string>
Op::getString(std::string_view attr, std::optional<std::string> dflt) const {
  return getAttr<std::string>(*this, attr, dflt, "a string");
}

absl::StatusOr<std::vector<int64_t>>
Op::getInts(std::string_view attr,
            std::optional<std::vector<int64_t>> dflt) const {
  return getAttr<std::vector<int64_t>>(*this, attr, dflt, "a list of integers");
}

absl::StatusOr<DType> Op::getDType(std::string_view attr) const {
  return getAttr<DType>(*this, attr, std::optional<DType>(), "an element type");
}

absl::StatusOr<std::string> Op::getSymbol(std::string_view attr) const {
  auto s = getAttr<SymbolRef>(*this, attr, std::optional<SymbolRef>(),
                              "a symbol (@name)");
  if (!s.ok())
    return s.status();
  return s->name;
}

absl::StatusOr<std::shared_ptr<const Tensor>>
Op::getTensor(std::string_view attr) const {
  return getAttr<std::shared_ptr<const Tensor>>(
      *this, attr, std::optional<std::shared_ptr<const Tensor>>(),
      "a tensor (dense<...>)");
}

Value *Function::addParam(std::string name, TensorType type) {
  auto v = std::make_unique<Value>();
  v->name = claimName(std::move(name));
  v->type = std::move(type);
  v->index = static_cast<int>(params.size());
  params.push_back(v.get());
  values_.push_back(std::move(v));
  return params.back();
}

std::string Function::freshName() {
  std::string name;
  do
    name = strCat(nextName_++);
  while (usedNames_.contains(name));
  return name;
}

void Function::renameValue(Value *v, std::string wanted) {
  if (wanted.empty() || usedNames_.contains(wanted))
    return;
  usedNames_.insert(wanted);
  v->name = std::move(wanted);
}

// Names given by the text are kept (the parser rejects duplicates first);
// an empty or taken name gets a fresh one.
std::string Function::claimName(std::string wanted) {
  if (wanted.empty() || usedNames_.contains(wanted))
    wanted = freshName();
  usedNames_.insert(wanted);
  return wanted;
}

Op *Function::appendOp(const OpDef *def, std::vector<Value *> operands,
                       Attributes attrs, std::vector<TensorType> resultTypes,
                       Loc loc, std::vector<std::string> resultNames) {
  return insertOp(ops.size(), def, std::move(operands), std::move(attrs),
                  std::move(resultTypes), loc, std::move(resultNames));
}

Op *Function::insertOp(size_t pos, const OpDef *def,
                       std::vector<Value *> operands, Attributes attrs,
                       std::vector<TensorType> resultTypes, Loc loc,
                       std::vector<std::string> resultNames) {
  auto op = std::make_unique<Op>();
  op->def = def;
  op->operands = std::move(operands);
  op->attrs = std::move(attrs);
  op->loc = loc;
  for (size_t i = 0; i < resultTypes.size(); ++i) {
    auto v = std::make_unique<Value>();
    v->name = claimName(i < resultNames.size() ? std::move(resultNames[i])
                                               : std::string());
    v->type = std::move(resultTypes[i]);
    v->definingOp = op.get();
    v->index = static_cast<int>(i);
    op->results.push_back(v.get());
    values_.push_back(std::move(v));
  }
  Op *raw = op.get();
  ops.insert(ops.begin() + static_cast<std::ptrdiff_t>(pos), std::move(op));
  return raw;
}

Function *Module::lookupFunction(std::string_view name) const {
  for (const auto &f : functions)
    if (f->name == name)
      return f.get();
  return nullptr;
}

const Param *Module::lookupParam(std::string_view name) const {
  for (const auto &p : params)
    if (p.name == name)
      return &p;
  return nullptr;
}

Function *Module::addFunction(std::string name) {
  functions.push_back(std::make_unique<Function>(std::move(name)));
  return functions.back().get();
}

absl::StatusOr<Function *> Module::entry() const {
  if (Function *f = lookupFunction("main"))
    return f;
  std::vector<Function *> candidates;
  for (const auto &f : functions)
    if (!f->isKernel)
      candidates.push_back(f.get());
  if (candidates.size() == 1)
    return candidates.front();
  return absl::InvalidArgumentError(
      functions.empty()    ? "the module has no functions"
      : candidates.empty() ? "the module has only kernel functions; expected "
                             "a func to compile"
                           : "the module has several functions and none is "
                             "named @main; pick one with --entry");
}

} // namespace nyx::ir
