// A builder for models: an ir::Builder that also remembers how each weight is
// initialized, so a model comes with the random weights that suit it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "ir/builder.h"
#include "ir/op_registry.h"

namespace nyx::stdlib {

// Weights drawn uniformly from [lo, hi].
struct Uniform {
  double lo = 0, hi = 0;
  // PyTorch's default for linear and conv weights and biases:
  // U(-1/sqrt(fanIn), 1/sqrt(fanIn)).
  static Uniform fanIn(int64_t fanIn);
};

// A built model: the module (entry @main) and the distribution of each of
// its params, by name.
struct Model {
  std::unique_ptr<ir::Module> module;
  std::map<std::string, Uniform, std::less<>> init;
};

class ModelBuilder : public ir::Builder {
public:
  explicit ModelBuilder(std::string moduleName)
      : ir::Builder(std::move(moduleName)) {}

  // An f32 param `<scope>.<name>` of `shape` drawn from `init`.
  ir::Value *weight(std::string_view name, ir::Shape shape, Uniform init);

  // The verified module and its initializers, or the first error.
  absl::StatusOr<Model> finishModel();

private:
  std::map<std::string, Uniform, std::less<>> init_;
};

// Random weights for every param of `model`, repeatable for a seed: the
// same seed gives the same bits on every run and machine.
ir::WeightMap randomWeights(const Model &model, uint64_t seed);

// The number of weight elements of `module` (all its params).
int64_t parameterCount(const ir::Module &module);

} // namespace nyx::stdlib
