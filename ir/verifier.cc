#include "ir/verifier.h"

#include <map>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "ir/diagnostic.h"
#include "ir/lexer.h"
#include "ir/op_registry.h"
#include "ir/status_macros.h"
#include "ir/strings.h"

namespace nyx::ir {

namespace {

std::string at(Loc loc) { return strCat(loc.line, ":", loc.col); }

std::string valueRef(const Value *v) { return "%" + formatName(v->name); }

class Verifier {
public:
  explicit Verifier(const Module &m) : m_(m) {}

  absl::Status run() {
    std::map<std::string, Loc, std::less<>> params;
    for (const Param &p : m_.params) {
      if (auto it = params.find(p.name); it != params.end())
        return error(p.loc, strCat("param @", formatName(p.name),
                                   " is already declared at ", at(it->second)));
      params[p.name] = p.loc;
    }
    std::map<std::string, Loc, std::less<>> functions;
    for (const auto &f : m_.functions) {
      if (auto it = functions.find(f->name); it != functions.end())
        return error(f->loc, strCat("function @", formatName(f->name),
                                    " is already defined at ", at(it->second)));
      functions[f->name] = f->loc;
    }
    for (const auto &f : m_.functions)
      NYX_RETURN_IF_ERROR(verifyFunction(*f));
    return checkNoRecursion();
  }

private:
  absl::Status error(Loc loc, std::string_view msg) const {
    return errorAt(m_.filename, loc, msg);
  }

  absl::Status verifyFunction(const Function &f) {
    std::string fname = "@" + formatName(f.name);
    absl::flat_hash_set<const Value *> defined;
    std::map<std::string, Loc, std::less<>> names;
    auto claim = [&](const Value *v, Loc loc) -> absl::Status {
      if (auto it = names.find(v->name); it != names.end())
        return error(loc, strCat("value ", valueRef(v), " is already defined",
                                 it->second.known() ? " at " + at(it->second)
                                                    : std::string(),
                                 " in ", fname, "; expected unique names"));
      names[v->name] = loc;
      defined.insert(v);
      return absl::OkStatus();
    };
    // Where each value of this function is defined, to tell a use before
    // its definition from a value of another function.
    absl::flat_hash_map<const Value *, Loc> laterDefs;
    for (const auto &op : f.ops)
      for (const Value *r : op->results)
        laterDefs[r] = op->loc;

    for (size_t i = 0; i < f.params.size(); ++i) {
      const Value *p = f.params[i];
      if (p->definingOp || p->index != static_cast<int>(i))
        return error(f.loc, strCat("parameter ", i, " of ", fname,
                                   " is not recorded as parameter ", i));
      NYX_RETURN_IF_ERROR(claim(p, f.loc));
    }
    auto checkUse = [&](const Value *v, Loc loc,
                        std::string_view what) -> absl::Status {
      if (!v)
        return error(loc, strCat(what, " is missing (null)"));
      if (defined.contains(v))
        return absl::OkStatus();
      if (auto it = laterDefs.find(v); it != laterDefs.end())
        return error(loc, strCat(what, " (", valueRef(v),
                                 ") is used before its definition at ",
                                 at(it->second),
                                 "; expected it defined earlier in ", fname));
      return error(
          loc, strCat(what, " (", valueRef(v), ") is not defined in ", fname));
    };

    for (const auto &opPtr : f.ops) {
      const Op &op = *opPtr;
      if (!op.def)
        return error(op.loc, "op has no definition; expected a registered op");
      std::string opName = strCat("'", op.name(), "'");
      for (int i = 0; i < op.numOperands(); ++i)
        NYX_RETURN_IF_ERROR(checkUse(op.operands[i], op.loc,
                                     strCat("operand ", i, " of ", opName)));
      int n = op.numOperands();
      const OpDef &def = *op.def;
      if (n < def.minOperands || (def.maxOperands >= 0 && n > def.maxOperands))
        return error(
            op.loc,
            strCat(opName, " has ", n, n == 1 ? " operand" : " operands",
                   "; expected ",
                   def.maxOperands < 0 ? strCat("at least ", def.minOperands)
                   : def.minOperands == def.maxOperands
                       ? strCat(def.minOperands)
                       : strCat(def.minOperands, " to ", def.maxOperands)));
      if (def.inferTypes) {
        auto types = def.inferTypes(op, m_);
        if (!types.ok())
          return error(op.loc, std::string(types.status().message()));
        if (types->size() != op.results.size())
          return error(op.loc, strCat(opName, " produces ", types->size(),
                                      " results but has ", op.results.size()));
        for (size_t i = 0; i < types->size(); ++i)
          if (!((*types)[i] == op.results[i]->type))
            return error(op.loc,
                         strCat("declared result type ",
                                op.results[i]->type.str(), " but ", opName,
                                " produces ", (*types)[i].str(),
                                types->size() > 1 ? strCat(" for result ", i)
                                                  : std::string()));
      }
      for (size_t i = 0; i < op.results.size(); ++i) {
        const Value *r = op.results[i];
        if (!r || r->definingOp != &op || r->index != static_cast<int>(i))
          return error(op.loc, strCat("result ", i, " of ", opName,
                                      " does not point back to its op"));
        NYX_RETURN_IF_ERROR(claim(r, op.loc));
      }
    }

    Loc retLoc = f.returnLoc.known() ? f.returnLoc : f.loc;
    for (size_t i = 0; i < f.returns.size(); ++i)
      NYX_RETURN_IF_ERROR(
          checkUse(f.returns[i], retLoc, strCat("returned value ", i)));
    if (f.returns.size() != f.resultTypes.size())
      return error(retLoc, strCat("return has ", f.returns.size(), " value",
                                  f.returns.size() == 1 ? "" : "s",
                                  "; expected ", f.resultTypes.size(),
                                  " (the results of ", fname, ")"));
    for (size_t i = 0; i < f.returns.size(); ++i)
      if (!(f.returns[i]->type == f.resultTypes[i]))
        return error(retLoc, strCat("returned value ", valueRef(f.returns[i]),
                                    " has type ", f.returns[i]->type.str(),
                                    "; expected ", f.resultTypes[i].str(),
                                    " (result ", i, " of ", fname, ")"));
    return absl::OkStatus();
  }

  // Depth-first search over call edges; a back edge is recursion.
  absl::Status checkNoRecursion() {
    enum State { Unvisited, Active, Done };
    absl::flat_hash_map<const Function *, State> state;
    std::vector<const Function *> stack;
    std::function<absl::Status(const Function &)> visit =
        [&](const Function &f) -> absl::Status {
      state[&f] = Active;
      stack.push_back(&f);
      for (const auto &op : f.ops)
        for (const auto &[key, attr] : op->attrs) {
          const SymbolRef *sym = std::get_if<SymbolRef>(&attr);
          const Function *callee = sym ? m_.lookupFunction(sym->name) : nullptr;
          if (!callee)
            continue;
          if (state[callee] == Active) {
            std::vector<std::string> cycle;
            bool in = false;
            for (const Function *g : stack) {
              in = in || g == callee;
              if (in)
                cycle.push_back("@" + formatName(g->name));
            }
            cycle.push_back("@" + formatName(callee->name));
            return error(op->loc,
                         strCat("recursive call: ", strJoin(cycle, " -> "),
                                "; expected an acyclic call graph"));
          }
          if (state[callee] == Unvisited)
            NYX_RETURN_IF_ERROR(visit(*callee));
        }
      stack.pop_back();
      state[&f] = Done;
      return absl::OkStatus();
    };
    for (const auto &f : m_.functions)
      if (state[f.get()] == Unvisited)
        NYX_RETURN_IF_ERROR(visit(*f));
    return absl::OkStatus();
  }

  const Module &m_;
};

} // namespace

absl::Status verifyModule(const Module &module) {
  return Verifier(module).run();
}

} // namespace nyx::ir
