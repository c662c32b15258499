// The LLVM optimization pipeline and machine-code emission.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/CodeGen.h"
#include "llvm/Target/TargetMachine.h"

namespace nyx::codegen::cpu {

// Verifies `module`, then runs LLVM's default per-module pipeline for
// optLevel 0..3 (clang's -O0..-O3: loop and SLP vectorization from -O2).
absl::Status optimizeModule(llvm::Module &module, llvm::TargetMachine &tm,
                            int optLevel);

// Object or assembly text for `module`, which is left unchanged.
absl::StatusOr<std::string> emitMachineCode(const llvm::Module &module,
                                            llvm::TargetMachine &tm,
                                            llvm::CodeGenFileType type);

} // namespace nyx::codegen::cpu
