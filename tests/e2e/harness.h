// End-to-end test harness: compiles a `.nyx` module with the CPU code
// generator, links the object into a shared library with libnyxrt, runs it
// through the packed entry point (docs/abi.md) and compares every output with
// the interpreter's.
//
// Header-only because every tests/e2e/*_test.cc is its own executable.
//
//   TEST(Ops, Add) {
//     nyx::e2e::expectCompiledMatchesInterpreter(R"(
//       func @main(%a: f32[7,1], %b: f32[1,33]) -> f32[7,33] { ... })");
//   }
#pragma once

#include <dlfcn.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "codegen/codegen.h"
#include "ir/interpreter.h"
#include "ir/module.h"
#include "ir/op_registry.h"
#include "ir/parser.h"
#include "ir/strings.h"
#include "ir/tensor.h"
#include "nyx/cuda.h"
#include "passes/pass_manager.h"
#include "passes/quantize_int8.h"
#include "tests/support/tensor_match.h"
#include "gtest/gtest.h"

namespace nyx::e2e {

using test::defaultTolerance;
using test::tensorsMatch;
using test::Tolerance;

// NYX_E2E_TARGET, else "host": the op tests run again for the CUDA targets
// with NYX_E2E_TARGET=cuda-sm80 (or sm90). Without a GPU those runs check
// that every kernel compiles and its PTX assembles with ptxas.
inline std::string defaultTarget() {
  const char *env = std::getenv("NYX_E2E_TARGET");
  return env && *env ? env : "host";
}

struct HarnessOptions {
  std::string target = defaultTarget();
  // Kernels in their GPU form, run on the CPU (codegen::Options::emulateGpu);
  // NYX_E2E_EMULATE_GPU=1 turns it on for a whole test program.
  bool emulateGpu = std::getenv("NYX_E2E_EMULATE_GPU") != nullptr &&
                    std::string(std::getenv("NYX_E2E_EMULATE_GPU")) == "1";
  int optLevel = 2;
  // Tolerances for float outputs: |got - want| <= atol + rtol * |want|.
  // Unset means the default for the output's dtype (see defaultTolerance).
  std::optional<double> rtol, atol;
  uint64_t seed = 1;
  // Float inputs (and generated weights) are uniform in [minValue, maxValue];
  // with `positive`, in [positiveMin, maxValue] (for log, sqrt, pow).
  double minValue = -4, maxValue = 4;
  bool positive = false;
  double positiveMin = 0.05;
  // Integer inputs are uniform in [intMin, intMax] (clamped to the dtype).
  int64_t intMin = -20, intMax = 20;
  // Explicit inputs replace the random ones when non-empty (one per param).
  std::vector<ir::Tensor> inputs;
  // Weights for the module's params; params missing here get random values.
  ir::WeightMap weights;
  // Outputs must equal the interpreter's bit for bit (NaN payloads too).
  bool bitExact = false;
  // Passes run (verifying after each) on the module that is compiled, e.g.
  // "verify,shape-infer,inline,memory-plan"; the interpreter runs the module
  // as parsed. Empty: compile the module as parsed.
  std::string pipeline;
  // The activation ranges a quantize-int8 pass in `pipeline` reads.
  passes::Int8QuantizeSettings *quantize = nullptr;
};

// Parses `moduleText` and runs `pipeline` on it (nothing when empty), with
// the params' values known to the passes when `weights` is given (as when
// they are embedded in the object).
inline absl::StatusOr<std::unique_ptr<ir::Module>>
parseWithPipeline(const std::string &moduleText, const std::string &pipeline,
                  const ir::WeightMap *weights = nullptr,
                  passes::Int8QuantizeSettings *quantize = nullptr) {
  auto parsed = ir::parseModule(moduleText, "test.nyx");
  if (!parsed.ok() || pipeline.empty())
    return parsed;
  auto pm = passes::PassManager::parse(pipeline);
  if (!pm.ok())
    return pm.status();
  passes::Options options;
  options.weights = weights;
  options.quantize = quantize;
  if (absl::Status s = pm->run(**parsed, options, {}); !s.ok())
    return s;
  return parsed;
}

// A tensor of `type` filled from `rng` according to `opts`.
inline ir::Tensor randomTensor(const ir::TensorType &type, std::mt19937_64 &rng,
                               const HarnessOptions &opts) {
  ir::Tensor t(type);
  if (ir::isFloat(type.dtype)) {
    double lo = opts.positive ? opts.positiveMin : opts.minValue;
    std::uniform_real_distribution<double> dist(lo, opts.maxValue);
    for (int64_t i = 0; i < t.numElements(); ++i)
      t.setDouble(i, dist(rng));
  } else if (type.dtype == ir::DType::Bool) {
    std::bernoulli_distribution dist(0.5);
    for (int64_t i = 0; i < t.numElements(); ++i)
      t.setInt(i, dist(rng) ? 1 : 0);
  } else {
    int64_t lo = opts.intMin, hi = opts.intMax;
    if (type.dtype == ir::DType::I8) {
      lo = std::max<int64_t>(lo, -128);
      hi = std::min<int64_t>(hi, 127);
    }
    std::uniform_int_distribution<int64_t> dist(lo, hi);
    for (int64_t i = 0; i < t.numElements(); ++i)
      t.setInt(i, dist(rng));
  }
  return t;
}

// A compiled model loaded into this process. The shared library and its
// temporary directory live as long as this object.
class LoadedModel {
public:
  using RunPackedFn = int (*)(void **buffers, void *arena);

  ~LoadedModel() {
    if (handle_)
      dlclose(handle_);
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  // Compiles `entry` of `module`, links it with libnyxrt and loads it.
  // Failures are reported as gtest failures and yield null.
  static std::unique_ptr<LoadedModel> build(const ir::Module &module,
                                            const ir::Function &entry,
                                            const ir::WeightMap &weights,
                                            const codegen::Options &options) {
    auto compiled = codegen::compileModel(module, entry, weights, options);
    if (!compiled.ok()) {
      ADD_FAILURE() << "compileModel failed: " << compiled.status().message();
      return nullptr;
    }
    auto object = (*compiled)->object();
    if (!object.ok()) {
      ADD_FAILURE() << "object emission failed: " << object.status().message();
      return nullptr;
    }
    auto model = std::unique_ptr<LoadedModel>(new LoadedModel);
    model->name_ = options.modelName;
    model->compiled_ = std::move(*compiled);
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "nyx-e2e-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) {
      ADD_FAILURE() << "mkdtemp failed for " << tmpl;
      return nullptr;
    }
    model->dir_ = tmpl;
    std::string obj = model->dir_ + "/model.o", so = model->dir_ + "/model.so";
    std::ofstream(obj, std::ios::binary) << *object;
    std::string cmd = "cc -shared " NYX_TEST_CFLAGS " -o '" + so + "' '" + obj +
                      "' '" + NYX_RUNTIME_LIB + "' -lm -lpthread 2>&1";
    if (int rc = std::system(cmd.c_str()); rc != 0) {
      ADD_FAILURE() << "link failed (" << rc << "): " << cmd;
      return nullptr;
    }
    model->handle_ = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!model->handle_) {
      ADD_FAILURE() << "dlopen failed: " << dlerror();
      return nullptr;
    }
    model->runPacked_ = reinterpret_cast<RunPackedFn>(
        model->symbol(options.modelName + "_run_packed"));
    auto *arena = static_cast<const uint64_t *>(
        model->symbol(options.modelName + "_arena_bytes"));
    if (!model->runPacked_ || !arena)
      return nullptr;
    model->arenaBytes_ = *arena;
    return model;
  }

  void *symbol(const std::string &name) const {
    void *p = dlsym(handle_, name.c_str());
    if (!p)
      ADD_FAILURE() << "symbol " << name << " not found in the compiled model";
    return p;
  }

  const codegen::CompiledModel &compiled() const { return *compiled_; }
  uint64_t arenaBytes() const { return arenaBytes_; }

  // Runs the model on `inputs`, writing into `outputs` (already allocated
  // with the result types). Returns the model's status code.
  int run(const std::vector<ir::Tensor> &inputs,
          std::vector<ir::Tensor> &outputs) const {
    std::vector<void *> buffers;
    for (const ir::Tensor &t : inputs)
      buffers.push_back(const_cast<uint8_t *>(t.bytes()));
    for (ir::Tensor &t : outputs)
      buffers.push_back(t.bytes());
    // Empty tensors have no storage; give the model a valid pointer anyway.
    static uint64_t placeholder[8];
    for (void *&b : buffers)
      if (!b)
        b = placeholder;
    size_t bytes = (arenaBytes_ + 63) / 64 * 64;
    void *arena = bytes ? std::aligned_alloc(64, bytes) : nullptr;
    int status = runPacked_(buffers.data(), arena);
    std::free(arena);
    return status;
  }

private:
  LoadedModel() = default;
  std::string name_, dir_;
  std::unique_ptr<codegen::CompiledModel> compiled_;
  void *handle_ = nullptr;
  RunPackedFn runPacked_ = nullptr;
  uint64_t arenaBytes_ = 0;
};

// Parses `moduleText`, runs its entry function through the interpreter and
// through the compiled code on the same random inputs, and expects every
// output to match.
inline void expectCompiledMatchesInterpreter(const std::string &moduleText,
                                             const HarnessOptions &opts = {}) {
  auto parsed = ir::parseModule(moduleText, "test.nyx");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message() << "\n" << moduleText;
  const ir::Module &module = **parsed;
  auto entry = module.entry();
  ASSERT_TRUE(entry.ok()) << entry.status().message();
  const ir::Function &fn = **entry;

  std::mt19937_64 rng(opts.seed);
  ir::WeightMap weights = opts.weights;
  for (const ir::Param &p : module.params)
    if (!weights.count(p.name))
      weights.emplace(p.name, randomTensor(p.type, rng, opts));

  std::vector<ir::Tensor> inputs = opts.inputs;
  if (inputs.empty())
    for (const ir::Value *p : fn.params)
      inputs.push_back(randomTensor(p->type, rng, opts));
  ASSERT_EQ(inputs.size(), fn.params.size()) << "one input per parameter";

  ir::Interpreter interpreter(module, &weights);
  auto expected = interpreter.run(fn, inputs);
  ASSERT_TRUE(expected.ok()) << "interpreter: " << expected.status().message();

  std::unique_ptr<ir::Module> transformed;
  const ir::Module *compiledModule = &module;
  const ir::Function *compiledEntry = &fn;
  if (!opts.pipeline.empty()) {
    auto t =
        parseWithPipeline(moduleText, opts.pipeline, &weights, opts.quantize);
    ASSERT_TRUE(t.ok()) << t.status().message();
    transformed = std::move(*t);
    auto e = transformed->entry();
    ASSERT_TRUE(e.ok()) << e.status().message();
    compiledModule = transformed.get();
    compiledEntry = *e;
  }

  codegen::Options copts;
  copts.modelName = "nyx_test";
  copts.target = opts.target;
  copts.optLevel = opts.optLevel;
  copts.emulateGpu = opts.emulateGpu;
  auto model =
      LoadedModel::build(*compiledModule, *compiledEntry, weights, copts);
  ASSERT_TRUE(model) << moduleText;
  if (copts.target.rfind("cuda-", 0) == 0 && nyx_cuda_init() != NYX_OK)
    return; // compiled and assembled; nothing to run it on

  std::vector<ir::Tensor> outputs;
  for (const ir::TensorType &t : fn.resultTypes)
    outputs.emplace_back(t);
  ASSERT_EQ(model->run(inputs, outputs), 0);
  ASSERT_EQ(outputs.size(), expected->size());
  for (size_t i = 0; i < outputs.size(); ++i)
    EXPECT_TRUE(
        opts.bitExact
            ? ::testing::AssertionResult(outputs[i] == (*expected)[i])
            : tensorsMatch(outputs[i], (*expected)[i], opts.rtol, opts.atol))
        << "output " << i << " of\n"
        << moduleText << "\nkernels:\n"
        << model->compiled().kernels();
}

// `f32[2,3]`, for writing module texts.
inline std::string typeText(ir::DType t, const ir::Shape &shape) {
  return ir::TensorType{t, shape}.str();
}

// A module `func @main(params) -> (T) { %y = call; return %y }`; T is what
// the op's shape rule infers, found by parsing the op on its own first.
inline std::string singleOpModule(const std::string &params,
                                  const std::string &call) {
  std::string probe = strCat("func @main(", params, ") -> () {\n  %y = ", call,
                             "\n  return\n}\n");
  auto parsed = ir::parseModule(probe, "probe.nyx");
  EXPECT_TRUE(parsed.ok()) << parsed.status().message() << "\n" << probe;
  if (!parsed.ok())
    return probe;
  std::string type = (*parsed)->functions[0]->ops[0]->result(0)->type.str();
  return strCat("func @main(", params, ") -> (", type, ") {\n  %y = ", call,
                " : ", type, "\n  return %y\n}\n");
}

// One op (`call`, e.g. "softmax(%x) {axis = 0}") on `params`, compiled and
// compared with the interpreter.
inline void expectOpMatchesInterpreter(const std::string &params,
                                       const std::string &call,
                                       const HarnessOptions &opts = {}) {
  SCOPED_TRACE(call);
  expectCompiledMatchesInterpreter(singleOpModule(params, call), opts);
}

} // namespace nyx::e2e
