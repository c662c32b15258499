// The families of ops a graph is drawn from. Each adds a few ops that
// belong together (a matmul and its epilogue, a compare and the select it
// drives) or none, when the values at hand do not suit it.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "ir/strings.h"
#include "tests/differential/graph_builder.h"

namespace nyx::difftest {

const std::vector<std::string> kFloatUnary = {
    "neg",   "abs",  "relu", "exp",     "log",  "sqrt",
    "rsqrt", "tanh", "erf",  "sigmoid", "silu", "gelu"};
const std::vector<std::string> kIntUnary = {"neg", "abs", "relu"};

bool GraphBuilder::unary() {
  auto x = pick(isNumericNode);
  if (!x)
    return false;
  return unaryOp(rng_.pick(isFloatNode(nodes_[*x]) ? kFloatUnary : kIntUnary),
                 *x)
      .has_value();
}

bool GraphBuilder::binary() {
  auto a = pick(isNumericNode);
  if (!a)
    return false;
  std::vector<std::string> ops = {"add", "sub", "mul", "div", "max", "min"};
  if (isFloatNode(nodes_[*a]))
    ops.push_back("pow");
  return binaryOp(rng_.pick(ops), *a).has_value();
}

bool GraphBuilder::compareSelect() {
  auto a = pick([](const Node &n) { return n.exact; });
  if (!a)
    return false;
  DType t = nodes_[*a].dtype();
  Interval values = t == DType::Bool ? Interval{0, 1}
                    : ir::isFloat(t) ? kFloatInputs
                                     : kIntInputs;
  int b = partner(*a, t, values, [](const Node &n) { return n.exact; });
  std::string cmp =
      rng_.pick<std::string>({"eq", "ne", "lt", "le", "gt", "ge"});
  auto c = append(cmp, {*a, b}, {}, {0, 1}, Numerics::Moves);
  if (!c)
    return false;
  if (rng_.chance(0.25))
    return true;
  Shape cs = nodes_[*c].shape();
  auto x = pick([&](const Node &n) {
    return isNumericNode(n) && broadcastsWithin(n.shape(), cs);
  });
  if (!x)
    return true;
  DType xt = nodes_[*x].dtype();
  int y = partner(*x, xt, ir::isFloat(xt) ? kFloatInputs : kIntInputs, anyNode);
  append("select", {*c, *x, y}, {}, hull(nodes_[*x].range, nodes_[y].range),
         Numerics::Moves);
  return true;
}

bool GraphBuilder::cast() {
  auto x = pick(anyNode);
  if (!x)
    return false;
  const Node n = nodes_[*x];
  std::vector<DType> targets;
  for (DType t : ir::kAllDTypes)
    if (t != n.dtype() && (n.exact || ir::isFloat(t)))
      targets.push_back(t);
  DType to = rng_.pick(targets);
  // Usually to one of the dtypes the graph computes in.
  if (rng_.chance(0.4) && mainType_ != n.dtype() &&
      (n.exact || ir::isFloat(mainType_)))
    to = mainType_;
  Interval out = n.range;
  if (to == DType::Bool)
    out = {0, 1};
  if (ir::isInteger(to) && ir::isFloat(n.dtype()))
    out = out.map([](double v) { return std::trunc(v); });
  return append("cast", {*x}, {{"to", to}}, out, Numerics::Moves).has_value();
}

bool GraphBuilder::reduce() {
  auto x =
      pick([](const Node &n) { return isNumericNode(n) && n.rank() >= 1; });
  if (!x)
    return false;
  const Node n = nodes_[*x];
  std::vector<std::string> ops = {"reduce_sum", "reduce_max", "reduce_min"};
  if (isFloatNode(n))
    ops.push_back("reduce_mean");
  std::string op = rng_.pick(ops);
  ir::Attributes attrs;
  int64_t count = n.type().numElements();
  double r = rng_.real(0, 1);
  if (r < 0.05) {
    attrs["axes"] = std::vector<int64_t>{};
    count = 1;
  } else if (r < 0.85) {
    std::vector<int64_t> axes, order(n.rank());
    std::iota(order.begin(), order.end(), 0);
    rng_.shuffle(order);
    order.resize(rng_.range(1, n.rank()));
    count = 1;
    for (int64_t a : order) {
      count *= n.shape()[a];
      axes.push_back(rng_.chance(0.25) ? a - n.rank() : a);
    }
    attrs["axes"] = axes;
  }
  if (rng_.chance(0.5))
    attrs["keepdims"] = rng_.chance(0.7);
  Interval out = n.range;
  if (op == "reduce_sum")
    out = static_cast<double>(count) * out;
  if (op == "reduce_sum" && isFloatNode(n) && out.magnitude() > kMaxMagnitude) {
    op = "reduce_mean";
    out = n.range;
  }
  Numerics numerics = op == "reduce_max" || op == "reduce_min"
                          ? Numerics::Moves
                          : Numerics::Rounds;
  return append(op, {*x}, std::move(attrs), out, numerics).has_value();
}

bool GraphBuilder::argmax() {
  auto x = pick([](const Node &n) {
    return isNumericNode(n) && n.rank() >= 1 && n.exact;
  });
  if (!x)
    return false;
  const Node n = nodes_[*x];
  int64_t axis = rng_.range(-n.rank(), n.rank() - 1);
  ir::Attributes attrs;
  if (axis != 0 || rng_.chance(0.5))
    attrs["axis"] = axis;
  if (rng_.chance(0.5))
    attrs["keepdims"] = rng_.chance(0.5);
  int64_t dim = n.shape()[axis < 0 ? axis + n.rank() : axis];
  return append("argmax", {*x}, std::move(attrs),
                {0, static_cast<double>(dim - 1)}, Numerics::Moves)
      .has_value();
}

bool GraphBuilder::normalization() {
  std::string op = rng_.pick<std::string>(
      {"softmax", "log_softmax", "layer_norm", "rms_norm"});
  // layer_norm subtracts the row mean, which magnifies rounding differences
  // on rows that hardly vary; it only reads rows of random elements.
  std::optional<int> x;
  if (op == "layer_norm")
    x = pick([](const Node &n) {
      return isFloatNode(n) && n.spread && n.rank() >= 1 &&
             n.type().numElements() >= 4;
    });
  if (!x)
    x = pick([](const Node &n) { return isFloatNode(n) && n.rank() >= 1; });
  if (!x)
    return false;
  const Node n = nodes_[*x];
  int64_t rank = n.rank();
  ir::Attributes attrs;
  if (op == "softmax" || op == "log_softmax") {
    int64_t axis = rng_.range(-rank, rank - 1);
    if (axis != -1 || rng_.chance(0.3))
      attrs["axis"] = axis;
    int64_t dim = n.shape()[axis < 0 ? axis + rank : axis];
    Interval out = op == "softmax"
                       ? Interval{0, 1}
                       : Interval{n.range.lo - n.range.hi -
                                      std::log(static_cast<double>(dim)),
                                  0};
    return append(op, {*x}, std::move(attrs), out, Numerics::Rounds)
        .has_value();
  }
  std::vector<int64_t> axes;
  for (int64_t a = 0; a < rank; ++a)
    if (product(n.shape(), a) >= 4)
      axes.push_back(a);
  if (op == "layer_norm" && (!n.spread || axes.empty()))
    op = "rms_norm";
  int64_t axis = op == "layer_norm" ? rng_.pick(axes) : rng_.range(0, rank - 1);
  if (rng_.chance(0.3))
    axis -= rank;
  if (axis != -1 || rng_.chance(0.3))
    attrs["axis"] = axis;
  if (rng_.chance(0.3))
    attrs["epsilon"] = rng_.pick<double>({1e-5, 1e-3, 1e-6});
  int64_t a = axis < 0 ? axis + rank : axis;
  Shape block(n.shape().begin() + a, n.shape().end());
  TensorType blockType{n.dtype(), block};
  std::vector<int> operands = {*x};
  Interval out =
      std::sqrt(static_cast<double>(product(block))) * Interval{-1, 1};
  int maxOperands = op == "layer_norm" ? 2 : 1;
  if (rng_.chance(0.6)) {
    int scale = operandOf(blockType, {-2, 2});
    operands.push_back(scale);
    out = out * nodes_[scale].range;
    if (maxOperands == 2 && rng_.chance(0.5)) {
      int bias = operandOf(blockType, {-2, 2});
      operands.push_back(bias);
      out = out + nodes_[bias].range;
    }
  }
  return append(op, operands, std::move(attrs), out, Numerics::Rounds)
      .has_value();
}

bool GraphBuilder::matmul() {
  auto a = pick([](const Node &n) {
    return (isFloatNode(n) || n.dtype() == DType::I32 ||
            n.dtype() == DType::I64) &&
           n.rank() >= 1;
  });
  if (!a)
    return false;
  if (nodes_[*a].rank() == 1) {
    int64_t count = nodes_[*a].type().numElements();
    a = reshapeTo(*a, rng_.chance(0.5) ? Shape{1, count} : Shape{count, 1});
    if (!a)
      return false;
  }
  const Node an = nodes_[*a];
  DType t = an.dtype();
  int64_t r = an.rank();
  bool ta = rng_.chance(0.25), tb = false;
  int64_t k = ta ? an.shape()[r - 2] : an.shape()[r - 1];
  Shape batch(an.shape().begin(), an.shape().end() - 2);
  int b;
  double mode = rng_.real(0, 1);
  if (mode < 0.15) {
    // a times its own transpose, like attention scores.
    b = *a;
    tb = !ta;
  } else {
    std::optional<int> existing;
    if (mode < 0.4) {
      tb = rng_.chance(0.3);
      existing = pickAny([&](const Node &n) {
        return n.dtype() == t && n.rank() >= 2 &&
               n.shape()[n.rank() - (tb ? 1 : 2)] == k;
      });
    }
    if (existing) {
      b = *existing;
    } else {
      int64_t nCols = rng_.pick<int64_t>({1, 2, 3, 4, 8, 16});
      tb = rng_.chance(0.25);
      Shape bs = tb ? Shape{nCols, k} : Shape{k, nCols};
      if (rng_.chance(0.25)) {
        Shape lead = batch.empty()      ? Shape{rng_.pick<int64_t>({1, 2, 3})}
                     : rng_.chance(0.6) ? batch
                                        : Shape{1};
        bs.insert(bs.begin(), lead.begin(), lead.end());
      }
      double bound = ir::isFloat(t) ? std::min(2.0, 40.0 / k) : 3;
      b = leaf({t, bs}, {-bound, bound});
    }
  }
  ir::Attributes attrs;
  if (ta || rng_.chance(0.1))
    attrs["transpose_a"] = ta;
  if (tb || rng_.chance(0.1))
    attrs["transpose_b"] = tb;
  Interval out = static_cast<double>(k) * symmetric(an.range * nodes_[b].range);
  auto c = append("matmul", {*a, b}, std::move(attrs), out, Numerics::Rounds);
  if (!c)
    return false;
  // Epilogues: + bias, an activation, or a batch_norm over the columns.
  if (rng_.chance(0.5)) {
    const Node cn = nodes_[*c];
    int64_t nCols = cn.shape().back();
    int bias = operandOf({t, {nCols}},
                         ir::isFloat(t) ? Interval{-1, 1} : Interval{-3, 3});
    auto biased = binaryOn("add", *c, bias);
    if (biased && rng_.chance(0.7)) {
      std::string act = ir::isFloat(t)
                            ? rng_.pick<std::string>(
                                  {"relu", "gelu", "sigmoid", "tanh", "silu"})
                            : "relu";
      unaryOp(act, *biased);
    }
  } else if (ir::isFloat(t) && rng_.chance(0.2)) {
    batchNormOn(*c, -1);
  }
  return true;
}

bool GraphBuilder::dataMovement() {
  auto x = pick(anyNode);
  if (!x)
    return false;
  const Node n = nodes_[*x];
  int64_t rank = n.rank();
  ir::Attributes attrs;
  switch (rng_.range(0, 3)) {
  case 0: // reshape
    return reshapeTo(*x, randomShape(n.type().numElements(), rng_.range(1, 4)))
        .has_value();
  case 1: { // transpose
    if (rank < 2)
      return false;
    std::vector<int64_t> perm(rank);
    std::iota(perm.begin(), perm.end(), 0);
    rng_.shuffle(perm);
    if (rng_.chance(0.2))
      perm[rng_.range(0, rank - 1)] -= rank;
    if (rng_.chance(0.8))
      attrs["perm"] = perm;
    return append("transpose", {*x}, std::move(attrs), n.range, Numerics::Moves,
                  n.spread)
        .has_value();
  }
  case 2: { // broadcast_to
    Shape target = n.shape();
    for (int64_t &d : target)
      if (d == 1 && rng_.chance(0.6))
        d = rng_.pick<int64_t>({2, 3, 4});
    if (rng_.chance(0.4) && target.size() < 4)
      target.insert(target.begin(), rng_.pick<int64_t>({1, 2, 3}));
    attrs["shape"] = target;
    return append("broadcast_to", {*x}, std::move(attrs), n.range,
                  Numerics::Moves)
        .has_value();
  }
  default: { // slice
    if (rank < 1)
      return false;
    std::vector<int64_t> axes(rank);
    std::iota(axes.begin(), axes.end(), 0);
    rng_.shuffle(axes);
    axes.resize(rng_.range(1, rank));
    std::vector<int64_t> starts, ends, steps;
    bool unitSteps = true;
    for (int64_t a : axes) {
      int64_t d = n.shape()[a];
      int64_t step = rng_.pick<int64_t>({1, 1, 1, 2, 3, -1, -2});
      unitSteps &= step == 1;
      steps.push_back(step);
      starts.push_back(rng_.range(-d - 1, d));
      ends.push_back(rng_.chance(0.2) ? (step > 0 ? INT64_MAX : INT64_MIN)
                                      : rng_.range(-d - 1, d + 1));
    }
    attrs["starts"] = starts;
    attrs["ends"] = ends;
    if (!std::is_sorted(axes.begin(), axes.end()) ||
        axes.back() != static_cast<int64_t>(axes.size()) - 1 ||
        rng_.chance(0.3))
      attrs["axes"] = axes;
    if (!unitSteps || rng_.chance(0.3))
      attrs["steps"] = steps;
    return append("slice", {*x}, std::move(attrs), n.range, Numerics::Moves,
                  n.spread)
        .has_value();
  }
  }
}

bool GraphBuilder::concat() {
  auto x = pick([](const Node &n) { return n.rank() >= 1; });
  if (!x)
    return false;
  const Node n = nodes_[*x];
  int64_t axis = rng_.range(0, n.rank() - 1);
  std::vector<int> operands = {*x};
  Interval out = n.range;
  bool spread = n.spread;
  int more = rng_.chance(0.05) ? 0 : static_cast<int>(rng_.range(1, 3));
  for (int i = 0; i < more; ++i) {
    double r = rng_.real(0, 1);
    std::optional<int> o;
    if (r < 0.25) {
      o = *x;
    } else if (r < 0.55) {
      o = pickAny([&](const Node &m) {
        if (m.dtype() != n.dtype() || m.rank() != n.rank())
          return false;
        for (int64_t d = 0; d < n.rank(); ++d)
          if (d != axis && m.shape()[d] != n.shape()[d])
            return false;
        return true;
      });
    }
    if (!o) {
      Shape s = n.shape();
      s[axis] = rng_.range(1, 4);
      Interval values = n.dtype() == DType::Bool ? Interval{0, 1}
                        : isFloatNode(n)         ? kFloatInputs
                                                 : kIntInputs;
      o = leaf({n.dtype(), s}, values);
    }
    operands.push_back(*o);
    out = hull(out, nodes_[*o].range);
    spread &= nodes_[*o].spread;
  }
  ir::Attributes attrs;
  attrs["axis"] = rng_.chance(0.3) ? axis - n.rank() : axis;
  return append("concat", operands, std::move(attrs), out, Numerics::Moves,
                spread)
      .has_value();
}

bool GraphBuilder::pad() {
  auto x = pick([](const Node &n) { return n.rank() >= 1; });
  if (!x)
    return false;
  const Node n = nodes_[*x];
  std::string mode = rng_.pick<std::string>(
      {"constant", "constant", "constant", "reflect", "edge"});
  std::vector<int64_t> pads(2 * n.rank());
  for (int64_t d = 0; d < n.rank(); ++d) {
    int64_t limit = mode == "reflect" ? n.shape()[d] - 1 : 2;
    pads[d] = rng_.range(0, std::min<int64_t>(limit, 2));
    pads[n.rank() + d] = rng_.range(0, std::min<int64_t>(limit, 2));
  }
  ir::Attributes attrs;
  attrs["pads"] = pads;
  Interval out = n.range;
  if (mode != "constant" || rng_.chance(0.3))
    attrs["mode"] = mode;
  if (mode == "constant") {
    double value = 0;
    if (rng_.chance(0.5)) {
      value = rng_.pick<double>({0.0, 1.0, -1.5, 0.5});
      attrs["value"] = value;
    }
    out = hull(out, n.dtype() == DType::Bool ? Interval{0, 1}
                                             : Interval{value, value});
  }
  return append("pad", {*x}, std::move(attrs), out, Numerics::Moves)
      .has_value();
}

bool GraphBuilder::gather() {
  auto x = pick([](const Node &n) { return n.rank() >= 1; });
  if (!x)
    return false;
  const Node n = nodes_[*x];
  int64_t axis = rng_.range(0, n.rank() - 1);
  int64_t dim = n.shape()[axis];
  std::optional<int> indices;
  if (rng_.chance(0.3))
    indices = pickAny([](const Node &m) {
      return (m.dtype() == DType::I32 || m.dtype() == DType::I64) &&
             m.type().numElements() <= 16;
    });
  if (!indices) {
    Shape s = rng_.chance(0.7) ? Shape{rng_.range(1, 6)}
                               : Shape{rng_.range(1, 3), rng_.range(1, 3)};
    DType t = rng_.chance(0.5) ? DType::I32 : DType::I64;
    // Negative indices count from the end; out-of-range ones read zeros.
    indices = dense({t, s},
                    {static_cast<double>(-dim - 1), static_cast<double>(dim)});
  }
  ir::Attributes attrs;
  if (axis != 0 || rng_.chance(0.3))
    attrs["axis"] = rng_.chance(0.3) ? axis - n.rank() : axis;
  return append("gather", {*x, *indices}, std::move(attrs),
                hull(n.range, {0, 0}), Numerics::Moves)
      .has_value();
}

bool GraphBuilder::conv() {
  auto x = rank4Operand();
  if (!x)
    return false;
  const Node n = nodes_[*x];
  DType t = n.dtype();
  int64_t c = n.shape()[1];
  std::vector<int64_t> groupChoices = {1};
  for (int64_t g = 2; g <= c; ++g)
    if (c % g == 0)
      groupChoices.push_back(g);
  int64_t groups = rng_.chance(0.7) ? 1 : rng_.pick(groupChoices);
  int64_t outChannels =
      groups * rng_.range(1, std::max<int64_t>(1, 8 / groups));
  int64_t kh = rng_.range(1, std::min<int64_t>(3, n.shape()[2]));
  int64_t kw = rng_.range(1, std::min<int64_t>(3, n.shape()[3]));
  std::vector<int64_t> strides = {rng_.range(1, 2), rng_.range(1, 2)};
  std::vector<int64_t> padding = {rng_.range(0, kh - 1), rng_.range(0, kw - 1),
                                  rng_.range(0, kh - 1), rng_.range(0, kw - 1)};
  std::vector<int64_t> dilations = {1, 1};
  if (rng_.chance(0.15))
    dilations = {rng_.range(1, 2), rng_.range(1, 2)};
  int64_t fanIn = c / groups * kh * kw;
  double bound = std::min(2.0, 40.0 / fanIn);
  int w = leaf({t, {outChannels, c / groups, kh, kw}}, {-bound, bound});
  std::vector<int> operands = {*x, w};
  Interval out =
      static_cast<double>(fanIn) * symmetric(n.range * nodes_[w].range);
  if (rng_.chance(0.5)) {
    int bias = operandOf({t, {outChannels}}, {-1, 1});
    operands.push_back(bias);
    out = out + nodes_[bias].range;
  }
  ir::Attributes attrs;
  if (strides != std::vector<int64_t>{1, 1} || rng_.chance(0.2))
    attrs["strides"] = strides;
  if (padding != std::vector<int64_t>(4, 0) || rng_.chance(0.2))
    attrs["padding"] = padding;
  if (dilations != std::vector<int64_t>{1, 1})
    attrs["dilations"] = dilations;
  if (groups != 1 || rng_.chance(0.1))
    attrs["groups"] = groups;
  auto y = append("conv2d", operands, std::move(attrs), out, Numerics::Rounds);
  if (!y)
    return false;
  // What follows a convolution in a network, and what fold-batchnorm folds.
  double r = rng_.real(0, 1);
  if (r < 0.35) {
    y = batchNormOn(*y, 1);
  } else if (r < 0.55) {
    TensorType perChannel{t, {outChannels, 1, 1}};
    int scale = dense(perChannel, {0.5, 1.5});
    int shift = dense(perChannel, {-1, 1});
    if ((y = binaryOn("mul", *y, scale)))
      y = binaryOn("add", *y, shift);
  }
  if (y && rng_.chance(0.4))
    unaryOp("relu", *y);
  return true;
}

bool GraphBuilder::pool() {
  auto x = rank4Operand();
  if (!x)
    return false;
  const Node n = nodes_[*x];
  bool isMax = rng_.chance(0.5);
  int64_t kh = rng_.range(1, std::min<int64_t>(3, n.shape()[2]));
  int64_t kw = rng_.range(1, std::min<int64_t>(3, n.shape()[3]));
  ir::Attributes attrs;
  attrs["kernel"] = std::vector<int64_t>{kh, kw};
  if (rng_.chance(0.5))
    attrs["strides"] = std::vector<int64_t>{rng_.range(1, 2), rng_.range(1, 2)};
  bool padded = rng_.chance(0.4);
  if (padded)
    attrs["padding"] =
        std::vector<int64_t>{rng_.range(0, kh - 1), rng_.range(0, kw - 1),
                             rng_.range(0, kh - 1), rng_.range(0, kw - 1)};
  Interval out = n.range;
  if (!isMax && rng_.chance(0.4)) {
    attrs["count_include_pad"] = rng_.chance(0.5);
    out = hull(out, {0, 0});
  }
  return append(isMax ? "max_pool2d" : "avg_pool2d", {*x}, std::move(attrs),
                out, isMax ? Numerics::Moves : Numerics::Rounds)
      .has_value();
}

bool GraphBuilder::batchNorm() {
  auto x = pick([](const Node &n) { return isFloatNode(n) && n.rank() >= 2; });
  if (!x)
    return false;
  int64_t rank = nodes_[*x].rank();
  return batchNormOn(*x, rng_.chance(0.6) ? 1 : rng_.range(-rank, rank - 1))
      .has_value();
}

bool GraphBuilder::elementwise() {
  double r = rng_.real(0, 1);
  return r < 0.45 ? unary() : r < 0.9 ? binary() : compareSelect();
}

} // namespace nyx::difftest
