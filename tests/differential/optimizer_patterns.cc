// Families of ops that give each optimization pass work: identities for
// canonicalize, constant subgraphs for const-fold, repeated ops for cse,
// helper functions for inline, chains for fuse. (Dead ops need no family:
// most graphs leave some values unused.)
#include <algorithm>
#include <numeric>

#include "ir/strings.h"
#include "tests/differential/graph_builder.h"

namespace nyx::difftest {

// Patterns canonicalization removes: x * 1, x + 0, neg(neg x), a transpose
// undone, a cast there and back, and so on.
bool GraphBuilder::identity() {
  auto x = pick(anyNode);
  if (!x)
    return false;
  const Node n = nodes_[*x];
  DType t = n.dtype();
  bool numeric = t != DType::Bool;
  // A splat of `v`, sometimes of a shape that broadcasts x up.
  auto splatLike = [&](double v) {
    Shape s = rng_.chance(0.6) ? Shape{} : partnerShape(n.shape());
    return splat({t, s}, v);
  };
  switch (rng_.range(0, 11)) {
  case 0:
    return numeric && binaryOn("mul", *x, splatLike(1)).has_value();
  case 1:
    return numeric && binaryOn(rng_.chance(0.5) ? "add" : "sub", *x,
                               splatLike(rng_.chance(0.5) ? 0.0 : -0.0))
                          .has_value();
  case 2:
    return numeric &&
           binaryOn("div", *x, splatLike(rng_.pick<double>({1, 2, 4, 0.5, -1})))
               .has_value();
  case 3: {
    if (!numeric)
      return false;
    std::string op = rng_.pick<std::string>({"neg", "abs", "relu"});
    auto y = unaryOp(op, *x);
    return y && unaryOp(op, *y).has_value();
  }
  case 4:
    return numeric &&
           binaryOn(rng_.chance(0.5) ? "max" : "min", *x, *x).has_value();
  case 5: {
    // x - x and x * 0: zero for integers; kept for floats (NaN, inf).
    if (!numeric)
      return false;
    return rng_.chance(0.5) ? binaryOn("sub", *x, *x).has_value()
                            : binaryOn("mul", *x, splatLike(0)).has_value();
  }
  case 6: {
    if (n.rank() < 2)
      return false;
    std::vector<int64_t> perm(n.rank()), inverse(n.rank());
    std::iota(perm.begin(), perm.end(), 0);
    rng_.shuffle(perm);
    for (int64_t i = 0; i < n.rank(); ++i)
      inverse[perm[i]] = i;
    auto y = append("transpose", {*x}, {{"perm", perm}}, n.range,
                    Numerics::Moves, n.spread);
    if (!y)
      return false;
    // Undone, or followed by another permutation (the two compose).
    if (rng_.chance(0.3))
      rng_.shuffle(inverse);
    return append("transpose", {*y}, {{"perm", inverse}}, n.range,
                  Numerics::Moves, n.spread)
        .has_value();
  }
  case 7: {
    int64_t count = n.type().numElements();
    auto y = reshapeTo(*x, randomShape(count, rng_.range(1, 4)));
    return y && reshapeTo(*y, rng_.chance(0.5)
                                  ? n.shape()
                                  : randomShape(count, rng_.range(1, 4)))
                    .has_value();
  }
  case 8: {
    // Data movement that moves nothing.
    if (n.rank() >= 1 && rng_.chance(0.5)) {
      std::vector<int64_t> zeros(n.rank(), 0);
      return append("slice", {*x}, {{"starts", zeros}, {"ends", n.shape()}},
                    n.range, Numerics::Moves, n.spread)
          .has_value();
    }
    return append("broadcast_to", {*x}, {{"shape", n.shape()}}, n.range,
                  Numerics::Moves, n.spread)
        .has_value();
  }
  case 9: {
    // A cast to the same dtype, or to a wider float and back.
    if (!ir::isFloat(t) || t == DType::F64 || rng_.chance(0.3))
      return append("cast", {*x}, {{"to", t}}, n.range, Numerics::Moves)
          .has_value();
    auto wide =
        append("cast", {*x}, {{"to", DType::F64}}, n.range, Numerics::Moves);
    return wide &&
           append("cast", {*wide}, {{"to", t}}, n.range, Numerics::Moves)
               .has_value();
  }
  case 10: {
    if (t != DType::Bool && !ir::isFloat(t))
      return false;
    if (ir::isFloat(t) && rng_.chance(0.5))
      return binaryOn("pow", *x, splatLike(1)).has_value();
    // select(c, x, x) with c from a compare of exact values.
    auto c = pick([](const Node &m) { return m.dtype() == DType::Bool; });
    if (!c)
      return false;
    return append("select", {*c, *x, *x}, {}, n.range, Numerics::Moves)
        .has_value();
  }
  default: {
    if (n.rank() < 1)
      return false;
    if (isNumericNode(n) && rng_.chance(0.5))
      return append("reduce_sum", {*x}, {{"axes", std::vector<int64_t>{}}},
                    n.range, Numerics::Rounds)
          .has_value();
    return append("concat", {*x}, {{"axis", int64_t(0)}}, n.range,
                  Numerics::Moves, n.spread)
        .has_value();
  }
  }
}

// An op computed again with the same operands (for cse), sometimes with a
// commutative op's operands swapped.
bool GraphBuilder::duplicate() {
  std::vector<const ir::Op *> candidates;
  for (const auto &op : fn_->ops)
    if (op->results.size() == 1 && op->name() != "param")
      candidates.push_back(op.get());
  if (candidates.empty())
    return false;
  const ir::Op *op = rng_.pick(candidates);
  int original = nodeOf_.at(op->result(0));
  const Node n = nodes_[original];
  std::vector<int> operands;
  for (const ir::Value *v : op->operands)
    operands.push_back(nodeOf_.at(v));
  if (op->def->commutative && rng_.chance(0.5))
    std::swap(operands[0], operands[1]);
  std::optional<int> copy;
  if (op->name() == "constant") {
    copy = constant(
        *std::get<std::shared_ptr<const ir::Tensor>>(*op->find("value")));
  } else {
    copy = append(op->name(), operands, op->attrs, n.range,
                  n.exact ? Numerics::Moves : Numerics::Rounds, n.spread);
  }
  if (!copy)
    return false;
  // Both copies used by one op, so both stay alive until cse.
  if (isNumericNode(n) && rng_.chance(0.5))
    binaryOn(rng_.pick<std::string>({"add", "max", "mul"}), original, *copy);
  return true;
}

// Ops on constants only (const-fold evaluates them), then combined with a
// value that depends on an input.
bool GraphBuilder::constantSubgraph() {
  auto x = pick(isNumericNode);
  if (!x)
    return false;
  const Node n = nodes_[*x];
  constMode_ = true;
  Interval values = isFloatNode(n) ? kFloatInputs : kIntInputs;
  int last = rng_.chance(0.5)
                 ? dense({n.dtype(), partnerShape(n.shape())}, values)
                 : splat({n.dtype(), partnerShape(n.shape())},
                         niceValue(values, n.dtype()));
  int steps = static_cast<int>(rng_.range(1, 3));
  for (int i = 0; i < steps; ++i) {
    chainFrom_ = last;
    double r = rng_.real(0, 1);
    bool made = r < 0.4 ? unary() : r < 0.8 ? binary() : dataMovement();
    chainFrom_.reset();
    if (made)
      last = static_cast<int>(nodes_.size()) - 1;
  }
  constMode_ = false;
  if (!isNumericNode(nodes_[last]) || nodes_[last].dtype() != n.dtype())
    return true;
  binaryOn(rng_.pick<std::string>({"add", "mul", "sub", "max"}), *x, last);
  return true;
}

// A helper function of a few elementwise ops, called once or twice (for
// inline, then cse).
bool GraphBuilder::callHelper() {
  if (fn_ != main_)
    return false;
  auto a = pick(isNumericNode);
  if (!a)
    return false;
  std::vector<int> args = {*a};
  if (rng_.chance(0.5))
    if (auto b = pick([&](const Node &n) {
          return n.dtype() == nodes_[*a].dtype() &&
                 n.shape() == nodes_[*a].shape();
        }))
      if (*b != *a)
        args.push_back(*b);

  std::string name = strCat("helper", helpers_++);
  auto helper = std::make_unique<ir::Function>(name);
  ir::Function *h = helper.get();
  // Callees come first in the text, so they are read before their calls.
  module_->functions.insert(module_->functions.begin(), std::move(helper));

  // Build the body in a scope of its own.
  std::vector<Node> outerNodes = std::move(nodes_);
  auto outerIndex = std::move(nodeOf_);
  nodes_.clear();
  nodeOf_.clear();
  fn_ = h;
  for (size_t i = 0; i < args.size(); ++i) {
    Node p = outerNodes[args[i]];
    p.value = h->addParam(strCat("p", i), p.type());
    p.constant = false;
    p.uses = 0;
    addNode(p);
  }
  int steps = static_cast<int>(rng_.range(1, 4));
  std::optional<int> result;
  for (int i = 0; i < steps; ++i) {
    chainFrom_ = result ? *result : 0;
    double r = rng_.real(0, 1);
    size_t before = nodes_.size();
    bool made = r < 0.4 ? unary() : binary();
    chainFrom_.reset();
    if (made && nodes_.size() > before)
      result = static_cast<int>(nodes_.size()) - 1;
  }
  Node returned = result ? nodes_[*result] : Node{};
  if (result) {
    h->returns = {returned.value};
    h->resultTypes = {returned.type()};
  }
  nodes_ = std::move(outerNodes);
  nodeOf_ = std::move(outerIndex);
  fn_ = main_;
  if (!result) {
    module_->functions.erase(module_->functions.begin());
    --helpers_;
    return false;
  }
  ir::Attributes attrs = {{"callee", ir::SymbolRef{name}}};
  Numerics numerics = returned.exact ? Numerics::Moves : Numerics::Rounds;
  auto call = append("call", args, attrs, returned.range, numerics);
  if (call && rng_.chance(0.3))
    append("call", args, attrs, returned.range, numerics);
  return call.has_value();
}

// Several elementwise ops in a row, each reading the one before: what the
// fuse pass turns into one loop.
bool GraphBuilder::chain() {
  auto x = pick(isNumericNode);
  if (!x)
    return false;
  int steps = static_cast<int>(rng_.range(2, 5));
  int last = *x;
  for (int i = 0; i < steps; ++i) {
    chainFrom_ = last;
    size_t before = nodes_.size();
    elementwise();
    chainFrom_.reset();
    if (nodes_.size() > before)
      last = static_cast<int>(nodes_.size()) - 1;
  }
  return last != *x;
}

} // namespace nyx::difftest
