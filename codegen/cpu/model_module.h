// The LLVM module of a compiled model: one internal function per kernel, the
// embedded weights and constants, and the exported entry points of
// docs/abi.md (<name>_run, <name>_run_packed, the size symbols and, with
// external weights, <name>_load_weights / <name>_unload_weights). With
// `instrument`, <name>_run calls nyx_instrument after every kernel.
#pragma once

#include <memory>

#include "codegen/cpu/target.h"
#include "codegen/emit/model_plan.h"
#include "llvm/IR/DataLayout.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"

namespace nyx::codegen::cpu {

std::unique_ptr<llvm::Module> buildModelModule(const ModelPlan &plan,
                                               llvm::LLVMContext &ctx,
                                               const TargetSpec &target,
                                               const llvm::DataLayout &layout,
                                               bool instrument = false);

} // namespace nyx::codegen::cpu
