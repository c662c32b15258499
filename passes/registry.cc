#include "passes/pass.h"

namespace nyx::passes {

const std::vector<PassInfo> &allPasses() {
  static const std::vector<PassInfo> passes = {
      {"verify", "check the module's invariants (SSA, types, calls)",
       runVerify},
      {"shape-infer", "recompute every result type from the op's shape rule",
       runShapeInfer},
      {"inline", "inline every call into its caller", runInline},
      {"canonicalize",
       "algebraic identities, canonical operand order, strength reduction",
       runCanonicalize},
      {"const-fold",
       "evaluate ops whose operands are all constants",
       runConstFold,
       {{"max-bytes", "largest folded result to materialize, in bytes"}}},
      {"cse", "merge ops that compute the same value", runCse},
      {"dce", "remove ops whose results are unused, and unused functions",
       runDce},
      {"grad",
       "add @<entry>_grad: the entry's scalar result and its gradient with "
       "respect to every float input and param",
       runGrad},
      {"jacobian",
       "add @<entry>_jacobian: the Jacobian of the entry's first result",
       runJacobian,
       {{"input", "the input to differentiate by (its position)"}}},
      {"hessian",
       "add @<entry>_hessian: the Hessian of the entry's scalar result",
       runHessian,
       {{"input", "the input to differentiate by (its position)"}}},
      {"hvp",
       "add @<entry>_hvp(inputs..., v): the Hessian-vector product",
       runHvp,
       {{"input", "the input to differentiate by (its position)"}}},
      {"remat",
       "recompute cheap values (elementwise, data movement) near their late "
       "uses when their operands are live there anyway",
       runRemat},
      {"remat-all",
       "recompute any value (matmul, conv2d too) near its late uses when its "
       "operands are live there anyway",
       runRematAll},
      {"fold-batchnorm",
       "fold batch_norm and per-channel scale/shift into conv2d/matmul "
       "weights",
       runFoldBatchNorm},
      {"winograd",
       "rewrite 3x3 stride-1 conv2d with compile-time filters into "
       "Winograd F(4x4, 3x3): input transform, batched matmul, output "
       "transform",
       runWinograd,
       {{"max-filter-bytes-per-image",
         "the largest transformed filter to create, in bytes per image of "
         "the batch (default 2621440)"}}},
      {"quantize-dynamic",
       "quantize matmuls with compile-time weights to int8: per-column "
       "weight scales, activation scales computed on every run",
       runQuantizeDynamic,
       {{"strict", "1: an error when weights are bound at run time or no "
                   "matmul is quantized (nyxc --quantize=dynamic)"}}},
      {"quantize-int8",
       "quantize matmuls with compile-time weights to int8 with activation "
       "ranges from calibration or a profile (nyxc --quantize=int8)",
       runQuantizeInt8,
       {{"symmetric", "1: activations with zero point 0 (default 0: "
                      "asymmetric, the range in 255 steps)"}}},
      {"filter-layout",
       "give compile-time conv2d filters the layout the CPU GEMM kernel "
       "reads in place (blocked, or hwio)",
       runFilterLayout,
       {{"block", "output channels per block (the vector lanes); 0: hwio"}}},
      {"fuse", "group ops into kernels (elementwise, reduction, epilogue)",
       runFuse},
      {"autotune",
       "choose the tiling schedule of every GEMM-shaped matmul and conv2d "
       "(tuning database, measuring, or default)",
       runAutotune},
      {"memory-plan",
       "place intermediates in one arena by liveness, reusing buffers",
       runMemoryPlan},
  };
  return passes;
}

const PassInfo *lookupPass(std::string_view name) {
  for (const PassInfo &p : allPasses())
    if (p.name == name)
      return &p;
  return nullptr;
}

} // namespace nyx::passes
