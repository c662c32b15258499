#include "codegen/kernel/lowering.h"

#include <cassert>

namespace nyx::kernel {

void LoweringRegistry::add(std::string_view opName, LowerFn fn) {
  bool inserted = fns.emplace(std::string(opName), std::move(fn)).second;
  assert(inserted && "lowering registered twice");
  (void)inserted;
}

static const LoweringRegistry &registry() {
  static const LoweringRegistry r = [] {
    LoweringRegistry r;
    registerElementwiseLowerings(r);
    registerReductionLowerings(r);
    registerNormalizationLowerings(r);
    registerLinalgLowerings(r);
    registerShapeLowerings(r);
    registerScatterLowerings(r);
    registerScanLowerings(r);
    registerConvLowerings(r);
    registerWinogradLowerings(r);
    return r;
  }();
  return r;
}

namespace {
thread_local bool gpuForm = false;
} // namespace

GpuForm::GpuForm() : saved_(gpuForm) { gpuForm = true; }
GpuForm::~GpuForm() { gpuForm = saved_; }
bool GpuForm::active() { return gpuForm; }

const LowerFn *lookupLowering(std::string_view opName) {
  auto it = registry().fns.find(opName);
  return it == registry().fns.end() ? nullptr : &it->second;
}

bool hasLowering(std::string_view opName) {
  return lookupLowering(opName) != nullptr;
}

} // namespace nyx::kernel
