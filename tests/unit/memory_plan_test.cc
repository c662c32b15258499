// The memory-plan pass on random chains and DAGs, checked by rules written
// out here rather than taken from the pass: no two values live at the same
// op share a byte (unless one is an elementwise result written over its
// dying operand), every offset is aligned, and the arena is at least the
// most bytes ever live at once. Then the code generator's own check of a
// plan: it accepts the pass's plans and names the values of a broken one.
#include <algorithm>
#include <iostream>
#include <map>
#include <random>

#include "codegen/emit/arena_layout.h"
#include "codegen/emit/model_plan.h"
#include "ir/buffer_rules.h"
#include "ir/op_registry.h"
#include "ir/parser.h"
#include "ir/strings.h"
#include "passes/pass.h"
#include "gtest/gtest.h"

namespace nyx {
namespace {

using ir::DType;
using ir::TensorType;

constexpr uint64_t kAlign = 64;

uint64_t aligned(uint64_t bytes) {
  return (bytes + kAlign - 1) / kAlign * kAlign;
}

// Appends `name(operands) {attrs}` with the result types its shape rule
// gives.
ir::Value *append(ir::Module &m, ir::Function &f, std::string_view name,
                  std::vector<ir::Value *> operands, ir::Attributes attrs = {},
                  std::string resultName = "") {
  const ir::OpDef *def = ir::lookupOp(name);
  ir::Op probe;
  probe.def = def;
  probe.operands = operands;
  probe.attrs = attrs;
  auto types = def->inferTypes(probe, m);
  EXPECT_TRUE(types.ok()) << name << ": " << types.status().message();
  return f
      .appendOp(def, std::move(operands), std::move(attrs), *types, {},
                {std::move(resultName)})
      ->result();
}

// A random entry function over f32/f64/f16 values of shapes [8,16], [16,8],
// [16] and [8]: elementwise ops (some broadcasting, some casting),
// softmax, transpose and reductions. In a chain every op reads the value
// just made; in a DAG operands are drawn from all values so far.
std::unique_ptr<ir::Module> randomModule(uint64_t seed, int numOps,
                                         bool chain) {
  std::mt19937_64 rng(seed);
  auto m = std::make_unique<ir::Module>();
  m->name = "random";
  ir::Function &f = *m->addFunction("main");
  std::vector<ir::Value *> pool = {
      f.addParam("x", {DType::F32, {8, 16}}),
      f.addParam("b", {DType::F32, {16}}),
  };
  auto pick = [&](auto pred) -> ir::Value * {
    std::vector<ir::Value *> fits;
    for (ir::Value *v : pool)
      if (pred(v))
        fits.push_back(v);
    if (fits.empty())
      return nullptr;
    // Mostly recent values, so lifetimes vary from short to long.
    std::geometric_distribution<size_t> back(0.3);
    size_t k = std::min(back(rng), fits.size() - 1);
    return fits[fits.size() - 1 - k];
  };
  for (int i = 0; i < numOps; ++i) {
    ir::Value *a = chain ? pool.back() : pick([](ir::Value *) { return true; });
    const TensorType &t = a->type;
    ir::Value *r = nullptr;
    switch (std::uniform_int_distribution<int>(0, 8)(rng)) {
    case 0:
      r = append(*m, f, "exp", {a});
      break;
    case 1:
      r = append(*m, f, "neg", {a});
      break;
    case 2:
    case 3: {
      // Same type, or a broadcast of a lower-rank value of the same dtype.
      ir::Value *b = pick([&](ir::Value *v) {
        return v->type.dtype == t.dtype &&
               (v->type.shape == t.shape ||
                (v->type.rank() == 1 && t.rank() == 2 &&
                 v->type.shape[0] == t.shape[1]));
      });
      bool swap = std::bernoulli_distribution(0.5)(rng);
      r = append(*m, f, swap ? "mul" : "add",
                 swap ? std::vector{b, a} : std::vector{a, b});
      break;
    }
    case 4: {
      constexpr DType kTo[] = {DType::F32, DType::F64, DType::F16};
      DType to = kTo[std::uniform_int_distribution<int>(0, 2)(rng)];
      r = append(*m, f, "cast", {a}, {{"to", to}});
      break;
    }
    case 5:
      r = append(*m, f, "softmax", {a}, {{"axis", int64_t(-1)}});
      break;
    case 6:
      r = t.rank() == 2 ? append(*m, f, "transpose", {a},
                                 {{"perm", std::vector<int64_t>{1, 0}}})
                        : append(*m, f, "tanh", {a});
      break;
    default:
      r = t.rank() == 2 ? append(*m, f, "reduce_sum", {a},
                                 {{"axes", std::vector<int64_t>{0}}})
                        : append(*m, f, "abs", {a});
      break;
    }
    pool.push_back(r);
  }
  // The last value, a few random ones (one maybe twice) and an input.
  f.returns.push_back(pool.back());
  for (int k = std::uniform_int_distribution<int>(0, 3)(rng); k > 0; --k)
    f.returns.push_back(pick([](ir::Value *) { return true; }));
  for (ir::Value *v : f.returns)
    f.resultTypes.push_back(v->type);
  return m;
}

struct Stats {
  int64_t intermediate, arena, lowerBound, inPlace;
};

Stats runPlan(ir::Module &m) {
  passes::Statistics stats;
  passes::Options o;
  o.stats = &stats;
  absl::Status s = passes::runMemoryPlan(m, o);
  EXPECT_TRUE(s.ok()) << s.message();
  auto get = [&](const char *name) {
    auto it = stats.values().find(strCat("memory-plan.", name));
    EXPECT_NE(it, stats.values().end()) << name;
    return it == stats.values().end() ? -1 : it->second;
  };
  return {get("intermediate-bytes"), get("arena-bytes"),
          get("lower-bound-bytes"), get("in-place")};
}

// Where the plan put a value, from its op's attribute; -1 when nowhere.
int64_t offsetOf(const ir::Value *v) {
  const ir::Attribute *a = v->definingOp->find("arena_offsets");
  if (!a)
    return -1;
  const auto &offsets = std::get<std::vector<int64_t>>(*a);
  EXPECT_EQ(offsets.size(), v->definingOp->results.size());
  return offsets[v->index];
}

// Checks the plan recorded in `f` against the rules in this file's comment;
// returns the arena size the offsets imply.
int64_t checkPlan(const ir::Function &f, const Stats &stats) {
  struct Placed {
    const ir::Value *value;
    int64_t first, last, offset;
    uint64_t bytes;
  };
  std::map<const ir::Value *, int64_t> lastUse;
  std::vector<const ir::Value *> returned(f.returns.begin(), f.returns.end());
  for (size_t i = 0; i < f.ops.size(); ++i)
    for (const ir::Value *v : f.ops[i]->operands)
      lastUse[v] = static_cast<int64_t>(i);
  std::vector<Placed> placed;
  int64_t intermediate = 0, end = 0;
  for (size_t i = 0; i < f.ops.size(); ++i)
    for (const ir::Value *r : f.ops[i]->results) {
      bool isReturned =
          std::find(returned.begin(), returned.end(), r) != returned.end();
      int64_t offset = offsetOf(r);
      if (isReturned) {
        EXPECT_EQ(offset, -1) << "returned %" << r->name << " is in the arena";
        continue;
      }
      EXPECT_GE(offset, 0) << "%" << r->name << " has no arena offset";
      EXPECT_EQ(offset % int64_t(kAlign), 0) << "%" << r->name;
      int64_t first = static_cast<int64_t>(i);
      int64_t last = lastUse.count(r) ? lastUse[r] : first;
      placed.push_back({r, first, last, offset, r->type.byteSize()});
      intermediate += aligned(r->type.byteSize());
      end = std::max<int64_t>(end, offset + r->type.byteSize());
    }
  // A result may sit exactly on an operand that dies at its op when the op
  // is elementwise and the two have one shape and element size.
  auto writtenInPlace = [](const Placed &operand, const Placed &result) {
    const ir::Op &op = *result.value->definingOp;
    return operand.last == result.first && operand.offset == result.offset &&
           op.def->fusion == ir::FusionKind::Elementwise &&
           std::count(op.operands.begin(), op.operands.end(), operand.value) &&
           operand.value->type.shape == result.value->type.shape &&
           ir::dtypeSize(operand.value->type.dtype) ==
               ir::dtypeSize(result.value->type.dtype);
  };
  int64_t inPlace = 0;
  for (size_t a = 0; a < placed.size(); ++a)
    for (size_t b = a + 1; b < placed.size(); ++b) {
      const Placed &p = placed[a], &q = placed[b];
      bool liveTogether = p.first <= q.last && q.first <= p.last;
      bool shareBytes = p.bytes > 0 && q.bytes > 0 &&
                        p.offset < q.offset + int64_t(q.bytes) &&
                        q.offset < p.offset + int64_t(p.bytes);
      if (!liveTogether || !shareBytes)
        continue;
      bool ok = writtenInPlace(p, q);
      inPlace += ok;
      EXPECT_TRUE(ok) << "%" << p.value->name << " and %" << q.value->name
                      << " share bytes while both are live";
    }
  // The most bytes live at one op, a value written in place counted once.
  int64_t bound = 0;
  for (int64_t t = 0; t < static_cast<int64_t>(f.ops.size()); ++t) {
    int64_t live = 0;
    for (const Placed &p : placed)
      if (p.first <= t && t <= p.last)
        live += aligned(p.bytes);
    for (const Placed &q : placed)
      if (q.first == t)
        for (const Placed &p : placed)
          if (&p != &q && writtenInPlace(p, q))
            live -= aligned(q.bytes);
    bound = std::max(bound, live);
  }
  EXPECT_EQ(stats.intermediate, intermediate);
  EXPECT_EQ(stats.lowerBound, bound);
  EXPECT_EQ(stats.inPlace, inPlace);
  EXPECT_EQ(stats.arena, int64_t(aligned(end)));
  EXPECT_GE(stats.arena, stats.lowerBound);
  EXPECT_LE(stats.arena, stats.intermediate);
  return int64_t(aligned(end));
}

absl::StatusOr<codegen::ModelPlan> codegenPlan(const ir::Module &m) {
  codegen::Options o;
  o.modelName = "m";
  return codegen::planModel(m, *m.functions[0], {}, o);
}

TEST(MemoryPlan, RandomChainsShareSlots) {
  int64_t planned = 0, unplanned = 0;
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    SCOPED_TRACE(strCat("seed ", seed));
    auto m = randomModule(seed, 4 + seed % 20, /*chain=*/true);
    Stats stats = runPlan(*m);
    checkPlan(*m->functions[0], stats);
    planned += stats.arena;
    unplanned += stats.intermediate;
    auto plan = codegenPlan(*m);
    ASSERT_TRUE(plan.ok()) << plan.status().message();
    EXPECT_EQ(int64_t(plan->arenaBytes), stats.arena);
  }
  // A chain needs at most its two largest neighbours at once.
  EXPECT_LT(planned * 2, unplanned);
}

TEST(MemoryPlan, RandomDagsNeverOverlapLiveValues) {
  int64_t inPlace = 0, planned = 0, unplanned = 0, bound = 0;
  for (uint64_t seed = 1; seed <= 80; ++seed) {
    SCOPED_TRACE(strCat("seed ", seed));
    auto m = randomModule(1000 + seed, 5 + seed % 40, /*chain=*/false);
    Stats stats = runPlan(*m);
    checkPlan(*m->functions[0], stats);
    inPlace += stats.inPlace;
    planned += stats.arena;
    unplanned += stats.intermediate;
    bound += stats.lowerBound;
    auto plan = codegenPlan(*m);
    ASSERT_TRUE(plan.ok()) << plan.status().message();
    EXPECT_EQ(int64_t(plan->arenaBytes), stats.arena);
  }
  std::cout << "random DAGs: " << unplanned << " bytes one slot per value, "
            << planned << " planned, " << bound << " lower bound, " << inPlace
            << " written in place\n";
  EXPECT_GT(inPlace, 0);
  EXPECT_LT(planned, unplanned);
}

TEST(MemoryPlan, ElementwiseChainRunsInOneSlot) {
  auto m = std::make_unique<ir::Module>();
  ir::Function &f = *m->addFunction("main");
  ir::Value *v =
      append(*m, f, "softmax", {f.addParam("x", {DType::F32, {100}})},
             {{"axis", int64_t(0)}});
  for (const char *op : {"exp", "neg", "tanh", "abs", "relu"})
    v = append(*m, f, op, {v});
  ir::Value *y = append(*m, f, "softmax", {v}, {{"axis", int64_t(0)}});
  f.returns = {y};
  f.resultTypes = {y->type};
  Stats stats = runPlan(*m);
  EXPECT_EQ(stats.arena, 448);
  EXPECT_EQ(stats.lowerBound, 448);
  EXPECT_EQ(stats.intermediate, 6 * 448);
  EXPECT_EQ(stats.inPlace, 5);
  for (size_t i = 0; i + 1 < f.ops.size(); ++i)
    EXPECT_EQ(offsetOf(f.ops[i]->result()), 0);
}

TEST(MemoryPlan, RunningTwiceGivesTheSamePlan) {
  auto m = randomModule(7, 30, /*chain=*/false);
  runPlan(*m);
  std::vector<int64_t> first;
  for (const auto &op : m->functions[0]->ops)
    for (const ir::Value *r : op->results)
      first.push_back(offsetOf(r));
  runPlan(*m);
  std::vector<int64_t> second;
  for (const auto &op : m->functions[0]->ops)
    for (const ir::Value *r : op->results)
      second.push_back(offsetOf(r));
  EXPECT_EQ(first, second);
}

TEST(MemoryPlan, UnknownEntryIsAnError) {
  auto m = randomModule(3, 5, true);
  passes::Options o;
  o.entry = "nope";
  absl::Status s = passes::runMemoryPlan(*m, o);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("@nope"), std::string::npos);
}

TEST(MemoryPlan, WithoutAPlanEveryValueHasItsOwnSlot) {
  auto m = randomModule(11, 25, /*chain=*/false);
  auto plan = codegenPlan(*m);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  Stats stats = runPlan(*m);
  EXPECT_EQ(int64_t(plan->arenaBytes), stats.intermediate);
}

// A chain planned by the pass, then broken on purpose.
class BrokenPlan : public ::testing::Test {
protected:
  void SetUp() override {
    ir::Function &f = *m_.addFunction("main");
    ir::Value *x = f.addParam("x", {DType::F32, {16}});
    a_ = append(m_, f, "softmax", {x}, {{"axis", int64_t(0)}}, "a");
    b_ = append(m_, f, "softmax", {a_}, {{"axis", int64_t(0)}}, "b");
    c_ = append(m_, f, "add", {b_, a_}, {}, "c");
    f.returns = {c_};
    f.resultTypes = {c_->type};
    runPlan(m_);
  }
  void setOffset(ir::Value *v, int64_t offset) {
    v->definingOp->attrs["arena_offsets"] = std::vector<int64_t>{offset};
  }
  std::string error() {
    auto plan = codegenPlan(m_);
    EXPECT_FALSE(plan.ok());
    // An attribute the IR carries is reported at its op (invalid input); a
    // plan that breaks liveness is an internal error.
    EXPECT_TRUE(plan.status().code() == absl::StatusCode::kInternal ||
                plan.status().code() == absl::StatusCode::kInvalidArgument)
        << plan.status().code();
    return plan.ok() ? "" : std::string(plan.status().message());
  }
  ir::Module m_;
  ir::Value *a_, *b_, *c_;
};

TEST_F(BrokenPlan, OverlappingLiveValuesAreNamed) {
  ASSERT_TRUE(codegenPlan(m_).ok());
  setOffset(b_, offsetOf(a_));
  std::string msg = error();
  EXPECT_NE(msg.find("%a (bytes 0..64, live at ops 0..2)"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("%b (bytes 0..64, live at ops 1..2)"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("overlapping memory while both are live"),
            std::string::npos);
}

TEST_F(BrokenPlan, MisalignedOffsetIsNamed) {
  setOffset(b_, 96);
  EXPECT_NE(error().find("places %b (bytes 96..160"), std::string::npos);
}

TEST_F(BrokenPlan, MissingOffsetIsNamed) {
  setOffset(b_, -1);
  EXPECT_NE(error().find("gives %b (computed by 'softmax', not returned) no "
                         "arena offset"),
            std::string::npos);
}

TEST_F(BrokenPlan, OffsetForAnOutputIsNamed) {
  setOffset(c_, 128);
  EXPECT_NE(error().find("gives %c arena offset 128; expected -1, since it is "
                         "written into an output"),
            std::string::npos);
}

TEST_F(BrokenPlan, MalformedAttributeIsNamed) {
  b_->definingOp->attrs["arena_offsets"] = std::vector<int64_t>{0, 64};
  EXPECT_NE(error().find("'softmax' has an arena_offsets attribute that is "
                         "not a list of 1 integers"),
            std::string::npos);
}

TEST(CheckPlannedArena, AcceptsDisjointAndInPlaceBuffers) {
  std::vector<codegen::PlannedBuffer> buffers = {
      {"a", 0, 100, 0, 2, {}},
      {"b", 128, 64, 1, 3, {}},
      {"c", 0, 100, 2, 4, {0}}, // written over %a where %a dies
      {"d", 0, 0, 3, 3, {}},    // empty: takes no bytes
  };
  auto total = codegen::checkPlannedArena(buffers);
  ASSERT_TRUE(total.ok()) << total.status().message();
  EXPECT_EQ(*total, 192u);
}

TEST(CheckPlannedArena, RejectsInPlaceThatTheRuleDoesNotAllow) {
  // Same bytes and the lifetimes touch, but %c may not write over %a.
  std::vector<codegen::PlannedBuffer> buffers = {
      {"a", 0, 100, 0, 2, {}},
      {"c", 0, 100, 2, 4, {}},
  };
  EXPECT_FALSE(codegen::checkPlannedArena(buffers).ok());
  // Two results taking over the same operand.
  buffers = {{"a", 0, 100, 0, 2, {}},
             {"c", 0, 100, 2, 4, {0}},
             {"d", 0, 100, 2, 4, {0}}};
  auto s = codegen::checkPlannedArena(buffers);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.status().message()).find("%c"), std::string::npos);
  EXPECT_NE(std::string(s.status().message()).find("%d"), std::string::npos);
}

TEST(BufferRules, FusionWritesOverOperandsReadOnlyAtTheirPosition) {
  auto m = ir::parseModule(R"(
kernel @k(%p: f32[4,4], %q: f32[4,4], %r: f32[4]) -> (f32[4,4], f32[4,4]) {
  %e = exp(%p) : f32[4,4]
  %s = add(%e, %r) : f32[4,4]
  %t = transpose(%q) {perm = [1, 0]} : f32[4,4]
  return %s, %t
}
func @main(%x: f32[4,4], %y: f32[4,4], %z: f32[4]) -> (f32[4,4], f32[4,4]) {
  %s, %t = fusion(%x, %y, %z) {callee = @k} : f32[4,4], f32[4,4]
  return %s, %t
}
)",
                           "t.nyx");
  ASSERT_TRUE(m.ok()) << m.status().message();
  const ir::Function &main = *(*m)->lookupFunction("main");
  const ir::Op &fusion = *main.ops[0];
  EXPECT_TRUE(ir::mayWriteOver(**m, fusion, 0, main.params[0]));
  EXPECT_FALSE(ir::mayWriteOver(**m, fusion, 1, main.params[0]));
  EXPECT_FALSE(ir::mayWriteOver(**m, fusion, 1, main.params[1])); // transpose
  EXPECT_FALSE(ir::mayWriteOver(**m, fusion, 0, main.params[2])); // [4]
}

} // namespace
} // namespace nyx
