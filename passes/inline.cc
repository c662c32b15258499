// Replaces every `call` with a copy of the callee's body. Callees are
// inlined before their callers' calls are expanded (the verifier rules out
// recursion), so one sweep in call-graph order leaves no calls behind.
#include <map>
#include <set>

#include "ir/diagnostic.h"
#include "ir/op_registry.h"
#include "ir/rewrite.h"
#include "ir/strings.h"
#include "passes/pass.h"

namespace nyx::passes {

static constexpr size_t kMaxInlinedOps = size_t(1) << 18;

static absl::StatusOr<const ir::Function *> calleeOf(const ir::Module &m,
                                                     const ir::Op &call) {
  auto name = call.getSymbol("callee");
  if (!name.ok())
    return ir::errorAt(m.filename, call.loc,
                       std::string(name.status().message()));
  const ir::Function *f = m.lookupFunction(*name);
  if (!f)
    return ir::errorAt(m.filename, call.loc,
                       strCat("call to unknown function @", *name));
  return f;
}

// Inlines the call at `fn.ops[index]`; returns the number of ops inserted.
static absl::StatusOr<size_t> inlineCall(ir::Module &m, ir::Function &fn,
                                         size_t index) {
  ir::Op &call = *fn.ops[index];
  auto callee = calleeOf(m, call);
  if (!callee.ok())
    return callee.status();
  std::map<const ir::Value *, ir::Value *> mapped;
  for (size_t i = 0; i < (*callee)->params.size(); ++i)
    mapped[(*callee)->params[i]] = call.operands[i];
  size_t pos = index;
  for (const auto &op : (*callee)->ops) {
    std::vector<ir::Value *> operands;
    for (const ir::Value *v : op->operands)
      operands.push_back(mapped.at(v));
    std::vector<ir::TensorType> types;
    std::vector<std::string> names; // kept where the caller has no such name
    for (const ir::Value *r : op->results) {
      types.push_back(r->type);
      names.push_back(r->name);
    }
    // Body ops keep their own locations, so errors point into the callee.
    ir::Op *copy = fn.insertOp(pos++, op->def, std::move(operands), op->attrs,
                               std::move(types), op->loc, std::move(names));
    for (size_t i = 0; i < op->results.size(); ++i)
      mapped[op->results[i]] = copy->results[i];
  }
  ir::Op &callAfter = *fn.ops[pos]; // the call moved down by the insertions
  for (size_t i = 0; i < callAfter.results.size(); ++i)
    ir::replaceAllUses(fn, callAfter.results[i],
                       mapped.at((*callee)->returns[i]));
  ir::eraseOp(fn, pos);
  return pos - index;
}

static absl::Status inlineCallsIn(ir::Module &m, ir::Function &fn,
                                  std::set<ir::Function *> &done,
                                  std::set<ir::Function *> &active) {
  if (done.count(&fn))
    return absl::OkStatus();
  if (!active.insert(&fn).second)
    return ir::errorAt(m.filename, fn.loc,
                       strCat("@", fn.name,
                              " calls itself (recursion is not "
                              "supported)"));
  for (size_t i = 0; i < fn.ops.size();) {
    if (fn.ops[i]->name() != "call") {
      ++i;
      continue;
    }
    auto callee = calleeOf(m, *fn.ops[i]);
    if (!callee.ok())
      return callee.status();
    if (auto s = inlineCallsIn(m, *const_cast<ir::Function *>(*callee), done,
                               active);
        !s.ok())
      return s;
    // Calls can double a body at each level of a call chain; the bound
    // keeps a small module from inlining into billions of ops.
    if (fn.ops.size() - 1 + (*callee)->ops.size() > kMaxInlinedOps)
      return ir::errorAt(m.filename, fn.ops[i]->loc,
                         strCat("inlining @", (*callee)->name, " (",
                                (*callee)->ops.size(), " ops) into @", fn.name,
                                " (", fn.ops.size(), " ops) makes more than ",
                                kMaxInlinedOps, " ops; expected at most ",
                                kMaxInlinedOps,
                                " ops in a function after inlining"));
    auto inserted = inlineCall(m, fn, i);
    if (!inserted.ok())
      return inserted.status();
    i += *inserted; // the callee was already flat: skip its body
  }
  active.erase(&fn);
  done.insert(&fn);
  return absl::OkStatus();
}

absl::Status runInline(ir::Module &m, const Options &) {
  std::set<ir::Function *> done, active;
  for (auto &fn : m.functions)
    if (auto s = inlineCallsIn(m, *fn, done, active); !s.ok())
      return s;
  return absl::OkStatus();
}

} // namespace nyx::passes
