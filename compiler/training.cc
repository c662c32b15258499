#include "compiler/training.h"

#include "codegen/codegen.h"
#include "codegen/emit/c_names.h"
#include "compiler/compilation.h"
#include "compiler/output_files.h"
#include "ir/json.h"
#include "ir/printer.h"
#include "ir/strings.h"
#include "stdlib/training.h"

namespace nyx::compiler {
namespace {

// The optimizer by name with the hyperparameters given as flags.
absl::StatusOr<stdlib::optim::OptimizerConfig>
optimizerConfig(const TrainOptions &t) {
  auto config = stdlib::optim::optimizerByName(t.optimizer);
  if (!config.ok())
    return absl::InvalidArgumentError(
        strCat("--optimizer=", t.optimizer, ": ", config.status().message()));
  auto set = [&](std::string_view flag, double &field) {
    auto it = t.hyper.find(flag);
    if (it != t.hyper.end())
      field = it->second;
  };
  set("momentum", config->momentum);
  set("weight-decay", config->weightDecay);
  set("clip-norm", config->clipNorm);
  set("beta1", config->beta1);
  set("beta2", config->beta2);
  set("eps", config->eps);
  set("alpha", config->alpha);
  config->nesterov = t.nesterov;
  return config;
}

absl::StatusOr<stdlib::TrainingOptions> trainingOptions(const TrainOptions &t) {
  if (t.loss.empty() || t.optimizer.empty())
    return absl::InvalidArgumentError(
        "--train needs --loss=NAME and --optimizer=NAME");
  auto loss = stdlib::losses::lossByName(t.loss);
  if (!loss.ok())
    return absl::InvalidArgumentError(
        strCat("--loss=", t.loss, ": ", loss.status().message()));
  if (t.hyper.count("label-smoothing") && t.loss != "cross-entropy")
    return absl::InvalidArgumentError(strCat(
        "--label-smoothing applies to --loss=cross-entropy, not ", t.loss));
  auto optimizer = optimizerConfig(t);
  if (!optimizer.ok())
    return optimizer.status();
  stdlib::TrainingOptions options;
  options.loss = *loss;
  options.optimizer = *optimizer;
  if (auto it = t.hyper.find("label-smoothing"); it != t.hyper.end())
    options.lossOptions.labelSmoothing = it->second;
  if (auto it = t.hyper.find("loss-scale"); it != t.hyper.end()) {
    if (it->second <= 0)
      return absl::InvalidArgumentError(
          "--loss-scale=0: expected a positive number");
    options.lossScale = it->second;
  }
  options.computeType = t.computeType == "bf16"  ? ir::DType::BF16
                        : t.computeType == "f16" ? ir::DType::F16
                                                 : ir::DType::F32;
  options.init = t.init == "xavier" ? stdlib::ParamInitScheme::Xavier
                                    : stdlib::ParamInitScheme::Kaiming;
  return options;
}

} // namespace

absl::Status compileTraining(const CompileOptions &o, ir::Module &m) {
  if (o.derivative != Derivative::None)
    return absl::InvalidArgumentError(
        "--derivative and --train cannot be combined");
  auto options = trainingOptions(o.train);
  if (!options.ok())
    return options.status();
  auto entry = resolveEntry(m, o);
  if (!entry.ok())
    return entry.status();
  auto training = stdlib::buildTraining(m, **entry, *options);
  if (!training.ok())
    return training.status();

  if (auto s = runPipeline(o, *training->inference, "main", nullptr); !s.ok())
    return s;
  if (auto s = runPipeline(o, *training->trainStep, "train_step", nullptr,
                           trainingPipeline(o.optLevel, o.train.remat));
      !s.ok())
    return s;

  std::string output = outputPath(o);
  OutputFiles files;
  // The textual forms show the training step, the new part.
  if (o.emit == Emit::IR || o.emit == Emit::Json || o.emit == Emit::Dot ||
      o.emit == Emit::DotKernels) {
    if (o.emit == Emit::IR)
      files.add(output, ir::printModule(*training->trainStep));
    else if (o.emit == Emit::Json)
      files.add(output, ir::moduleToJson(*training->trainStep).dump(2) + "\n");
    else
      return absl::InvalidArgumentError(
          "--emit=dot with --train is not supported; use --emit=ir");
    return files.commit();
  }

  codegen::Options run = codegenOptions(o, m);
  codegen::Options step = run;
  std::string name = run.modelName;
  step.modelName = name + "_train";
  step.runName = name + "_train_step";
  step.outputAliases = training->outputAliases;
  ir::WeightMap none;
  codegen::ObjectSpec spec;
  spec.name = name;
  spec.entries.push_back({training->inference.get(),
                          training->inference->lookupFunction("main"), &none,
                          run});
  spec.entries.push_back({training->trainStep.get(),
                          training->trainStep->lookupFunction("train_step"),
                          &none, step});
  std::vector<std::string> irNames, used;
  for (const stdlib::TrainingParam &p : training->params)
    irNames.push_back(p.name);
  std::vector<std::string> cNames = codegen::parameterNames(irNames, "p", used);
  for (size_t i = 0; i < training->params.size(); ++i) {
    const stdlib::TrainingParam &p = training->params[i];
    spec.params.push_back({cNames[i], p.type, p.lo, p.hi, p.name});
  }
  auto compiled = codegen::compileObject(spec);
  if (!compiled.ok())
    return compiled.status();
  if (auto s = addCompiled(o, **compiled, output, files); !s.ok())
    return s;
  return files.commit();
}

} // namespace nyx::compiler
