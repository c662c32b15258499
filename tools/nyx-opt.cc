// nyx-opt: parses a module, runs a pass pipeline and prints the result, for
// lit tests and for looking at what a pass does.
#include <iostream>

#include "compiler/command_line.h"
#include "compiler/compilation.h"
#include "compiler/output_files.h"
#include "compiler/pass_flags.h"
#include "ir/json.h"
#include "ir/printer.h"
#include "ir/strings.h"

using namespace nyx;

int main(int argc, char **argv) {
  std::string pipeline, output = "-", emit = "ir";
  bool showHelp = false, showVersion = false, listPasses = false;
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
  auto module = compiler::loadModule(inputs[0]);
  if (!module.ok())
    return fail(module.status());
  auto pm = passes::PassManager::parse(pipeline);
  if (!pm.ok())
    return fail(pm.status());
  if (absl::Status s = pm->run(**module, {}, inst); !s.ok())
    return fail(s);
  compiler::OutputFiles out;
  out.add(output, emit == "json" ? ir::moduleToJson(**module).dump(2) + "\n"
                                 : ir::printModule(**module));
  if (absl::Status s = out.commit(); !s.ok())
    return fail(s);
  return 0;
}
