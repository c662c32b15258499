#include "passes/rewrite_rules.h"

#include <algorithm>
#include <cassert>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "ir/diagnostic.h"
#include "ir/op_registry.h"
#include "ir/rewrite.h"
#include "ir/strings.h"

namespace nyx::passes::rewrite {

// A correct rule table reaches its fixpoint in a handful of sweeps (each
// rule makes the function strictly simpler); this bound turns a rule pair
// that undoes each other into an error instead of a hang.
static constexpr int kMaxSweeps = 1000;

ir::Value *Match::find(std::string_view name) const {
  for (const auto &[n, v] : bound_)
    if (n == name)
      return v;
  return nullptr;
}

ir::Value *Match::operator[](std::string_view name) const {
  ir::Value *v = find(name);
  assert(v && "rule reads a name its pattern does not bind");
  return v;
}

const ir::Op &Match::op(std::string_view name) const {
  const ir::Value *v = (*this)[name];
  assert(v->definingOp && "bound value has no defining op");
  return *v->definingOp;
}

const ir::Tensor &Match::tensor(std::string_view name) const {
  // Splat patterns only bind constants whose `value` is a tensor.
  return **op(name).getTensor("value");
}

// Binds `name` to `v`, or checks that an earlier binding is `v`.
static bool bindOrCompare(std::string_view name, ir::Value *v, Match &m) {
  if (name.empty())
    return true;
  if (ir::Value *earlier = m.find(name))
    return earlier == v;
  m.bind(name, v);
  return true;
}

static const ir::Tensor *constantTensor(const ir::Op *op) {
  if (!op || op->name() != "constant")
    return nullptr;
  auto t = op->getTensor("value");
  return t.ok() && *t ? t->get() : nullptr;
}

bool Pattern::matchOperands(const ir::Op &op, Match &m, bool swapped) const {
  for (size_t i = 0; i < operands_.size(); ++i) {
    size_t j = swapped ? operands_.size() - 1 - i : i;
    if (!operands_[i].match(op.operands[j], m))
      return false;
  }
  return true;
}

bool Pattern::match(ir::Value *v, Match &m) const {
  const ir::Op *def = v->definingOp;
  switch (kind_) {
  case Kind::Any:
    return bindOrCompare(name_, v, m);
  case Kind::Splat: {
    const ir::Tensor *t = constantTensor(def);
    if (!t || !t->isSplat() || !test_(*t))
      return false;
    return bindOrCompare(name_, v, m);
  }
  case Kind::AnyOp:
    if (!def || !opTest_(*def))
      return false;
    return bindOrCompare(name_, v, m);
  case Kind::Op: {
    if (!def || def->name() != opName_ ||
        def->operands.size() != operands_.size())
      return false;
    const size_t mark = m.mark();
    if (matchOperands(*def, m, false) && bindOrCompare(name_, v, m))
      return true;
    m.undo(mark);
    if (def->def->commutative && operands_.size() == 2 &&
        matchOperands(*def, m, true) && bindOrCompare(name_, v, m))
      return true;
    m.undo(mark);
    return false;
  }
  }
  return false;
}

Pattern any(std::string_view name) {
  Pattern p;
  p.kind_ = Pattern::Kind::Any;
  p.name_ = name;
  return p;
}

Pattern op(std::string_view opName, std::vector<Pattern> operands,
           std::string_view name) {
  Pattern p;
  p.kind_ = Pattern::Kind::Op;
  p.opName_ = opName;
  p.operands_ = std::move(operands);
  p.name_ = name;
  return p;
}

Pattern splat(std::string_view name, ElementTest test) {
  Pattern p;
  p.kind_ = Pattern::Kind::Splat;
  p.name_ = name;
  p.test_ = test;
  return p;
}

Pattern opWhere(std::string_view name, bool (*test)(const ir::Op &)) {
  Pattern p;
  p.kind_ = Pattern::Kind::AnyOp;
  p.name_ = name;
  p.opTest_ = test;
  return p;
}

Replacement bound(std::string_view name) {
  return [name](const Match &m, Builder &) -> absl::StatusOr<ir::Value *> {
    return m[name];
  };
}

absl::StatusOr<ir::Value *> Builder::op(std::string_view opName,
                                        std::vector<ir::Value *> operands,
                                        ir::Attributes attrs) {
  const ir::OpDef *def = ir::lookupOp(opName);
  if (!def)
    return absl::InternalError(strCat("no op named '", opName, "'"));
  ir::Op probe;
  probe.def = def;
  probe.operands = operands;
  probe.attrs = attrs;
  probe.loc = loc_;
  auto types = def->inferTypes(probe, module_);
  if (!types.ok())
    return absl::InternalError(
        strCat("built an invalid '", opName, "': ", types.status().message()));
  if (types->size() != 1)
    return absl::InternalError(strCat("built '", opName, "' with ",
                                      types->size(),
                                      " results; replacements have one"));
  ir::Op *created = fn_.insertOp(pos_++, def, std::move(operands),
                                 std::move(attrs), std::move(*types), loc_);
  ++inserted_;
  return created->result();
}

ir::Value *Builder::constant(ir::Tensor value) {
  ir::TensorType type = value.type();
  ir::Attributes attrs;
  attrs["value"] = std::make_shared<const ir::Tensor>(std::move(value));
  ir::Op *created = fn_.insertOp(pos_++, ir::lookupOp("constant"), {},
                                 std::move(attrs), {std::move(type)}, loc_);
  ++inserted_;
  return created->result();
}

absl::StatusOr<ir::Value *> Builder::splatOf(const ir::TensorType &type,
                                             const ir::Tensor &element,
                                             size_t maxBytes) {
  assert(element.dtype() == type.dtype && element.numElements() > 0);
  const size_t size = ir::dtypeSize(type.dtype);
  auto filled = [&](const ir::TensorType &t) {
    ir::Tensor out(t);
    for (int64_t i = 0, n = out.numElements(); i < n; ++i)
      std::memcpy(out.bytes() + i * size, element.bytes(), size);
    return out;
  };
  if (type.byteSize() <= maxBytes)
    return constant(filled(type));
  ir::Value *scalar = constant(filled({type.dtype, {}}));
  return op("broadcast_to", {scalar}, {{"shape", type.shape}});
}

// Erases the ops in `candidates` that have no uses, then the ops feeding
// them that lost their last use, and so on up the chain.
static void eraseNewlyDead(ir::Function &fn,
                           absl::flat_hash_set<const ir::Op *> candidates) {
  if (candidates.empty())
    return;
  absl::flat_hash_map<const ir::Value *, int64_t> uses;
  for (const auto &op : fn.ops)
    for (const ir::Value *v : op->operands)
      ++uses[v];
  for (const ir::Value *v : fn.returns)
    ++uses[v];
  absl::flat_hash_set<const ir::Op *> dead;
  for (size_t i = fn.ops.size(); i-- > 0;) {
    const ir::Op *op = fn.ops[i].get();
    if (!candidates.contains(op))
      continue;
    bool used = false;
    for (const ir::Value *r : op->results)
      used |= uses[r] > 0;
    if (used)
      continue;
    dead.insert(op);
    for (const ir::Value *v : op->operands) // defined earlier: seen later
      if (--uses[v] == 0 && v->definingOp)
        candidates.insert(v->definingOp);
  }
  std::erase_if(fn.ops, [&](const std::unique_ptr<ir::Op> &op) {
    return dead.contains(op.get());
  });
}

absl::StatusOr<int64_t>
rewriteToFixpoint(const ir::Module &module, ir::Function &fn,
                  std::span<const Rule> rules, const Options &options,
                  std::string_view prefix,
                  const std::function<bool(ir::Function &)> &beforeSweep) {
  std::map<std::string_view, std::vector<const Rule *>> byOpName;
  std::vector<const Rule *> anyOp;
  for (const Rule &r : rules) {
    if (r.pattern.kind() == Pattern::Kind::Op)
      byOpName[r.pattern.rootOpName()].push_back(&r);
    else
      anyOp.push_back(&r);
  }
  int64_t total = 0;
  for (int sweep = 0;; ++sweep) {
    if (sweep == kMaxSweeps)
      return ir::errorAt(module.filename, fn.loc,
                         strCat(prefix, " did not settle in @", fn.name,
                                " after ", kMaxSweeps,
                                " sweeps; expected its rules to terminate"));
    bool changed = beforeSweep ? beforeSweep(fn) : false;
    absl::flat_hash_set<const ir::Op *> replaced;
    for (size_t i = 0; i < fn.ops.size(); ++i) {
      ir::Op &root = *fn.ops[i];
      if (root.results.size() != 1)
        continue;
      std::vector<const Rule *> candidates = anyOp;
      if (auto it = byOpName.find(root.name()); it != byOpName.end())
        candidates.insert(candidates.begin(), it->second.begin(),
                          it->second.end());
      for (const Rule *rule : candidates) {
        Match m(module, root);
        if (!rule->pattern.match(root.result(), m) ||
            (rule->guard && !rule->guard(m)))
          continue;
        Builder b(module, fn, i, root.loc);
        auto replacement = rule->replace(m, b);
        if (!replacement.ok())
          return ir::errorAt(module.filename, root.loc,
                             strCat(prefix, " rule '", rule->name, "' ",
                                    replacement.status().message()));
        ir::Value *value = *replacement;
        auto first = fn.ops.begin() + static_cast<std::ptrdiff_t>(i);
        auto last = first + static_cast<std::ptrdiff_t>(b.inserted());
        if (!value || value == root.result() ||
            value->type != root.result()->type) {
          fn.ops.erase(first, last); // unused: nothing refers to them yet
          continue;
        }
        bool fresh = std::any_of(first, last, [&](const auto &op) {
          return op.get() == value->definingOp;
        });
        if (fresh)
          std::swap(value->name, root.result()->name);
        ir::replaceAllUses(fn, root.result(), value);
        replaced.insert(&root);
        options.count(strCat(prefix, ".", rule->name), 1);
        ++total;
        changed = true;
        i += b.inserted(); // now at the root again
        break;
      }
    }
    eraseNewlyDead(fn, std::move(replaced));
    if (!changed)
      return total;
  }
}

} // namespace nyx::passes::rewrite
