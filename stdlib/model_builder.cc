#include "stdlib/model_builder.h"

#include <cmath>

namespace nyx::stdlib {

Uniform Uniform::fanIn(int64_t fanIn) {
  double bound = 1.0 / std::sqrt(static_cast<double>(fanIn > 0 ? fanIn : 1));
  return {-bound, bound};
}

ir::Value *ModelBuilder::weight(std::string_view name, ir::Shape shape,
                                Uniform init) {
  ir::Value *v = param(name, {ir::DType::F32, std::move(shape)});
  if (v)
    init_[scopedName(name)] = init;
  return v;
}

absl::StatusOr<Model> ModelBuilder::finishModel() {
  auto module = finish();
  if (!module.ok())
    return module.status();
  return Model{std::move(*module), std::move(init_)};
}

namespace {

// SplitMix64: a tiny generator whose output is fixed by its definition, so
// weights do not depend on the standard library's distributions.
class SplitMix64 {
public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1) with 53 random bits.
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

private:
  uint64_t state_;
};

} // namespace

ir::WeightMap randomWeights(const Model &model, uint64_t seed) {
  SplitMix64 rng(seed);
  ir::WeightMap weights;
  for (const ir::Param &p : model.module->params) {
    auto it = model.init.find(p.name);
    Uniform u = it != model.init.end() ? it->second : Uniform{-1, 1};
    ir::Tensor t(p.type);
    for (int64_t i = 0; i < t.numElements(); ++i)
      t.setDouble(i, u.lo + (u.hi - u.lo) * rng.unit());
    weights.emplace(p.name, std::move(t));
  }
  return weights;
}

int64_t parameterCount(const ir::Module &module) {
  int64_t n = 0;
  for (const ir::Param &p : module.params)
    n += p.type.numElements();
  return n;
}

} // namespace nyx::stdlib
