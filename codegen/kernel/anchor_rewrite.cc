#include "codegen/kernel/anchor_rewrite.h"

#include <algorithm>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "absl/status/status.h"
#include "codegen/kernel/element_fn.h"
#include "codegen/kernel/fused_values.h"
#include "codegen/kernel/index_math.h"
#include "codegen/kernel/simplify.h"
#include "ir/strings.h"

namespace nyx::kernel {
namespace {

using B = Builder;

// A load or store of the anchor's result buffer, with the loops around it
// (outermost first).
struct Access {
  bool isStore = false;
  ExprRef index;
  std::vector<const Stmt *> loops;
};

void collectVarIds(const Expr &e, std::unordered_set<int> &ids) {
  if (e.kind == Expr::Kind::VarRef)
    ids.insert(e.var.id);
  for (const ExprRef &a : e.args)
    collectVarIds(*a, ids);
}

ExprRef substitute(const ExprRef &e,
                   const std::unordered_map<int, ExprRef> &vars) {
  if (e->kind == Expr::Kind::VarRef) {
    auto it = vars.find(e->var.id);
    return it == vars.end() ? e : it->second;
  }
  std::vector<ExprRef> args;
  bool changed = false;
  for (const ExprRef &a : e->args) {
    args.push_back(substitute(a, vars));
    changed |= args.back() != a;
  }
  if (!changed)
    return e;
  auto copy = std::make_shared<Expr>(*e);
  copy->args = std::move(args);
  return copy;
}

std::shared_ptr<Stmt> copyOf(const Stmt &s) {
  return std::make_shared<Stmt>(s);
}

StmtRef withDeclares(std::vector<StmtRef> declares, StmtRef s) {
  if (declares.empty())
    return s;
  declares.push_back(std::move(s));
  return B::block(std::move(declares));
}

class AnchorRewriter {
public:
  AnchorRewriter(const ir::Function &body, const ir::Op &anchor,
                 const Kernel &k)
      : body_(body), anchor_(anchor), kernel_(k), n_(anchor.numOperands()),
        result_(anchor.result()) {}

  absl::StatusOr<StmtRef> run() {
    if (kernel_.buffers.size() != static_cast<size_t>(n_) + 1)
      return breaks(strCat("made a kernel of ", kernel_.buffers.size(),
                           " buffers; expected ", n_ + 1,
                           " (operands then the result)"));
    if (!kernel_.body)
      return breaks("made a kernel without a body");
    std::vector<const Stmt *> loops;
    if (auto s = analyze(*kernel_.body, loops); !s.ok())
      return s;
    locals_ = Builder(maxVarId_ + 1);
    for (int j = 0; j < n_; ++j) {
      auto it = std::find(body_.params.begin(), body_.params.end(),
                          anchor_.operand(j));
      paramOf_.push_back(it == body_.params.end()
                             ? -1
                             : static_cast<int>(it - body_.params.begin()));
    }
    firstReturn_ = static_cast<int>(body_.params.size());
    accumulates_ = std::any_of(accesses_.begin(), accesses_.end(),
                               [](const Access &a) { return !a.isStore; });
    if (accumulates_)
      if (auto s = planAccumulation(); !s.ok())
        return s;
    values_.emplace(body_, extents_, &locals_);
    auto out = stmt(kernel_.body);
    if (!out.ok())
      return out.status();
    if (accumulates_ && !parallel_) {
      auto nest = epilogueNest();
      if (!nest.ok())
        return nest.status();
      return B::block({*out, *nest});
    }
    return out;
  }

private:
  absl::Status breaks(std::string_view what) const {
    return absl::InvalidArgumentError(
        strCat("the lowering of '", anchor_.name(), "' ", what,
               ", which breaks the anchor contract (codegen/kernel/"
               "lowering.h)"));
  }

  // -- Checking the contract ----------------------------------------------

  absl::Status analyze(const Stmt &s, std::vector<const Stmt *> &loops) {
    maxVarId_ = std::max(maxVarId_, s.var.id);
    for (const ExprRef *e : {&s.extent, &s.index, &s.value})
      if (*e)
        if (auto st = analyzeExpr(**e, loops); !st.ok())
          return st;
    switch (s.kind) {
    case Stmt::Kind::For:
      if (s.extent->kind == Expr::Kind::IntConst)
        extents_[s.var.id] = s.extent->intValue;
      loops.push_back(&s);
      for (const StmtRef &c : s.body)
        if (auto st = analyze(*c, loops); !st.ok())
          return st;
      loops.pop_back();
      return absl::OkStatus();
    case Stmt::Kind::Store:
      if (s.buffer != n_)
        return breaks(strCat("stores to buffer ", s.buffer,
                             "; expected stores to its result, buffer ", n_,
                             ", only"));
      accesses_.push_back({true, s.index, loops});
      return absl::OkStatus();
    default:
      for (const auto *list : {&s.body, &s.orElse})
        for (const StmtRef &c : *list)
          if (auto st = analyze(*c, loops); !st.ok())
            return st;
      return absl::OkStatus();
    }
  }

  absl::Status analyzeExpr(const Expr &e,
                           const std::vector<const Stmt *> &loops) {
    if (e.kind == Expr::Kind::VarRef)
      maxVarId_ = std::max(maxVarId_, e.var.id);
    if (e.kind == Expr::Kind::Load) {
      if (e.buffer < 0 || e.buffer > n_)
        return breaks(strCat("loads buffer ", e.buffer,
                             "; expected loads of buffers 0 to ", n_));
      if (e.buffer == n_)
        accesses_.push_back({false, e.args[0], loops});
    }
    for (const ExprRef &a : e.args)
      if (auto st = analyzeExpr(*a, loops); !st.ok())
        return st;
    return absl::OkStatus();
  }

  // The loops inside the parallel loop around `a` that its index depends
  // on.
  std::vector<const Stmt *> ownLoops(const Access &a) const {
    std::unordered_set<int> ids;
    collectVarIds(*a.index, ids);
    std::vector<const Stmt *> out;
    bool inside = parallel_ == nullptr;
    for (const Stmt *l : a.loops) {
      if (inside && ids.count(l->var.id))
        out.push_back(l);
      inside |= l == parallel_;
    }
    return out;
  }

  // The elements `a` reaches in one iteration of the parallel loop, as a
  // string equal for accesses that reach the same ones.
  std::string regionKey(const Access &a) const {
    std::unordered_map<int, ExprRef> placeholders;
    std::string extents;
    int next = -1;
    for (const Stmt *l : ownLoops(a)) {
      Var v;
      v.id = next--;
      placeholders[l->var.id] = B::ref(v);
      extents += strCat(exprKey(*l->extent), ";");
    }
    return extents + exprKey(*substitute(a.index, placeholders));
  }

  absl::Status planAccumulation() {
    const Stmt *top = kernel_.body.get();
    while (top->kind == Stmt::Kind::Block && top->body.size() == 1)
      top = top->body[0].get();
    if (top->kind == Stmt::Kind::For && top->loopKind == LoopKind::Parallel)
      parallel_ = top;
    // Every access lies inside `parallel_`, which is the whole kernel.
    const Access *last = nullptr;
    for (const Access &a : accesses_)
      if (a.isStore)
        last = &a;
    if (!last)
      return breaks("loads its result but never stores it");
    std::string key = regionKey(*last);
    for (const Access &a : accesses_)
      if (regionKey(a) != key)
        return breaks("accumulates in its result at elements that differ "
                      "between its accesses");
    for (const Stmt *l : ownLoops(*last))
      if (l->extent->kind != Expr::Kind::IntConst)
        return breaks("accumulates over a loop whose extent is not constant");
    region_ = *last;
    // The buffer that holds the anchor's values: its own result if that is
    // returned, else an epilogue value of the same type.
    for (size_t r = 0; r < body_.returns.size() && holder_ < 0; ++r)
      if (body_.returns[r] == result_)
        holder_ = firstReturn_ + static_cast<int>(r);
    for (size_t r = 0; r < body_.returns.size() && holder_ < 0; ++r)
      if (body_.returns[r]->type == result_->type)
        holder_ = firstReturn_ + static_cast<int>(r);
    if (holder_ < 0)
      return absl::InvalidArgumentError(strCat(
          "the lowering of '", anchor_.name(),
          "' accumulates in its result, and no returned value has its type ",
          result_->type.str(),
          "; expected the anchor's result, or an epilogue value of its type, "
          "among the returns"));
    return absl::OkStatus();
  }

  // -- Rewriting ----------------------------------------------------------

  absl::StatusOr<std::vector<StmtRef>> stmts(const std::vector<StmtRef> &list) {
    std::vector<StmtRef> out;
    for (const StmtRef &s : list) {
      auto r = stmt(s);
      if (!r.ok())
        return r.status();
      out.push_back(*r);
    }
    return out;
  }

  // Rewrites the expressions of one statement, with a fresh scope for the
  // locals they declare.
  absl::StatusOr<ExprRef> scoped(const ExprRef &e) {
    if (!e)
      return e;
    return expr(e);
  }

  void newScope() {
    values_->forget();
    exprMemo_.clear();
  }

  absl::StatusOr<StmtRef> stmt(const StmtRef &s) {
    switch (s->kind) {
    case Stmt::Kind::Block: {
      auto body = stmts(s->body);
      if (!body.ok())
        return body.status();
      return B::block(std::move(*body));
    }
    case Stmt::Kind::For: {
      newScope();
      auto extent = scoped(s->extent);
      if (!extent.ok())
        return extent.status();
      std::vector<StmtRef> declares = values_->takeDeclares();
      auto body = stmts(s->body);
      if (!body.ok())
        return body.status();
      if (accumulates_ && s.get() == parallel_) {
        auto nest = epilogueNest();
        if (!nest.ok())
          return nest.status();
        body->push_back(*nest);
      }
      auto copy = copyOf(*s);
      copy->extent = *extent;
      copy->body = std::move(*body);
      return withDeclares(std::move(declares), copy);
    }
    case Stmt::Kind::If: {
      newScope();
      auto cond = scoped(s->value);
      if (!cond.ok())
        return cond.status();
      std::vector<StmtRef> declares = values_->takeDeclares();
      auto then = stmts(s->body);
      if (!then.ok())
        return then.status();
      auto orElse = stmts(s->orElse);
      if (!orElse.ok())
        return orElse.status();
      auto copy = copyOf(*s);
      copy->value = *cond;
      copy->body = std::move(*then);
      copy->orElse = std::move(*orElse);
      return withDeclares(std::move(declares), copy);
    }
    case Stmt::Kind::Declare:
    case Stmt::Kind::Assign: {
      newScope();
      auto value = scoped(s->value);
      if (!value.ok())
        return value.status();
      auto copy = copyOf(*s);
      copy->value = *value;
      return withDeclares(values_->takeDeclares(), copy);
    }
    case Stmt::Kind::Store: {
      newScope();
      auto index = scoped(s->index);
      if (!index.ok())
        return index.status();
      auto value = scoped(s->value);
      if (!value.ok())
        return value.status();
      if (!accumulates_)
        return epilogueStores(*index, *value);
      auto copy = copyOf(*s);
      copy->buffer = holder_;
      copy->index = *index;
      copy->value = *value;
      return withDeclares(values_->takeDeclares(), copy);
    }
    case Stmt::Kind::MatmulTile:
      // GEMM anchors are built with their epilogue (gemmGroup); the nests
      // of other anchors have no register tiles.
      return absl::InternalError(
          "a register tile in the nest of a non-GEMM anchor");
    }
    return s;
  }

  absl::StatusOr<ExprRef> expr(const ExprRef &e) {
    auto it = exprMemo_.find(e.get());
    if (it != exprMemo_.end())
      return it->second.second;
    auto out = exprUncached(e);
    if (!out.ok())
      return out.status();
    exprMemo_.emplace(e.get(), std::make_pair(e, *out));
    return out;
  }

  absl::StatusOr<ExprRef> exprUncached(const ExprRef &e) {
    std::vector<ExprRef> args;
    bool changed = false;
    for (const ExprRef &a : e->args) {
      auto r = expr(a);
      if (!r.ok())
        return r.status();
      args.push_back(*r);
      changed |= *r != a;
    }
    if (e->kind == Expr::Kind::Load && e->buffer < n_ &&
        paramOf_[e->buffer] < 0)
      return operandValue(*e, args[0]);
    if (e->kind != Expr::Kind::Load && !changed)
      return e;
    auto copy = std::make_shared<Expr>(*e);
    copy->args = std::move(args);
    if (e->kind == Expr::Kind::Load)
      copy->buffer = e->buffer == n_ ? holder_ : paramOf_[e->buffer];
    return ExprRef(copy);
  }

  // What a load of operand `load.buffer` at `index` reads: the prologue's
  // value there, in the form the load asked for.
  absl::StatusOr<ExprRef> operandValue(const Expr &load, const ExprRef &index) {
    const ir::Value *operand = anchor_.operand(load.buffer);
    auto v = values_->at(operand, unravel(index, operand->type.shape));
    if (!v.ok())
      return v.status();
    if (load.type == operand->type.dtype)
      return storedValue(*v, operand->type.dtype);
    return computeValue(*v);
  }

  // A local for the anchor's value when more than one value reads it.
  ExprRef anchorLocal(ExprRef v, std::vector<StmtRef> &out) {
    int uses = values_->uses(result_);
    if (uses < 2 || v->kind == Expr::Kind::VarRef ||
        v->kind == Expr::Kind::IntConst || v->kind == Expr::Kind::FloatConst)
      return v;
    Var local = locals_.newVar(v->type, result_->name);
    out.push_back(B::declare(local, v));
    return B::ref(local);
  }

  // Stores of every returned value at `index`, where the anchor's result
  // is `value`.
  absl::StatusOr<std::vector<StmtRef>> returnedStores(const ExprRef &index,
                                                      const ExprRef &value,
                                                      bool holderHasAnchor) {
    values_->setAnchor(result_, value);
    std::vector<ExprRef> coords = unravel(index, result_->type.shape);
    std::vector<std::pair<int, ExprRef>> stores;
    for (size_t r = 0; r < body_.returns.size(); ++r) {
      int buffer = firstReturn_ + static_cast<int>(r);
      const ir::Value *v = body_.returns[r];
      if (v == result_) {
        if (!(holderHasAnchor && buffer == holder_))
          stores.push_back({buffer, value});
        continue;
      }
      auto e = values_->at(v, coords);
      if (!e.ok())
        return e.status();
      stores.push_back({buffer, *e});
    }
    std::vector<StmtRef> out = values_->takeDeclares();
    for (auto &[buffer, e] : stores)
      out.push_back(B::store(buffer, index, e));
    return out;
  }

  absl::StatusOr<StmtRef> epilogueStores(const ExprRef &index,
                                         const ExprRef &value) {
    std::vector<StmtRef> out = values_->takeDeclares();
    ExprRef v = anchorLocal(value, out);
    auto stores = returnedStores(index, v, false);
    if (!stores.ok())
      return stores.status();
    out.insert(out.end(), stores->begin(), stores->end());
    return B::block(std::move(out));
  }

  // After the anchor has finished the elements of one parallel iteration
  // (or of the whole kernel), a nest over them computing the returned
  // values from the anchor's values in the holder buffer.
  absl::StatusOr<StmtRef> epilogueNest() {
    newScope();
    std::unordered_map<int, ExprRef> fresh;
    std::vector<std::pair<Var, int64_t>> loops;
    for (const Stmt *l : ownLoops(region_)) {
      Var v = locals_.newVar(DType::I64, l->var.name);
      loops.push_back({v, l->extent->intValue});
      fresh[l->var.id] = B::ref(v);
      extents_[v.id] = l->extent->intValue;
    }
    auto index = expr(substitute(region_.index, fresh));
    if (!index.ok())
      return index.status();
    const DType dt = result_->type.dtype;
    Var acc = locals_.newVar(computeType(dt), result_->name);
    std::vector<StmtRef> body = values_->takeDeclares();
    body.push_back(B::declare(acc, B::load(holder_, dt, *index)));
    auto stores = returnedStores(*index, B::ref(acc), true);
    if (!stores.ok())
      return stores.status();
    body.insert(body.end(), stores->begin(), stores->end());
    StmtRef nest = B::block(std::move(body));
    for (size_t i = loops.size(); i-- > 0;)
      nest = B::loop(loops[i].first, B::i64(loops[i].second), {nest});
    return nest;
  }

  const ir::Function &body_;
  const ir::Op &anchor_;
  const Kernel &kernel_;
  const int n_;
  const ir::Value *result_;

  int maxVarId_ = 0;
  VarExtents extents_;
  std::vector<Access> accesses_;
  Builder locals_;
  std::vector<int> paramOf_; // per operand: its param's buffer, or -1
  int firstReturn_ = 0;

  bool accumulates_ = false;
  const Stmt *parallel_ = nullptr; // the kernel's outermost parallel loop
  Access region_;                  // an access reaching what one iteration owns
  int holder_ = -1;                // the buffer the anchor accumulates in

  std::optional<FusedValues> values_;
  std::unordered_map<const Expr *, std::pair<ExprRef, ExprRef>> exprMemo_;
};

} // namespace

absl::StatusOr<StmtRef> rewriteAnchorKernel(const ir::Function &body,
                                            const ir::Op &anchor,
                                            const Kernel &anchorKernel) {
  return AnchorRewriter(body, anchor, anchorKernel).run();
}

} // namespace nyx::kernel
