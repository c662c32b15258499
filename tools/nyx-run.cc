// nyx-run: runs a model through the reference interpreter on .npy inputs
// and writes .npy outputs: the numbers compiled code is checked against.
#include <iostream>

#include "compiler/command_line.h"
#include "compiler/compilation.h"
#include "compiler/tensor_files.h"
#include "compiler/weights.h"
#include "ir/interpreter.h"
#include "ir/strings.h"
#include "nyx/runtime.h"

using namespace nyx;

static int fail(const absl::Status &s) {
  if (std::string(s.message()).find(": error: ") == std::string::npos)
    std::cerr << "nyx-run: error: ";
  std::cerr << s.message() << "\n";
  return 1;
}

int main(int argc, char **argv) {
  std::string weightsPath, entryName;
  std::vector<std::string> outputs;
  bool showHelp = false;
  compiler::CommandLine cl;
  cl.option("weights", "<file>", "safetensors file with the parameters",
            [&](std::string_view v) {
              weightsPath = v;
              return absl::OkStatus();
            });
  cl.option("entry", "<function>", "the function to run (default @main)",
            [&](std::string_view v) {
              entryName = v;
              return absl::OkStatus();
            });
  cl.option("o", "<file.npy>", "write the next output here (repeatable)",
            [&](std::string_view v) {
              outputs.emplace_back(v);
              return absl::OkStatus();
            });
  cl.flag("help", "show this help", [&] { showHelp = true; });
  std::vector<std::string> args;
  if (absl::Status s = cl.parse(argc, argv, args); !s.ok())
    return fail(s);
  if (showHelp || args.empty()) {
    std::cout << cl.help("nyx-run [options] <model.nyx> [input.npy...]",
                         "runs a model in the Nyx reference interpreter");
    return showHelp ? 0 : 1;
  }
  auto module = compiler::loadModule(args[0]);
  if (!module.ok())
    return fail(module.status());
  ir::WeightMap weights;
  if (!weightsPath.empty()) {
    auto loaded = compiler::loadWeights(**module, weightsPath);
    if (!loaded.ok())
      return fail(loaded.status());
    weights = std::move(*loaded);
  }
  auto entry = entryName.empty() ? (*module)->entry()
                                 : absl::StatusOr<ir::Function *>(
                                       (*module)->lookupFunction(entryName));
  if (!entry.ok() || !*entry)
    return fail(entry.ok() ? absl::InvalidArgumentError(
                                 strCat("no function @", entryName))
                           : entry.status());
  std::vector<ir::Tensor> inputs;
  for (size_t i = 1; i < args.size(); ++i) {
    auto t = compiler::readNpy(args[i]);
    if (!t.ok())
      return fail(t.status());
    inputs.push_back(std::move(*t));
  }
  ir::Interpreter interp(**module, &weights);
  auto results = interp.run(**entry, std::move(inputs));
  if (!results.ok())
    return fail(results.status());
  for (size_t i = 0; i < results->size(); ++i) {
    if (i < outputs.size()) {
      if (absl::Status s = compiler::writeNpy(outputs[i], (*results)[i]);
          !s.ok())
        return fail(s);
      continue;
    }
    const ir::Tensor &t = (*results)[i];
    std::cout << "output " << i << ": " << t.type().str() << "\n";
    for (int64_t e = 0; e < t.numElements(); ++e)
      std::cout << (e ? " " : "") << t.getDouble(e);
    std::cout << "\n";
  }
  return 0;
}
