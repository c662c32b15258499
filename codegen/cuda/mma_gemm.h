// Tensor-core GEMM kernels for f16 and bf16 matmuls (sm_80 and up): warps
// of mma.sync.m16n8k16 with f32 accumulation.
//
// A block of four warps computes a 64 x 64 tile of C; each warp a 32 x 32
// quarter as 2 x 4 mma tiles of 16 x 8, stepping K by 16. Every thread
// loads the elements of its A and B fragments straight from global memory
// (zero past the edges, so any M, N and K work) and stores its accumulators
// rounded once to the result type. No shared-memory staging or pipelining
// yet: this is the correct baseline the tiled kernels will replace.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ir/module.h"
#include "llvm/IR/Module.h"

namespace nyx::codegen::cuda {

struct MmaGemm {
  std::string name;
  ir::DType dtype = ir::DType::F16; // operands and result: F16 or BF16
  int64_t batch = 1, m = 0, n = 0, k = 0;
  bool transA = false, transB = false;
  // Elements between consecutive batch matrices (0: broadcast).
  int64_t aBatchStride = 0, bBatchStride = 0;

  static constexpr int64_t kBlockTile = 64, kThreads = 128;
  int64_t blocks() const;
};

// The tensor-core form of a standalone `matmul` whose operands are f16 or
// bf16 (a matmul op, not a fusion) and whose result is not empty, or
// nullopt.
std::optional<MmaGemm> mmaGemmOf(const ir::Op &op, std::string name);

// Adds the kernel `name(a, b, c)` (global pointers) to `module`.
llvm::Function *emitMmaGemm(const MmaGemm &gemm, llvm::Module &module,
                            const std::string &name);

} // namespace nyx::codegen::cuda
