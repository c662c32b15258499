// canonicalize, const-fold, cse and dce, checked against the interpreter:
// every rewrite must leave the results bit for bit as they were, on inputs
// that include NaN, infinities, -0.0, subnormals and the integer extremes.
#include <cstring>
#include <random>
#include <set>
#include <sstream>

#include "ir/interpreter.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "passes/pass.h"
#include "passes/pass_manager.h"
#include "passes/rewrite_rules.h"
#include "gtest/gtest.h"

namespace nyx::passes {
namespace {

using ir::DType;

std::unique_ptr<ir::Module> parse(const std::string &text) {
  auto m = ir::parseModule(text, "t.nyx");
  EXPECT_TRUE(m.ok()) << m.status().message() << "\n" << text;
  return m.ok() ? std::move(*m) : nullptr;
}

// ---------------------------------------------------------------------------
// Test inputs
// ---------------------------------------------------------------------------

void setBits(ir::Tensor &t, int64_t i, uint64_t bits) {
  std::memcpy(t.bytes() + i * ir::dtypeSize(t.dtype()), &bits,
              ir::dtypeSize(t.dtype()));
}

// Bit patterns every float input starts with: signed zeros, infinities,
// NaNs of both signs, the largest finite value, the smallest normal and
// subnormal values, and a few small numbers.
std::vector<uint64_t> specialFloatBits(DType t) {
  struct Format {
    uint64_t sign, inf, quietNan, maxFinite, minNormal;
  };
  Format f =
      t == DType::F16    ? Format{0x8000, 0x7c00, 0x7e00, 0x7bff, 0x0400}
      : t == DType::BF16 ? Format{0x8000, 0x7f80, 0x7fc0, 0x7f7f, 0x0080}
      : t == DType::F64
          ? Format{0x8000000000000000ull, 0x7ff0000000000000ull,
                   0x7ff8000000000000ull, 0x7fefffffffffffffull,
                   0x0010000000000000ull}
          : Format{0x80000000, 0x7f800000, 0x7fc00000, 0x7f7fffff, 0x00800000};
  std::vector<uint64_t> bits;
  for (uint64_t magnitude : {uint64_t(0), f.inf, f.quietNan, f.maxFinite,
                             f.minNormal, uint64_t(1)}) {
    bits.push_back(magnitude);
    bits.push_back(magnitude | f.sign);
  }
  return bits;
}

// Fills `t` with test values: every bit pattern when the tensor is large
// enough to hold them all (16-bit floats, i8, bool), else the special
// values, then random bit patterns (every exponent) and ordinary numbers.
void fillTestValues(ir::Tensor &t, std::mt19937_64 &rng) {
  const DType dt = t.dtype();
  const int64_t n = t.numElements();
  const size_t size = ir::dtypeSize(dt);
  if (dt == DType::Bool) {
    for (int64_t i = 0; i < n; ++i)
      t.setInt(i, static_cast<int64_t>(rng() & 1));
    return;
  }
  if (size <= 2 && n >= (int64_t(1) << (8 * size))) {
    for (int64_t i = 0; i < n; ++i)
      setBits(t, i, static_cast<uint64_t>(i));
    return;
  }
  std::vector<uint64_t> first;
  if (ir::isFloat(dt)) {
    first = specialFloatBits(dt);
  } else {
    uint64_t top = uint64_t(1) << (8 * size - 1);
    first = {0, 1, ~uint64_t(0), top, top - 1, top + 1};
  }
  std::uniform_real_distribution<double> ordinary(-10.0, 10.0);
  for (int64_t i = 0; i < n; ++i) {
    if (static_cast<size_t>(i) < first.size())
      setBits(t, i, first[i]);
    else if (i % 3 == 0 && ir::isFloat(dt))
      t.setDouble(i, ordinary(rng));
    else if (i % 3 == 0)
      t.setInt(i, static_cast<int64_t>(rng() % 21) - 10);
    else
      setBits(t, i, rng());
  }
}

std::vector<ir::Tensor> testArguments(const ir::Function &fn,
                                      std::mt19937_64 &rng) {
  std::vector<ir::Tensor> args;
  for (const ir::Value *p : fn.params) {
    args.emplace_back(p->type);
    fillTestValues(args.back(), rng);
  }
  return args;
}

// ---------------------------------------------------------------------------
// Comparing results
// ---------------------------------------------------------------------------

bool isNaNAt(const ir::Tensor &t, int64_t i) {
  return ir::isFloat(t.dtype()) && std::isnan(t.getDouble(i));
}

// Same bits everywhere, except that a NaN may meet a NaN of another sign or
// payload: NaN-ness is the semantics; which NaN is not (docs/passes.md).
::testing::AssertionResult bitIdentical(const std::vector<ir::Tensor> &after,
                                        const std::vector<ir::Tensor> &before) {
  if (after.size() != before.size())
    return ::testing::AssertionFailure()
           << after.size() << " results; expected " << before.size();
  for (size_t r = 0; r < before.size(); ++r) {
    const ir::Tensor &a = after[r], &b = before[r];
    if (a.type() != b.type())
      return ::testing::AssertionFailure()
             << "result " << r << " is " << a.type().str() << "; expected "
             << b.type().str();
    const size_t size = ir::dtypeSize(a.dtype());
    for (int64_t i = 0; i < a.numElements(); ++i) {
      if (isNaNAt(a, i) && isNaNAt(b, i))
        continue;
      if (std::memcmp(a.bytes() + i * size, b.bytes() + i * size, size) != 0)
        return ::testing::AssertionFailure()
               << "result " << r << " element " << i << " is "
               << ir::formatElement(a, i) << "; expected "
               << ir::formatElement(b, i);
    }
  }
  return ::testing::AssertionSuccess();
}

std::vector<ir::Tensor> interpret(const ir::Module &m,
                                  const std::vector<ir::Tensor> &args,
                                  const ir::WeightMap *weights = nullptr) {
  ir::Interpreter interp(m, weights);
  auto fn = m.entry();
  EXPECT_TRUE(fn.ok()) << fn.status().message();
  auto out = interp.run(**fn, args);
  EXPECT_TRUE(out.ok()) << out.status().message();
  return out.ok() ? std::move(*out) : std::vector<ir::Tensor>{};
}

// Runs `passFn` on the module in `text`, checks the module still verifies
// and computes the same bits on test inputs, and returns the statistics.
// `weights` are the params' values; the pass sees them if `passSeesWeights`.
Statistics checkPreservesResults(const std::string &text, PassFn passFn,
                                 const ir::WeightMap *weights = nullptr,
                                 bool passSeesWeights = false) {
  Statistics stats;
  auto m = parse(text);
  if (!m)
    return stats;
  std::mt19937_64 rng(1);
  std::vector<ir::Tensor> args = testArguments(**m->entry(), rng);
  std::vector<ir::Tensor> before = interpret(*m, args, weights);
  Options options;
  options.stats = &stats;
  options.weights = passSeesWeights ? weights : nullptr;
  absl::Status s = passFn(*m, options);
  EXPECT_TRUE(s.ok()) << s.message();
  absl::Status v = ir::verifyModule(*m);
  EXPECT_TRUE(v.ok()) << v.message() << "\n" << ir::printModule(*m);
  EXPECT_TRUE(bitIdentical(interpret(*m, args, weights), before))
      << "before:\n"
      << text << "after:\n"
      << ir::printModule(*m);
  return stats;
}

int64_t counted(const Statistics &s, const std::string &name) {
  auto it = s.values().find(name);
  return it == s.values().end() ? 0 : it->second;
}

// ---------------------------------------------------------------------------
// canonicalize: one case per rule, each over the dtypes the rule applies to
// ---------------------------------------------------------------------------

const std::vector<DType> kFloats = {DType::F32, DType::F16, DType::BF16,
                                    DType::F64};
const std::vector<DType> kIntegers = {DType::I8, DType::I32, DType::I64};
std::vector<DType> numeric() {
  std::vector<DType> all = kFloats;
  all.insert(all.end(), kIntegers.begin(), kIntegers.end());
  return all;
}

// Replaces $T by the dtype and $1, $2, $0, $-0 by literals of that dtype.
std::string instantiate(std::string text, DType t) {
  bool fl = ir::isFloat(t);
  std::vector<std::pair<std::string, std::string>> subst = {
      {"$T", std::string(ir::dtypeName(t))},
      {"$-0", "-0.0"},
      {"$0", fl ? "0.0" : "0"},
      {"$1", fl ? "1.0" : "1"},
      {"$2", fl ? "2.0" : "2"}};
  for (const auto &[from, to] : subst)
    for (size_t pos; (pos = text.find(from)) != std::string::npos;)
      text.replace(pos, from.size(), to);
  return text;
}

struct RuleCase {
  std::string rule;
  std::vector<DType> dtypes;
  std::string text; // a module whose entry the rule rewrites
};

std::vector<RuleCase> ruleCases() {
  return {
      {"mul-one", numeric(), R"(
func @f(%x: $T[300]) -> ($T[300], $T[300]) {
  %c = constant() {value = dense<$1>} : $T[]
  %y = mul(%x, %c) : $T[300]
  %z = mul(%c, %x) : $T[300]
  return %y, %z
})"},
      {"div-one", numeric(), R"(
func @f(%x: $T[300]) -> ($T[300]) {
  %c = constant() {value = dense<$1>} : $T[300]
  %y = div(%x, %c) : $T[300]
  return %y
})"},
      {"add-int-zero", kIntegers, R"(
func @f(%x: $T[300]) -> ($T[300]) {
  %c = constant() {value = dense<$0>} : $T[]
  %y = add(%c, %x) : $T[300]
  return %y
})"},
      {"add-negative-zero", kFloats, R"(
func @f(%x: $T[300]) -> ($T[300]) {
  %c = constant() {value = dense<$-0>} : $T[]
  %y = add(%x, %c) : $T[300]
  return %y
})"},
      {"sub-zero", numeric(), R"(
func @f(%x: $T[300]) -> ($T[300]) {
  %c = constant() {value = dense<$0>} : $T[]
  %y = sub(%x, %c) : $T[300]
  return %y
})"},
      {"pow-one", kFloats, R"(
func @f(%x: $T[300]) -> ($T[300]) {
  %c = constant() {value = dense<$1>} : $T[]
  %y = pow(%x, %c) : $T[300]
  return %y
})"},
      {"neg-neg", numeric(), R"(
func @f(%x: $T[300]) -> ($T[300]) {
  %a = neg(%x) : $T[300]
  %b = neg(%a) : $T[300]
  return %b
})"},
      {"abs-abs", numeric(), R"(
func @f(%x: $T[300]) -> ($T[300]) {
  %a = abs(%x) : $T[300]
  %b = abs(%a) : $T[300]
  return %b
})"},
      {"abs-neg", numeric(), R"(
func @f(%x: $T[300]) -> ($T[300]) {
  %a = neg(%x) : $T[300]
  %b = abs(%a) : $T[300]
  return %b
})"},
      {"sub-self-int", kIntegers, R"(
func @f(%x: $T[300]) -> ($T[300]) {
  %y = sub(%x, %x) : $T[300]
  return %y
})"},
      {"mul-zero-int", kIntegers, R"(
func @f(%x: $T[300]) -> ($T[2,300]) {
  %c = constant() {value = dense<$0>} : $T[2,1]
  %y = mul(%x, %c) : $T[2,300]
  return %y
})"},
      {"div-power-of-two", kFloats, R"(
func @f(%x: $T[300]) -> ($T[300], $T[300]) {
  %c = constant() {value = dense<4.0>} : $T[]
  %y = div(%x, %c) : $T[300]
  %h = constant() {value = dense<-0.5>} : $T[]
  %z = div(%x, %h) : $T[300]
  return %y, %z
})"},
      {"pow-two", {DType::F32}, R"(
func @f(%x: $T[3000]) -> ($T[3000]) {
  %c = constant() {value = dense<$2>} : $T[]
  %y = pow(%x, %c) : $T[3000]
  return %y
})"},
      // Every f16 value.
      {"pow-two", {DType::F16}, R"(
func @f(%x: $T[65536]) -> ($T[65536]) {
  %c = constant() {value = dense<$2>} : $T[]
  %y = pow(%x, %c) : $T[65536]
  return %y
})"},
      {"transpose-identity", {DType::F32, DType::Bool}, R"(
func @f(%x: $T[2,3]) -> ($T[2,3]) {
  %y = transpose(%x) {perm = [0, -1]} : $T[2,3]
  return %y
})"},
      {"transpose-transpose", {DType::I32}, R"(
func @f(%x: $T[2,3,4]) -> ($T[4,2,3], $T[2,3,4]) {
  %a = transpose(%x) {perm = [1, 0, 2]} : $T[3,2,4]
  %b = transpose(%a) {perm = [2, 1, 0]} : $T[4,2,3]
  %c = transpose(%x) : $T[4,3,2]
  %d = transpose(%c) : $T[2,3,4]
  return %b, %d
})"},
      {"reshape-same", {DType::F16}, R"(
func @f(%x: $T[2,3]) -> ($T[2,3]) {
  %y = reshape(%x) {shape = [2, -1]} : $T[2,3]
  return %y
})"},
      {"reshape-reshape", {DType::F64}, R"(
func @f(%x: $T[2,3,4]) -> ($T[4,6], $T[2,3,4]) {
  %a = reshape(%x) {shape = [6, 4]} : $T[6,4]
  %b = reshape(%a) {shape = [4, 6]} : $T[4,6]
  %c = reshape(%a) {shape = [2, 3, 4]} : $T[2,3,4]
  return %b, %c
})"},
      {"broadcast-same", {DType::I8}, R"(
func @f(%x: $T[2,3]) -> ($T[2,3]) {
  %y = broadcast_to(%x) {shape = [2, 3]} : $T[2,3]
  return %y
})"},
      {"broadcast-broadcast", {DType::BF16}, R"(
func @f(%x: $T[3]) -> ($T[4,2,3]) {
  %a = broadcast_to(%x) {shape = [2, 3]} : $T[2,3]
  %b = broadcast_to(%a) {shape = [4, 2, 3]} : $T[4,2,3]
  return %b
})"},
      {"broadcast-splat", {DType::F32, DType::I64}, R"(
func @f(%x: $T[3]) -> ($T[2,3], $T[3]) {
  %c = constant() {value = dense<$2>} : $T[1]
  %b = broadcast_to(%c) {shape = [2, 3]} : $T[2,3]
  return %b, %x
})"},
      {"elementwise-smallest-operands", {DType::F32, DType::I32}, R"(
func @f(%x: $T[2,3], %v: $T[3], %s: bool[2,3]) -> ($T[2,3], $T[2,3], bool[2,3]) {
  %c = constant() {value = dense<$2>} : $T[2,3]
  %y = add(%x, %c) : $T[2,3]
  %b = broadcast_to(%v) {shape = [2, 3]} : $T[2,3]
  %z = select(%s, %b, %x) : $T[2,3]
  %e = eq(%b, %c) : bool[2,3]
  return %y, %z, %e
})"},
      {"cast-same",
       {DType::F32, DType::F16, DType::BF16, DType::F64, DType::I8, DType::I64,
        DType::Bool},
       R"(
func @f(%x: $T[65536]) -> ($T[65536]) {
  %y = cast(%x) {to = $T} : $T[65536]
  return %y
})"},
      {"cast-cast-exact", {DType::F16, DType::BF16}, R"(
func @f(%x: $T[65536]) -> (f64[65536], i32[65536], bool[65536]) {
  %a = cast(%x) {to = f32} : f32[65536]
  %b = cast(%a) {to = f64} : f64[65536]
  %c = cast(%a) {to = i32} : i32[65536]
  %d = cast(%b) {to = bool} : bool[65536]
  return %b, %c, %d
})"},
  };
}

TEST(Canonicalize, EveryRuleKeepsTheInterpretersBits) {
  for (const RuleCase &c : ruleCases()) {
    for (DType t : c.dtypes) {
      SCOPED_TRACE(c.rule + " on " + std::string(ir::dtypeName(t)));
      Statistics stats =
          checkPreservesResults(instantiate(c.text, t), runCanonicalize);
      EXPECT_GT(counted(stats, "canonicalize." + c.rule), 0)
          << "the rule did not fire";
    }
  }
}

TEST(Canonicalize, EveryRuleHasACase) {
  std::set<std::string> covered;
  for (const RuleCase &c : ruleCases())
    covered.insert(c.rule);
  for (const rewrite::Rule &r : rewrite::canonicalizationRules())
    EXPECT_TRUE(covered.count(std::string(r.name)))
        << "no case for rule " << r.name;
}

// x / c and x * (1/c) for every 16-bit float x and every power of two c
// whose reciprocal the dtype holds; the rule must refuse the others.
TEST(Canonicalize, DivisionByEveryPowerOfTwoIsExact) {
  for (DType t : {DType::F16, DType::BF16}) {
    int rewritten = 0, refused = 0;
    for (int k = -140; k <= 140; ++k) {
      ir::Tensor probe({t, {}});
      double c = std::ldexp(1.0, k);
      probe.setDouble(0, c);
      if (probe.getDouble(0) != c)
        continue; // c itself is not a value of this dtype
      std::string text = instantiate("func @f(%x: $T[65536]) -> ($T[65536]) {\n"
                                     "  %c = constant() {value = dense<" +
                                         ir::formatDouble(c) +
                                         ">} : $T[]\n"
                                         "  %y = div(%x, %c) : $T[65536]\n"
                                         "  return %y\n}\n",
                                     t);
      SCOPED_TRACE(text);
      Statistics stats = checkPreservesResults(text, runCanonicalize);
      bool fired = counted(stats, "canonicalize.div-power-of-two") +
                       counted(stats, "canonicalize.div-one") >
                   0;
      ir::Tensor reciprocal({t, {}});
      reciprocal.setDouble(0, 1.0 / c);
      EXPECT_EQ(fired, reciprocal.getDouble(0) == 1.0 / c);
      (fired ? rewritten : refused) += 1;
    }
    EXPECT_GT(rewritten, 20);
    EXPECT_GT(refused, 0); // reciprocals of the smallest values overflow
  }
}

TEST(Canonicalize, DivisionByExtremePowersOfTwoIsExact) {
  struct Extreme {
    DType t;
    int k;
  };
  for (Extreme e : {Extreme{DType::F32, 127}, Extreme{DType::F32, -126},
                    Extreme{DType::F64, 1023}, Extreme{DType::F64, -1022}}) {
    std::string text = instantiate("func @f(%x: $T[4000]) -> ($T[4000]) {\n"
                                   "  %c = constant() {value = dense<" +
                                       ir::formatDouble(std::ldexp(1.0, e.k)) +
                                       ">} : $T[]\n"
                                       "  %y = div(%x, %c) : $T[4000]\n"
                                       "  return %y\n}\n",
                                   e.t);
    SCOPED_TRACE(text);
    Statistics stats = checkPreservesResults(text, runCanonicalize);
    EXPECT_GT(counted(stats, "canonicalize.div-power-of-two"), 0);
  }
}

// Every cast(cast(x, via), to) over all dtype triples keeps its bits; the
// exact widenings are the ones folded.
TEST(Canonicalize, CastChainsOverEveryDTypeTriple) {
  int folded = 0;
  for (DType from : ir::kAllDTypes)
    for (DType via : ir::kAllDTypes)
      for (DType to : ir::kAllDTypes) {
        std::string text =
            "func @f(%x: " + std::string(ir::dtypeName(from)) + "[1024]) -> (" +
            std::string(ir::dtypeName(to)) +
            "[1024]) {\n  %a = cast(%x) {to = " +
            std::string(ir::dtypeName(via)) +
            "} : " + std::string(ir::dtypeName(via)) +
            "[1024]\n  %b = cast(%a) {to = " + std::string(ir::dtypeName(to)) +
            "} : " + std::string(ir::dtypeName(to)) +
            "[1024]\n  return %b\n}\n";
        SCOPED_TRACE(text);
        Statistics stats = checkPreservesResults(text, runCanonicalize);
        folded += counted(stats, "canonicalize.cast-cast-exact") > 0;
      }
  // i8 -> i32 -> i64, f16 -> f32 -> f64 and their kin are folded.
  EXPECT_GT(folded, 100);
}

TEST(Canonicalize, TransposePairsOverEveryPermutation) {
  std::vector<std::vector<int64_t>> perms;
  std::vector<int64_t> p = {0, 1, 2};
  do
    perms.push_back(p);
  while (std::next_permutation(p.begin(), p.end()));
  const ir::Shape shape = {2, 3, 4};
  auto permuted = [](const ir::Shape &s, const std::vector<int64_t> &perm) {
    ir::Shape out;
    for (int64_t i : perm)
      out.push_back(s[i]);
    return out;
  };
  auto list = [](const std::vector<int64_t> &v) {
    std::ostringstream os;
    os << "[";
    for (size_t i = 0; i < v.size(); ++i)
      os << (i ? ", " : "") << v[i];
    os << "]";
    return os.str();
  };
  auto type = [&](const ir::Shape &s) {
    return "i32[" + ir::shapeString(s) + "]";
  };
  for (const auto &p1 : perms)
    for (const auto &p2 : perms) {
      ir::Shape mid = permuted(shape, p1), out = permuted(mid, p2);
      std::string text = "func @f(%x: " + type(shape) + ") -> (" + type(out) +
                         ") {\n  %a = transpose(%x) {perm = " + list(p1) +
                         "} : " + type(mid) +
                         "\n  %b = transpose(%a) {perm = " + list(p2) +
                         "} : " + type(out) + "\n  return %b\n}\n";
      SCOPED_TRACE(text);
      checkPreservesResults(text, runCanonicalize);
    }
}

// The rewrites that would change results on some input are not made.
TEST(Canonicalize, LeavesInexactRewritesAlone) {
  const char *cases[] = {
      // -0.0 + 0.0 is +0.0.
      "func @f(%x: f32[8]) -> (f32[8]) {\n"
      "  %c = constant() {value = dense<0.0>} : f32[]\n"
      "  %y = add(%x, %c) : f32[8]\n  return %y\n}\n",
      // inf - inf and NaN - NaN are NaN.
      "func @f(%x: f64[8]) -> (f64[8]) {\n"
      "  %y = sub(%x, %x) : f64[8]\n  return %y\n}\n",
      // inf * 0 is NaN, -1 * 0 is -0.0.
      "func @f(%x: f32[8]) -> (f32[8]) {\n"
      "  %c = constant() {value = dense<0.0>} : f32[]\n"
      "  %y = mul(%x, %c) : f32[8]\n  return %y\n}\n",
      // 1/3 is not exact.
      "func @f(%x: f32[8]) -> (f32[8]) {\n"
      "  %c = constant() {value = dense<3.0>} : f32[]\n"
      "  %y = div(%x, %c) : f32[8]\n  return %y\n}\n",
      // pow(-0, 0.5) is +0 but sqrt(-0) is -0.
      "func @f(%x: f32[8]) -> (f32[8]) {\n"
      "  %c = constant() {value = dense<0.5>} : f32[]\n"
      "  %y = pow(%x, %c) : f32[8]\n  return %y\n}\n",
      // An f64 square rounds; pow may round it the other way.
      "func @f(%x: f64[8]) -> (f64[8]) {\n"
      "  %c = constant() {value = dense<2.0>} : f64[]\n"
      "  %y = pow(%x, %c) : f64[8]\n  return %y\n}\n",
      // f32 -> f16 rounds.
      "func @f(%x: f32[8]) -> (f32[8]) {\n"
      "  %a = cast(%x) {to = f16} : f16[8]\n"
      "  %b = cast(%a) {to = f32} : f32[8]\n  return %b\n}\n",
  };
  for (const char *text : cases) {
    auto m = parse(text);
    ASSERT_TRUE(m);
    std::string before = ir::printModule(*m);
    Statistics stats;
    Options o;
    o.stats = &stats;
    ASSERT_TRUE(runCanonicalize(*m, o).ok());
    EXPECT_EQ(ir::printModule(*m), before);
    EXPECT_TRUE(stats.values().empty()) << text;
  }
}

TEST(Canonicalize, ShowsWhyPlusZeroIsNotAnIdentity) {
  // The reason for the rule above, from the interpreter itself.
  auto m = parse("func @f(%x: f32[1]) -> (f32[1]) {\n"
                 "  %c = constant() {value = dense<0.0>} : f32[]\n"
                 "  %y = add(%x, %c) : f32[1]\n  return %y\n}\n");
  ir::Tensor x({DType::F32, {1}});
  x.setDouble(0, -0.0);
  std::vector<ir::Tensor> out = interpret(*m, {x});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(std::signbit(out[0].getDouble(0)));
}

TEST(Canonicalize, OrdersCommutativeOperandsAndSettles) {
  auto m = parse(R"(
func @f(%a: f32[4], %b: f32[4]) -> (f32[4], f32[4], f32[4]) {
  %c = constant() {value = dense<[1.0, 2.0, 3.0, 4.0]>} : f32[4]
  %p = add(%c, %b) : f32[4]
  %q = eq(%a, %b) : bool[4]
  %s = select(%q, %a, %b) : f32[4]
  %r = mul(%p, %s) : f32[4]
  %n = min(%a, %b) : f32[4]
  return %p, %r, %n
}
)");
  ASSERT_TRUE(m);
  ASSERT_TRUE(runCanonicalize(*m, {}).ok());
  const ir::Function &f = *m->functions[0];
  EXPECT_EQ(f.ops[1]->operand(0)->name, "b");
  EXPECT_EQ(f.ops[1]->operand(1)->name, "c");
  EXPECT_EQ(f.ops[2]->operand(0)->name, "b");
  // min is not commutative bit for bit (-0.0 against +0.0): left alone.
  EXPECT_EQ(f.ops[5]->operand(0)->name, "a");
  EXPECT_EQ(f.ops[4]->operand(0)->name, "s");
  EXPECT_EQ(f.ops[4]->operand(1)->name, "p");
  // A second run has nothing left to do.
  std::string once = ir::printModule(*m);
  Statistics stats;
  Options o;
  o.stats = &stats;
  ASSERT_TRUE(runCanonicalize(*m, o).ok());
  EXPECT_EQ(ir::printModule(*m), once);
  EXPECT_TRUE(stats.values().empty());
}

// Modules that never met the verifier: nothing crashes, odd ops stay.
TEST(Canonicalize, LeavesMalformedOpsAlone) {
  auto m = parse(R"(
func @f(%x: f32[2,2]) -> (f32[2,2]) {
  %a = transpose(%x) {perm = [1, 0]} : f32[2,2]
  %b = transpose(%a) {perm = [1, 0]} : f32[2,2]
  %c = constant() {value = dense<1.0>} : f32[]
  %d = mul(%b, %c) : f32[2,2]
  return %d
}
)");
  ASSERT_TRUE(m);
  ir::Function &f = *m->functions[0];
  f.ops[1]->attrs["perm"] = std::vector<int64_t>{0, 0}; // not a permutation
  f.ops[2]->attrs.erase("value");                       // a constant of nothing
  ASSERT_TRUE(runCanonicalize(*m, {}).ok());
  EXPECT_EQ(f.ops.size(), 4u);
}

// ---------------------------------------------------------------------------
// const-fold
// ---------------------------------------------------------------------------

constexpr const char *kFoldable = R"(
param @w : f32[3,4]
func @f(%x: f32[4,3]) -> (f32[4,3], i32[5], f32[4,3]) {
  %w = param() {name = @w} : f32[3,4]
  %t = transpose(%w) : f32[4,3]
  %e = exp(%t) : f32[4,3]
  %y = add(%x, %e) : f32[4,3]
  %a = constant() {value = dense<[7, -7, 2147483647, -2147483648, 5]>} : i32[5]
  %b = constant() {value = dense<[0, 2, -1, -1, 3]>} : i32[5]
  %q = div(%a, %b) : i32[5]
  %z = constant() {value = dense<[[0.0, -0.0, 1.0], [2.0, 3.0, 4.0], [5.0, 6.0, 7.0], [8.0, 9.0, 10.0]]>} : f32[4,3]
  %n = div(%z, %z) : f32[4,3]
  %m = mul(%n, %y) : f32[4,3]
  return %y, %q, %m
}
)";

ir::WeightMap weightsFor(const ir::Module &m, uint64_t seed) {
  std::mt19937_64 rng(seed);
  ir::WeightMap weights;
  for (const ir::Param &p : m.params) {
    ir::Tensor t(p.type);
    fillTestValues(t, rng);
    weights.emplace(p.name, std::move(t));
  }
  return weights;
}

TEST(ConstFold, FoldsWithTheInterpretersKernels) {
  auto m = parse(kFoldable);
  ir::WeightMap weights = weightsFor(*m, 7);
  Statistics stats = checkPreservesResults(kFoldable, runConstFold, &weights);
  EXPECT_EQ(counted(stats, "const-fold.folded"), 2); // the two divisions
}

TEST(ConstFold, FoldsKnownWeights) {
  auto m = parse(kFoldable);
  ir::WeightMap weights = weightsFor(*m, 7);
  Statistics stats =
      checkPreservesResults(kFoldable, runConstFold, &weights, true);
  // transpose and exp of the weight, and the two divisions.
  EXPECT_EQ(counted(stats, "const-fold.folded"), 4);
}

TEST(ConstFold, LeavesWeightsOfAnotherTypeToTheRuntime) {
  auto m = parse(kFoldable);
  ir::WeightMap weights;
  weights.emplace("w", ir::Tensor({DType::F32, {4, 3}}));
  Options o;
  Statistics stats;
  o.stats = &stats;
  o.weights = &weights;
  ASSERT_TRUE(runConstFold(*m, o).ok());
  EXPECT_EQ(counted(stats, "const-fold.folded"), 2);
  EXPECT_EQ(m->functions[0]->ops[0]->name(), "param");
}

TEST(ConstFold, RespectsMaxBytes) {
  auto m = parse(kFoldable);
  ir::WeightMap weights = weightsFor(*m, 7);
  Options o;
  Statistics stats;
  o.stats = &stats;
  o.weights = &weights;
  o.args["max-bytes"] = "20"; // the i32[5] quotient, not the f32[4,3]s
  ASSERT_TRUE(runConstFold(*m, o).ok());
  EXPECT_EQ(counted(stats, "const-fold.folded"), 1);
  o.args["max-bytes"] = "-5";
  EXPECT_FALSE(runConstFold(*m, o).ok());
  o.args["max-bytes"] = "many";
  EXPECT_FALSE(runConstFold(*m, o).ok());
}

TEST(ConstFold, ReportsAKernelErrorAtTheOp) {
  auto m = parse(R"(
func @f() -> (f32[2]) {
  %c = constant() {value = dense<[1.0, 2.0]>} : f32[2]
  %g = gelu(%c) : f32[2]
  return %g
}
)");
  ASSERT_TRUE(m);
  m->functions[0]->ops[1]->attrs["approximate"] = std::string("sometimes");
  absl::Status s = runConstFold(*m, {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(
      std::string(s.message()).find("t.nyx:4:3: error: cannot fold 'gelu'"),
      std::string::npos)
      << s.message();
}

// ---------------------------------------------------------------------------
// cse and dce
// ---------------------------------------------------------------------------

TEST(Cse, MergesEqualExpressionsAndKeepsResults) {
  Statistics stats = checkPreservesResults(R"(
func @f(%x: f32[8], %y: f32[8]) -> (f32[8], f32[8], f32[8]) {
  %a = add(%x, %y) : f32[8]
  %b = add(%y, %x) : f32[8]
  %c = constant() {value = dense<2.0>} : f32[]
  %d = constant() {value = dense<2.0>} : f32[]
  %e = mul(%a, %c) : f32[8]
  %f = mul(%b, %d) : f32[8]
  %g = sub(%x, %y) : f32[8]
  %h = sub(%y, %x) : f32[8]
  %s = add(%e, %f) : f32[8]
  return %s, %g, %h
}
)",
                                           runCse);
  EXPECT_EQ(counted(stats, "cse.merged"), 3);
}

TEST(Dce, RemovesUnusedOpsAndOrphanKernels) {
  auto m = parse(R"(
kernel @k(%a: f32[2]) -> (f32[2]) {
  %n = neg(%a) : f32[2]
  return %n
}
func @g(%a: f32[2]) -> (f32[2]) {
  return %a
}
func @main(%x: f32[2]) -> (f32[2]) {
  %f = fusion(%x) {callee = @k} : f32[2]
  %u = exp(%f) : f32[2]
  return %x
}
)");
  ASSERT_TRUE(m);
  Statistics stats;
  Options o;
  o.stats = &stats;
  ASSERT_TRUE(runDce(*m, o).ok());
  EXPECT_EQ(counted(stats, "dce.removed"), 2);
  EXPECT_EQ(counted(stats, "dce.removed-kernels"), 1);
  EXPECT_EQ(m->lookupFunction("k"), nullptr);
  EXPECT_NE(m->lookupFunction("g"), nullptr);
  EXPECT_TRUE(ir::verifyModule(*m).ok());
}

// ---------------------------------------------------------------------------
// The simplification part of the standard pipeline
// ---------------------------------------------------------------------------

TEST(SimplifyPipeline, KeepsResultsAndReachesAFixpoint) {
  constexpr const char *kModel = R"(
param @w1 : f32[8,16]
param @b1 : f32[16]
param @scale : f32[16]
func @main(%x: f32[4,8]) -> (f32[4,16], f32[4,16]) {
  %w1 = param() {name = @w1} : f32[8,16]
  %wt = transpose(%w1) : f32[16,8]
  %wtt = transpose(%wt) : f32[8,16]
  %h = matmul(%x, %wtt) : f32[4,16]
  %b1 = param() {name = @b1} : f32[16]
  %bb = broadcast_to(%b1) {shape = [4, 16]} : f32[4,16]
  %hb = add(%bb, %h) : f32[4,16]
  %one = constant() {value = dense<1.0>} : f32[]
  %two = constant() {value = dense<2.0>} : f32[]
  %four = add(%two, %two) : f32[]
  %s = param() {name = @scale} : f32[16]
  %s2 = mul(%s, %one) : f32[16]
  %hs = mul(%hb, %s2) : f32[4,16]
  %hq = div(%hs, %four) : f32[4,16]
  %r = relu(%hq) : f32[4,16]
  %r2 = relu(%hq) : f32[4,16]
  %n = neg(%r2) : f32[4,16]
  %nn = neg(%n) : f32[4,16]
  %dead = exp(%nn) : f32[4,16]
  %c = cast(%r) {to = f64} : f64[4,16]
  %cc = cast(%c) {to = f32} : f32[4,16]
  return %cc, %nn
}
)";
  auto pm = PassManager::parse("canonicalize,const-fold,canonicalize,cse,dce");
  ASSERT_TRUE(pm.ok());
  for (bool embedded : {false, true}) {
    SCOPED_TRACE(embedded ? "embedded weights" : "weights at run time");
    auto m = parse(kModel);
    ASSERT_TRUE(m);
    ir::WeightMap weights = weightsFor(*m, 3);
    std::mt19937_64 rng(5);
    std::vector<ir::Tensor> args = testArguments(**m->entry(), rng);
    std::vector<ir::Tensor> before = interpret(*m, args, &weights);
    Options o;
    o.weights = embedded ? &weights : nullptr;
    Instrumentation inst;
    ASSERT_TRUE(pm->run(*m, o, inst).ok());
    EXPECT_TRUE(bitIdentical(interpret(*m, args, &weights), before))
        << ir::printModule(*m);
    // The second relu and the dead exp are gone, the casts, negations,
    // transposes, the multiply by one and the division are rewritten.
    std::string text = ir::printModule(*m);
    for (const char *gone : {"%r2", "%dead", "cast(", "neg(", "transpose(",
                             "div(", "broadcast_to("})
      EXPECT_EQ(text.find(gone), std::string::npos) << gone << "\n" << text;
    std::string settled = ir::printModule(*m);
    ASSERT_TRUE(pm->run(*m, o, inst).ok());
    EXPECT_EQ(ir::printModule(*m), settled);
  }
}

} // namespace
} // namespace nyx::passes
