#include "ir/interpreter.h"

#include "absl/container/flat_hash_map.h"
#include "ir/diagnostic.h"
#include "ir/strings.h"

namespace nyx::ir {

Interpreter::Interpreter(const Module &module, const WeightMap *weights)
    : module_(module), weights_(weights) {}

absl::StatusOr<std::vector<Tensor>> Interpreter::run(const Function &fn,
                                                     std::vector<Tensor> args) {
  return runAt(fn, std::move(args), 0);
}

namespace {

// A kernel error with the op's location in front, so a failing model points
// at the line that failed.
absl::Status atOp(const Module &m, const Op &op, const absl::Status &s) {
  std::string msg = strCat("while interpreting '", op.name(),
                           "': ", std::string(s.message()));
  return absl::Status(s.code(), formatDiagnostic(m.filename, op.loc, msg));
}

// For each value, the position of the last op that reads it, so tensors are
// released as soon as they are dead (values never read are released right
// after their op; returned values are kept).
absl::flat_hash_map<const Value *, size_t> lastUses(const Function &fn) {
  absl::flat_hash_map<const Value *, size_t> last;
  for (size_t i = 0; i < fn.ops.size(); ++i)
    for (const Value *v : fn.ops[i]->operands)
      last[v] = i;
  for (const Value *v : fn.returns)
    last[v] = fn.ops.size();
  return last;
}

} // namespace

absl::StatusOr<std::vector<Tensor>>
Interpreter::runAt(const Function &fn, std::vector<Tensor> args, int depth) {
  if (args.size() != fn.params.size())
    return absl::InvalidArgumentError(
        strCat("@", fn.name, " takes ", fn.params.size(), " argument",
               fn.params.size() == 1 ? "" : "s", "; got ", args.size()));
  absl::flat_hash_map<const Value *, Tensor> env;
  for (size_t i = 0; i < args.size(); ++i) {
    const Value *p = fn.params[i];
    if (args[i].type() != p->type)
      return absl::InvalidArgumentError(
          strCat("argument ", i, " (%", p->name, ") of @", fn.name, " is ",
                 args[i].type().str(), "; expected ", p->type.str()));
    env[p] = std::move(args[i]);
  }

  InterpContext ctx;
  ctx.module = &module_;
  ctx.weights = weights_;
  ctx.callFunction = [this, depth](const Function &callee,
                                   std::vector<Tensor> callArgs) {
    return runAt(callee, std::move(callArgs), depth + 1);
  };

  const auto last = lastUses(fn);
  std::vector<const Tensor *> operands;
  std::vector<Tensor> results;
  for (size_t pos = 0; pos < fn.ops.size(); ++pos) {
    const Op &op = *fn.ops[pos];
    if (!op.def->interpret)
      return atOp(module_, op,
                  absl::UnimplementedError("the op has no interpreter kernel"));
    operands.clear();
    for (const Value *v : op.operands) {
      auto it = env.find(v);
      if (it == env.end())
        return atOp(module_, op,
                    absl::InternalError(
                        strCat("operand %", v->name, " has no value yet")));
      operands.push_back(&it->second);
    }
    results.clear();
    for (const Value *v : op.results)
      results.emplace_back(v->type);
    if (absl::Status s = op.def->interpret(op, operands, results, ctx); !s.ok())
      return atOp(module_, op, s);
    for (size_t i = 0; i < results.size(); ++i)
      if (results[i].type() != op.results[i]->type)
        return atOp(module_, op,
                    absl::InternalError(strCat(
                        "result ", i, " came out as ", results[i].type().str(),
                        "; expected ", op.results[i]->type.str())));
    if (observer_)
      observer_(op, results, depth);
    for (size_t i = 0; i < results.size(); ++i)
      env[op.results[i]] = std::move(results[i]);
    // Release what no later op reads.
    for (const Value *v : op.operands)
      if (last.at(v) == pos)
        env.erase(v);
    for (const Value *v : op.results)
      if (!last.contains(v))
        env.erase(v);
  }

  std::vector<Tensor> out;
  out.reserve(fn.returns.size());
  for (const Value *v : fn.returns) {
    auto it = env.find(v);
    if (it == env.end())
      return absl::InternalError(
          strCat("@", fn.name, " returns %", v->name, ", which has no value"));
    out.push_back(it->second);
  }
  return out;
}

} // namespace nyx::ir
