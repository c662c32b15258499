// nyx-opt: parses a module, runs a pass pipeline and prints the result, for
// lit tests and for looking at what a pass does. With --split-input-file the
// input is several modules separated by `// -----` lines, each run on its
// own, as mlir-opt does for its tests.
#include <iostream>
#include <memory>

#include "compiler/command_line.h"
#include "compiler/compilation.h"
#include "compiler/output_files.h"
#include "compiler/pass_flags.h"
#include "compiler/weights.h"
#include "ir/json.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/strings.h"

using namespace nyx;

static constexpr std::string_view kSplitMarker = "// -----";

// The pieces of `text` between lines that are exactly `// -----` (a
// trailing carriage return allowed). Each piece starts with one newline per
// line before it, so diagnostics give the line numbers of the whole file.
static std::vector<std::string> splitAtMarkers(std::string_view text) {
  std::vector<std::string> chunks(1);
  size_t line = 0;
  for (size_t start = 0; start < text.size(); ++line) {
    size_t end = text.find('\n', start);
    size_t next = end == std::string_view::npos ? text.size() : end + 1;
    std::string_view content = text.substr(start, next - start);
    std::string_view bare = content;
    while (!bare.empty() && (bare.back() == '\n' || bare.back() == '\r'))
      bare.remove_suffix(1);
    if (bare == kSplitMarker)
      chunks.push_back(std::string(line + 1, '\n'));
    else
      chunks.back().append(content);
    start = next;
  }
  return chunks;
}

int main(int argc, char **argv) {
  std::string pipeline, output = "-", emit = "ir";
  std::string weightsPath;
  bool showHelp = false, showVersion = false, listPasses = false;
  bool splitInput = false, printStats = false;
  passes::Instrumentation inst;
  compiler::CommandLine cl;
  auto set = [](std::string &field) {
    return [&field](std::string_view v) {
      field = v;
      return absl::OkStatus();
    };
  };
  cl.option("passes", "<a,b,...>", "the pipeline to run (default: none)",
            set(pipeline));
  cl.option("o", "<file>", "write the result here (default: stdout)",
            set(output));
  cl.option("emit", "<ir|json>", "output form (default: ir)", set(emit));
  cl.option("weights", "<file.safetensors>",
            "the params' values, known to passes such as const-fold",
            set(weightsPath));
  cl.flag("split-input-file",
          "run each part of the input between `// -----` lines as its own "
          "module; print the results separated the same way",
          [&] { splitInput = true; });
  cl.flag("stats", "print what the passes counted (stderr)",
          [&] { printStats = true; });
  compiler::addPassInstrumentationFlags(cl, inst);
  cl.flag("no-verify", "do not verify the module between passes",
          [&] { inst.verifyEach = false; });
  cl.flag("list-passes", "list the registered passes",
          [&] { listPasses = true; });
  cl.flag("help", "show this help", [&] { showHelp = true; });
  cl.flag("version", "show the version", [&] { showVersion = true; });

  std::vector<std::string> inputs;
  if (absl::Status s = cl.parse(argc, argv, inputs); !s.ok()) {
    std::cerr << "nyx-opt: error: " << s.message() << "\n";
    return 1;
  }
  if (showHelp) {
    std::cout << cl.help("nyx-opt [options] [input.nyx|input.json|-]",
                         "Nyx IR pass runner");
    return 0;
  }
  if (showVersion) {
    std::cout << "nyx-opt (Nyx) " << NYX_VERSION << "\n";
    return 0;
  }
  if (listPasses) {
    for (const passes::PassInfo &p : passes::allPasses())
      std::cout << p.name << "  " << p.summary << "\n";
    return 0;
  }
  if (emit != "ir" && emit != "json") {
    std::cerr << "nyx-opt: error: unknown output kind '" << emit
              << "'; expected ir or json\n";
    return 1;
  }
  if (inputs.empty())
    inputs.push_back("-"); // read the module from stdin, like mlir-opt
  if (inputs.size() != 1) {
    std::cerr << "nyx-opt: error: expected one input file\n";
    return 1;
  }
  auto fail = [](const absl::Status &s) {
    if (std::string(s.message()).find(": error: ") == std::string::npos)
      std::cerr << "nyx-opt: error: ";
    std::cerr << s.message() << "\n";
    return 1;
  };
  auto pm = passes::PassManager::parse(pipeline);
  if (!pm.ok())
    return fail(pm.status());
  // Runs the pipeline on one module and returns its printed form.
  auto process = [&](ir::Module &m) -> absl::StatusOr<std::string> {
    ir::WeightMap weights;
    passes::Statistics stats;
    passes::Options options;
    options.stats = &stats;
    if (!weightsPath.empty()) {
      auto loaded = compiler::loadWeights(m, weightsPath);
      if (!loaded.ok())
        return loaded.status();
      weights = std::move(*loaded);
      options.weights = &weights;
    }
    if (absl::Status s = pm->run(m, options, inst); !s.ok())
      return s;
    if (printStats)
      compiler::printStatistics(stats, std::cerr);
    return emit == "json" ? ir::moduleToJson(m).dump(2) + "\n"
                          : ir::printModule(m);
  };

  std::string result;
  bool failed = false;
  if (!splitInput) {
    auto module = compiler::loadModule(inputs[0]);
    if (!module.ok())
      return fail(module.status());
    auto printed = process(**module);
    if (!printed.ok())
      return fail(printed.status());
    result = std::move(*printed);
  } else {
    if (inputs[0].ends_with(".json"))
      return fail(absl::InvalidArgumentError(
          strCat("--split-input-file reads text IR; ", inputs[0], " is JSON")));
    auto text = ir::readSourceFile(inputs[0]);
    if (!text.ok())
      return fail(text.status());
    std::string filename = inputs[0] == "-" ? "<stdin>" : inputs[0];
    std::vector<std::string> chunks = splitAtMarkers(*text);
    for (size_t i = 0; i < chunks.size(); ++i) {
      if (i > 0)
        result += strCat(kSplitMarker, "\n");
      // An error in one module is reported and the others still run.
      auto module = ir::parseModule(chunks[i], filename);
      absl::StatusOr<std::string> printed =
          module.ok() ? process(**module) : module.status();
      if (printed.ok()) {
        result += *printed;
      } else {
        fail(printed.status());
        failed = true;
      }
    }
  }
  compiler::OutputFiles out;
  out.add(output, std::move(result));
  if (absl::Status s = out.commit(); !s.ok())
    return fail(s);
  return failed ? 1 : 0;
}
