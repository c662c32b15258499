#include "tests/conformance/run_case.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "codegen/codegen.h"
#include "compiler/compilation.h"
#include "ir/interpreter.h"
#include "ir/strings.h"
#include "nyx/runtime.h"
#include "passes/pass_manager.h"
#include "tests/conformance/case_files.h"
#include "tests/conformance/compare.h"
#include "tuning/autotuner.h"
#include "tuning/object_jit.h"

namespace nyx::conformance {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using onnx_import::ImportOptions;

// Tells the parent a stage has started and, when it ends, how long it took.
class Stage {
public:
  Stage(RecordWriter &out, std::string name)
      : out_(out), name_(std::move(name)), start_(Clock::now()) {
    out_.stage(name_);
  }
  ~Stage() {
    out_.stageTime(
        name_, std::chrono::duration<double>(Clock::now() - start_).count());
  }

private:
  RecordWriter &out_;
  std::string name_;
  Clock::time_point start_;
};

// A status and its message, for the compiled model or the interpreter.
template <class S> struct Outcome {
  S status;
  std::string message;
};

// For each parameter of `fn`, the index of the test input it takes: by name
// among the graph inputs, else by position.
absl::StatusOr<std::vector<size_t>>
bindInputs(const ir::Function &fn, const std::vector<std::string> &names,
           size_t numInputs) {
  std::vector<size_t> binding;
  for (const ir::Value *p : fn.params) {
    auto pos = std::find(names.begin(), names.end(), p->name);
    if (pos == names.end() || size_t(pos - names.begin()) >= numInputs)
      break;
    binding.push_back(pos - names.begin());
  }
  if (binding.size() == fn.params.size())
    return binding;
  if (fn.params.size() != numInputs)
    return absl::InvalidArgumentError(
        strCat("the imported function has ", fn.params.size(),
               " parameters; the test data has ", numInputs, " inputs"));
  binding.clear();
  for (size_t i = 0; i < numInputs; ++i)
    binding.push_back(i);
  return binding;
}

// The inputs of `data` in the order of `fn`'s parameters, checked against
// their types (a buffer of another size must never reach compiled code).
absl::StatusOr<std::vector<ir::Tensor>>
argumentsFor(const ir::Function &fn, const std::vector<size_t> &binding,
             const DataValues &data, const CaseFiles &files, size_t setIndex) {
  std::vector<ir::Tensor> args;
  for (size_t i = 0; i < binding.size(); ++i) {
    size_t k = binding[i];
    const ir::Tensor &t = data.inputs[k];
    const ir::TensorType &want = fn.params[i]->type;
    if (t.type() == want) {
      args.push_back(t);
      continue;
    }
    // A shape the model does not declare (a few backend tests feed such
    // data), or one other than the first data set's where the model leaves
    // it open: Nyx compiles a model for one static shape per input.
    const std::optional<ir::Shape> *declared =
        k < files.inputShapes.size() ? &files.inputShapes[k] : nullptr;
    bool open = !declared || !declared->has_value() ||
                std::count((*declared)->begin(), (*declared)->end(), -1) > 0;
    if (t.dtype() == want.dtype && (open || **declared != t.shape()))
      return absl::UnimplementedError(
          strCat("data set ", setIndex, " input ", k, " has shape [",
                 ir::shapeString(t.shape()), "]; the model declares ",
                 open ? "a dynamic shape, bound to the first data set's"
                      : strCat("[", ir::shapeString(**declared), "]"),
                 ", and Nyx compiles a model for one static shape per input"));
    return absl::InvalidArgumentError(
        strCat("data set ", setIndex, " input ", k, " has type ",
               t.type().str(), "; the imported function's parameter %",
               fn.params[i]->name, " is ", want.str()));
  }
  return args;
}

// "" when every output matches; else what differs in the first that does
// not, and how many do not.
std::string compareOutputs(const std::vector<ir::Tensor> &got,
                           const DataValues &data, const CaseFiles &files,
                           size_t setIndex) {
  if (got.size() != data.outputs.size())
    return strCat("data set ", setIndex, ": ", got.size(),
                  " outputs; expected ", data.outputs.size());
  std::string first;
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    Comparison c = compareTensors(got[i], data.outputs[i], files.tolerance);
    if (c.ok)
      continue;
    if (bad++ == 0) {
      std::string name = i < files.outputNames.size()
                             ? strCat(" '", files.outputNames[i], "'")
                             : "";
      first =
          strCat("data set ", setIndex, " output ", i, name, " ", c.message);
    }
  }
  if (bad > 1)
    first += strCat(" (", bad, " of ", got.size(), " outputs differ)");
  return first;
}

// Strips the "<model path>: error: " the importer puts in front of errors.
std::string importMessage(const absl::Status &s, const std::string &path) {
  std::string m(s.message());
  std::string prefix = path + ": error: ";
  if (m.compare(0, prefix.size(), prefix) == 0)
    m.erase(0, prefix.size());
  return m;
}

Outcome<Status> importFailure(const absl::Status &s, const std::string &path) {
  if (s.code() == absl::StatusCode::kUnimplemented)
    return {Status::Unsupported, importMessage(s, path)};
  return {Status::Error, strCat("import: ", importMessage(s, path))};
}

// The importer's answer when an input that fixes a shape (Reshape's shape,
// Slice's starts, ...) is a graph input.
bool needsBoundInputs(const absl::Status &s) {
  return s.code() == absl::StatusCode::kUnimplemented &&
         s.message().find("computed at run time") != std::string_view::npos;
}

// Shapes are static in Nyx, so a model whose shapes depend on a graph input
// (Reshape's shape, Resize's scales, a reduction's axes) is compiled for
// the value its test data gives that input, as a user binds such an input
// with ImportOptions::inputValues. Inputs are bound smallest first, one at
// a time, until the import succeeds; only inputs whose value is the same
// in every data set are candidates, and never the first (the data in every
// op that has such inputs), so that the compiled code, not the importer,
// computes the result.
absl::StatusOr<onnx_import::ImportedModel> importWithBoundInputs(
    const CaseFiles &files, const std::vector<DataValues> &data,
    ImportOptions &options, absl::Status failure, RecordWriter &out) {
  std::vector<size_t> candidates;
  for (size_t k = 1; k < files.inputNames.size() && !data.empty(); ++k) {
    if (k >= data[0].inputs.size())
      continue;
    bool same = std::all_of(data.begin(), data.end(), [&](const DataValues &d) {
      return k < d.inputs.size() && d.inputs[k] == data[0].inputs[k];
    });
    if (same)
      candidates.push_back(k);
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [&](size_t a, size_t b) {
                     return data[0].inputs[a].numElements() <
                            data[0].inputs[b].numElements();
                   });
  for (size_t k : candidates) {
    const std::string &name = files.inputNames[k];
    options.inputShapes.erase(name);
    options.inputValues[name] = data[0].inputs[k];
    out.boundInput(name);
    auto result =
        onnx_import::importModel(files.model, files.modelPath, options);
    if (result.ok() || !needsBoundInputs(result.status()))
      return result;
  }
  return failure;
}

// Compiles the imported model and runs it on every data set.
Outcome<Status> runCompiled(onnx_import::ImportedModel &imported,
                            const CaseFiles &files,
                            const std::vector<DataValues> &data,
                            const RunSettings &settings, RecordWriter &out) {
  ir::Module &module = *imported.module;
  std::unique_ptr<codegen::CompiledModel> compiled;
  {
    Stage stage(out, "passes");
    tuning::TunerSettings tunerSettings;
    tunerSettings.optLevel = settings.codegenOptLevel;
    std::ostringstream tunerLog;
    auto tuner = tuning::Autotuner::create(tunerSettings, tunerLog);
    if (!tuner.ok())
      return {Status::Error, strCat("autotuner: ", tuner.status().message())};
    auto pipeline = passes::PassManager::parse(
        compiler::standardPipeline(settings.passOptLevel));
    if (!pipeline.ok())
      return {Status::Error, strCat("pipeline: ", pipeline.status().message())};
    passes::Options options;
    options.weights = &imported.weights;
    options.tuner = tuner->get();
    if (absl::Status s = pipeline->run(module, options, {}); !s.ok())
      return {Status::Error, strCat("passes: ", s.message())};
  }
  auto entry = module.entry();
  if (!entry.ok())
    return {Status::Error, strCat("passes: ", entry.status().message())};
  std::string object;
  {
    Stage stage(out, "codegen");
    codegen::Options cg;
    cg.modelName = "conformance";
    cg.optLevel = settings.codegenOptLevel;
    auto model = codegen::compileModel(module, **entry, imported.weights, cg);
    if (!model.ok())
      return {Status::Error, strCat("codegen: ", model.status().message())};
    auto bytes = (*model)->object();
    if (!bytes.ok())
      return {Status::Error, strCat("codegen: ", bytes.status().message())};
    object = std::move(*bytes);
  }
  std::unique_ptr<tuning::ObjectJit> jit;
  std::unique_ptr<tuning::JitModel> model;
  {
    Stage stage(out, "jit");
    auto created = tuning::ObjectJit::create();
    if (!created.ok())
      return {Status::Error, strCat("jit: ", created.status().message())};
    jit = std::move(*created);
    auto loaded = jit->load(object, "conformance");
    if (!loaded.ok())
      return {Status::Error, strCat("jit: ", loaded.status().message())};
    model = std::move(*loaded);
  }
  Stage stage(out, "run");
  const ir::Function &fn = **entry;
  auto binding = bindInputs(fn, files.inputNames,
                            data.empty() ? 0 : data[0].inputs.size());
  if (!binding.ok())
    return {Status::Error, std::string(binding.status().message())};
  size_t arenaBytes = (model->arenaBytes() + 63) / 64 * 64;
  for (size_t set = 0; set < data.size(); ++set) {
    auto args = argumentsFor(fn, *binding, data[set], files, set);
    if (!args.ok())
      return {args.status().code() == absl::StatusCode::kUnimplemented
                  ? Status::Unsupported
                  : Status::Error,
              std::string(args.status().message())};
    std::vector<ir::Tensor> results;
    for (const ir::TensorType &t : fn.resultTypes)
      results.emplace_back(t);
    std::vector<void *> buffers;
    for (ir::Tensor &t : *args)
      buffers.push_back(t.bytes());
    for (ir::Tensor &t : results)
      buffers.push_back(t.bytes());
    // An empty tensor has no storage; the model still wants a pointer.
    static uint64_t placeholder[8];
    for (void *&b : buffers)
      if (!b)
        b = placeholder;
    void *arena = arenaBytes ? std::aligned_alloc(64, arenaBytes) : nullptr;
    int status = model->runPacked()(buffers.data(), arena);
    std::free(arena);
    if (status != NYX_OK)
      return {Status::Fail, strCat("data set ", set, ": the model returned ",
                                   nyx_status_string(status))};
    std::string mismatch = compareOutputs(results, data[set], files, set);
    if (!mismatch.empty())
      return {Status::Fail, mismatch};
  }
  return {Status::Pass, ""};
}

// Runs the interpreter on a fresh import of the model (the compiled path
// has transformed the first one).
Outcome<InterpreterStatus> runInterpreter(const CaseFiles &files,
                                          const ImportOptions &options,
                                          const std::vector<DataValues> &data,
                                          RecordWriter &out) {
  std::optional<onnx_import::ImportedModel> imported;
  {
    Stage stage(out, "import");
    auto again =
        onnx_import::importModel(files.model, files.modelPath, options);
    if (!again.ok())
      return {
          InterpreterStatus::Error,
          strCat("import: ", importMessage(again.status(), files.modelPath))};
    imported = std::move(*again);
  }
  Stage stage(out, "interpreter");
  auto entry = imported->module->entry();
  if (!entry.ok())
    return {InterpreterStatus::Error, std::string(entry.status().message())};
  const ir::Function &fn = **entry;
  auto binding = bindInputs(fn, files.inputNames,
                            data.empty() ? 0 : data[0].inputs.size());
  if (!binding.ok())
    return {InterpreterStatus::Error, std::string(binding.status().message())};
  ir::Interpreter interpreter(*imported->module, &imported->weights);
  for (size_t set = 0; set < data.size(); ++set) {
    auto args = argumentsFor(fn, *binding, data[set], files, set);
    if (!args.ok())
      return {args.status().code() == absl::StatusCode::kUnimplemented
                  ? InterpreterStatus::NotRun
                  : InterpreterStatus::Error,
              std::string(args.status().message())};
    auto results = interpreter.run(fn, std::move(*args));
    if (!results.ok())
      return {InterpreterStatus::Error,
              strCat("data set ", set, ": ", results.status().message())};
    std::string mismatch = compareOutputs(*results, data[set], files, set);
    if (!mismatch.empty())
      return {InterpreterStatus::Fail, mismatch};
  }
  return {InterpreterStatus::Pass, ""};
}

} // namespace

void runCase(const TestCase &testCase, const RunSettings &settings,
             RecordWriter &out) {
  CaseFiles files;
  files.modelPath = modelPathOf(testCase);
  {
    Stage stage(out, "read model");
    std::error_code ec;
    if (!fs::exists(files.modelPath, ec)) {
      out.result(Status::NoModel, "no model file");
      out.done();
      return;
    }
    if (absl::Status s = readCaseFiles(testCase, files); !s.ok()) {
      out.result(Status::Error, std::string(s.message()));
      out.done();
      return;
    }
  }
  for (const std::string &op : opTypesOf(files.model.graph()))
    out.opType(op);

  // The data is read first only when the import needs a value from it.
  std::vector<DataValues> data;
  auto readAll = [&]() -> bool {
    Stage stage(out, "read data");
    auto read = readData(files);
    if (!read.ok()) {
      out.result(Status::Error, strCat("test data: ", read.status().message()));
      out.done();
      return false;
    }
    data = std::move(*read);
    return true;
  };
  ImportOptions options = importOptionsFor(files);
  std::optional<onnx_import::ImportedModel> imported;
  {
    Stage stage(out, "import");
    auto result =
        onnx_import::importModel(files.model, files.modelPath, options);
    if (!result.ok() && needsBoundInputs(result.status())) {
      if (!readAll())
        return;
      result =
          importWithBoundInputs(files, data, options, result.status(), out);
    }
    if (!result.ok()) {
      Outcome<Status> failure = importFailure(result.status(), files.modelPath);
      out.result(failure.status, failure.message);
      out.done();
      return;
    }
    imported = std::move(*result);
  }
  if (data.empty() && !readAll())
    return;
  if (data.empty()) {
    out.result(Status::Error, "the case has no test_data_set_N directory");
    out.done();
    return;
  }
  Outcome<Status> compiled = runCompiled(*imported, files, data, settings, out);
  out.result(compiled.status, compiled.message);
  if (settings.interpreter) {
    Outcome<InterpreterStatus> reference =
        runInterpreter(files, options, data, out);
    out.interpreterResult(reference.status, reference.message);
  }
  out.done();
}

} // namespace nyx::conformance
