// Canonicalization: algebraic identities, folding of chained data movement
// and casts, strength reduction, and a canonical operand order for
// commutative ops, applied to every function until nothing changes.
//
// Every rule keeps the interpreter's results bit for bit on every input,
// NaN, infinities and -0.0 included (docs/passes.md); what may differ is
// which NaN comes out where a NaN comes out (its sign and payload, which no
// op inspects). That is why x + 0.0 and x - x stay for floats (-0.0 + 0.0
// is +0.0; inf - inf is NaN) while x + (-0.0) and x - 0.0 go, why x / c
// becomes x * (1 / c) only for a power of two whose reciprocal the dtype
// holds, and why pow(x, 0.5) never becomes sqrt(x) (pow(-0, 0.5) is +0,
// sqrt(-0) is -0; pow(-inf, 0.5) is +inf, sqrt(-inf) is NaN).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "ir/op_registry.h"
#include "ir/status_macros.h"
#include "passes/pass.h"
#include "passes/rewrite_rules.h"

namespace nyx::passes {
namespace {

using ir::DType;
using rewrite::any;
using rewrite::bound;
using rewrite::Builder;
using rewrite::Match;
using rewrite::op;
using rewrite::opWhere;
using rewrite::Rule;
using rewrite::splat;

// A splat the rules create is materialized up to this size; a larger one
// stays a broadcast_to of a one-element constant.
constexpr size_t kMaxSplatBytes = 4096;

// ---------------------------------------------------------------------------
// Tests of the element a splat constant repeats
// ---------------------------------------------------------------------------

bool isOne(const ir::Tensor &t) {
  return ir::isFloat(t.dtype()) ? t.getDouble(0) == 1.0
                                : ir::isInteger(t.dtype()) && t.getInt(0) == 1;
}
bool isTwo(const ir::Tensor &t) {
  return ir::isFloat(t.dtype()) && t.getDouble(0) == 2.0;
}
bool isIntegerZero(const ir::Tensor &t) {
  return ir::isInteger(t.dtype()) && t.getInt(0) == 0;
}
bool isFloatZero(const ir::Tensor &t, bool negative) {
  return ir::isFloat(t.dtype()) && t.getDouble(0) == 0.0 &&
         std::signbit(t.getDouble(0)) == negative;
}
bool isNegativeFloatZero(const ir::Tensor &t) { return isFloatZero(t, true); }
// What x - c leaves unchanged: integer 0, and +0.0 (x - +0.0 = x + -0.0).
bool isSubtractionIdentity(const ir::Tensor &t) {
  return isIntegerZero(t) || isFloatZero(t, false);
}

// 1 / c in the dtype of `t`, when c is +-2^k and 1/c is exactly
// representable there (normal or subnormal); then x / c and x * (1/c) are
// the same real number, rounded the same way, in every compute type.
std::optional<double> exactReciprocal(const ir::Tensor &t) {
  if (!ir::isFloat(t.dtype()))
    return std::nullopt;
  double c = t.getDouble(0);
  int exponent = 0;
  if (!std::isfinite(c) || c == 0.0 ||
      std::fabs(std::frexp(c, &exponent)) != 0.5)
    return std::nullopt;
  double r = 1.0 / c; // exact: every stored float's reciprocal power of two
                      // is in f64's range
  ir::Tensor probe({t.dtype(), {}});
  probe.setDouble(0, r);
  if (probe.getDouble(0) != r)
    return std::nullopt;
  return r;
}
bool hasExactReciprocal(const ir::Tensor &t) {
  return exactReciprocal(t).has_value();
}

// ---------------------------------------------------------------------------
// Shapes, permutations and conversions
// ---------------------------------------------------------------------------

// The permutation of a transpose with negative entries resolved, or nothing
// when the attribute is not a permutation of the operand's axes.
std::optional<std::vector<int64_t>> permutationOf(const ir::Op &t) {
  const int64_t rank = t.operand(0)->type.rank();
  std::vector<int64_t> reversed(rank);
  std::iota(reversed.rbegin(), reversed.rend(), 0);
  auto perm = t.getInts("perm", reversed);
  if (!perm.ok() || static_cast<int64_t>(perm->size()) != rank)
    return std::nullopt;
  std::vector<bool> seen(rank, false);
  for (int64_t &p : *perm) {
    if (p < 0)
      p += rank;
    if (p < 0 || p >= rank || seen[p])
      return std::nullopt;
    seen[p] = true;
  }
  return *perm;
}

bool isIdentity(const std::vector<int64_t> &perm) {
  for (size_t i = 0; i < perm.size(); ++i)
    if (perm[i] != static_cast<int64_t>(i))
      return false;
  return true;
}

// Conversions that keep every source value exactly, so a later cast sees
// the same number it would have seen from the source (NaN stays NaN, -0.0
// stays -0.0).
struct ExactConversions {
  DType from;
  std::vector<DType> to;
};
const std::vector<ExactConversions> &exactConversionTable() {
  static const std::vector<ExactConversions> table = {
      {DType::Bool,
       {DType::I8, DType::I32, DType::I64, DType::F16, DType::BF16, DType::F32,
        DType::F64}},
      // |i8| <= 128 fits the 8 significand bits of bf16.
      {DType::I8,
       {DType::I32, DType::I64, DType::F16, DType::BF16, DType::F32,
        DType::F64}},
      {DType::I32, {DType::I64, DType::F64}},
      {DType::F16, {DType::F32, DType::F64}},
      {DType::BF16, {DType::F32, DType::F64}},
      {DType::F32, {DType::F64}},
  };
  return table;
}
bool convertsExactly(DType from, DType to) {
  if (from == to)
    return true;
  for (const ExactConversions &row : exactConversionTable())
    if (row.from == from)
      return std::find(row.to.begin(), row.to.end(), to) != row.to.end();
  return false;
}

// cast(cast(x, via), to) == cast(x, to): `via` holds every value of x, and
// the last step converts those values as a direct cast would. It does not
// when an integer goes through a float into a narrower integer: float to
// integer saturates where integer to integer wraps.
bool castsCompose(DType from, DType via, DType to) {
  if (!convertsExactly(from, via))
    return false;
  bool wrapsDirectly = ir::isInteger(from) && ir::isInteger(to) &&
                       ir::dtypeSize(to) < ir::dtypeSize(from);
  return !(wrapsDirectly && ir::isFloat(via));
}

// The broadcast of `shapes`, or nothing if they do not broadcast.
std::optional<ir::Shape> broadcastAll(const std::vector<ir::Shape> &shapes) {
  ir::Shape shape;
  for (const ir::Shape &s : shapes) {
    auto b = ir::broadcastShapes(shape, s);
    if (!b.ok())
      return std::nullopt;
    shape = *b;
  }
  return shape;
}

// The smallest shape operand `k` of an elementwise op can have while the
// op's result shape stays `result`: 1 on every axis that the other
// operands already span, leading 1s dropped.
std::optional<ir::Shape> smallestOperandShape(std::vector<ir::Shape> shapes,
                                              size_t k,
                                              const ir::Shape &result) {
  const ir::Shape own = shapes[k];
  shapes.erase(shapes.begin() + static_cast<std::ptrdiff_t>(k));
  std::optional<ir::Shape> others = broadcastAll(shapes);
  const size_t rank = result.size();
  if (!others || own.size() > rank || others->size() > rank)
    return std::nullopt;
  // Axis d of the result is axis d - (rank - size) of a shape of rank size.
  auto dimAt = [rank](const ir::Shape &s, size_t d) -> int64_t {
    return d + s.size() >= rank ? s[d + s.size() - rank] : 1;
  };
  ir::Shape shape(rank);
  for (size_t d = 0; d < rank; ++d)
    shape[d] = dimAt(*others, d) == result[d] ? 1 : dimAt(own, d);
  shape.erase(shape.begin(),
              std::find_if(shape.begin(), shape.end(),
                           [](int64_t dim) { return dim != 1; }));
  return shape;
}

bool isMultiOperandElementwise(const ir::Op &e) {
  return e.def->fusion == ir::FusionKind::Elementwise && e.numOperands() >= 2;
}

// ---------------------------------------------------------------------------
// Replacements
// ---------------------------------------------------------------------------

bool keepsRootType(const Match &m, std::string_view name) {
  return m[name]->type == m.rootType();
}
auto sameTypeAs(std::string_view name) {
  return [name](const Match &m) { return keepsRootType(m, name); };
}

absl::StatusOr<ir::Value *> zerosLikeRoot(const Match &m, Builder &b) {
  ir::Tensor zero({m.rootType().dtype, {}});
  return b.splatOf(m.rootType(), zero, kMaxSplatBytes);
}

// Rebuilds an elementwise op with every splat constant operand shrunk to
// the smallest shape, and every broadcast_to operand whose source already
// broadcasts to the result replaced by that source: the broadcast happens
// inside the op either way.
absl::StatusOr<ir::Value *> withSmallestOperands(const Match &m, Builder &b) {
  const ir::Op &e = m.root();
  const ir::Shape &result = m.rootType().shape;
  std::vector<ir::Value *> operands = e.operands;
  std::vector<ir::Shape> shapes;
  for (const ir::Value *v : operands)
    shapes.push_back(v->type.shape);
  // Each replacement keeps the result shape, checked against the operands
  // as they stand after the earlier replacements.
  auto keepsResult = [&](size_t k, const ir::Shape &shape) {
    std::vector<ir::Shape> trial = shapes;
    trial[k] = shape;
    std::optional<ir::Shape> all = broadcastAll(trial);
    return all && *all == result;
  };
  bool changed = false;
  for (size_t k = 0; k < operands.size(); ++k) {
    const ir::Op *def = operands[k]->definingOp;
    if (!def)
      continue;
    if (def->name() == "broadcast_to" && def->numOperands() == 1 &&
        keepsResult(k, def->operand(0)->type.shape)) {
      operands[k] = def->operand(0);
      shapes[k] = operands[k]->type.shape;
      changed = true;
      continue;
    }
    if (def->name() != "constant")
      continue;
    auto value = def->getTensor("value");
    std::optional<ir::Shape> smallest = smallestOperandShape(shapes, k, result);
    if (!value.ok() || !*value || !(*value)->isSplat() ||
        (*value)->dtype() != operands[k]->type.dtype || !smallest ||
        *smallest == shapes[k] || !keepsResult(k, *smallest))
      continue;
    NYX_ASSIGN_OR_RETURN(
        operands[k], b.splatOf({operands[k]->type.dtype, *smallest}, **value,
                               std::numeric_limits<size_t>::max()));
    shapes[k] = *smallest;
    changed = true;
  }
  if (!changed)
    return nullptr;
  return b.op(e.name(), std::move(operands), e.attrs);
}

// ---------------------------------------------------------------------------
// The rules
// ---------------------------------------------------------------------------

std::vector<Rule> makeRules() {
  std::vector<Rule> r;
  // Identities. Each keeps the root's type, so x must already have it (a
  // constant operand may broadcast x to a larger shape).
  r.push_back({"mul-one", op("mul", {any("x"), splat("c", isOne)}),
               sameTypeAs("x"), bound("x")});
  r.push_back({"div-one", op("div", {any("x"), splat("c", isOne)}),
               sameTypeAs("x"), bound("x")});
  r.push_back({"add-int-zero", op("add", {any("x"), splat("c", isIntegerZero)}),
               sameTypeAs("x"), bound("x")});
  // -0.0 is the additive identity of IEEE floats (+0.0 is not: -0 + 0 = +0).
  r.push_back({"add-negative-zero",
               op("add", {any("x"), splat("c", isNegativeFloatZero)}),
               sameTypeAs("x"), bound("x")});
  r.push_back({"sub-zero",
               op("sub", {any("x"), splat("c", isSubtractionIdentity)}),
               sameTypeAs("x"), bound("x")});
  r.push_back({"pow-one", op("pow", {any("x"), splat("c", isOne)}),
               sameTypeAs("x"), bound("x")});
  r.push_back(
      {"neg-neg", op("neg", {op("neg", {any("x")})}), nullptr, bound("x")});
  r.push_back({"abs-abs", op("abs", {op("abs", {any("x")}, "inner")}), nullptr,
               bound("inner")});
  r.push_back(
      {"abs-neg", op("abs", {op("neg", {any("x")})}), nullptr,
       [](const Match &m, Builder &b) { return b.op("abs", {m["x"]}); }});
  // Integers only: for floats x - x is NaN when x is inf or NaN, x * 0 is
  // NaN for inf and NaN and -0.0 for negative x.
  auto integerRoot = [](const Match &m) {
    return ir::isInteger(m.rootType().dtype);
  };
  r.push_back({"sub-self-int", op("sub", {any("x"), any("x")}), integerRoot,
               zerosLikeRoot});
  r.push_back({"mul-zero-int", op("mul", {any("x"), splat("c", isIntegerZero)}),
               integerRoot, zerosLikeRoot});

  // Strength reduction.
  r.push_back({"div-power-of-two",
               op("div", {any("x"), splat("c", hasExactReciprocal)}), nullptr,
               [](const Match &m, Builder &b) -> absl::StatusOr<ir::Value *> {
                 const ir::Tensor &c = m.tensor("c");
                 ir::Tensor reciprocal({c.dtype(), {}});
                 reciprocal.setDouble(0, *exactReciprocal(c));
                 NYX_ASSIGN_OR_RETURN(
                     ir::Value * scale,
                     b.splatOf(m["c"]->type, reciprocal, kMaxSplatBytes));
                 return b.op("mul", {m["x"], scale});
               }});
  // pow(x, 2) == x * x where the square is exact in the compute type
  // (f32 squares in f64, f16 in f32), so pow, being within an ulp, returns
  // it exactly; f64 and bf16 squares can round, and pow may round them
  // differently.
  r.push_back({"pow-two", op("pow", {any("x"), splat("c", isTwo)}),
               [](const Match &m) {
                 DType t = m.rootType().dtype;
                 return (t == DType::F32 || t == DType::F16) &&
                        keepsRootType(m, "x");
               },
               [](const Match &m, Builder &b) {
                 return b.op("mul", {m["x"], m["x"]});
               }});

  // Data movement.
  r.push_back({"transpose-identity", op("transpose", {any("x")}, "t"),
               [](const Match &m) {
                 auto p = permutationOf(m.op("t"));
                 return p && isIdentity(*p);
               },
               bound("x")});
  r.push_back({"transpose-transpose",
               op("transpose", {op("transpose", {any("x")}, "inner")}, "outer"),
               [](const Match &m) {
                 return permutationOf(m.op("inner")) &&
                        permutationOf(m.op("outer"));
               },
               [](const Match &m, Builder &b) -> absl::StatusOr<ir::Value *> {
                 std::vector<int64_t> inner = *permutationOf(m.op("inner"));
                 std::vector<int64_t> outer = *permutationOf(m.op("outer"));
                 std::vector<int64_t> composed(outer.size());
                 for (size_t j = 0; j < outer.size(); ++j)
                   composed[j] = inner[outer[j]];
                 if (isIdentity(composed))
                   return m["x"];
                 return b.op("transpose", {m["x"]}, {{"perm", composed}});
               }});
  r.push_back(
      {"reshape-same", op("reshape", {any("x")}), sameTypeAs("x"), bound("x")});
  r.push_back(
      {"reshape-reshape", op("reshape", {op("reshape", {any("x")})}), nullptr,
       [](const Match &m, Builder &b) -> absl::StatusOr<ir::Value *> {
         if (keepsRootType(m, "x"))
           return m["x"];
         return b.op("reshape", {m["x"]}, {{"shape", m.rootType().shape}});
       }});
  r.push_back({"broadcast-same", op("broadcast_to", {any("x")}),
               sameTypeAs("x"), bound("x")});
  r.push_back(
      {"broadcast-broadcast",
       op("broadcast_to", {op("broadcast_to", {any("x")})}), nullptr,
       [](const Match &m, Builder &b) {
         return b.op("broadcast_to", {m["x"]}, {{"shape", m.rootType().shape}});
       }});
  r.push_back(
      {"broadcast-splat",
       op("broadcast_to",
          {splat("c", [](const ir::Tensor &) { return true; })}),
       [](const Match &m) { return m.rootType().byteSize() <= kMaxSplatBytes; },
       [](const Match &m, Builder &b) {
         return b.splatOf(m.rootType(), m.tensor("c"), kMaxSplatBytes);
       }});
  r.push_back({"elementwise-smallest-operands",
               opWhere("e", isMultiOperandElementwise), nullptr,
               withSmallestOperands});

  // Casts.
  r.push_back(
      {"cast-same", op("cast", {any("x")}), sameTypeAs("x"), bound("x")});
  r.push_back({"cast-cast-exact", op("cast", {op("cast", {any("x")}, "inner")}),
               [](const Match &m) {
                 return castsCompose(m["x"]->type.dtype, m["inner"]->type.dtype,
                                     m.rootType().dtype);
               },
               [](const Match &m, Builder &b) {
                 return b.op("cast", {m["x"]}, {{"to", m.rootType().dtype}});
               }});
  return r;
}

// Puts the operands of commutative ops in one order so that equal
// expressions look equal: constants last, otherwise the operand defined
// later first (parameters count as defined before every op). A graph reads
// as written that way: add(%matmul, %bias), with the bias a param.
bool orderCommutativeOperands(ir::Function &fn, const Options &options) {
  absl::flat_hash_map<const ir::Op *, int64_t> position;
  for (size_t i = 0; i < fn.ops.size(); ++i)
    position[fn.ops[i].get()] = static_cast<int64_t>(i);
  auto key = [&](const ir::Value *v) {
    const ir::Op *def = v->definingOp;
    bool constant = def && def->name() == "constant";
    int64_t where =
        def ? static_cast<int64_t>(fn.params.size()) + position[def] : v->index;
    return std::pair(constant, -where);
  };
  int64_t swapped = 0;
  for (const auto &e : fn.ops) {
    if (!e->def->commutative || e->numOperands() != 2)
      continue;
    if (key(e->operands[1]) < key(e->operands[0])) {
      std::swap(e->operands[0], e->operands[1]);
      ++swapped;
    }
  }
  if (swapped > 0)
    options.count("canonicalize.reordered", swapped);
  return swapped > 0;
}

} // namespace

std::span<const Rule> rewrite::canonicalizationRules() {
  static const std::vector<Rule> rules = makeRules();
  return rules;
}

absl::Status runCanonicalize(ir::Module &m, const Options &o) {
  for (auto &fn : m.functions) {
    auto rewrites = rewrite::rewriteToFixpoint(
        m, *fn, rewrite::canonicalizationRules(), o, "canonicalize",
        [&](ir::Function &f) { return orderCommutativeOperands(f, o); });
    if (!rewrites.ok())
      return rewrites.status();
  }
  return absl::OkStatus();
}

} // namespace nyx::passes
