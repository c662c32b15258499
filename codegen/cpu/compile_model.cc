// compileModel: plan the model, build its LLVM module, optimize it, and keep
// it for printing and machine-code emission.
#include "codegen/codegen.h"
#include "codegen/cpu/llvm_pipeline.h"
#include "codegen/cpu/model_module.h"
#include "codegen/cpu/target.h"
#include "codegen/emit/header.h"
#include "codegen/emit/model_plan.h"
#include "codegen/kernel/loop_ir.h"
#include "ir/strings.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/Support/raw_ostream.h"

namespace nyx::codegen {
namespace {

class CpuCompiledModel : public CompiledModel {
public:
  CpuCompiledModel(std::unique_ptr<llvm::LLVMContext> ctx,
                   std::unique_ptr<llvm::Module> module,
                   std::unique_ptr<llvm::TargetMachine> tm, std::string header,
                   std::string kernels)
      : ctx_(std::move(ctx)), module_(std::move(module)), tm_(std::move(tm)),
        header_(std::move(header)), kernels_(std::move(kernels)) {}

  ~CpuCompiledModel() override {
    // The module must go before its context.
    module_.reset();
  }

  std::string llvmIR() const override {
    std::string text;
    llvm::raw_string_ostream os(text);
    module_->print(os, nullptr);
    return os.str();
  }
  absl::StatusOr<std::string> assembly() const override {
    return cpu::emitMachineCode(*module_, *tm_,
                                llvm::CodeGenFileType::AssemblyFile);
  }
  absl::StatusOr<std::string> object() const override {
    return cpu::emitMachineCode(*module_, *tm_,
                                llvm::CodeGenFileType::ObjectFile);
  }
  std::string header() const override { return header_; }
  std::string kernels() const override { return kernels_; }

private:
  std::unique_ptr<llvm::LLVMContext> ctx_;
  std::unique_ptr<llvm::Module> module_;
  std::unique_ptr<llvm::TargetMachine> tm_;
  std::string header_, kernels_;
};

} // namespace

absl::StatusOr<std::unique_ptr<CompiledModel>>
compileModel(const ir::Module &module, const ir::Function &entry,
             const ir::WeightMap &weights, const Options &options) {
  if (options.optLevel < 0 || options.optLevel > 3)
    return absl::InvalidArgumentError(
        strCat("optimization level ", options.optLevel, "; expected 0 to 3"));
  auto target = cpu::resolveTarget(options.target);
  if (!target.ok())
    return target.status();
  auto plan = planModel(module, entry, weights, options);
  if (!plan.ok())
    return plan.status();
  auto tm = cpu::createTargetMachine(*target, options.optLevel);
  if (!tm.ok())
    return tm.status();

  auto ctx = std::make_unique<llvm::LLVMContext>();
  std::unique_ptr<llvm::Module> llvmModule = cpu::buildModelModule(
      *plan, *ctx, *target, (*tm)->createDataLayout(), options.instrument);
  if (auto s = cpu::optimizeModule(*llvmModule, **tm, options.optLevel);
      !s.ok())
    return s;

  std::string kernels;
  for (const KernelCall &call : plan->calls)
    kernels += kernel::print(call.kernel);
  return std::make_unique<CpuCompiledModel>(
      std::move(ctx), std::move(llvmModule), std::move(*tm), emitHeader(*plan),
      std::move(kernels));
}

} // namespace nyx::codegen
