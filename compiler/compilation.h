// One run of the compiler: front end -> pass pipeline -> code generation ->
// output files. The steps read top to bottom in compilation.cc.
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "codegen/codegen.h"
#include "compiler/options.h"
#include "compiler/output_files.h"
#include "ir/module.h"
#include "passes/pass.h"

namespace nyx::compiler {

// The pipeline nyxc runs when none is given. CUDA targets have no
// autotune pass: its schedules are CPU GEMM kernels.
std::string standardPipeline(int optLevel, std::string_view target = "host");
// The standard pipeline of a training step: with `remat` ("none", "auto",
// "all") the rematerialization pass after the last cse and dce.
std::string trainingPipeline(int optLevel, std::string_view remat);
// `pipeline` with `quantizePass` (quantize-dynamic or quantize-int8) and
// the const-fold that turns the quantized weights into i8 constants, after
// its simplifications: before its last cse, or at its end when it has none
// (-O0).
std::string quantizedPipeline(std::string pipeline,
                              std::string_view quantizePass);

// Reads a module from text IR (.nyx) or its JSON form (.json).
absl::StatusOr<std::unique_ptr<ir::Module>> loadModule(const std::string &path);

// The counters of `--stats`, one per line, in name order.
void printStatistics(const passes::Statistics &stats, std::ostream &out);

// Compiles per `options` and writes the requested outputs (all or none).
absl::Status compile(const CompileOptions &options);

// The steps compile() is made of, shared by its paths (a model, a
// derivative, a training object).

// The function compiled as the model: --entry, else @main or the only func.
absl::StatusOr<ir::Function *> resolveEntry(const ir::Module &m,
                                            const CompileOptions &o);
// Runs the pipeline (--passes, or the standard one) over `m` with `entry`
// as the entry function; `weights` are the params' values when embedded;
// `quantize` is what a quantize-int8 pass reads and records.
absl::Status runPipeline(const CompileOptions &o, ir::Module &m,
                         const std::string &entry, const ir::WeightMap *weights,
                         const std::string &pipeline = "",
                         passes::Int8QuantizeSettings *quantize = nullptr);
codegen::Options codegenOptions(const CompileOptions &o, const ir::Module &m);
// -o, or the default for the input and --emit.
std::string outputPath(const CompileOptions &o);
// Adds what --emit asks of a compiled object to `files`: kernels, LLVM IR,
// assembly, or the object and its header.
absl::Status addCompiled(const CompileOptions &o,
                         const codegen::CompiledModel &model,
                         const std::string &output, OutputFiles &files);

} // namespace nyx::compiler
