#include "tests/differential/graph_builder.h"

#include <algorithm>
#include <cmath>

#include "ir/strings.h"

namespace nyx::difftest {

Interval wrapped(Interval r, DType t) {
  if (t == DType::Bool)
    return {0, 1};
  if (!ir::isInteger(t))
    return r;
  double lo = t == DType::I8    ? -128
              : t == DType::I32 ? -2147483648.0
                                : -9223372036854775808.0;
  double hi = -lo - 1;
  if (r.lo < lo || r.hi > hi)
    return {lo, hi};
  return r;
}

Interval rangeOf(const ir::Tensor &t) {
  Interval r = {INFINITY, -INFINITY};
  for (int64_t i = 0; i < t.numElements(); ++i) {
    double v = ir::isFloat(t.dtype()) ? t.getDouble(i)
                                      : static_cast<double>(t.getInt(i));
    r = {std::min(r.lo, v), std::max(r.hi, v)};
  }
  return r;
}

bool broadcastsWithin(const Shape &a, const Shape &b) {
  auto s = ir::broadcastShapes(a, b);
  return s.ok() && ir::numElements(*s) <= kMaxValueElements;
}

std::vector<int64_t> primeFactors(int64_t n) {
  std::vector<int64_t> f;
  for (int64_t p = 2; p * p <= n; ++p)
    for (; n % p == 0; n /= p)
      f.push_back(p);
  if (n > 1)
    f.push_back(n);
  return f;
}

int64_t product(const Shape &s, size_t from) {
  int64_t n = 1;
  for (size_t i = from; i < s.size(); ++i)
    n *= s[i];
  return n;
}

// ---------------------------------------------------------------------------
// Creating values
// ---------------------------------------------------------------------------

int GraphBuilder::addNode(Node n) {
  nodes_.push_back(n);
  nodeOf_[n.value] = static_cast<int>(nodes_.size()) - 1;
  return static_cast<int>(nodes_.size()) - 1;
}

// Appends `opName` when its shape rule accepts the operands and attributes,
// the result is small, its bound stays below kMaxMagnitude, and a result
// that is not a float (a compare, a cast to int, argmax) reads only exact
// values.
std::optional<int> GraphBuilder::append(std::string_view opName,
                                        std::vector<int> operands,
                                        ir::Attributes attrs, Interval range,
                                        Numerics numerics, bool spread) {
  if (computeOps_ >= options_.maxOps)
    return std::nullopt;
  const ir::OpDef *def = ir::lookupOp(opName);
  if (!def)
    return std::nullopt;
  ir::Op probe;
  probe.def = def;
  for (int i : operands)
    probe.operands.push_back(nodes_[i].value);
  probe.attrs = attrs;
  auto types = def->inferTypes(probe, *module_);
  if (!types.ok() || types->size() != 1)
    return std::nullopt;
  const TensorType type = (*types)[0];
  if (type.numElements() == 0 || type.numElements() > kMaxValueElements)
    return std::nullopt;
  bool operandsExact = true, floatOperand = false, allConstant = true;
  for (int i : operands) {
    operandsExact &= nodes_[i].exact;
    floatOperand |= isFloatNode(nodes_[i]);
    allConstant &= nodes_[i].constant;
  }
  if (!ir::isFloat(type.dtype) && floatOperand && !operandsExact)
    return std::nullopt;
  if (ir::isFloat(type.dtype)) {
    if (!(range.magnitude() <= kMaxMagnitude))
      return std::nullopt;
  } else {
    range = wrapped(range, type.dtype);
  }
  ir::Op *op = fn_->appendOp(def, probe.operands, std::move(attrs), {type});
  Node n;
  n.value = op->result(0);
  n.range = range;
  n.exact = operandsExact && (numerics == Numerics::Moves ||
                              (!floatOperand && !ir::isFloat(type.dtype)));
  n.spread = spread;
  n.constant = allConstant;
  for (int i : operands)
    ++nodes_[i].uses;
  if (def->fusion != ir::FusionKind::Opaque || opName == "call")
    ++computeOps_;
  return addNode(n);
}

int GraphBuilder::constant(ir::Tensor t) {
  Interval r = rangeOf(t);
  bool spread = !t.isSplat() && t.numElements() > 1;
  ir::Attributes attrs;
  attrs["value"] = std::make_shared<const ir::Tensor>(std::move(t));
  const ir::OpDef *def = ir::lookupOp("constant");
  TensorType type =
      std::get<std::shared_ptr<const ir::Tensor>>(attrs["value"])->type();
  ir::Op *op = fn_->appendOp(def, {}, std::move(attrs), {type});
  Node n;
  n.value = op->result(0);
  n.range = r;
  n.constant = true;
  n.spread = spread;
  return addNode(n);
}

// A value from `values` that rewrites look for (0, 1, powers of two) when
// it fits, else a short decimal.
double GraphBuilder::niceValue(Interval values, DType t) {
  if (t == DType::Bool)
    return rng_.range(0, 1);
  std::vector<double> nice;
  for (double v : {0.0, 1.0, -1.0, 2.0, 0.5, -0.5, 0.25, 3.0, -2.0})
    if (v >= values.lo && v <= values.hi)
      nice.push_back(v);
  if (!nice.empty() && rng_.chance(0.6))
    return rng_.pick(nice);
  if (ir::isInteger(t))
    return static_cast<double>(rng_.range(static_cast<int64_t>(values.lo),
                                          static_cast<int64_t>(values.hi)));
  return std::round(rng_.real(values.lo, values.hi) * 8) / 8;
}

int GraphBuilder::splat(TensorType t, double v) {
  ir::Tensor tensor(t);
  for (int64_t i = 0; i < tensor.numElements(); ++i) {
    if (ir::isFloat(t.dtype))
      tensor.setDouble(i, v);
    else
      tensor.setInt(i, static_cast<int64_t>(v));
  }
  return constant(std::move(tensor));
}

ir::Tensor GraphBuilder::randomTensor(TensorType t, Interval values) {
  ir::Tensor tensor(t);
  for (int64_t i = 0; i < tensor.numElements(); ++i) {
    // Multiples of 1/64 are exact in every float dtype and print short.
    if (ir::isFloat(t.dtype))
      tensor.setDouble(
          i, std::clamp(std::round(rng_.real(values.lo, values.hi) * 64) / 64,
                        values.lo, values.hi));
    else if (t.dtype == DType::Bool)
      tensor.setInt(i, rng_.range(0, 1));
    else
      tensor.setInt(i, rng_.range(static_cast<int64_t>(std::ceil(values.lo)),
                                  static_cast<int64_t>(values.hi)));
  }
  return tensor;
}

int GraphBuilder::dense(TensorType t, Interval values) {
  return constant(randomTensor(t, values));
}

int GraphBuilder::input(TensorType t) {
  ir::Value *v = fn_->addParam(strCat("x", inputs_++), t);
  Node n;
  n.value = v;
  n.range = t.dtype == DType::Bool ? Interval{0, 1}
            : ir::isFloat(t.dtype) ? kFloatInputs
                                   : kIntInputs;
  n.spread = true;
  return addNode(n);
}

// A module param (a weight whose value the passes may know) read by a
// `param` op.
int GraphBuilder::weight(TensorType t, Interval values) {
  std::string name = strCat("w", module_->params.size());
  module_->params.push_back({name, t, {}});
  ir::Tensor value = randomTensor(t, values);
  Interval r = rangeOf(value);
  weights_.emplace(name, std::move(value));
  ir::Op *op = fn_->appendOp(ir::lookupOp("param"), {},
                             {{"name", ir::SymbolRef{name}}}, {t});
  Node n;
  n.value = op->result(0);
  n.range = r;
  n.constant = true;
  n.spread = true;
  return addNode(n);
}

// A fresh value of type `t` whose elements lie in `values`: an input (when
// `values` holds what inputs hold), a weight, a dense or a splat constant.
int GraphBuilder::leaf(TensorType t, Interval values) {
  if (!ir::isFloat(t.dtype) && t.dtype != DType::Bool)
    values = {std::ceil(values.lo), std::floor(values.hi)};
  Interval inputRange = ir::isFloat(t.dtype) ? kFloatInputs : kIntInputs;
  bool inputFits = values.lo <= inputRange.lo && values.hi >= inputRange.hi;
  bool inMain = fn_ == main_;
  bool inputAllowed =
      !constMode_ && inMain && inputFits && inputs_ < inputLimit_;
  double r = inputAllowed ? rng_.real(0, 1) : rng_.real(0.3, 1);
  if (r < 0.3)
    return input(t);
  if (inMain && r < 0.45)
    return weight(t, values);
  if (r < 0.75 && t.numElements() > 1)
    return dense(t, values);
  return splat(t, niceValue(values, t.dtype));
}

// An existing value of type `t` within `values`, or a leaf.
int GraphBuilder::operandOf(TensorType t, Interval values) {
  if (rng_.chance(0.35))
    if (auto n = pickAny([&](const Node &n) {
          return n.type() == t && n.range.lo >= values.lo &&
                 n.range.hi <= values.hi;
        }))
      return *n;
  return leaf(t, values);
}

// ---------------------------------------------------------------------------
// Choosing operands
// ---------------------------------------------------------------------------

std::optional<int> GraphBuilder::choose(const std::vector<int> &candidates) {
  if (candidates.empty())
    return std::nullopt;
  // Recent values more often, so chains form.
  if (rng_.chance(0.5)) {
    size_t from = candidates.size() > 3 ? candidates.size() - 3 : 0;
    return candidates[rng_.range(from, candidates.size() - 1)];
  }
  return rng_.pick(candidates);
}

// The main operand of the next op: in a chain the chain's end, else a value
// that depends on an input (a constant in constant mode).
std::optional<int> GraphBuilder::pick(const NodeFilter &ok) {
  if (chainFrom_ && ok(nodes_[*chainFrom_]))
    return chainFrom_;
  std::vector<int> candidates;
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].constant == constMode_ && ok(nodes_[i]))
      candidates.push_back(static_cast<int>(i));
  return choose(candidates);
}

std::optional<int> GraphBuilder::pickAny(const NodeFilter &ok) {
  std::vector<int> candidates;
  for (size_t i = 0; i < nodes_.size(); ++i)
    if ((!constMode_ || nodes_[i].constant) && ok(nodes_[i]))
      candidates.push_back(static_cast<int>(i));
  return choose(candidates);
}

// A shape that broadcasts with `s` (NumPy): axes kept, set to 1, or grown
// from 1; leading axes dropped or added.
Shape GraphBuilder::partnerShape(const Shape &s) {
  Shape p;
  for (int64_t d : s) {
    double r = rng_.real(0, 1);
    if (r < 0.6)
      p.push_back(d);
    else if (r < 0.85)
      p.push_back(1);
    else
      p.push_back(d == 1 ? rng_.pick<int64_t>({2, 3, 4}) : d);
  }
  if (rng_.chance(0.35) && !p.empty())
    p.erase(p.begin(), p.begin() + rng_.range(0, p.size()));
  if (rng_.chance(0.1) && p.size() < 4)
    p.insert(p.begin(), rng_.pick<int64_t>({1, 2, 3}));
  if (!broadcastsWithin(p, s))
    return s;
  return p;
}

// A second operand for an elementwise op on `a`: an existing value that
// broadcasts with it, or a fresh one of a shape that does.
int GraphBuilder::partner(int a, DType dtype, Interval values,
                          const NodeFilter &fits) {
  Shape as = nodes_[a].shape();
  if (rng_.chance(0.45))
    if (auto b = pickAny([&](const Node &n) {
          return n.dtype() == dtype && broadcastsWithin(n.shape(), as) &&
                 fits(n);
        }))
      return *b;
  return leaf({dtype, partnerShape(as)}, values);
}

// A shape of `elements` elements and `rank` axes.
Shape GraphBuilder::randomShape(int64_t elements, int64_t rank) {
  Shape s(rank, 1);
  for (int64_t f : primeFactors(elements))
    s[rng_.range(0, rank - 1)] *= f;
  return s;
}

// abs(x) + c with c > 0: a value log, sqrt and pow may read.
std::optional<int> GraphBuilder::positiveOf(int x) {
  auto a = unaryOp("abs", x);
  if (!a)
    return std::nullopt;
  double c = rng_.pick<double>({0.25, 0.5, 1.0});
  Shape shape = rng_.chance(0.5) ? Shape{} : Shape{1};
  int k = splat({nodes_[x].dtype(), shape}, c);
  return binaryOn("add", *a, k);
}

// A float value of rank 4 (NCHW) for conv2d and pooling: an existing one,
// one reshaped from another value, or a fresh input.
std::optional<int> GraphBuilder::rank4Operand() {
  if (auto x = pick([](const Node &n) {
        return isFloatNode(n) && n.rank() == 4 && n.shape()[2] >= 2 &&
               n.shape()[3] >= 2;
      }))
    if (rng_.chance(0.7))
      return x;
  if (rng_.chance(0.6))
    if (auto x = pick([](const Node &n) {
          return isFloatNode(n) && n.type().numElements() >= 8;
        })) {
      int64_t count = nodes_[*x].type().numElements();
      // The largest factors in H and W.
      Shape s = randomShape(count, 4);
      std::sort(s.begin(), s.end());
      if (auto r = reshapeTo(*x, s))
        return r;
    }
  if (constMode_)
    return std::nullopt;
  DType t = ir::isFloat(mainType_) ? mainType_ : DType::F32;
  return leaf({t,
               {rng_.range(1, 2), rng_.range(1, 4), rng_.range(3, 8),
                rng_.range(3, 8)}},
              kFloatInputs);
}

// ---------------------------------------------------------------------------
// Single ops with their bounds
// ---------------------------------------------------------------------------

std::optional<int> GraphBuilder::unaryOp(std::string op, int x) {
  Interval r = nodes_[x].range;
  ir::Attributes attrs;
  Numerics numerics = Numerics::Rounds;
  Interval out;
  if (op == "log" || op == "sqrt" || op == "rsqrt") {
    if (!r.positive(0.1)) {
      auto p = positiveOf(x);
      if (!p)
        return std::nullopt;
      x = *p;
      r = nodes_[x].range;
    }
  }
  if (op == "neg") {
    out = -r;
    numerics = Numerics::Moves;
  } else if (op == "abs") {
    out = absOf(r);
    numerics = Numerics::Moves;
  } else if (op == "relu") {
    out = r.map([](double v) { return std::max(v, 0.0); });
    numerics = Numerics::Moves;
  } else if (op == "exp") {
    if (r.hi > 3)
      return std::nullopt;
    out = r.map([](double v) { return std::exp(v); });
  } else if (op == "log") {
    out = r.map([](double v) { return std::log(v); });
  } else if (op == "sqrt") {
    out = r.map([](double v) { return std::sqrt(v); });
  } else if (op == "rsqrt") {
    out = Interval::of(1 / std::sqrt(r.hi), 1 / std::sqrt(r.lo));
  } else if (op == "tanh") {
    out = r.map([](double v) { return std::tanh(v); });
  } else if (op == "erf") {
    out = r.map([](double v) { return std::erf(v); });
  } else if (op == "sigmoid") {
    out = r.map([](double v) { return 1 / (1 + std::exp(-v)); });
  } else if (op == "silu" || op == "gelu") {
    // Both dip to about -0.28 (silu) and -0.17 (gelu) below zero.
    out = {-0.3, std::max(r.hi, 0.0)};
    if (op == "gelu" && rng_.chance(0.5))
      attrs["approximate"] = std::string(rng_.chance(0.5) ? "tanh" : "none");
  } else {
    return std::nullopt;
  }
  return append(op, {x}, std::move(attrs), out, numerics);
}

std::optional<int> GraphBuilder::binaryOn(const std::string &op, int a, int b) {
  Interval ra = nodes_[a].range, rb = nodes_[b].range;
  bool isFloat = isFloatNode(nodes_[a]);
  Interval out;
  Numerics numerics = Numerics::Rounds;
  if (op == "add") {
    out = ra + rb;
  } else if (op == "sub") {
    out = ra - rb;
  } else if (op == "mul") {
    out = ra * rb;
  } else if (op == "div") {
    if (isFloat && !rb.awayFromZero(0.2))
      return std::nullopt;
    // Integer division truncates and x / 0 is 0, so |a / b| <= |a|.
    out = isFloat ? ra / rb : symmetric(ra);
  } else if (op == "max" || op == "min") {
    bool isMax = op == "max";
    out = isMax ? Interval{std::max(ra.lo, rb.lo), std::max(ra.hi, rb.hi)}
                : Interval{std::min(ra.lo, rb.lo), std::min(ra.hi, rb.hi)};
    numerics = Numerics::Moves;
  } else if (op == "pow") {
    if (!ra.positive(0.1) || rb.magnitude() > 3)
      return std::nullopt;
    // x^y = exp(y log x) is monotonic in each argument for x > 0, so the
    // extremes are at the corners.
    out = Interval::span({std::pow(ra.lo, rb.lo), std::pow(ra.lo, rb.hi),
                          std::pow(ra.hi, rb.lo), std::pow(ra.hi, rb.hi)});
  } else {
    return std::nullopt;
  }
  const ir::OpDef *def = ir::lookupOp(op);
  if (def && def->commutative && rng_.chance(0.3))
    std::swap(a, b);
  return append(op, {a, b}, {}, out, numerics);
}

std::optional<int> GraphBuilder::binaryOp(const std::string &op, int a) {
  DType t = nodes_[a].dtype();
  bool isFloat = ir::isFloat(t);
  Interval inputs = isFloat ? kFloatInputs : kIntInputs;
  if (op == "pow") {
    if (!nodes_[a].range.positive(0.1)) {
      auto p = positiveOf(a);
      if (!p)
        return std::nullopt;
      a = *p;
    }
    int b = rng_.chance(0.6)
                ? splat({t, partnerShape(nodes_[a].shape())},
                        rng_.pick<double>({2, 3, 0.5, -1, 1, 0, -0.5, 1.5}))
                : partner(a, t, {-2, 2}, [](const Node &n) {
                    return n.range.magnitude() <= 2;
                  });
    return binaryOn(op, a, b);
  }
  if (op == "div" && isFloat) {
    Interval divisors =
        rng_.chance(0.5) ? Interval{0.5, 2} : Interval{-2, -0.5};
    int b = partner(a, t, divisors,
                    [](const Node &n) { return n.range.awayFromZero(0.5); });
    return binaryOn(op, a, b);
  }
  return binaryOn(op, a, partner(a, t, inputs, anyNode));
}

std::optional<int> GraphBuilder::reshapeTo(int x, Shape shape) {
  ir::Attributes attrs;
  if (rng_.chance(0.2) && !shape.empty())
    shape[rng_.range(0, shape.size() - 1)] = -1;
  attrs["shape"] = shape;
  return append("reshape", {x}, std::move(attrs), nodes_[x].range,
                Numerics::Moves, nodes_[x].spread);
}

// batch_norm with constant statistics along `axis`, which fold-batchnorm
// folds into a conv2d or matmul before it.
std::optional<int> GraphBuilder::batchNormOn(int x, int64_t axis) {
  const Node &n = nodes_[x];
  if (!isFloatNode(n) || n.rank() < 1)
    return std::nullopt;
  int64_t a = axis < 0 ? axis + n.rank() : axis;
  if (a < 0 || a >= n.rank())
    return std::nullopt;
  TensorType vec{n.dtype(), {n.shape()[a]}};
  Interval rx = n.range;
  int scale = operandOf(vec, {-2, 2});
  int bias = operandOf(vec, {-1, 1});
  int mean = operandOf(vec, {-1, 1});
  int var = operandOf(vec, {0.5, 2});
  ir::Attributes attrs;
  double eps = 1e-5;
  if (axis != 1 || rng_.chance(0.3))
    attrs["axis"] = axis;
  if (rng_.chance(0.3)) {
    eps = rng_.pick<double>({1e-5, 1e-3});
    attrs["epsilon"] = eps;
  }
  Interval rv = nodes_[var].range;
  Interval inv =
      Interval::of(1 / std::sqrt(rv.hi + eps), 1 / std::sqrt(rv.lo + eps));
  Interval out = (rx - nodes_[mean].range) * nodes_[scale].range * inv +
                 nodes_[bias].range;
  return append("batch_norm", {x, scale, bias, mean, var}, std::move(attrs),
                out, Numerics::Rounds);
}

} // namespace nyx::difftest
