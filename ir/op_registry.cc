#include "ir/op_registry.h"

#include <cassert>

namespace nyx::ir {

void OpRegistry::add(OpDef def) {
  std::string name = def.name;
  bool inserted = defs.emplace(name, std::move(def)).second;
  assert(inserted && "op registered twice");
  (void)inserted;
}

void OpRegistry::setFusionKind(std::initializer_list<std::string_view> names,
                               FusionKind kind) {
  for (std::string_view name : names) {
    auto it = defs.find(name);
    assert(it != defs.end() && "trait set on an unknown op");
    it->second.fusion = kind;
  }
}

void OpRegistry::setCommutative(std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) {
    auto it = defs.find(name);
    assert(it != defs.end() && "trait set on an unknown op");
    it->second.commutative = true;
  }
}

void OpRegistry::setGrad(std::string_view name, GradFn rule) {
  auto it = defs.find(name);
  assert(it != defs.end() && "gradient rule for an unknown op");
  assert(!it->second.grad && "gradient rule set twice");
  it->second.grad = std::move(rule);
}

void OpRegistry::setZeroGradient(
    std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) {
    auto it = defs.find(name);
    assert(it != defs.end() && "trait set on an unknown op");
    it->second.zeroGradient = true;
  }
}

static const OpRegistry &registry() {
  static const OpRegistry r = [] {
    OpRegistry r;
    registerElementwiseOps(r);
    registerElementwiseMathOps(r);
    registerLogicalOps(r);
    registerReductionOps(r);
    registerNormalizationOps(r);
    registerLinalgOps(r);
    registerShapeOps(r);
    registerGatherElementsOp(r);
    registerGatherNdOp(r);
    registerScatterOps(r);
    registerScanOps(r);
    registerConvOps(r);
    registerWinogradOps(r);
    registerQuantizeOps(r);
    registerStructuralOps(r);
    registerCustomCudaOps(r);
    registerElementwiseGrads(r);
    registerReductionGrads(r);
    registerNormalizationGrads(r);
    registerLinalgGrads(r);
    registerShapeGrads(r);
    registerConvGrads(r);
    registerQuantizeGrads(r);
    return r;
  }();
  return r;
}

const OpDef *lookupOp(std::string_view name) {
  const auto &defs = registry().defs;
  auto it = defs.find(name);
  return it == defs.end() ? nullptr : &it->second;
}

std::vector<const OpDef *> allOps() {
  std::vector<const OpDef *> out;
  for (const auto &[name, def] : registry().defs)
    out.push_back(&def);
  return out;
}

} // namespace nyx::ir
