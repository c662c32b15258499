#include "passes/autodiff.h"

#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "ir/diagnostic.h"
#include "ir/grad/grad_helpers.h"
#include "ir/op_registry.h"
#include "ir/rewrite.h"
#include "ir/status_macros.h"
#include "ir/strings.h"

namespace nyx::passes {
namespace {

using ir::Value;
using ValueMap = std::map<const Value *, Value *>;

// A new function @name with f's params, holding a copy of f's body.
struct Clone {
  ir::Function *fn = nullptr;
  std::vector<Value *> returns;
};

absl::StatusOr<Clone> cloneFunction(ir::Module &m, const ir::Function &f,
                                    const std::string &name) {
  if (m.lookupFunction(name))
    return ir::errorAt(m.filename, f.loc,
                       strCat("the module already has a function @", name));
  if (f.isKernel)
    return ir::errorAt(
        m.filename, f.loc,
        strCat("@", f.name, " is a kernel function; expected a func"));
  ir::Function *fn = m.addFunction(name);
  fn->loc = f.loc;
  fn->returnLoc = f.returnLoc;
  ValueMap mapped;
  for (const Value *p : f.params)
    mapped[p] = fn->addParam(p->name, p->type);
  auto returns = ir::cloneBody(m, f, *fn, std::move(mapped));
  if (!returns.ok())
    return returns.status();
  return Clone{fn, std::move(*returns)};
}

void finishFunction(ir::Function &fn, std::vector<Value *> returns) {
  fn.resultTypes.clear();
  for (const Value *v : returns)
    fn.resultTypes.push_back(v->type);
  fn.returns = std::move(returns);
}

absl::Status checkScalarResult(const ir::Module &m, const ir::Function &f) {
  if (f.returns.empty())
    return ir::errorAt(m.filename, f.returnLoc,
                       strCat("@", f.name,
                              " returns nothing; the gradient "
                              "needs a float scalar result"));
  const ir::TensorType &t =
      f.resultTypes.empty() ? f.returns[0]->type : f.resultTypes[0];
  if (!ir::isFloat(t.dtype) || t.numElements() != 1 || f.returns.size() != 1)
    return ir::errorAt(
        m.filename, f.returnLoc,
        strCat("@", f.name, " returns ",
               f.returns.size() == 1 ? t.str()
                                     : strCat(f.returns.size(), " values"),
               "; the gradient needs one float scalar result (use the "
               "jacobian of a non-scalar result)"));
  return absl::OkStatus();
}

absl::Status checkInput(const ir::Module &m, const ir::Function &f, int input) {
  if (input < 0 || input >= static_cast<int>(f.params.size()))
    return ir::errorAt(m.filename, f.loc,
                       strCat("@", f.name, " has ", f.params.size(),
                              " inputs; input ", input, " does not exist"));
  const Value *p = f.params[input];
  if (!ir::isFloat(p->type.dtype))
    return ir::errorAt(m.filename, f.loc,
                       strCat("cannot differentiate @", f.name,
                              " with respect to %", p->name, " of type ",
                              p->type.str(), "; expected a float input"));
  return absl::OkStatus();
}

Value *onesLike(ir::Builder &b, const Value *v) {
  return ir::grad::filled(b, v->type, 1.0);
}

std::string valueList(const std::vector<std::vector<Value *>> &wrt) {
  std::vector<std::string> names;
  for (const auto &group : wrt)
    if (!group.empty())
      names.push_back("%" + group[0]->name);
  return strJoin(names, ", ");
}

} // namespace

absl::StatusOr<std::vector<Value *>>
reverseMode(ir::Module &m, ir::Function &fn, size_t end, Value *output,
            Value *seed, const std::vector<std::vector<Value *>> &wrt) {
  // Values that depend on a wrt value: only their producers need gradients.
  absl::flat_hash_set<const Value *> active;
  for (const auto &group : wrt)
    for (const Value *v : group)
      active.insert(v);
  for (size_t i = 0; i < end; ++i) {
    const ir::Op &op = *fn.ops[i];
    bool any = false;
    for (const Value *v : op.operands)
      any |= active.contains(v);
    if (any)
      for (const Value *r : op.results)
        if (ir::isFloat(r->type.dtype))
          active.insert(r);
  }

  ir::Builder b(m, fn);
  absl::flat_hash_map<const Value *, Value *> grads;
  grads[output] = seed;
  for (size_t i = end; i-- > 0;) {
    const ir::Op &op = *fn.ops[i];
    std::vector<Value *> resultGrads;
    bool reached = false;
    for (const Value *r : op.results) {
      auto it = grads.find(r);
      resultGrads.push_back(it == grads.end() ? nullptr : it->second);
      reached |= it != grads.end();
    }
    bool needed = false;
    for (const Value *v : op.operands)
      needed |= active.contains(v);
    if (!reached || !needed || op.def->zeroGradient)
      continue;
    if (!op.def->grad)
      return ir::errorAt(m.filename, op.loc,
                         strCat("'", op.name(),
                                "' is not differentiable; the gradient of @",
                                fn.name, "'s result with respect to ",
                                valueList(wrt), " flows through it"));
    std::vector<Value *> operandGrads(op.operands.size(), nullptr);
    b.setLoc(op.loc);
    absl::Status s = op.def->grad(b, op, resultGrads, operandGrads);
    if (s.ok())
      s = b.status();
    if (!s.ok())
      return ir::errorAt(
          m.filename, op.loc,
          strCat("gradient of '", op.name(), "': ", std::string(s.message())));
    for (size_t k = 0; k < op.operands.size(); ++k) {
      Value *operand = op.operands[k];
      Value *g = operandGrads[k];
      if (!g || !active.contains(operand))
        continue;
      if (!(g->type == operand->type))
        return ir::errorAt(
            m.filename, op.loc,
            strCat("the gradient rule of '", op.name(), "' gives operand ", k,
                   " (", operand->type.str(), ") a gradient of type ",
                   g->type.str(), "; expected the operand's type"));
      auto [it, inserted] = grads.try_emplace(operand, g);
      if (!inserted)
        it->second = b.op("add", {it->second, g});
    }
    if (!b.ok())
      return b.status();
  }

  std::vector<Value *> result;
  for (const auto &group : wrt) {
    Value *sum = nullptr;
    for (const Value *v : group) {
      auto it = grads.find(v);
      if (it == grads.end())
        continue;
      sum = sum ? b.op("add", {sum, it->second}) : it->second;
    }
    if (!sum && !group.empty())
      sum = ir::grad::filled(b, group[0]->type, 0.0);
    result.push_back(sum);
  }
  if (!b.ok())
    return b.status();
  return result;
}

absl::StatusOr<ir::Function *> addGradFunction(ir::Module &m,
                                               const ir::Function &f,
                                               const Wrt &wrt,
                                               const std::string &name) {
  NYX_RETURN_IF_ERROR(checkScalarResult(m, f));
  std::vector<int> inputs = wrt.inputs;
  if (wrt.all) {
    inputs.clear();
    for (size_t i = 0; i < f.params.size(); ++i)
      if (ir::isFloat(f.params[i]->type.dtype))
        inputs.push_back(static_cast<int>(i));
  }
  for (int i : inputs)
    NYX_RETURN_IF_ERROR(checkInput(m, f, i));

  auto clone = cloneFunction(m, f, name);
  if (!clone.ok())
    return clone.status();
  ir::Function &fn = *clone->fn;
  size_t end = fn.ops.size();

  // Params by name, in the order wanted (all: first use in the body).
  std::vector<std::string> params = wrt.params;
  std::map<std::string, std::vector<Value *>, std::less<>> paramValues;
  for (size_t i = 0; i < end; ++i) {
    const ir::Op &op = *fn.ops[i];
    if (op.name() != "param")
      continue;
    auto pname = op.getSymbol("name");
    if (!pname.ok())
      return ir::errorAt(m.filename, op.loc,
                         std::string(pname.status().message()));
    auto &values = paramValues[*pname];
    if (values.empty() && wrt.all && ir::isFloat(op.result()->type.dtype))
      params.push_back(*pname);
    values.push_back(op.result());
  }
  std::vector<std::vector<Value *>> groups;
  for (int i : inputs)
    groups.push_back({fn.params[i]});
  for (const std::string &p : params) {
    const ir::Param *decl = m.lookupParam(p);
    if (!decl)
      return ir::errorAt(m.filename, f.loc,
                         strCat("no param @", p, " to differentiate by"));
    if (!ir::isFloat(decl->type.dtype))
      return ir::errorAt(m.filename, decl->loc,
                         strCat("cannot differentiate with respect to param @",
                                p, " of type ", decl->type.str(),
                                "; expected a float param"));
    auto it = paramValues.find(p);
    if (it == paramValues.end()) {
      // Not read by f: its gradient is zero, but it needs a value of its
      // type to be zero-filled from.
      ir::Builder b(m, fn);
      groups.push_back({b.op("param", {}, {{"name", ir::SymbolRef{p}}})});
      continue;
    }
    groups.push_back(it->second);
  }

  Value *output = clone->returns[0];
  ir::Builder b(m, fn);
  b.setLoc(f.returnLoc);
  Value *seed = onesLike(b, output);
  if (!b.ok())
    return b.status();
  auto grads = reverseMode(m, fn, end, output, seed, groups);
  if (!grads.ok())
    return grads.status();
  std::vector<Value *> returns = {output};
  returns.insert(returns.end(), grads->begin(), grads->end());
  finishFunction(fn, std::move(returns));
  return &fn;
}

namespace {

// Appends the Jacobian of `output` with respect to `x` to `fn`, whose ops
// before `end` compute `output`: one reverse pass per output element.
absl::StatusOr<Value *> jacobian(ir::Module &m, ir::Function &fn, size_t end,
                                 Value *output, Value *x) {
  int64_t rows = output->type.numElements();
  if (rows > kMaxJacobianRows)
    return ir::errorAt(
        m.filename, fn.returnLoc,
        strCat("the Jacobian of a result of ", rows, " elements needs ", rows,
               " reverse passes; at most ", kMaxJacobianRows, " are built"));
  ir::Builder b(m, fn);
  b.setLoc(fn.returnLoc);
  std::vector<Value *> parts;
  int64_t cols = x->type.numElements();
  for (int64_t i = 0; i < rows; ++i) {
    ir::Tensor basis(output->type);
    basis.setDouble(i, 1.0);
    Value *seed = b.constant(std::move(basis));
    if (!b.ok())
      return b.status();
    auto g = reverseMode(m, fn, end, output, seed, {{x}});
    if (!g.ok())
      return g.status();
    parts.push_back(b.op("reshape", {(*g)[0]}, {{"shape", {1, cols}}}));
  }
  Value *stacked =
      parts.size() == 1 ? parts[0] : b.op("concat", parts, {{"axis", 0}});
  ir::Shape shape = output->type.shape;
  shape.insert(shape.end(), x->type.shape.begin(), x->type.shape.end());
  Value *result = b.op("reshape", {stacked}, {{"shape", shape}});
  if (!b.ok())
    return b.status();
  return result;
}

} // namespace

absl::StatusOr<ir::Function *> addJacobianFunction(ir::Module &m,
                                                   const ir::Function &f,
                                                   int input,
                                                   const std::string &name) {
  NYX_RETURN_IF_ERROR(checkInput(m, f, input));
  if (f.returns.empty() || !ir::isFloat(f.returns[0]->type.dtype))
    return ir::errorAt(
        m.filename, f.returnLoc,
        strCat("@", f.name, " has no float result to take the Jacobian of"));
  auto clone = cloneFunction(m, f, name);
  if (!clone.ok())
    return clone.status();
  ir::Function &fn = *clone->fn;
  auto j = jacobian(m, fn, fn.ops.size(), clone->returns[0], fn.params[input]);
  if (!j.ok())
    return j.status();
  finishFunction(fn, {*j});
  return &fn;
}

// The gradient of f's scalar result w.r.t. input `input`, appended to a
// clone of f named `name`.
static absl::StatusOr<std::pair<ir::Function *, Value *>>
cloneWithGradient(ir::Module &m, const ir::Function &f, int input,
                  const std::string &name) {
  NYX_RETURN_IF_ERROR(checkScalarResult(m, f));
  NYX_RETURN_IF_ERROR(checkInput(m, f, input));
  auto clone = cloneFunction(m, f, name);
  if (!clone.ok())
    return clone.status();
  ir::Function &fn = *clone->fn;
  size_t end = fn.ops.size();
  ir::Builder b(m, fn);
  b.setLoc(f.returnLoc);
  Value *seed = onesLike(b, clone->returns[0]);
  if (!b.ok())
    return b.status();
  auto g =
      reverseMode(m, fn, end, clone->returns[0], seed, {{fn.params[input]}});
  if (!g.ok())
    return g.status();
  return std::make_pair(&fn, (*g)[0]);
}

absl::StatusOr<ir::Function *> addHessianFunction(ir::Module &m,
                                                  const ir::Function &f,
                                                  int input,
                                                  const std::string &name) {
  auto withGrad = cloneWithGradient(m, f, input, name);
  if (!withGrad.ok())
    return withGrad.status();
  auto [fn, g] = *withGrad;
  auto h = jacobian(m, *fn, fn->ops.size(), g, fn->params[input]);
  if (!h.ok())
    return h.status();
  finishFunction(*fn, {*h});
  return fn;
}

absl::StatusOr<ir::Function *> addHvpFunction(ir::Module &m,
                                              const ir::Function &f, int input,
                                              const std::string &name) {
  auto withGrad = cloneWithGradient(m, f, input, name);
  if (!withGrad.ok())
    return withGrad.status();
  auto [fn, g] = *withGrad;
  Value *x = fn->params[input];
  Value *v = fn->addParam("v", x->type);
  ir::Builder b(m, *fn);
  b.setLoc(f.returnLoc);
  Value *dot = b.op("reduce_sum", {b.op("mul", {g, v})});
  Value *seed = b.scalar(1.0, x->type.dtype);
  if (!b.ok())
    return b.status();
  auto hv = reverseMode(m, *fn, fn->ops.size(), dot, seed, {{x}});
  if (!hv.ok())
    return hv.status();
  finishFunction(*fn, {(*hv)[0]});
  return fn;
}

} // namespace nyx::passes
