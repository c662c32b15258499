#include "compiler/compilation.h"

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "codegen/codegen.h"
#include "codegen/cpu/target.h"
#include "codegen/cuda/target.h"
#include "compiler/calibration_data.h"
#include "compiler/derivative.h"
#include "compiler/dot.h"
#include "compiler/gradcheck.h"
#include "compiler/output_files.h"
#include "compiler/training.h"
#include "compiler/weights.h"
#include "frontends/onnx/importer.h"
#include "ir/json.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/strings.h"
#include "passes/quantize_int8.h"
#include "tuning/autotuner.h"

namespace nyx::compiler {

namespace fs = std::filesystem;

std::string standardPipeline(int optLevel, std::string_view target) {
  // -O0 keeps the graph as written apart from what code generation needs
  // (every intermediate keeps its own buffer, which helps debugging). -O1
  // simplifies; -O2 and up also fuse. fold-batchnorm emits the folded
  // weights as ops that the const-fold after it evaluates when the weights
  // are known; fuse copies splat constants into kernels, so a dce follows
  // (which also drops the filters winograd and filter-layout replaced).
  // autotune picks the GEMM schedules of the kernels fuse made.
  if (optLevel <= 0)
    return "verify,shape-infer,inline";
  std::string simplify = "verify,shape-infer,inline,canonicalize,"
                         "fold-batchnorm,const-fold,canonicalize,cse,dce";
  if (optLevel == 1)
    return simplify + ",memory-plan";
  if (codegen::cuda::isCudaTarget(target))
    return simplify + ",fuse,dce,memory-plan";
  // Filters in blocks of the target's vectors (an unknown target is
  // reported when code generation resolves it).
  auto spec = codegen::cpu::resolveTarget(target);
  const int block = spec.ok() ? spec->vectorLanes() : 0;
  return strCat(simplify, ",winograd,filter-layout{block=", block, "}",
                ",fuse,dce,autotune,memory-plan");
}

std::string trainingPipeline(int optLevel, std::string_view remat) {
  std::string pipeline = standardPipeline(optLevel);
  if (remat == "none" || optLevel <= 0)
    return pipeline;
  std::string pass = remat == "all" ? "remat-all" : "remat";
  // After the last cse (which would merge the copies back), before fusion
  // and memory planning.
  std::string anchor = "cse,dce";
  size_t at = pipeline.rfind(anchor);
  return pipeline.insert(at + anchor.size(), "," + pass);
}

std::string quantizedPipeline(std::string pipeline,
                              std::string_view quantizePass) {
  const std::string passes = strCat(quantizePass, ",const-fold");
  size_t at = pipeline.rfind("cse,dce");
  if (at == std::string::npos)
    return pipeline + "," + passes + ",dce";
  return pipeline.insert(at, passes + ",");
}

void printStatistics(const passes::Statistics &stats, std::ostream &out) {
  out << "===" << std::string(60, '-') << "===\n"
      << "  Statistics collected\n"
      << "===" << std::string(60, '-') << "===\n";
  for (const auto &[name, value] : stats.values())
    out << std::setw(14) << value << "  " << name << "\n";
}

// The JSON in the file at `path`. The parser keeps its own stack, but
// printing a value (which diagnostics do) recurses, so deep nesting is
// refused; modules and profiles need a few levels.
static absl::StatusOr<nlohmann::json> readJsonFile(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    return absl::NotFoundError(strCat(path, ": error: cannot read the file"));
  constexpr int kMaxJsonDepth = 64;
  bool tooDeep = false;
  auto limitDepth = [&](int depth, nlohmann::json::parse_event_t,
                        nlohmann::json &) {
    tooDeep |= depth > kMaxJsonDepth;
    return !tooDeep;
  };
  nlohmann::json j = nlohmann::json::parse(in, limitDepth, false);
  if (tooDeep)
    return absl::InvalidArgumentError(
        strCat(path, ": error: JSON is nested more than ", kMaxJsonDepth,
               " levels deep; expected at most ", kMaxJsonDepth));
  if (j.is_discarded())
    return absl::InvalidArgumentError(strCat(path, ": error: not valid JSON"));
  return j;
}

absl::StatusOr<std::unique_ptr<ir::Module>>
loadModule(const std::string &path) {
  if (fs::path(path).extension() != ".json")
    return ir::parseModuleFile(path);
  auto j = readJsonFile(path);
  if (!j.ok())
    return j.status();
  return ir::moduleFromJson(*j, path);
}

// A C identifier from a module or file name: "my-model.v2" -> "my_model_v2".
static std::string cIdentifier(std::string_view name) {
  std::string id;
  for (char c : name)
    id += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (id.empty() || std::isdigit(static_cast<unsigned char>(id[0])))
    id = "m_" + id;
  return id;
}

static std::string defaultOutput(const CompileOptions &o) {
  if (o.emit != Emit::Obj)
    return "-";
  return fs::path(o.input).filename().replace_extension(".o").string();
}

// The function compiled as the model: --entry, else @main or the only func.
absl::StatusOr<ir::Function *> resolveEntry(const ir::Module &m,
                                            const CompileOptions &o) {
  if (o.entry.empty())
    return m.entry();
  ir::Function *f = m.lookupFunction(o.entry);
  if (!f)
    return absl::InvalidArgumentError(
        strCat("no function @", o.entry, " in ", o.input));
  if (f->isKernel)
    return absl::InvalidArgumentError(
        strCat("@", o.entry, " in ", o.input,
               " is a kernel function; expected a func as the entry"));
  return f;
}

static bool isOnnx(const std::string &path) {
  return fs::path(path).extension() == ".onnx";
}

// The module and its weights: an ONNX model carries its weights (its
// initializers); a .nyx or .json module takes them from --weights. Weights
// are read first so passes can fold them when they are embedded, and so a
// bad weights file fails before any work.
static absl::StatusOr<onnx_import::ImportedModel>
loadModuleAndWeights(const CompileOptions &o) {
  if (isOnnx(o.input)) {
    if (!o.weightsPath.empty())
      return absl::InvalidArgumentError(
          strCat("--weights ", o.weightsPath, " is given with ", o.input,
                 "; an ONNX model carries its own weights (its initializers)"));
    onnx_import::ImportOptions options;
    options.inputShapes = o.inputShapes;
    return onnx_import::importFile(o.input, options);
  }
  if (!o.inputShapes.empty())
    return absl::InvalidArgumentError(
        strCat("--input-shape applies to ONNX models; ", o.input,
               " declares its input types"));
  auto module = loadModule(o.input);
  if (!module.ok())
    return module.status();
  onnx_import::ImportedModel loaded{std::move(*module), {}};
  if (!o.weightsPath.empty()) {
    auto weights = loadWeights(*loaded.module, o.weightsPath);
    if (!weights.ok())
      return weights.status();
    loaded.weights = std::move(*weights);
  }
  return loaded;
}

codegen::Options codegenOptions(const CompileOptions &o, const ir::Module &m) {
  codegen::Options cg;
  cg.modelName = cIdentifier(o.modelName.empty() ? m.name : o.modelName);
  cg.target = o.target;
  cg.optLevel = o.optLevel;
  cg.externalWeights = o.externalWeights;
  cg.instrument = o.instrument;
  return cg;
}

std::string outputPath(const CompileOptions &o) {
  return o.output.empty() ? defaultOutput(o) : o.output;
}

absl::Status runPipeline(const CompileOptions &o, ir::Module &m,
                         const std::string &entry, const ir::WeightMap *weights,
                         const std::string &pipelineText,
                         passes::Int8QuantizeSettings *quantize) {
  const bool cuda = codegen::cuda::isCudaTarget(o.target);
  if (cuda && o.autotune)
    return absl::UnimplementedError(
        strCat("--autotune measures CPU kernels; target '", o.target,
               "' has no schedules to tune yet"));
  tuning::TunerSettings tunerSettings;
  // CUDA kernels have no schedules: the tuner is made for the host and the
  // pipeline has no autotune pass that would ask it.
  tunerSettings.target = cuda ? "host" : o.target;
  tunerSettings.optLevel = o.optLevel;
  tunerSettings.measure = o.autotune;
  tunerSettings.budgetSeconds = o.autotuneBudget;
  tunerSettings.databasePath = o.tuningDb;
  tunerSettings.progress = tuning::stderrIsTerminal();
  auto tuner = tuning::Autotuner::create(tunerSettings, std::cerr);
  if (!tuner.ok())
    return tuner.status();

  passes::Statistics stats;
  passes::Options passOptions;
  passOptions.entry = entry;
  passOptions.weights = weights;
  passOptions.stats = &stats;
  passOptions.tuner = tuner->get();
  passOptions.quantize = quantize;
  auto pipeline = passes::PassManager::parse(
      !o.pipeline.empty()    ? o.pipeline
      : pipelineText.empty() ? standardPipeline(o.optLevel, o.target)
                             : pipelineText);
  if (!pipeline.ok())
    return pipeline.status();
  if (absl::Status s = pipeline->run(m, passOptions, o.instrumentation);
      !s.ok())
    return s;
  // Losing the measurements costs only time: the compile goes on.
  if (absl::Status s = (*tuner)->saveDatabase(); !s.ok())
    std::cerr << "warning: " << s.message() << "\n";
  if (o.printStats) {
    std::ostream &out =
        o.instrumentation.out ? *o.instrumentation.out : std::cerr;
    printStatistics(stats, out);
    if ((*tuner)->summary().ops > 0)
      out << (*tuner)->summary().line() << "\n";
  }
  return absl::OkStatus();
}

absl::Status addCompiled(const CompileOptions &o,
                         const codegen::CompiledModel &model,
                         const std::string &output, OutputFiles &files) {
  switch (o.emit) {
  case Emit::Kernels:
    files.add(output, model.kernels());
    return absl::OkStatus();
  case Emit::LLVM:
    files.add(output, model.llvmIR());
    return absl::OkStatus();
  case Emit::Ptx:
  case Emit::CudaAsm: {
    auto text = o.emit == Emit::Ptx ? model.ptx() : model.cudaAssembly();
    if (!text.ok())
      return text.status();
    files.add(output, *text);
    return absl::OkStatus();
  }
  case Emit::Asm: {
    auto text = model.assembly();
    if (!text.ok())
      return text.status();
    files.add(output, *text);
    return absl::OkStatus();
  }
  default:
    break;
  }
  auto object = model.object();
  if (!object.ok())
    return object.status();
  files.add(output, *object);
  std::string header =
      !o.headerPath.empty()
          ? o.headerPath
          : (output == "-" ? ""
                           : fs::path(output).replace_extension(".h").string());
  if (!header.empty())
    files.add(header, model.header());
  return absl::OkStatus();
}

namespace {

// What quantize-int8 reads, and the data it points at.
struct Int8Inputs {
  passes::CalibrationSettings calibration;
  passes::QuantProfile profile;
  passes::Int8QuantizeSettings settings;
};

absl::StatusOr<std::unique_ptr<Int8Inputs>>
int8Settings(const CompileOptions &o, const ir::Module &m) {
  auto in = std::make_unique<Int8Inputs>();
  const QuantizeOptions &q = o.quantize;
  in->settings.exclude = q.exclude;
  if (!q.calibrationData.empty()) {
    auto entry = resolveEntry(m, o);
    if (!entry.ok())
      return entry.status();
    auto batches = loadCalibrationData(q.calibrationData, **entry);
    if (!batches.ok())
      return batches.status();
    auto observer =
        passes::parseRangeObserver(q.observer.empty() ? "minmax" : q.observer);
    if (!observer.ok())
      return observer.status();
    in->calibration.observer = *observer;
    in->calibration.percentile = q.percentile.value_or(99.99);
    in->calibration.batches = std::move(*batches);
    in->settings.calibration = &in->calibration;
    return in;
  }
  auto j = readJsonFile(q.profilePath);
  if (!j.ok())
    return j.status();
  auto profile = passes::profileFromJson(*j, q.profilePath);
  if (!profile.ok())
    return profile.status();
  in->profile = std::move(*profile);
  in->settings.profile = &in->profile;
  in->settings.profilePath = q.profilePath;
  return in;
}

absl::Status compileLoaded(const CompileOptions &o,
                           onnx_import::ImportedModel &loaded) {
  ir::Module &m = *loaded.module;
  ir::WeightMap &weights = loaded.weights;
  bool haveWeights = !o.weightsPath.empty() || isOnnx(o.input);

  // A missing entry is reported before any pass runs (the passes may delete
  // what the message would point at, such as unused kernel functions).
  if (o.emit != Emit::IR && o.emit != Emit::Json)
    if (auto entry = resolveEntry(m, o); !entry.ok())
      return entry.status();
  const ir::WeightMap *known = o.externalWeights ? nullptr : &weights;
  std::string output = outputPath(o);
  OutputFiles files;
  if (o.quantize.mode == "int8") {
    // The ranges come in before the pipeline so that bad calibration data
    // or a bad profile fails before any work.
    auto quantize = int8Settings(o, m);
    if (!quantize.ok())
      return quantize.status();
    passes::Int8QuantizeSettings &settings = (*quantize)->settings;
    if (absl::Status s = runPipeline(o, m, o.entry, known, "", &settings);
        !s.ok())
      return s;
    if (o.emit == Emit::QuantProfile) {
      files.add(output, passes::profileToJson(settings.used).dump(2) + "\n");
      return files.commit();
    }
  } else if (absl::Status s = runPipeline(o, m, o.entry, known); !s.ok()) {
    return s;
  }

  if (o.emit == Emit::IR) {
    files.add(output, ir::printModule(m));
    return files.commit();
  }
  if (o.emit == Emit::Json) {
    files.add(output, ir::moduleToJson(m).dump(2) + "\n");
    return files.commit();
  }

  auto entry = resolveEntry(m, o);
  if (!entry.ok())
    return entry.status();
  if (o.emit == Emit::Dot || o.emit == Emit::DotKernels) {
    files.add(output, o.emit == Emit::Dot ? printDot(m, **entry)
                                          : printKernelsDot(m, **entry));
    return files.commit();
  }

  if (!haveWeights && !m.params.empty() && !o.externalWeights) {
    return absl::InvalidArgumentError(strCat(
        o.input, ": error: the model declares ", m.params.size(),
        " parameters; pass their values with --weights FILE.safetensors, or "
        "load them at run time with --weights=external (or compile a "
        "training step with --train)"));
  }

  auto compiled =
      codegen::compileModel(m, **entry, weights, codegenOptions(o, m));
  if (!compiled.ok())
    return compiled.status();
  if (absl::Status s = addCompiled(o, **compiled, output, files); !s.ok())
    return s;
  if (o.emit == Emit::Obj && o.externalWeights && haveWeights) {
    auto blob = serializeWeights(m, weights);
    if (!blob.ok())
      return blob.status();
    std::string weightsOut =
        !o.weightsOut.empty()
            ? o.weightsOut
            : fs::path(output).replace_extension(".safetensors").string();
    files.add(weightsOut, *blob);
  }
  return files.commit();
}

// --gradcheck: prints the comparison; an error when it fails.
absl::Status checkGradients(const CompileOptions &o,
                            const onnx_import::ImportedModel &loaded) {
  auto entry = resolveEntry(*loaded.module, o);
  if (!entry.ok())
    return entry.status();
  GradCheckOptions options;
  options.maxElements = o.gradcheckElements;
  options.weights = &loaded.weights;
  auto result = gradCheck(*loaded.module, **entry, options);
  if (!result.ok())
    return result.status();
  std::ostream &out =
      o.instrumentation.out ? *o.instrumentation.out : std::cout;
  out << formatGradCheck(*result);
  if (!result->ok())
    return absl::InvalidArgumentError(
        strCat(o.input, ": error: the gradient of @", (*entry)->name,
               " differs from finite differences (see the rows marked "
               "FAILED)"));
  return absl::OkStatus();
}

} // namespace

absl::Status compile(const CompileOptions &o) {
  if (o.train.enabled && (!o.weightsPath.empty() || o.externalWeights))
    return absl::InvalidArgumentError(
        "--weights with --train: a training object takes its parameters as "
        "arguments (<name>_init_params fills them)");
  auto loaded = loadModuleAndWeights(o);
  if (!loaded.ok())
    return loaded.status();
  if (o.gradcheck)
    return checkGradients(o, *loaded);
  if (o.train.enabled)
    return compileTraining(o, *loaded->module);
  if (o.derivative == Derivative::None)
    return compileLoaded(o, *loaded);
  auto entry = resolveEntry(*loaded->module, o);
  if (!entry.ok())
    return entry.status();
  auto derived =
      addDerivative(*loaded->module, **entry, o.derivative, o.derivativeInput);
  if (!derived.ok())
    return derived.status();
  CompileOptions derivedOptions = o;
  derivedOptions.entry = (*derived)->name;
  return compileLoaded(derivedOptions, *loaded);
}

} // namespace nyx::compiler
