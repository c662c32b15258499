// Differential test of the optimizer. For each seed: a random module
// (graph_gen.h), run by the interpreter as written and again after the
// optimization pipeline (compiler::standardPipeline(2)), on the same random
// inputs. Every output must agree: integers and bools exactly; floats bit
// for bit too, unless fold-batchnorm folded something, and then within a
// tolerance scaled to the least precise float dtype the output was computed
// through and to the largest magnitude on the way. Every k-th optimized
// module is also compiled, linked with libnyxrt and run; its outputs are
// held to the original's with that tolerance.
//
//   differential_test                    seeds 0..199, every 2nd compiled
//   differential_test --graphs=5000      more seeds (or NYX_DIFF_GRAPHS)
//   differential_test --seed=17          one seed, compiled (or NYX_DIFF_SEED)
//   differential_test --compile-every=1  compile every graph
//                                        (or NYX_DIFF_COMPILE_EVERY; 0: none)
//   differential_test --print            print every graph (NYX_DIFF_PRINT=1)
//   NYX_DIFF_PIPELINE=canonicalize,cse   another pipeline than -O2's
//
// A failure prints the seed, the module as generated, the module after the
// pipeline and the output that differs.
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "compiler/compilation.h"
#include "ir/interpreter.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/strings.h"
#include "passes/pass_manager.h"
#include "tests/differential/graph_gen.h"
#include "tests/e2e/harness.h"
#include "tests/support/tensor_match.h"
#include "gtest/gtest.h"

namespace nyx::difftest {
namespace {

struct Config {
  int64_t graphs = 200;
  std::optional<uint64_t> seed;
  int64_t compileEvery = 2;
  bool print = false;
  std::string pipeline; // empty: compiler::standardPipeline(2)
};

Config &config() {
  static Config c;
  return c;
}

// Totals over the run, printed at the end: how much the pipeline had to do.
struct Totals {
  int64_t graphs = 0, compiled = 0, opsBefore = 0, opsAfter = 0;
  std::map<std::string, int64_t> stats;
};

Totals &totals() {
  static Totals t;
  return t;
}

std::vector<uint64_t> seeds() {
  if (config().seed)
    return {*config().seed};
  std::vector<uint64_t> s;
  for (int64_t i = 0; i < config().graphs; ++i)
    s.push_back(static_cast<uint64_t>(i));
  return s;
}

bool compiles(uint64_t seed) {
  if (config().seed)
    return true;
  return config().compileEvery > 0 && seed % config().compileEvery == 0;
}

int64_t countOps(const ir::Module &m) {
  int64_t n = 0;
  for (const auto &f : m.functions)
    n += static_cast<int64_t>(f->ops.size());
  return n;
}

// How far apart two correct results of a float output may be: the least
// precise float dtype on any path to it (an f32 output computed through an
// f16 value is as good as f16), and the largest finite magnitude among the
// values it was computed from (a rounding error of those survives any later
// cancellation).
struct Provenance {
  double scale = 0;
  std::optional<ir::DType> loosest;
};

int looseness(ir::DType t) {
  switch (t) {
  case ir::DType::F64:
    return 0;
  case ir::DType::F32:
    return 1;
  case ir::DType::F16:
    return 2;
  default:
    return 3; // bf16
  }
}

Provenance merge(Provenance a, const Provenance &b) {
  a.scale = std::max(a.scale, b.scale);
  if (b.loosest &&
      (!a.loosest || looseness(*b.loosest) > looseness(*a.loosest)))
    a.loosest = b.loosest;
  return a;
}

Provenance provenanceOf(const ir::Tensor &t) {
  Provenance p;
  if (!ir::isFloat(t.dtype()))
    return p;
  p.loosest = t.dtype();
  for (int64_t i = 0; i < t.numElements(); ++i) {
    double v = std::fabs(t.getDouble(i));
    if (std::isfinite(v))
      p.scale = std::max(p.scale, v);
  }
  return p;
}

// The original module's outputs and the provenance of each.
struct Reference {
  std::vector<ir::Tensor> outputs;
  std::vector<Provenance> provenance;
};

absl::StatusOr<Reference> runReference(const ir::Module &module,
                                       const ir::Function &entry,
                                       const std::vector<ir::Tensor> &inputs,
                                       const ir::WeightMap &weights) {
  std::map<const ir::Value *, Provenance> of;
  for (size_t i = 0; i < entry.params.size(); ++i)
    of[entry.params[i]] = provenanceOf(inputs[i]);
  // Ops inside a call report before the call does.
  Provenance inner;
  ir::Interpreter interpreter(module, &weights);
  interpreter.setObserver(
      [&](const ir::Op &op, std::span<const ir::Tensor> results, int depth) {
        Provenance p;
        for (const ir::Tensor &t : results)
          p = merge(p, provenanceOf(t));
        if (depth > 0) {
          inner = merge(inner, p);
          return;
        }
        p = merge(p, inner);
        inner = {};
        for (const ir::Value *v : op.operands)
          p = merge(p, of[v]);
        for (const ir::Value *r : op.results)
          of[r] = p;
      });
  auto outputs = interpreter.run(entry, inputs);
  if (!outputs.ok())
    return outputs.status();
  Reference ref;
  ref.outputs = std::move(*outputs);
  for (const ir::Value *v : entry.returns)
    ref.provenance.push_back(of[v]);
  return ref;
}

::testing::AssertionResult matchesReference(const ir::Tensor &got,
                                            const Reference &ref, size_t i) {
  const ir::Tensor &want = ref.outputs[i];
  if (!ir::isFloat(want.dtype()))
    return test::tensorsMatch(got, want); // exact
  const Provenance &p = ref.provenance[i];
  test::Tolerance tol =
      test::defaultTolerance(p.loosest.value_or(want.dtype()));
  return test::tensorsMatch(got, want, tol.rtol, tol.atol + tol.rtol * p.scale);
}

// Every element the same value (floats: the same bits, -0.0 apart from
// 0.0; any NaN matches any NaN, as rewrites may change a NaN's sign).
::testing::AssertionResult sameValues(const ir::Tensor &got,
                                      const ir::Tensor &want) {
  if (got.type() != want.type())
    return ::testing::AssertionFailure()
           << "type " << got.type().str() << " expected " << want.type().str();
  for (int64_t i = 0; i < want.numElements(); ++i) {
    if (!ir::isFloat(want.dtype())) {
      if (got.getInt(i) != want.getInt(i))
        return ::testing::AssertionFailure()
               << "[" << i << "] is " << got.getInt(i) << ", expected "
               << want.getInt(i) << " exactly";
      continue;
    }
    double g = got.getDouble(i), w = want.getDouble(i);
    bool same = (std::isnan(g) && std::isnan(w)) ||
                (g == w && std::signbit(g) == std::signbit(w));
    if (!same)
      return ::testing::AssertionFailure()
             << "[" << i << "] of " << want.type().str() << " is " << g
             << ", expected " << w << " bit for bit";
  }
  return ::testing::AssertionSuccess();
}

// Prints what a failing seed needs to be reproduced and understood.
class FailureReport {
public:
  FailureReport(uint64_t seed, std::string original)
      : seed_(seed), original_(std::move(original)) {}
  ~FailureReport() {
    if (!::testing::Test::HasFailure())
      return;
    std::cout << "==== differential test: seed " << seed_
              << " failed; replay with NYX_DIFF_SEED=" << seed_
              << " (or --seed=" << seed_ << ")\n"
              << "---- module as generated:\n"
              << original_;
    if (!optimized_.empty())
      std::cout << "---- after the pipeline:\n" << optimized_;
    std::cout << "====\n";
  }
  void setOptimized(std::string text) { optimized_ = std::move(text); }

private:
  uint64_t seed_;
  std::string original_, optimized_;
};

std::string pipeline() {
  return config().pipeline.empty() ? compiler::standardPipeline(2)
                                   : config().pipeline;
}

class Differential : public ::testing::TestWithParam<uint64_t> {};

TEST_P(Differential, OptimizedGraphMatchesOriginal) {
  const uint64_t seed = GetParam();
  GeneratedGraph graph = generateGraph(seed);
  const std::string text = ir::printModule(*graph.module);
  if (config().print)
    std::cout << "---- seed " << seed << "\n" << text;
  FailureReport report(seed, text);

  // Both modules come from the text, so it must round-trip.
  auto original = ir::parseModule(text, "generated.nyx");
  ASSERT_TRUE(original.ok())
      << "the generated module does not parse: " << original.status().message();
  auto optimized = ir::parseModule(text, "generated.nyx");
  ASSERT_TRUE(optimized.ok());

  auto manager = passes::PassManager::parse(pipeline());
  ASSERT_TRUE(manager.ok()) << manager.status().message();
  passes::Statistics stats;
  passes::Options options;
  options.weights = &graph.weights;
  options.stats = &stats;
  passes::Instrumentation instrumentation; // verifies after every pass
  absl::Status run = manager->run(**optimized, options, instrumentation);
  report.setOptimized(ir::printModule(**optimized));
  ASSERT_TRUE(run.ok()) << "the pipeline " << pipeline()
                        << " failed: " << run.message();

  auto entry = (*original)->entry();
  ASSERT_TRUE(entry.ok()) << entry.status().message();
  auto optimizedEntry = (*optimized)->entry();
  ASSERT_TRUE(optimizedEntry.ok()) << optimizedEntry.status().message();

  std::vector<ir::Tensor> inputs =
      randomInputs(**entry, seed * 7919 + 1, graph.specialValues);
  auto reference = runReference(**original, **entry, inputs, graph.weights);
  ASSERT_TRUE(reference.ok()) << "interpreter on the generated module: "
                              << reference.status().message();
  const std::vector<ir::Value *> &returns = (*entry)->returns;

  ir::Interpreter interpreter(**optimized, &graph.weights);
  auto got = interpreter.run(**optimizedEntry, inputs);
  ASSERT_TRUE(got.ok()) << "interpreter on the optimized module: "
                        << got.status().message();
  ASSERT_EQ(got->size(), reference->outputs.size());
  // The interpreter rounds every op once, so a rewrite that keeps values
  // (canonicalize's rules, folding by the interpreter, cse, fusion) keeps
  // them bit for bit; only folding a batch_norm or a per-channel scale into
  // weights changes the rounding.
  auto folded = stats.values().find("fold-batchnorm.folded");
  bool exact = folded == stats.values().end() || folded->second == 0;
  for (size_t i = 0; i < got->size(); ++i)
    EXPECT_TRUE(exact ? sameValues((*got)[i], reference->outputs[i])
                      : matchesReference((*got)[i], *reference, i))
        << "output " << i << " (%" << returns[i]->name
        << ") of the optimized module in the interpreter";

  Totals &t = totals();
  ++t.graphs;
  t.opsBefore += countOps(**original);
  t.opsAfter += countOps(**optimized);
  for (const auto &[name, value] : stats.values())
    t.stats[name] += value;

  if (!compiles(seed))
    return;
  ++t.compiled;
  codegen::Options copts;
  copts.modelName = "diff";
  auto model = e2e::LoadedModel::build(**optimized, **optimizedEntry,
                                       graph.weights, copts);
  ASSERT_TRUE(model) << "the optimized module does not compile";
  std::vector<ir::Tensor> outputs;
  for (const ir::TensorType &type : (*optimizedEntry)->resultTypes)
    outputs.emplace_back(type);
  ASSERT_EQ(model->run(inputs, outputs), 0);
  for (size_t i = 0; i < outputs.size(); ++i)
    EXPECT_TRUE(matchesReference(outputs[i], *reference, i))
        << "output " << i << " (%" << returns[i]->name
        << ") of the compiled optimized module\nkernels:\n"
        << model->compiled().kernels();
}

INSTANTIATE_TEST_SUITE_P(Seeds, Differential, ::testing::ValuesIn(seeds()),
                         [](const ::testing::TestParamInfo<uint64_t> &info) {
                           return strCat("seed", info.param);
                         });

// NYX_DIFF_* from the environment, then the flags (which win); the flags are
// removed so gtest does not see them.
bool parseConfig(int &argc, char **argv) {
  Config &c = config();
  auto number = [](const char *text, int64_t &out) {
    char *end = nullptr;
    long long v = std::strtoll(text, &end, 10);
    if (!*text || *end || v < 0)
      return false;
    out = v;
    return true;
  };
  int64_t v;
  if (const char *e = std::getenv("NYX_DIFF_GRAPHS"); e && number(e, v))
    c.graphs = v;
  if (const char *e = std::getenv("NYX_DIFF_SEED"); e && number(e, v))
    c.seed = v;
  if (const char *e = std::getenv("NYX_DIFF_COMPILE_EVERY"); e && number(e, v))
    c.compileEvery = v;
  if (const char *e = std::getenv("NYX_DIFF_PRINT"))
    c.print = std::string(e) == "1";
  if (const char *e = std::getenv("NYX_DIFF_PIPELINE"))
    c.pipeline = e;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::string_view flag) -> const char * {
      return arg.rfind(flag, 0) == 0 ? argv[i] + flag.size() : nullptr;
    };
    const char *text;
    if ((text = value("--graphs="))) {
      if (!number(text, c.graphs))
        return false;
    } else if ((text = value("--seed="))) {
      if (!number(text, v))
        return false;
      c.seed = v;
    } else if ((text = value("--compile-every="))) {
      if (!number(text, c.compileEvery))
        return false;
    } else if ((text = value("--pipeline="))) {
      c.pipeline = text;
    } else if (arg == "--print") {
      c.print = true;
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  return true;
}

// A run of the standard pipeline over many graphs must give every pass
// something to do; otherwise the generator has drifted and the test checks
// less than it claims.
bool checkPassesHadWork(const Totals &t) {
  if (!config().pipeline.empty() || config().seed || t.graphs < 100)
    return true;
  auto stat = [&](std::string_view name) {
    auto it = t.stats.find(std::string(name));
    return it == t.stats.end() ? int64_t{0} : it->second;
  };
  int64_t canonicalized = 0;
  for (const auto &[name, value] : t.stats)
    if (name.rfind("canonicalize.", 0) == 0)
      canonicalized += value;
  std::vector<std::string> idle;
  if (canonicalized == 0)
    idle.push_back("canonicalize");
  for (std::string_view name : {"const-fold.folded", "cse.merged",
                                "dce.removed", "memory-plan.in-place"})
    if (stat(name) == 0)
      idle.push_back(std::string(name));
  if (stat("fuse.kernels-after") >= stat("fuse.kernels-before"))
    idle.push_back("fuse");
  if (idle.empty())
    return true;
  std::cout << "differential: no work for " << strJoin(idle, ", ") << " over "
            << t.graphs << " graphs; the generator no longer exercises them\n";
  return false;
}

} // namespace
} // namespace nyx::difftest

int main(int argc, char **argv) {
  using namespace nyx::difftest;
  if (!parseConfig(argc, argv)) {
    std::cerr << "usage: differential_test [--graphs=N] [--seed=S] "
                 "[--compile-every=K] [--pipeline=P] [--print] "
                 "[gtest flags]\n";
    return 2;
  }
  ::testing::InitGoogleTest(&argc, argv);
  int status = RUN_ALL_TESTS();
  const Totals &t = totals();
  std::cout << "differential: " << t.graphs << " graphs (" << t.compiled
            << " compiled), pipeline " << pipeline() << "; " << t.opsBefore
            << " ops before, " << t.opsAfter << " after\n";
  for (const auto &[name, value] : t.stats)
    std::cout << "  " << name << " " << value << "\n";
  if (status == 0 && !checkPassesHadWork(t))
    return 1;
  return status;
}
