#include "ir/verifier.h"

#include <algorithm>
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
      NYX_RETURN_IF_ERROR(checkType(p.type, p.loc));
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

  absl::Status checkType(const TensorType &t, Loc loc) const {
    if (absl::Status s = checkTensorType(t); !s.ok())
      return error(loc, std::string(s.message()));
    return absl::OkStatus();
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
      NYX_RETURN_IF_ERROR(checkType(p->type, f.loc));
      NYX_RETURN_IF_ERROR(claim(p, f.loc));
    }
    for (const TensorType &t : f.resultTypes)
      NYX_RETURN_IF_ERROR(checkType(t, f.loc));
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
      // A kernel body becomes one loop nest: no calls, no weights, nothing
      // that is not computed in place (constants are immediates).
      if (f.isKernel && def.fusion == FusionKind::Opaque &&
          op.name() != "constant")
        return error(op.loc,
                     strCat(opName, " in kernel function ", fname,
                            "; expected only ops that compute (params, calls "
                            "and fusions stay in the caller)"));
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
        NYX_RETURN_IF_ERROR(checkType(r->type, op.loc));
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

  // Depth-first search over call edges, with an explicit stack as call
  // graphs may be deep; a back edge is recursion. It also measures the
  // longest chain of nested calls, which the inliner and the interpreter
  // follow recursively.
  absl::Status checkNoRecursion() {
    enum State { Unvisited, Active, Done };
    struct Edge {
      const Function *callee;
      const Op *op;
    };
    auto edgesOf = [&](const Function &f) {
      std::vector<Edge> edges;
      for (const auto &op : f.ops)
        for (const auto &[key, attr] : op->attrs) {
          const SymbolRef *sym = std::get_if<SymbolRef>(&attr);
          if (const Function *callee =
                  sym ? m_.lookupFunction(sym->name) : nullptr)
            edges.push_back({callee, op.get()});
        }
      return edges;
    };
    struct Frame {
      const Function *f;
      std::vector<Edge> edges;
      size_t next = 0;
    };
    absl::flat_hash_map<const Function *, State> state;
    // The most calls nested below a function (0 for one that calls nothing).
    absl::flat_hash_map<const Function *, int64_t> height;
    std::vector<Frame> stack;
    for (const auto &root : m_.functions) {
      if (state[root.get()] != Unvisited)
        continue;
      state[root.get()] = Active;
      stack.push_back({root.get(), edgesOf(*root)});
      while (!stack.empty()) {
        Frame &top = stack.back();
        if (top.next == top.edges.size()) {
          int64_t h = 0;
          for (const Edge &e : top.edges) {
            if (height[e.callee] + 1 > kMaxCallDepth)
              return error(e.op->loc,
                           strCat("call to @", formatName(e.callee->name),
                                  " nests calls more than ", kMaxCallDepth,
                                  " deep; expected at most ", kMaxCallDepth,
                                  " nested calls"));
            h = std::max(h, height[e.callee] + 1);
          }
          height[top.f] = h;
          state[top.f] = Done;
          stack.pop_back();
          continue;
        }
        const Edge &e = top.edges[top.next++];
        if (state[e.callee] == Active) {
          std::vector<std::string> cycle;
          bool in = false;
          for (const Frame &frame : stack) {
            in = in || frame.f == e.callee;
            if (in)
              cycle.push_back("@" + formatName(frame.f->name));
          }
          cycle.push_back("@" + formatName(e.callee->name));
          return error(e.op->loc,
                       strCat("recursive call: ", strJoin(cycle, " -> "),
                              "; expected an acyclic call graph"));
        }
        if (state[e.callee] == Unvisited) {
          const Function *callee = e.callee; // `top` moves on push_back
          state[callee] = Active;
          stack.push_back({callee, edgesOf(*callee)});
        }
      }
    }
    return absl::OkStatus();
  }

  const Module &m_;
};

} // namespace

absl::Status verifyModule(const Module &module) {
  return Verifier(module).run();
}

} // namespace nyx::ir
