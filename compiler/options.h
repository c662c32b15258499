// Everything a compilation can be asked to do; filled by the nyxc command
// line (tools/nyxc.cc) or by a program that embeds the compiler.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "passes/pass_manager.h"

namespace nyx::compiler {

// Dot is the entry function's graph after the pipeline (Graphviz);
// DotKernels draws each kernel of that graph as a cluster.
enum class Emit {
  IR,
  Json,
  Dot,
  DotKernels,
  Kernels,
  LLVM,
  Asm,
  Ptx,          // CUDA targets: the kernels' PTX
  CudaAsm,      // CUDA targets: the SASS of the kernels' cubin
  QuantProfile, // --quantize=int8: the activation ranges, as JSON
  Obj
};

// `--quantize`: int8 matmuls (docs/quantization.md).
struct QuantizeOptions {
  std::string mode; // "" (none), "dynamic" or "int8"
  // int8: the activation ranges, measured on calibration inputs (a
  // directory of .npy files or a safetensors file) with `observer`
  // ("minmax", "percentile", "entropy"; "" = minmax) and, for percentile,
  // `percentile` (unset = 99.99)...
  std::string calibrationData;
  std::string observer;
  std::optional<double> percentile;
  // ...or read from a profile.
  std::string profilePath;
  bool symmetric = false; // activations with zero point 0
  // Matmuls kept in f32, by result name.
  std::set<std::string, std::less<>> exclude;
};

// `--train`: compile a training step (docs/training.md) beside the model.
struct TrainOptions {
  bool enabled = false;
  std::string loss;      // a name of stdlib/losses.h
  std::string optimizer; // a name of stdlib/optimizers.h
  // Hyperparameters given on the command line, by flag name ("momentum",
  // "weight-decay", "clip-norm", "beta1", "beta2", "eps", "alpha",
  // "label-smoothing"); the rest keep the optimizer's defaults.
  std::map<std::string, double, std::less<>> hyper;
  bool nesterov = false;
  std::string init = "kaiming"; // or "xavier"
  // Mixed precision: the dtype the forward and backward passes compute in
  // ("f32", "bf16", "f16"); the loss scale is the hyperparameter
  // "loss-scale".
  std::string computeType = "f32";
  // Rematerialization in the training step: "none", "auto" (recompute
  // cheap values) or "all" (recompute anything); see docs/training.md.
  std::string remat = "none";
};

// `--derivative`: compile a derivative of the entry instead of the entry.
enum class Derivative { None, Grad, Jacobian, Hessian, Hvp };

struct CompileOptions {
  std::string input;      // .nyx (text IR), .json (IR as JSON) or .onnx
  std::string output;     // "-" is stdout; "" picks a default from the input
  std::string headerPath; // "" = next to the object, with .h
  Emit emit = Emit::Obj;
  std::string target = "host";
  int optLevel = 2;
  std::string weightsPath; // safetensors with the module's params
  // ONNX input: sizes for the graph inputs' dynamic dimensions
  // (--input-shape x=1x3x224x224).
  std::map<std::string, std::vector<int64_t>, std::less<>> inputShapes;
  bool externalWeights = false; // load weights at run time, not embedded
  std::string weightsOut;       // external mode: where to write the weights
  std::string entry;            // function to compile ("" = @main or only)
  std::string modelName;        // symbol prefix ("" = module name)
  std::string pipeline;         // "" = the standard pipeline for optLevel
  passes::Instrumentation instrumentation;
  bool printStats = false; // print what the passes counted (--stats)
  // The generated <name>_run calls nyx_instrument after every kernel
  // (runtime/include/nyx/instrument.h).
  bool instrument = false;
  // Autotuning (docs/autotuning.md): the autotune pass times candidate
  // schedules of GEMM-shaped ops (`autotune`) for at most `autotuneBudget`
  // seconds in all, and reads and extends the tuning database `tuningDb`
  // ("" = none). Without `autotune` it uses the database or the defaults.
  bool autotune = false;
  double autotuneBudget = 60;
  std::string tuningDb;
  QuantizeOptions quantize;
  TrainOptions train;
  Derivative derivative = Derivative::None;
  // --gradcheck: compare the entry's gradient with finite differences (in
  // f64, on random inputs) instead of compiling; at most this many elements
  // per tensor (0: all).
  bool gradcheck = false;
  int64_t gradcheckElements = 32;
  int derivativeInput = 0; // the input a Jacobian/Hessian/HVP is taken by
};

} // namespace nyx::compiler
