// nyxc: compiles a Nyx model (.nyx text IR or .json) to an object file and
// a C header, or prints any intermediate form.
#include <iostream>

#include "codegen/codegen.h"
#include "compiler/command_line.h"
#include "compiler/compilation.h"
#include "compiler/pass_flags.h"
#include "compiler/quantize_flags.h"
#include "compiler/train_flags.h"
#include "compiler/tuning_flags.h"
#include "frontends/onnx/importer.h"
#include "ir/strings.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/TargetParser/Host.h"

using namespace nyx;
using compiler::Emit;

static absl::Status parseEmit(std::string_view v, Emit &emit) {
  static const std::pair<std::string_view, Emit> kinds[] = {
      {"ir", Emit::IR},
      {"json", Emit::Json},
      {"dot", Emit::Dot},
      {"dot-kernels", Emit::DotKernels},
      {"kernel", Emit::Kernels},
      {"llvm", Emit::LLVM},
      {"asm", Emit::Asm},
      {"ptx", Emit::Ptx},
      {"cuda-asm", Emit::CudaAsm},
      {"quant-profile", Emit::QuantProfile},
      {"obj", Emit::Obj}};
  for (auto [name, kind] : kinds)
    if (name == v) {
      emit = kind;
      return absl::OkStatus();
    }
  return absl::InvalidArgumentError(
      strCat("unknown output kind '", v,
             "'; expected ir, json, dot, dot-kernels, kernel, llvm, asm, ptx, "
             "cuda-asm, quant-profile or obj"));
}

int main(int argc, char **argv) {
  compiler::CompileOptions o;
  bool showHelp = false, showVersion = false, printPipeline = false;
  compiler::CommandLine cl;
  cl.option("o", "<file>", "write the output here ('-' for stdout)",
            [&](std::string_view v) {
              o.output = v;
              return absl::OkStatus();
            });
  cl.option("emit", "<kind>",
            "what to write: obj (default), asm, llvm, kernel, ir, json, dot "
            "(the graph, Graphviz), dot-kernels (the graph by kernel), ptx "
            "and cuda-asm (the GPU kernels' PTX and SASS, cuda-* targets), "
            "quant-profile (the activation ranges of --quantize=int8)",
            [&](std::string_view v) { return parseEmit(v, o.emit); });
  cl.option("header", "<file>", "write the C header here (default: next to -o)",
            [&](std::string_view v) {
              o.headerPath = v;
              return absl::OkStatus();
            });
  cl.option("target", "<name>",
            "host (default), x86-64-avx2, x86-64-avx512, cuda-sm80, "
            "cuda-sm90, cuda-sm90a",
            [&](std::string_view v) {
              o.target = v;
              return codegen::checkTarget(v);
            });
  for (int level = 0; level <= 3; ++level)
    cl.flag(
        strCat("O", level),
        strCat("optimization level ", level, level == 2 ? " (default)" : ""),
        [&o, level] { o.optLevel = level; });
  cl.option("weights", "<file>|external|embedded",
            "safetensors file with the parameters; 'external' loads them at "
            "run time with <name>_load_weights()",
            [&](std::string_view v) {
              if (v == "external")
                o.externalWeights = true;
              else if (v == "embedded")
                o.externalWeights = false;
              else
                o.weightsPath = v;
              return absl::OkStatus();
            });
  cl.option("input-shape", "<name>=<d0>x<d1>...",
            "ONNX input: the shape of graph input <name>, binding its "
            "dynamic dimensions (repeat for several inputs)",
            [&](std::string_view v) {
              return onnx_import::parseInputShape(v, o.inputShapes);
            });
  cl.option("weights-out", "<file>",
            "with --weights=external: where to write the weights file",
            [&](std::string_view v) {
              o.weightsOut = v;
              return absl::OkStatus();
            });
  cl.option("entry", "<function>", "the function to compile (default @main)",
            [&](std::string_view v) {
              o.entry = v;
              return absl::OkStatus();
            });
  cl.option("name", "<identifier>",
            "prefix of the generated symbols (default: the module name)",
            [&](std::string_view v) {
              o.modelName = v;
              return absl::OkStatus();
            });
  cl.option("passes", "<a,b,...>",
            "run this pipeline instead of the standard one",
            [&](std::string_view v) {
              o.pipeline = v;
              return absl::OkStatus();
            });
  compiler::addPassInstrumentationFlags(cl, o.instrumentation);
  compiler::addTuningFlags(cl, o);
  compiler::addQuantizeFlags(cl, o);
  compiler::addTrainFlags(cl, o);
  cl.flag("stats", "print what the passes counted (kernels, arena bytes)",
          [&] { o.printStats = true; });
  cl.flag("instrument",
          "call nyx_instrument after every kernel of <name>_run (see "
          "nyx/instrument.h)",
          [&] { o.instrument = true; });
  cl.flag("help", "show this help", [&] { showHelp = true; });
  cl.flag("version", "show the version", [&] { showVersion = true; });
  cl.flag("print-pipeline",
          "print the pass pipeline this command line runs, and exit",
          [&] { printPipeline = true; });

  std::vector<std::string> inputs;
  if (absl::Status s = cl.parse(argc, argv, inputs); !s.ok()) {
    std::cerr << "nyxc: error: " << s.message() << "\n";
    return 1;
  }
  if (showHelp) {
    std::cout << cl.help("nyxc [options] <input.nyx|input.json|input.onnx>",
                         "Nyx ahead-of-time tensor compiler");
    return 0;
  }
  if (showVersion) {
    std::cout << "nyxc (Nyx) " << NYX_VERSION << "\n"
              << "  LLVM version " << LLVM_VERSION_STRING << "\n"
              << "  Host CPU: " << std::string(llvm::sys::getHostCPUName())
              << "\n";
    return 0;
  }
  if (absl::Status s = compiler::applyQuantizeFlags(o); !s.ok()) {
    std::cerr << "nyxc: error: " << s.message() << "\n";
    return 1;
  }
  if (printPipeline) {
    auto pm = passes::PassManager::parse(
        o.pipeline.empty() ? compiler::standardPipeline(o.optLevel, o.target)
                           : o.pipeline);
    if (!pm.ok()) {
      std::cerr << "nyxc: error: " << pm.status().message() << "\n";
      return 1;
    }
    std::cout << pm->str() << "\n";
    return 0;
  }
  if (inputs.size() != 1) {
    std::cerr << "nyxc: error: "
              << (inputs.empty() ? "no input file" : "more than one input file")
              << "; usage: nyxc [options] <input.nyx|input.onnx>\n";
    return 1;
  }
  o.input = inputs[0];
  if (absl::Status s = compiler::compile(o); !s.ok()) {
    std::string msg(s.message());
    // Diagnostics already carry "file:line:col: error:"; others get a prefix.
    if (msg.find(": error: ") == std::string::npos)
      std::cerr << "nyxc: error: ";
    std::cerr << msg << "\n";
    return 1;
  }
  return 0;
}
