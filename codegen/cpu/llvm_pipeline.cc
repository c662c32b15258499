#include "codegen/cpu/llvm_pipeline.h"

#include "codegen/cpu/vector_math.h"

#include "ir/strings.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Analysis/CGSCCPassManager.h"
#include "llvm/Analysis/LoopAnalysisManager.h"
#include "llvm/Analysis/TargetLibraryInfo.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/PassManager.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Transforms/Utils/Cloning.h"

namespace nyx::codegen::cpu {

absl::Status optimizeModule(llvm::Module &module, llvm::TargetMachine &tm,
                            int optLevel) {
  std::string problems;
  llvm::raw_string_ostream os(problems);
  if (llvm::verifyModule(module, &os))
    return absl::InternalError(
        strCat("generated LLVM IR is invalid: ", os.str()));

  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = optLevel >= 2;
  tuning.SLPVectorization = optLevel >= 2;
  tuning.LoopUnrolling = optLevel >= 1;
  tuning.LoopInterleaving = optLevel >= 2;

  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  // Calls of libm functions (f64 exp, log, pow, erf, tanh, the
  // trigonometric and hyperbolic functions, ...) vectorize into glibc's
  // vector math library (libmvec, which `-lm` links as needed) instead of
  // one scalar call per lane (vector_math.h); f32 exp, log, tanh and erf
  // are inlined polynomials (fast_math.h) that vectorize like any
  // arithmetic.
  // Registered before the defaults so it takes their place.
  llvm::Triple triple(module.getTargetTriple());
  llvm::TargetLibraryInfoImpl libraryInfo(triple);
  const llvm::MCSubtargetInfo *subtarget = tm.getMCSubtargetInfo();
  if (triple.isX86())
    addVectorMathLibrary(libraryInfo, triple, subtarget->checkFeatures("+avx2"),
                         subtarget->checkFeatures("+avx512f"));
  fam.registerPass([&] { return llvm::TargetLibraryAnalysis(libraryInfo); });
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb(&tm, tuning);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);

  llvm::OptimizationLevel level = optLevel <= 0   ? llvm::OptimizationLevel::O0
                                  : optLevel == 1 ? llvm::OptimizationLevel::O1
                                  : optLevel == 2 ? llvm::OptimizationLevel::O2
                                                  : llvm::OptimizationLevel::O3;
  llvm::ModulePassManager mpm = optLevel <= 0
                                    ? pb.buildO0DefaultPipeline(level)
                                    : pb.buildPerModuleDefaultPipeline(level);
  mpm.run(module, mam);
  return absl::OkStatus();
}

absl::StatusOr<std::string> emitMachineCode(const llvm::Module &module,
                                            llvm::TargetMachine &tm,
                                            llvm::CodeGenFileType type) {
  // Code generation rewrites the IR it runs on; work on a copy so the
  // optimized module can still be printed and emitted again.
  std::unique_ptr<llvm::Module> copy = llvm::CloneModule(module);
  llvm::SmallString<0> buffer;
  llvm::raw_svector_ostream os(buffer);
  llvm::legacy::PassManager pm;
  if (tm.addPassesToEmitFile(pm, os, nullptr, type))
    return absl::InternalError("the LLVM target cannot emit this kind of file");
  pm.run(*copy);
  return std::string(buffer.str());
}

} // namespace nyx::codegen::cpu
