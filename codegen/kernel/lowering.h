// Lowering of one graph-IR op to a Kernel. Each op family registers its
// lowering in codegen/kernel/lower_*.cc; the table is keyed by op name,
// mirroring the op registry (a test checks the two cover the same ops).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "codegen/kernel/loop_ir.h"
#include "ir/module.h"

namespace nyx::kernel {

// The kernel's buffers are the op's operands (in order) then its results,
// each a dense row-major array of its type; `name` is the kernel name.
//
// Anchor contract. A fused kernel (lower_fusion.h) takes the kernel of its
// anchor op (one result, n operands) and rewrites it, so every lowering of
// a Reduction, Normalization, Contraction or Other op must keep to this:
// - operands are read only by Load of buffers 0..n-1, with the element's
//   row-major offset as the index (loads may yield the compute type or, for
//   data movement, the stored bits);
// - the result is written only by Store to buffer n; no other buffer is
//   written;
// - either the result is never loaded, so every Store(n, e, v) can become
//   stores of the fused values at e (an element stored twice ends with its
//   last value, as in memory);
// - or the kernel accumulates in its result (loads it back): then every
//   access to buffer n, over the loops around it that its index depends on
//   (inside the parallel loop when the kernel is one), reaches the same
//   elements, so each iteration of that loop (or the whole kernel) owns a
//   fixed set of elements and leaves them final. The fused kernel applies
//   its epilogue to that set at the end of each iteration (of the kernel).
// lowerFusion checks this structurally and reports a lowering that breaks
// it.
using LowerFn =
    std::function<absl::StatusOr<Kernel>(const ir::Op &op, std::string name)>;

// Null for ops that produce no kernel (`param`, `call` after inlining,
// `constant`, whose data is emitted directly).
const LowerFn *lookupLowering(std::string_view opName);
bool hasLowering(std::string_view opName);

// While one is alive on the constructing thread, lowerings give kernels
// the GPU form (the CUDA backend maps it onto threads, kernel/gpu_map.h):
// plain loop nests in which each output element is an independent
// iteration. No CPU GEMM kernels (they use per-thread scratch and register
// tiles); a matmul sums each output element in a register; a reduction
// over leading axes keeps one running value per output element rather than
// lanes across a row of columns.
class GpuForm {
public:
  GpuForm();
  ~GpuForm();
  GpuForm(const GpuForm &) = delete;
  GpuForm &operator=(const GpuForm &) = delete;
  static bool active();

private:
  bool saved_;
};

class LoweringRegistry {
public:
  void add(std::string_view opName, LowerFn fn);
  std::map<std::string, LowerFn, std::less<>> fns;
};

void registerElementwiseLowerings(LoweringRegistry &r);
void registerReductionLowerings(LoweringRegistry &r);
void registerNormalizationLowerings(LoweringRegistry &r);
void registerLinalgLowerings(LoweringRegistry &r);
void registerShapeLowerings(LoweringRegistry &r);
void registerScatterLowerings(LoweringRegistry &r);
void registerScanLowerings(LoweringRegistry &r);
void registerConvLowerings(LoweringRegistry &r);
void registerWinogradLowerings(LoweringRegistry &r);

} // namespace nyx::kernel
