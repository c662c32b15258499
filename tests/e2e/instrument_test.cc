// A model compiled with instrumentation reports every value its kernels
// compute: to a hook, and as .npy files under NYX_DUMP_DIR or the directory
// given to nyx_instrument_dump_to. Each reported value must equal the
// interpreter's value of the same IR value.
#include <algorithm>
#include <map>

#include "compiler/compilation.h"
#include "nyx/instrument.h"
#include "nyx/npy.h"
#include "passes/pass_manager.h"
#include "tests/e2e/harness.h"
#include "tests/support/temp_dir.h"

namespace nyx::e2e {
namespace {

namespace fs = std::filesystem;

// Matmul with a bias, an activation under a name that is no file name, a
// reduction, and values of every kind of dtype the dump handles (bf16 is
// widened to f32 in the file).
constexpr const char *kModel = R"(
module @watch

param @w : f32[3,5]

func @main(%x: f32[4,3], %b: f32[5], %k: i32[4,5]) -> (f32[4], f32[4,5], f16[4,5], bf16[4,5], bool[4,5]) {
  %w = param() {name = @w} : f32[3,5]
  %xw = matmul(%x, %w) : f32[4,5]
  %y = add(%xw, %b) : f32[4,5]
  %"act/relu" = relu(%y) : f32[4,5]
  %s = reduce_sum(%"act/relu") {axes = [1]} : f32[4]
  %h = cast(%"act/relu") {to = f16} : f16[4,5]
  %bf = cast(%y) {to = bf16} : bf16[4,5]
  %kf = cast(%k) {to = f32} : f32[4,5]
  %above = gt(%kf, %y) : bool[4,5]
  return %s, %"act/relu", %h, %bf, %above
}
)";

// One call of the hook: a copy of the value it was shown.
struct Report {
  std::string kernel, value;
  ir::Tensor tensor;
};

int recordReport(void *user, const char *kernel, const char *value,
                 const void *data, nyx_dtype dtype, int rank,
                 const int64_t *shape) {
  ir::Tensor t(ir::TensorType{static_cast<ir::DType>(dtype),
                              ir::Shape(shape, shape + rank)});
  if (t.byteSize())
    std::memcpy(t.bytes(), data, t.byteSize());
  static_cast<std::vector<Report> *>(user)->push_back({kernel, value, t});
  return NYX_OK;
}

// Stops the run at the second report.
int failSecond(void *user, const char *, const char *, const void *, nyx_dtype,
               int, const int64_t *) {
  return ++*static_cast<int *>(user) == 2 ? NYX_ERR_IO : NYX_OK;
}

// What a file name keeps of an IR name (runtime/src/instrument.c).
std::string fileNamePiece(const std::string &name) {
  std::string out = name;
  for (char &c : out)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' &&
        c != '-')
      c = '_';
  return out;
}

std::string dumpFileName(size_t seq, const Report &r) {
  std::string number = std::to_string(seq);
  number.insert(0, 6 - number.size(), '0');
  return strCat(number, "-", fileNamePiece(r.kernel), "-",
                fileNamePiece(r.value), ".npy");
}

std::vector<std::string> listDir(const fs::path &dir) {
  std::vector<std::string> names;
  for (const auto &entry : fs::directory_iterator(dir))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// bf16 bits widened to f32, as the dump writes them.
ir::Tensor widenBf16(const ir::Tensor &t) {
  ir::Tensor wide(ir::TensorType{ir::DType::F32, t.type().shape});
  for (int64_t i = 0; i < t.numElements(); ++i) {
    uint32_t bits = uint32_t(t.data<uint16_t>()[i]) << 16;
    std::memcpy(wide.data<float>() + i, &bits, 4);
  }
  return wide;
}

class InstrumentTest : public test::TempDirTest {
protected:
  using SetHookFn = void (*)(nyx_instrument_hook, void *);
  using DumpToFn = int (*)(const char *);
  using LastErrorFn = const char *(*)();

  void SetUp() override {
    TempDirTest::SetUp();
    auto parsed = ir::parseModule(kModel, "watch.nyx");
    ASSERT_TRUE(parsed.ok()) << parsed.status().message();
    module_ = std::move(*parsed);

    std::mt19937_64 rng(7);
    HarnessOptions random;
    for (const ir::Param &p : module_->params)
      weights_.emplace(p.name, randomTensor(p.type, rng, random));
    // The standard pipeline first: the kernels are the ones nyxc makes.
    auto pipeline = passes::PassManager::parse(compiler::standardPipeline(2));
    ASSERT_TRUE(pipeline.ok()) << pipeline.status().message();
    passes::Options options;
    options.weights = &weights_;
    ASSERT_TRUE(pipeline->run(*module_, options, {}).ok());
    auto entry = module_->entry();
    ASSERT_TRUE(entry.ok());
    entry_ = *entry;

    for (const ir::Value *p : entry_->params)
      inputs_.push_back(randomTensor(p->type, rng, random));
    ir::Interpreter interpreter(*module_, &weights_);
    interpreter.setObserver(
        [&](const ir::Op &op, std::span<const ir::Tensor> results, int depth) {
          if (depth != 0)
            return;
          for (size_t i = 0; i < results.size(); ++i)
            reference_[op.results[i]->name] = results[i];
          // Ops that run code; params and constants are data.
          if (op.def->fusion != ir::FusionKind::Opaque || op.name() == "fusion")
            for (const ir::Value *r : op.results)
              computed_.push_back(r->name);
        });
    ASSERT_TRUE(interpreter.run(*entry_, inputs_).ok());
    ASSERT_FALSE(computed_.empty());

    codegen::Options copts;
    copts.modelName = "watch";
    copts.instrument = true;
    model_ = LoadedModel::build(*module_, *entry_, weights_, copts);
    ASSERT_TRUE(model_);
    // The model's shared object carries its own copy of libnyxrt, so the
    // hook is set through its symbols, not this program's.
    setHook_ =
        reinterpret_cast<SetHookFn>(model_->symbol("nyx_set_instrument_hook"));
    dumpTo_ =
        reinterpret_cast<DumpToFn>(model_->symbol("nyx_instrument_dump_to"));
    lastError_ =
        reinterpret_cast<LastErrorFn>(model_->symbol("nyx_last_error"));
    ASSERT_TRUE(setHook_ && dumpTo_ && lastError_);
  }

  void TearDown() override {
    if (setHook_)
      setHook_(nullptr, nullptr);
    if (dumpTo_)
      dumpTo_(nullptr);
    unsetenv("NYX_DUMP_DIR");
    TempDirTest::TearDown();
  }

  int run() {
    std::vector<ir::Tensor> outputs;
    for (const ir::TensorType &t : entry_->resultTypes)
      outputs.emplace_back(t);
    return model_->run(inputs_, outputs);
  }

  std::vector<Report> runWithHook() {
    std::vector<Report> reports;
    setHook_(recordReport, &reports);
    EXPECT_EQ(run(), NYX_OK);
    setHook_(nullptr, nullptr);
    return reports;
  }

  // Every file of `dir` is the next report's value, numbered from 0.
  void expectDumpsMatch(const fs::path &dir) {
    std::vector<Report> reports = runWithHook();
    std::vector<std::string> expected;
    for (size_t i = 0; i < reports.size(); ++i)
      expected.push_back(dumpFileName(i, reports[i]));
    ASSERT_EQ(listDir(dir), expected);
    for (size_t i = 0; i < reports.size(); ++i) {
      SCOPED_TRACE(expected[i]);
      nyx_dtype dtype;
      int rank = 0;
      int64_t shape[NYX_NPY_MAX_RANK];
      void *data = nullptr;
      size_t bytes = 0;
      ASSERT_EQ(nyx_npy_read((dir / expected[i]).c_str(), &dtype, &rank, shape,
                             &data, &bytes),
                NYX_OK)
          << nyx_last_error();
      ir::Tensor got(ir::TensorType{static_cast<ir::DType>(dtype),
                                    ir::Shape(shape, shape + rank)});
      ASSERT_EQ(bytes, got.byteSize());
      std::memcpy(got.bytes(), data, bytes);
      nyx_free(data);
      const ir::Tensor &want = reference_.at(reports[i].value);
      if (want.dtype() == ir::DType::BF16)
        EXPECT_TRUE(tensorsMatch(got, widenBf16(want), 1.6e-2, 1e-2));
      else
        EXPECT_TRUE(tensorsMatch(got, want));
    }
  }

  std::unique_ptr<ir::Module> module_;
  const ir::Function *entry_ = nullptr;
  ir::WeightMap weights_;
  std::vector<ir::Tensor> inputs_;
  std::map<std::string, ir::Tensor> reference_; // interpreter, by value name
  std::vector<std::string> computed_;           // values kernels compute
  std::unique_ptr<LoadedModel> model_;
  SetHookFn setHook_ = nullptr;
  DumpToFn dumpTo_ = nullptr;
  LastErrorFn lastError_ = nullptr;
};

TEST_F(InstrumentTest, HookSeesEveryComputedValueInOrder) {
  std::vector<Report> reports = runWithHook();
  std::vector<std::string> values;
  for (const Report &r : reports)
    values.push_back(r.value);
  EXPECT_EQ(values, computed_);
  for (const Report &r : reports) {
    SCOPED_TRACE(r.kernel + " " + r.value);
    EXPECT_FALSE(r.kernel.empty());
    ASSERT_TRUE(reference_.count(r.value));
    EXPECT_TRUE(tensorsMatch(r.tensor, reference_.at(r.value)));
  }
  // Without a hook or a dump directory a run reports nothing and succeeds.
  EXPECT_EQ(run(), NYX_OK);
}

TEST_F(InstrumentTest, HookStatusStopsTheRun) {
  int calls = 0;
  setHook_(failSecond, &calls);
  EXPECT_EQ(run(), NYX_ERR_IO);
  EXPECT_EQ(calls, 2);
}

TEST_F(InstrumentTest, DumpDirFromTheEnvironment) {
  fs::path dir = fs::path(dir_) / "env" / "nested";
  setenv("NYX_DUMP_DIR", dir.c_str(), 1);
  ASSERT_EQ(run(), NYX_OK);
  unsetenv("NYX_DUMP_DIR");
  expectDumpsMatch(dir);
}

TEST_F(InstrumentTest, DumpToOverridesTheEnvironmentAndRestartsNumbering) {
  fs::path env = fs::path(dir_) / "env", chosen = fs::path(dir_) / "chosen";
  setenv("NYX_DUMP_DIR", env.c_str(), 1);
  ASSERT_EQ(dumpTo_(chosen.c_str()), NYX_OK);
  EXPECT_TRUE(fs::is_directory(chosen)); // created at once
  ASSERT_EQ(run(), NYX_OK);
  EXPECT_FALSE(fs::exists(env));
  // A second run numbers on; choosing the directory again starts at 0.
  ASSERT_EQ(run(), NYX_OK);
  EXPECT_EQ(listDir(chosen).size(), 2 * computed_.size());
  fs::remove_all(chosen);
  ASSERT_EQ(dumpTo_(chosen.c_str()), NYX_OK);
  ASSERT_EQ(run(), NYX_OK);
  expectDumpsMatch(chosen);
  // NULL goes back to the environment.
  ASSERT_EQ(dumpTo_(nullptr), NYX_OK);
  ASSERT_EQ(run(), NYX_OK);
  EXPECT_EQ(listDir(env).size(), computed_.size());
}

TEST_F(InstrumentTest, UnwritableDumpDirFailsTheRun) {
  std::ofstream(path("file")) << "x";
  setenv("NYX_DUMP_DIR", path("file/dumps").c_str(), 1);
  EXPECT_EQ(run(), NYX_ERR_IO);
  EXPECT_NE(std::string(lastError_()).find("file/dumps"), std::string::npos)
      << lastError_();
  EXPECT_EQ(dumpTo_(path("file/dumps").c_str()), NYX_ERR_IO);
}

} // namespace
} // namespace nyx::e2e
