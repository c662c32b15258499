// nyx-models: writes a model of the standard library as .nyx text, and
// random weights for it as a safetensors file.
//
//   nyx-models <mlp|resnet18|gpt2_block> [--batch N] -o model.nyx
//              [--weights model.safetensors [--seed S]]
#include <charconv>
#include <iostream>

#include "compiler/command_line.h"
#include "compiler/output_files.h"
#include "compiler/weights.h"
#include "ir/printer.h"
#include "ir/strings.h"
#include "stdlib/models.h"

using namespace nyx;

static absl::Status parseInt(std::string_view flag, std::string_view v,
                             int64_t min, int64_t &out) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n < min)
    return absl::InvalidArgumentError(
        strCat("--", flag, " '", v, "'; expected an integer >= ", min));
  out = n;
  return absl::OkStatus();
}

int main(int argc, char **argv) {
  int64_t batch = 1, seed = 0;
  std::string output = "-", weightsPath;
  bool showHelp = false, seedGiven = false;
  compiler::CommandLine cl;
  cl.option("batch", "<n>", "batch size (default 1)",
            [&](std::string_view v) { return parseInt("batch", v, 1, batch); });
  cl.option("o", "<file>", "write the .nyx text here (default '-', stdout)",
            [&](std::string_view v) {
              output = v;
              return absl::OkStatus();
            });
  cl.option("weights", "<file>",
            "also write random weights to this safetensors file",
            [&](std::string_view v) {
              weightsPath = v;
              return absl::OkStatus();
            });
  cl.option("seed", "<n>", "seed of the random weights (default 0)",
            [&](std::string_view v) {
              seedGiven = true;
              return parseInt("seed", v, 0, seed);
            });
  cl.flag("help", "show this help", [&] { showHelp = true; });

  const std::string models = strJoin(stdlib::modelNames(), "|");
  std::vector<std::string> names;
  if (absl::Status s = cl.parse(argc, argv, names); !s.ok()) {
    std::cerr << "nyx-models: error: " << s.message() << "\n";
    return 1;
  }
  if (showHelp) {
    std::cout << cl.help(strCat("nyx-models <", models, "> [options]"),
                         "Writes a standard-library model as Nyx text IR");
    return 0;
  }
  if (names.size() != 1) {
    std::cerr << "nyx-models: error: "
              << (names.empty() ? "no model named" : "more than one model")
              << "; usage: nyx-models <" << models << "> [options]\n";
    return 1;
  }
  if (seedGiven && weightsPath.empty()) {
    std::cerr << "nyx-models: error: --seed without --weights; expected "
                 "--weights <file> to write the seeded weights to\n";
    return 1;
  }

  auto model = stdlib::buildModel(names[0], batch);
  if (!model.ok()) {
    std::cerr << "nyx-models: error: " << model.status().message() << "\n";
    return 1;
  }
  compiler::OutputFiles out;
  out.add(output, ir::printModule(*model->module));
  if (!weightsPath.empty()) {
    ir::WeightMap weights =
        stdlib::randomWeights(*model, static_cast<uint64_t>(seed));
    auto bytes = compiler::serializeWeights(*model->module, weights);
    if (!bytes.ok()) {
      std::cerr << "nyx-models: error: " << bytes.status().message() << "\n";
      return 1;
    }
    out.add(weightsPath, std::move(*bytes));
  }
  if (absl::Status s = out.commit(); !s.ok()) {
    std::cerr << "nyx-models: error: " << s.message() << "\n";
    return 1;
  }
  return 0;
}
