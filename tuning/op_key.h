// What the tuning database keys a measurement by: the op as the kernel sees
// it, the target, the thread count and the compiler version.
#pragma once

#include <string>

#include "ir/module.h"
#include "tuning/tuning_db.h"

namespace nyx::tuning {

// The op's name, operand types and attributes, without the ones passes add
// for code generation (`schedule`, `arena_offsets`), in the text form:
// "conv2d(f32[1,3,32,32], f32[8,3,3,3]) {padding = [1, 1, 1, 1]}". Two ops
// with one signature compute the same kernel.
std::string opSignature(const ir::Op &op);

// This compiler as far as timings are concerned: its version, the revision
// of the GEMM kernel generator and the LLVM version. Entries measured by
// another are stale.
std::string compilerVersion();

struct TargetKey {
  std::string cpu;      // LLVM CPU name
  std::string features; // "+avx2,+fma,..."
};

TuningKey tuningKey(const ir::Op &op, const TargetKey &target, int64_t threads);

} // namespace nyx::tuning
