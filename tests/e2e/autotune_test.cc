// Autotuning end to end: nyxc-style compiles that measure schedules within a
// small budget, write the tuning database and reuse it without measuring;
// and models compiled at the tuned schedules, at the defaults and at other
// schedules of the space, each checked against the interpreter.
#include <fstream>
#include <sstream>

#include "codegen/kernel/gemm.h"
#include "compiler/compilation.h"
#include "harness.h"
#include "nyx/runtime.h"
#include "passes/pass_manager.h"
#include "tests/support/temp_dir.h"
#include "tuning/autotuner.h"
#include "tuning/tuning_db.h"

namespace nyx {
namespace {

// A matmul and a conv2d whose epilogue fuses into its kernel.
const char *kModel = R"(module @tuned

func @main(%a: f32[64,80], %b: f32[80,96], %x: f32[2,8,16,16],
           %w: f32[16,8,3,3], %bias: f32[16]) -> (f32[64,96], f32[2,16,16,16]) {
  %c = matmul(%a, %b) : f32[64,96]
  %y = conv2d(%x, %w, %bias) {padding = [1, 1, 1, 1]} : f32[2,16,16,16]
  %r = relu(%y) : f32[2,16,16,16]
  return %c, %r
}
)";

// A budget that leaves time for a few candidates of each op.
constexpr double kBudgetSeconds = 3;

class Autotune : public test::TempDirTest {
protected:
  void SetUp() override {
    TempDirTest::SetUp();
    std::ofstream(path("tuned.nyx")) << kModel;
  }

  // Compiles the model to an object as nyxc does with --autotune
  // --autotune-budget --tuning-db --stats; returns the statistics printed.
  std::string compile(bool measure) {
    compiler::CompileOptions o;
    o.input = path("tuned.nyx");
    o.output = path("tuned.o");
    o.autotune = measure;
    o.autotuneBudget = kBudgetSeconds;
    o.tuningDb = path("db.json");
    o.printStats = true;
    std::ostringstream stats;
    o.instrumentation.out = &stats;
    absl::Status s = compiler::compile(o);
    EXPECT_TRUE(s.ok()) << s.message();
    return stats.str();
  }

  // The module after the -O2 pipeline with `tuner`.
  std::unique_ptr<ir::Module> optimize(passes::ScheduleTuner *tuner) {
    auto m = ir::parseModule(kModel, "tuned.nyx");
    EXPECT_TRUE(m.ok()) << m.status().message();
    auto pm = passes::PassManager::parse(compiler::standardPipeline(2));
    EXPECT_TRUE(pm.ok());
    passes::Options o;
    o.tuner = tuner;
    absl::Status s = pm->run(**m, o, {});
    EXPECT_TRUE(s.ok()) << s.message();
    return std::move(*m);
  }
};

// The value of counter `name` in --stats output, or -1 when absent.
int64_t counter(const std::string &stats, const std::string &name) {
  std::istringstream in(stats);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    int64_t value;
    std::string key;
    if (words >> value >> key && key == name)
      return value;
  }
  return -1;
}

std::string readFile(const std::string &path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every GEMM-shaped op of every function, with its schedule.
std::vector<ir::Op *> scheduledOps(const ir::Module &m) {
  std::vector<ir::Op *> ops;
  for (const auto &fn : m.functions)
    for (const auto &op : fn->ops)
      if (kernel::gemmFormOf(*op))
        ops.push_back(op.get());
  return ops;
}

// Compiles `m` and compares its outputs with the interpreter's on the
// original module.
void expectMatchesInterpreter(const ir::Module &m, const std::string &what) {
  SCOPED_TRACE(what);
  auto original = ir::parseModule(kModel, "tuned.nyx");
  ASSERT_TRUE(original.ok());
  const ir::Function &fn = **(*original)->entry();
  std::mt19937_64 rng(7);
  e2e::HarnessOptions opts;
  std::vector<ir::Tensor> inputs;
  for (const ir::Value *p : fn.params)
    inputs.push_back(e2e::randomTensor(p->type, rng, opts));
  ir::Interpreter interpreter(**original, nullptr);
  auto expected = interpreter.run(fn, inputs);
  ASSERT_TRUE(expected.ok()) << expected.status().message();

  codegen::Options copts;
  copts.modelName = "tuned";
  auto model = e2e::LoadedModel::build(m, **m.entry(), {}, copts);
  ASSERT_TRUE(model);
  std::vector<ir::Tensor> outputs;
  for (const ir::TensorType &t : fn.resultTypes)
    outputs.emplace_back(t);
  ASSERT_EQ(model->run(inputs, outputs), 0);
  for (size_t i = 0; i < outputs.size(); ++i)
    EXPECT_TRUE(e2e::tensorsMatch(outputs[i], (*expected)[i], 1e-5, 1e-5))
        << "output " << i << "\n"
        << model->compiled().kernels();
}

TEST_F(Autotune, WritesTheDatabaseAndReusesItWithoutMeasuring) {
  std::string first = compile(/*measure=*/true);
  EXPECT_EQ(counter(first, "autotune.measured"), 2) << first;
  EXPECT_EQ(counter(first, "autotune.db-hits"), -1) << first;
  EXPECT_NE(first.find("autotune: 2 ops (2 measured"), std::string::npos)
      << first;
  auto entries = tuning::readTuningFile(path("db.json"));
  ASSERT_TRUE(entries.ok()) << entries.status().message();
  ASSERT_EQ(entries->size(), 2u);
  for (const tuning::TuningEntry &e : *entries) {
    EXPECT_GE(e.measured, 1);
    EXPECT_LE(e.measured, e.candidates);
    EXPECT_GT(e.seconds, 0);
    EXPECT_LE(e.seconds, e.defaultSeconds);
    EXPECT_EQ(e.key.threads, nyx_get_num_threads());
  }
  const std::string db = readFile(path("db.json"));

  // Measuring on or off, the second compile takes both from the database.
  for (bool measure : {true, false}) {
    std::string again = compile(measure);
    EXPECT_EQ(counter(again, "autotune.db-hits"), 2) << again;
    EXPECT_EQ(counter(again, "autotune.measured"), -1) << again;
    EXPECT_EQ(readFile(path("db.json")), db);
  }
}

TEST_F(Autotune, ABudgetOfZeroMeasuresNothing) {
  compiler::CompileOptions o;
  o.input = path("tuned.nyx");
  o.output = path("tuned.o");
  o.autotune = true;
  o.autotuneBudget = 0;
  o.tuningDb = path("db.json");
  o.printStats = true;
  std::ostringstream stats;
  o.instrumentation.out = &stats;
  ASSERT_TRUE(compiler::compile(o).ok());
  EXPECT_EQ(counter(stats.str(), "autotune.defaults"), 2) << stats.str();
  EXPECT_FALSE(std::filesystem::exists(path("db.json")));
}

TEST_F(Autotune, TunedAndDefaultSchedulesMatchTheInterpreter) {
  tuning::TunerSettings settings;
  settings.measure = true;
  settings.budgetSeconds = kBudgetSeconds;
  std::ostringstream log;
  auto tuner = tuning::Autotuner::create(settings, log);
  ASSERT_TRUE(tuner.ok()) << tuner.status().message();
  std::unique_ptr<ir::Module> tuned = optimize(tuner->get());
  EXPECT_EQ((*tuner)->summary().measured, 2);
  EXPECT_EQ((*tuner)->summary().wrong, 0) << log.str();
  ASSERT_EQ(scheduledOps(*tuned).size(), 2u);
  expectMatchesInterpreter(*tuned, "tuned schedules");

  settings.measure = false;
  auto defaults = tuning::Autotuner::create(settings, log);
  ASSERT_TRUE(defaults.ok());
  std::unique_ptr<ir::Module> plain = optimize(defaults->get());
  EXPECT_EQ((*defaults)->summary().defaults, 2);
  expectMatchesInterpreter(*plain, "default schedules");
}

TEST_F(Autotune, SchedulesAcrossTheSpaceMatchTheInterpreter) {
  tuning::TunerSettings settings;
  std::ostringstream log;
  auto tuner = tuning::Autotuner::create(settings, log);
  ASSERT_TRUE(tuner.ok());
  std::unique_ptr<ir::Module> m = optimize(tuner->get());
  std::vector<ir::Op *> ops = scheduledOps(*m);
  ASSERT_EQ(ops.size(), 2u);
  // Every op at the i-th schedule of its space, for spread-out i.
  std::vector<std::vector<kernel::GemmSchedule>> spaces;
  size_t longest = 0;
  for (ir::Op *op : ops) {
    spaces.push_back(kernel::scheduleSpace(kernel::gemmFormOf(*op)->shape,
                                           (*tuner)->lanes(),
                                           (*tuner)->threads()));
    longest = std::max(longest, spaces.back().size());
  }
  for (size_t i = 1; i < longest; i += 7) {
    std::string what;
    for (size_t k = 0; k < ops.size(); ++k) {
      const kernel::GemmSchedule &s = spaces[k][i % spaces[k].size()];
      ops[k]->attrs["schedule"] = s.str();
      what += strCat(ops[k]->name(), " ", s.str(), "; ");
    }
    expectMatchesInterpreter(*m, what);
  }
}

} // namespace
} // namespace nyx
