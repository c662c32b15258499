// Compiled elementwise math and logical ops against the interpreter:
// rounding, reciprocal, the trigonometric and hyperbolic functions,
// softplus, sign, mod, isnan/isinf and not/and/or/xor, for every dtype each
// allows, at sizes that run both the vectorized loop (libmvec calls) and
// its scalar remainder (libm calls), on the edge values docs/ops.md spells
// out, and inside fused kernels. Ops of one family share a module (one
// output per op) so each case costs one compile and link.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "harness.h"
#include "ir/strings.h"

namespace nyx {
namespace {

using e2e::typeText;
using ir::DType;

constexpr DType kFloats[] = {DType::F32, DType::F64, DType::F16, DType::BF16};
constexpr DType kInts[] = {DType::I8, DType::I32, DType::I64};
constexpr int64_t kSizes[] = {1, 7, 33, 1000};
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

// One result of a test module: the op call and its result type.
struct Result {
  std::string call; // e.g. "sin(%x)"
  std::string type; // e.g. "f32[7]"
};

// `func @main(params) -> (types) { %r0 = ... return %r0, ... }`, compiled
// and compared with the interpreter.
void check(const std::string &params, const std::vector<Result> &results,
           const e2e::HarnessOptions &opts = {}) {
  std::vector<std::string> types, names;
  std::string body;
  for (size_t i = 0; i < results.size(); ++i) {
    std::string name = strCat("%r", i);
    body += strCat("  ", name, " = ", results[i].call, " : ", results[i].type,
                   "\n");
    types.push_back(results[i].type);
    names.push_back(name);
  }
  std::string text =
      strCat("func @main(", params, ") -> (", strJoin(types, ", "), ") {\n",
             body, "  return ", strJoin(names, ", "), "\n}\n");
  SCOPED_TRACE(text);
  e2e::expectCompiledMatchesInterpreter(text, opts);
}

// `ops` applied to %x, each giving a result of type `ty`.
std::vector<Result> unaryResults(std::initializer_list<const char *> ops,
                                 const std::string &ty) {
  std::vector<Result> results;
  for (const char *op : ops)
    results.push_back({strCat(op, "(%x)"), ty});
  return results;
}

ir::Tensor tensorOf(DType t, const std::vector<double> &values) {
  ir::Tensor out(ir::TensorType{t, {static_cast<int64_t>(values.size())}});
  for (size_t i = 0; i < values.size(); ++i)
    out.setDouble(i, values[i]);
  return out;
}

ir::Tensor intTensorOf(DType t, const std::vector<int64_t> &values) {
  ir::Tensor out(ir::TensorType{t, {static_cast<int64_t>(values.size())}});
  for (size_t i = 0; i < values.size(); ++i)
    out.setInt(i, values[i]);
  return out;
}

int64_t minOf(DType t) {
  return t == DType::I8    ? std::numeric_limits<int8_t>::min()
         : t == DType::I32 ? std::numeric_limits<int32_t>::min()
                           : std::numeric_limits<int64_t>::min();
}

int64_t maxOf(DType t) {
  return t == DType::I8    ? std::numeric_limits<int8_t>::max()
         : t == DType::I32 ? std::numeric_limits<int32_t>::max()
                           : std::numeric_limits<int64_t>::max();
}

// -- Unary float ops --------------------------------------------------------

TEST(Math, UnaryOpsOnTheWholeLine) {
  e2e::HarnessOptions o;
  o.minValue = -6;
  o.maxValue = 6;
  for (DType t : kFloats)
    for (int64_t n : kSizes) {
      std::string ty = typeText(t, {n});
      check(strCat("%x: ", ty),
            unaryResults({"floor", "ceil", "round", "reciprocal", "sin", "cos",
                          "atan", "sinh", "cosh", "asinh", "softplus", "sign"},
                         ty),
            o);
    }
}

TEST(Math, UnaryOpsOnTheirDomains) {
  struct Domain {
    double lo, hi;
    std::initializer_list<const char *> ops;
  };
  const Domain domains[] = {{-1.4, 1.4, {"tan"}},
                            {-0.999, 0.999, {"asin", "acos", "atanh"}},
                            {1.0, 20.0, {"acosh"}}};
  for (const Domain &d : domains) {
    e2e::HarnessOptions o;
    o.minValue = d.lo;
    o.maxValue = d.hi;
    for (DType t : kFloats)
      for (int64_t n : kSizes) {
        std::string ty = typeText(t, {n});
        check(strCat("%x: ", ty), unaryResults(d.ops, ty), o);
      }
  }
}

TEST(Math, SoftplusKeepsItsPrecisionInTheTails) {
  e2e::HarnessOptions o;
  o.minValue = -90;
  o.maxValue = 90;
  for (DType t : kFloats)
    check(strCat("%x: ", typeText(t, {1000})),
          {{"softplus(%x)", typeText(t, {1000})}}, o);
}

// NaN, infinities, signed zeros, halves (round to even), points outside
// the domains and arguments that overflow: 40 values, so the vectorized
// loop and its remainder both see some.
std::vector<double> edgeValues() {
  std::vector<double> v = {kNan, kInf,  -kInf, 0.0,    -0.0, 0.5,   -0.5,
                           1.5,  -1.5,  2.5,   -2.5,   1.0,  -1.0,  2.0,
                           -2.0, 1e-30, -1e-6, 1e4,    -1e4, 100.0, -100.0,
                           1e30, -1e30, 0.999, -0.999, 3.25, -3.75, 710.0};
  while (v.size() < 40)
    v.push_back(static_cast<double>(v.size()) * 0.37 - 7.0);
  return v;
}

TEST(Math, UnaryOpsOnEdgeValues) {
  for (DType t : kFloats) {
    e2e::HarnessOptions o;
    o.inputs = {tensorOf(t, edgeValues())};
    std::string ty = typeText(t, {40});
    check(strCat("%x: ", ty),
          unaryResults({"floor", "ceil", "round", "reciprocal", "sin", "cos",
                        "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh",
                        "acosh", "atanh", "softplus", "sign"},
                       ty),
          o);
  }
}

TEST(Math, SignOfIntegers) {
  for (DType t : kInts) {
    for (int64_t n : kSizes) {
      std::string ty = typeText(t, {n});
      check(strCat("%x: ", ty), {{"sign(%x)", ty}});
    }
    e2e::HarnessOptions o;
    o.inputs = {intTensorOf(t, {minOf(t), maxOf(t), -1, 0, 1})};
    check(strCat("%x: ", typeText(t, {5})), {{"sign(%x)", typeText(t, {5})}},
          o);
  }
}

// -- mod --------------------------------------------------------------------

std::vector<Result> mods(const std::string &ty) {
  return {{"mod(%a, %b)", ty}, {"mod(%a, %b) {fmod = true}", ty}};
}

TEST(Math, ModOfEveryNumericDType) {
  e2e::HarnessOptions o;
  o.minValue = -20;
  o.maxValue = 20;
  for (DType t : kFloats)
    for (int64_t n : kSizes) {
      std::string ty = typeText(t, {n});
      check(strCat("%a: ", ty, ", %b: ", ty), mods(ty), o);
    }
  // Integer divisors in [-20, 20] include zero.
  for (DType t : kInts)
    for (int64_t n : kSizes) {
      std::string ty = typeText(t, {n});
      check(strCat("%a: ", ty, ", %b: ", ty), mods(ty), o);
    }
}

TEST(Math, ModBroadcasts) {
  check("%a: f32[3,1,5], %b: f32[4,1]", mods("f32[3,4,5]"));
  check("%a: i32[7,1], %b: i32[1,33]", mods("i32[7,33]"));
  check("%a: f64[], %b: f64[9]", mods("f64[9]"));
}

TEST(Math, ModCorners) {
  for (DType t : kFloats) {
    e2e::HarnessOptions o;
    o.inputs = {tensorOf(t, {7.5, -7.5, 7.5, -7.5, 6, -6, 0.0, -0.0, 5, kInf,
                             kNan, 5, -5, 3, 1e4, 2}),
                tensorOf(t, {2, 2, -2, -2, 3, -3, 3, -3, 0, 2, 2, kInf, kInf,
                             -kInf, 3, kNan})};
    std::string ty = typeText(t, {16});
    check(strCat("%a: ", ty, ", %b: ", ty), mods(ty), o);
  }
  for (DType t : kInts) {
    e2e::HarnessOptions o;
    o.inputs = {
        intTensorOf(t, {7, -7, 7, -7, 6, -6, 5, 0, minOf(t), minOf(t), maxOf(t),
                        maxOf(t)}),
        intTensorOf(t, {3, 3, -3, -3, 3, -3, 0, -4, -1, 0, -1, minOf(t)})};
    std::string ty = typeText(t, {12});
    check(strCat("%a: ", ty, ", %b: ", ty), mods(ty), o);
  }
}

// -- bool results -----------------------------------------------------------

std::vector<Result> floatTests(const std::string &boolTy) {
  return {
      {"isnan(%x)", boolTy},
      {"isinf(%x)", boolTy},
      {"isinf(%x) {detect_negative = false}", boolTy},
      {"isinf(%x) {detect_positive = false}", boolTy},
      {"isinf(%x) {detect_negative = false, detect_positive = false}", boolTy}};
}

TEST(Math, IsNanAndIsInf) {
  for (DType t : kFloats) {
    e2e::HarnessOptions o;
    o.inputs = {tensorOf(t, edgeValues())};
    check(strCat("%x: ", typeText(t, {40})), floatTests("bool[40]"), o);
    for (int64_t n : kSizes)
      check(strCat("%x: ", typeText(t, {n})),
            floatTests(typeText(DType::Bool, {n})));
  }
}

TEST(Math, LogicalOps) {
  for (int64_t n : kSizes) {
    std::string ty = typeText(DType::Bool, {n});
    check(strCat("%a: ", ty, ", %b: ", ty), {{"not(%a)", ty},
                                             {"and(%a, %b)", ty},
                                             {"or(%a, %b)", ty},
                                             {"xor(%a, %b)", ty}});
  }
  check("%a: bool[3,1,5], %b: bool[4,1]", {{"and(%a, %b)", "bool[3,4,5]"},
                                           {"or(%b, %a)", "bool[3,4,5]"},
                                           {"xor(%a, %b)", "bool[3,4,5]"}});
  check("%a: bool[], %b: bool[6]", {{"xor(%a, %b)", "bool[6]"}});
}

// -- Fused ------------------------------------------------------------------

// The new ops as parts of fused kernels: their element functions inside one
// loop nest with the ops around them.
TEST(Math, FusedChains) {
  e2e::HarnessOptions o;
  o.pipeline = "verify,shape-infer,inline,fuse,dce";
  o.minValue = -3;
  o.maxValue = 3;
  for (DType t : {DType::F32, DType::F16, DType::F64}) {
    std::string x = typeText(t, {8, 33}), row = typeText(t, {33});
    std::string text =
        strCat("func @main(%x: ", x, ", %y: ", row, ") -> (", x, ", ", x,
               ", bool[8,33]) {\n"
               "  %s = sin(%x) : ",
               x, "\n  %m = mod(%s, %y) : ", x, "\n  %r = round(%m) : ", x,
               "\n  %p = softplus(%r) : ", x, "\n  %g = sign(%s) : ", x,
               "\n  %q = mul(%g, %p) : ", x,
               "\n  %n = isnan(%m) : bool[8,33]\n"
               "  %i = isinf(%q) : bool[8,33]\n"
               "  %b = xor(%n, %i) : bool[8,33]\n"
               "  %c = not(%b) : bool[8,33]\n"
               "  %a = and(%c, %n) : bool[8,33]\n"
               "  %o = or(%a, %c) : bool[8,33]\n"
               "  %z = reciprocal(%y) : ",
               row, "\n  %w = add(%q, %z) : ", x, "\n  return %w, %m, %o\n}\n");
    SCOPED_TRACE(text);
    e2e::expectCompiledMatchesInterpreter(text, o);
  }
}

} // namespace
} // namespace nyx
