// Groups ops into kernels. Each group of two or more ops is outlined into a
// kernel function (`kernel @fused_N_...`) and replaced by one `fusion` op;
// code generation turns each kernel function into a single loop nest.
//
// A group is either a loop group (Elementwise/Injective ops over one
// iteration shape) or an anchor group: one Reduction, Normalization or
// Contraction op with the Elementwise/Injective ops that produce its
// operands (prologue; only Injective ones for Contractions, which read each
// element many times) and the Elementwise ops that consume its result at the
// same position (epilogue). Splat constants are copied into the groups that
// read them. docs/passes.md describes the forms in full.
//
// Groups grow greedily in op order. Merging is legal when no path leaves
// the merged set and comes back into it (the fused graph stays acyclic);
// afterwards the function is re-sorted so each fusion runs after its inputs.
#include <algorithm>
#include <map>
#include <queue>
#include <set>

#include "ir/op_registry.h"
#include "ir/rewrite.h"
#include "ir/strings.h"
#include "passes/pass.h"

namespace nyx::passes {
namespace {

using ir::FusionKind;

FusionKind kindOf(const ir::Op &op) { return op.def->fusion; }

bool isSplatConstant(const ir::Op &op) {
  if (op.name() != "constant")
    return false;
  auto value = op.getTensor("value");
  return value.ok() && (*value)->isSplat();
}

// What a Contraction (which reads each operand element many times) may read
// through: data movement that keeps the innermost axis contiguous.
bool keepsLocality(const ir::Op &op) {
  return kindOf(op) == FusionKind::Injective &&
         (!op.def->keepsInnermostAxis || op.def->keepsInnermostAxis(op));
}

// An i8 x i8 -> i32 matmul, lowered to the int8 GEMM kernel on CPUs.
bool isInt8Product(const ir::Op &op) {
  return op.name() == "matmul" && op.numOperands() == 2 &&
         op.operand(0)->type.dtype == ir::DType::I8 &&
         op.operand(1)->type.dtype == ir::DType::I8;
}

bool isAnchorKind(FusionKind k) {
  return k == FusionKind::Reduction || k == FusionKind::Normalization ||
         k == FusionKind::Contraction;
}

bool isPointKind(FusionKind k) {
  return k == FusionKind::Elementwise || k == FusionKind::Injective;
}

struct Group {
  std::vector<int> members; // op positions, ascending
  int anchor = -1;          // op position of the anchor, or -1
  bool alive = true;
  bool sealed = false; // an op that takes no part in fusion, alone
};

class Fuser {
public:
  Fuser(ir::Module &m, ir::Function &fn) : m_(m), fn_(fn) {}

  // Returns the number of kernels before and after.
  std::pair<int64_t, int64_t> run() {
    index();
    int64_t before = 0;
    for (const ir::Op *op : ops_)
      before += kindOf(*op) != FusionKind::Opaque || op->name() == "fusion";
    for (size_t i = 0; i < ops_.size(); ++i)
      place(static_cast<int>(i));
    int64_t after = outline();
    return {before, after};
  }

private:
  void index() {
    for (size_t i = 0; i < fn_.ops.size(); ++i) {
      ir::Op *op = fn_.ops[i].get();
      ops_.push_back(op);
      position_[op] = static_cast<int>(i);
    }
    for (ir::Op *op : ops_)
      for (ir::Value *v : op->operands)
        users_[v].push_back(op);
    for (ir::Value *v : fn_.returns)
      returned_.insert(v);
    groupOf_.assign(ops_.size(), -1);
  }

  // The producer op position of `v`, or -1 for a function parameter.
  int producer(const ir::Value *v) const {
    return v->definingOp ? position_.at(v->definingOp) : -1;
  }

  // The group (index) of the kernel op producing `v`, or -1.
  int groupOfValue(const ir::Value *v) const {
    int p = producer(v);
    return p < 0 ? -1 : groupOf_[p];
  }

  bool inSet(int op, const std::set<int> &set) const {
    return set.count(op) > 0;
  }

  // True if every user of every result of the ops in `set` is in `set` too
  // (or is `extra`), and none is returned.
  bool usedOnlyWithin(const std::vector<int> &ops, const std::set<int> &set,
                      int extra) const {
    for (int i : ops)
      for (const ir::Value *r : ops_[i]->results) {
        if (returned_.count(r))
          return false;
        auto it = users_.find(r);
        if (it == users_.end())
          continue;
        for (const ir::Op *u : it->second) {
          int p = position_.at(u);
          if (p != extra && !inSet(p, set))
            return false;
        }
      }
    return true;
  }

  // Merging the ops of `set` into one kernel is legal when no path from a
  // member leaves the set and re-enters it. Other groups run as units, so
  // reaching one member of a group reaches all of them.
  bool acyclic(const std::set<int> &set) const {
    int last = *set.rbegin();
    std::vector<char> seen(ops_.size(), 0);
    std::vector<int> stack;
    auto visit = [&](int p) {
      if (seen[p] || inSet(p, set) || p >= last)
        return;
      seen[p] = 1;
      stack.push_back(p);
    };
    auto pushUsersOf = [&](int op) {
      for (const ir::Value *r : ops_[op]->results) {
        auto it = users_.find(r);
        if (it == users_.end())
          continue;
        for (const ir::Op *u : it->second) {
          int p = position_.at(u);
          visit(p);
          if (groupOf_[p] >= 0 && !inSet(p, set))
            for (int m : groups_[groupOf_[p]].members)
              visit(m);
        }
      }
    };
    for (int op : set)
      pushUsersOf(op);
    while (!stack.empty()) {
      int op = stack.back();
      stack.pop_back();
      for (const ir::Value *r : ops_[op]->results) {
        auto it = users_.find(r);
        if (it == users_.end())
          continue;
        for (const ir::Op *u : it->second)
          if (inSet(position_.at(u), set))
            return false;
      }
      pushUsersOf(op);
    }
    return true;
  }

  int newGroup(int op) {
    groups_.push_back({{op}, -1, true});
    groupOf_[op] = static_cast<int>(groups_.size()) - 1;
    return groupOf_[op];
  }

  void absorb(int into, int from) {
    if (into == from)
      return;
    Group &g = groups_[into];
    for (int op : groups_[from].members) {
      g.members.push_back(op);
      groupOf_[op] = into;
    }
    if (groups_[from].anchor >= 0)
      g.anchor = groups_[from].anchor;
    std::sort(g.members.begin(), g.members.end());
    groups_[from].alive = false;
  }

  std::set<int> membersOf(const std::vector<int> &groupIds, int extra) const {
    std::set<int> set;
    for (int g : groupIds)
      set.insert(groups_[g].members.begin(), groups_[g].members.end());
    if (extra >= 0)
      set.insert(extra);
    return set;
  }

  void place(int i) {
    const ir::Op &op = *ops_[i];
    FusionKind k = kindOf(op);
    if (k == FusionKind::Opaque)
      return;
    if (op.results.size() != 1) {
      groups_[newGroup(i)].sealed = true;
      return;
    }
    if (isAnchorKind(k)) {
      int g = newGroup(i);
      groups_[g].anchor = i;
      absorbPrologues(i, g);
      return;
    }
    if (!isPointKind(k)) {
      groups_[newGroup(i)].sealed = true;
      return;
    }
    joinProducers(i);
  }

  // Pulls the loop groups that only feed the anchor `a` into its group.
  void absorbPrologues(int a, int g) {
    const ir::Op &anchor = *ops_[a];
    bool injectiveOnly = kindOf(anchor) == FusionKind::Contraction;
    std::set<int> candidates;
    for (const ir::Value *v : anchor.operands) {
      int pg = groupOfValue(v);
      if (pg >= 0 && pg != g && groups_[pg].anchor < 0 && !groups_[pg].sealed)
        candidates.insert(pg);
    }
    for (int pg : candidates) {
      const Group &p = groups_[pg];
      bool ok = true;
      for (int op : p.members)
        ok &= !injectiveOnly || keepsLocality(*ops_[op]);
      std::set<int> set = membersOf({g, pg}, -1);
      if (ok && usedOnlyWithin(p.members, set, -1) && acyclic(set))
        absorb(g, pg);
    }
  }

  // Joins the Elementwise/Injective op `i` to its producers' groups where
  // the result stays one of the two group forms.
  void joinProducers(int i) {
    const ir::Op &op = *ops_[i];
    std::vector<int> joined;
    for (const ir::Value *v : op.operands) {
      int pg = groupOfValue(v);
      if (pg < 0 || groups_[pg].sealed ||
          std::find(joined.begin(), joined.end(), pg) != joined.end() ||
          recomputesMember(pg, i))
        continue;
      std::vector<int> trial = joined;
      trial.push_back(pg);
      if (formsGroup(i, trial))
        joined = std::move(trial);
    }
    if (joined.empty()) {
      newGroup(i);
      return;
    }
    int g = joined.front();
    for (size_t j = 1; j < joined.size(); ++j)
      absorb(g, joined[j]);
    groups_[g].members.push_back(i);
    std::sort(groups_[g].members.begin(), groups_[g].members.end());
    groupOf_[i] = g;
  }

  // True when op `i` computes what a member of group `g` computes (the
  // same op on the same operands): a value recomputed late on purpose
  // (remat), which joining would compute again where the group runs.
  bool recomputesMember(int g, int i) const {
    const ir::Op &op = *ops_[i];
    for (int m : groups_[g].members) {
      const ir::Op &other = *ops_[m];
      if (other.def == op.def && other.operands == op.operands &&
          other.attrs == op.attrs)
        return true;
    }
    return false;
  }

  // Whether op `i` together with the groups `ids` is a valid group.
  bool formsGroup(int i, const std::vector<int> &ids) const {
    const ir::Op &op = *ops_[i];
    const ir::Shape &shape = op.result()->type.shape;
    int anchors = 0, anchor = -1;
    for (int g : ids)
      if (groups_[g].anchor >= 0) {
        ++anchors;
        anchor = groups_[g].anchor;
      }
    if (anchors > 1)
      return false;
    std::set<int> set = membersOf(ids, i);
    // Beside an anchor, other groups may only join as side values the
    // epilogue reads: never results of their own, never reading the
    // anchor's group (only the epilogue itself may, at the same position).
    if (anchor >= 0) {
      int anchorGroup = groupOf_[anchor];
      for (int g : ids) {
        if (g == anchorGroup)
          continue;
        if (!usedOnlyWithin(groups_[g].members, set, -1))
          return false;
        for (int m : groups_[g].members)
          for (const ir::Value *v : ops_[m]->operands)
            if (groupOfValue(v) == anchorGroup)
              return false;
      }
    }
    if (anchor >= 0) {
      // An epilogue: elementwise at the anchor's positions, reading group
      // values only where their shape is the anchor result's.
      // Same dtype too: a kernel may keep partial results in the anchor's
      // result buffer, which must then be one of the kernel's results. The
      // int8 GEMM finishes each element in registers, so its epilogue may
      // turn the i32 products into anything (dequantize).
      const ir::TensorType &anchorType = ops_[anchor]->result()->type;
      if (kindOf(op) != FusionKind::Elementwise ||
          op.result()->type.shape != anchorType.shape ||
          (op.result()->type.dtype != anchorType.dtype &&
           !isInt8Product(*ops_[anchor])))
        return false;
      for (const ir::Value *v : op.operands) {
        int p = producer(v);
        if (p >= 0 && inSet(p, set) && v->type.shape != shape)
          return false;
        if (p >= 0 && inSet(p, set) && p != anchor && p < anchor)
          return false; // a prologue value read after the anchor
      }
    }
    // Every value that may leave the group must have the iteration shape;
    // narrower ones are recomputed inside, so all their users must be in.
    for (int m : set) {
      if (m == anchor || (anchor >= 0 && m < anchor))
        continue; // the anchor and its prologue keep their own shapes
      const ir::Value *r = ops_[m]->result();
      if (r->type.shape != shape && !usedOnlyWithin({m}, set, -1))
        return false;
    }
    return acyclic(set);
  }

  // Outlines every group of two or more ops; returns the kernel count.
  int64_t outline() {
    int64_t kernels = 0;
    for (const ir::Op *op : ops_)
      kernels += op->name() == "fusion"; // from an earlier run
    std::vector<std::unique_ptr<ir::Op>> &ops = fn_.ops;
    std::map<ir::Op *, int> firstMember;
    for (Group &g : groups_) {
      if (!g.alive)
        continue;
      ++kernels;
      if (g.members.size() < 2)
        continue;
      firstMember[outlineGroup(g)] = g.members.front();
    }
    // Drop the members (now unused) and re-sort so every op follows its
    // operands; ties keep the original order.
    std::set<ir::Op *> dead;
    for (Group &g : groups_)
      if (g.alive && g.members.size() >= 2)
        for (int m : g.members)
          dead.insert(ops_[m]);
    std::vector<std::unique_ptr<ir::Op>> kept;
    for (auto &op : ops)
      if (!dead.count(op.get()))
        kept.push_back(std::move(op));
    ops = sortByDependencies(std::move(kept), firstMember);
    // The fusion results take the names of the values they replace.
    for (auto &[value, name] : finalNames_)
      const_cast<ir::Value *>(value)->name = name;
    return kernels;
  }

  ir::Op *outlineGroup(const Group &g) {
    std::set<int> set(g.members.begin(), g.members.end());
    std::string hint =
        std::string(ops_[g.anchor >= 0 ? g.anchor : g.members.back()]->name());
    std::string name;
    do
      name = strCat("fused_", nextKernel_++, "_", hint);
    while (m_.lookupFunction(name));
    ir::Function *k = m_.addFunction(name);
    k->isKernel = true;
    k->loc = ops_[g.members.front()]->loc;

    std::map<const ir::Value *, ir::Value *> inner;
    std::vector<ir::Value *> inputs;
    auto operandFor = [&](ir::Value *v) -> ir::Value * {
      if (auto it = inner.find(v); it != inner.end())
        return it->second;
      if (v->definingOp && isSplatConstant(*v->definingOp)) {
        ir::Op *c = k->appendOp(v->definingOp->def, {}, v->definingOp->attrs,
                                {v->type}, v->definingOp->loc, {v->name});
        return inner[v] = c->result();
      }
      inputs.push_back(v);
      auto renamed = finalNames_.find(v);
      return inner[v] = k->addParam(
                 renamed != finalNames_.end() ? renamed->second : v->name,
                 v->type);
    };
    for (int mIdx : g.members) {
      const ir::Op &op = *ops_[mIdx];
      std::vector<ir::Value *> operands;
      for (ir::Value *v : op.operands)
        operands.push_back(operandFor(v));
      std::vector<ir::TensorType> types;
      std::vector<std::string> names;
      for (const ir::Value *r : op.results) {
        types.push_back(r->type);
        names.push_back(r->name);
      }
      ir::Op *copy = k->appendOp(op.def, std::move(operands), op.attrs,
                                 std::move(types), op.loc, std::move(names));
      for (size_t r = 0; r < op.results.size(); ++r)
        inner[op.results[r]] = copy->results[r];
    }
    // The results: member values used outside the group or returned.
    std::vector<ir::Value *> outputs;
    for (int mIdx : g.members)
      for (ir::Value *r : ops_[mIdx]->results)
        if (!usedOnlyWithin({mIdx}, set, -1)) {
          outputs.push_back(r);
          k->returns.push_back(inner.at(r));
          k->resultTypes.push_back(r->type);
        }

    std::vector<ir::TensorType> types;
    for (const ir::Value *r : outputs)
      types.push_back(r->type);
    const ir::Op &last = *ops_[g.anchor >= 0 ? g.anchor : g.members.back()];
    ir::Op *fusion =
        fn_.appendOp(ir::lookupOp("fusion"), inputs,
                     {{"callee", ir::SymbolRef{name}}}, types, last.loc);
    for (size_t j = 0; j < outputs.size(); ++j) {
      ir::replaceAllUses(fn_, outputs[j], fusion->results[j]);
      // Members keep reading each other until they are dropped.
      for (int mIdx : g.members)
        std::replace(ops_[mIdx]->operands.begin(), ops_[mIdx]->operands.end(),
                     fusion->results[j], outputs[j]);
    }
    for (size_t j = 0; j < outputs.size(); ++j)
      finalNames_[fusion->results[j]] = outputs[j]->name;
    return fusion;
  }

  std::vector<std::unique_ptr<ir::Op>>
  sortByDependencies(std::vector<std::unique_ptr<ir::Op>> ops,
                     const std::map<ir::Op *, int> &firstMember) {
    std::map<const ir::Value *, int> producerIdx;
    for (size_t i = 0; i < ops.size(); ++i)
      for (const ir::Value *r : ops[i]->results)
        producerIdx[r] = static_cast<int>(i);
    auto key = [&](int i) {
      auto it = firstMember.find(ops[i].get());
      return it != firstMember.end() ? it->second : position_.at(ops[i].get());
    };
    std::vector<int> pending(ops.size(), 0);
    std::vector<std::vector<int>> users(ops.size());
    for (size_t i = 0; i < ops.size(); ++i)
      for (const ir::Value *v : ops[i]->operands)
        if (auto it = producerIdx.find(v); it != producerIdx.end()) {
          ++pending[i];
          users[it->second].push_back(static_cast<int>(i));
        }
    using Entry = std::pair<int, int>; // (key, index)
    std::priority_queue<Entry, std::vector<Entry>, std::greater<>> ready;
    for (size_t i = 0; i < ops.size(); ++i)
      if (pending[i] == 0)
        ready.push({key(static_cast<int>(i)), static_cast<int>(i)});
    std::vector<std::unique_ptr<ir::Op>> sorted;
    while (!ready.empty()) {
      int i = ready.top().second;
      ready.pop();
      for (int u : users[i])
        if (--pending[u] == 0)
          ready.push({key(u), u});
      sorted.push_back(std::move(ops[i]));
    }
    return sorted;
  }

  ir::Module &m_;
  ir::Function &fn_;
  std::vector<ir::Op *> ops_;
  std::map<const ir::Op *, int> position_;
  std::map<const ir::Value *, std::vector<ir::Op *>> users_;
  std::set<const ir::Value *> returned_;
  std::vector<int> groupOf_;
  std::vector<Group> groups_;
  // Fusion results take the names of the values they replace once those
  // are gone; until then kernels built later must already use them.
  std::map<const ir::Value *, std::string> finalNames_;
  int nextKernel_ = 0;
};

} // namespace

absl::Status runFuse(ir::Module &m, const Options &o) {
  std::vector<ir::Function *> functions;
  for (const auto &f : m.functions)
    if (!f->isKernel)
      functions.push_back(f.get());
  int64_t before = 0, after = 0;
  for (ir::Function *f : functions) {
    auto [b, a] = Fuser(m, *f).run();
    before += b;
    after += a;
  }
  o.count("fuse.kernels-before", before);
  o.count("fuse.kernels-after", after);
  return absl::OkStatus();
}

} // namespace nyx::passes
