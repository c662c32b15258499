// compileModel: plan the model, build its LLVM module, optimize it, and keep
// it for printing and machine-code emission.
#include "codegen/codegen.h"
#include "codegen/cpu/init_params.h"
#include "codegen/cpu/llvm_pipeline.h"
#include "codegen/cpu/model_module.h"
#include "codegen/cpu/target.h"
#include "codegen/cuda/compile_cuda.h"
#include "codegen/cuda/target.h"
#include "codegen/emit/header.h"
#include "codegen/emit/model_plan.h"
#include "codegen/kernel/gpu_map.h"
#include "codegen/kernel/loop_ir.h"
#include "codegen/kernel/lowering.h"
#include "ir/strings.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/Linker/Linker.h"
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

// The header lines of <name>_init_params.
HeaderExtras initParamsHeader(const ObjectSpec &spec) {
  HeaderExtras extras;
  if (spec.params.empty())
    return extras;
  const std::string &n = spec.name;
  std::string N;
  for (char c : n)
    N += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::vector<std::string> args = {"uint64_t seed"};
  std::vector<uint64_t> bytes;
  std::vector<std::string> names, ranks, shapes;
  extras.comment = strCat(" * ", n, "_init_params fills the parameters:\n");
  for (const ParamInit &p : spec.params) {
    args.push_back(strCat("float *", p.cName));
    bytes.push_back(p.type.byteSize());
    names.push_back(strCat("\"", p.name, "\""));
    ranks.push_back(strCat(p.type.rank()));
    shapes.push_back(strCat("{", strJoin(p.type.shape, ", "), "}"));
    extras.comment += p.lo == p.hi ? strCat(" *   ", p.cName, " = ", p.lo, "\n")
                                   : strCat(" *   ", p.cName, " ~ U(", p.lo,
                                            ", ", p.hi, ")\n");
  }
  // Names and shapes let a program save trained parameters in a file that
  // `nyxc --weights` reads.
  extras.macros =
      strCat("#define ", N, "_NUM_PARAMS ", spec.params.size(), "\n#define ", N,
             "_PARAM_BYTES {", strJoin(bytes, ", "), "}\n#define ", N,
             "_PARAM_NAMES {", strJoin(names, ", "), "}\n#define ", N,
             "_PARAM_RANKS {", strJoin(ranks, ", "), "}\n#define ", N,
             "_PARAM_SHAPES {", strJoin(shapes, ", "), "}\n\n");
  extras.declarations =
      strCat("/* Fills the parameters with their initial values; the same seed "
             "gives the same\n * values on every machine. */\n",
             "int ", n, "_init_params(", strJoin(args, ", "), ");\n", "int ", n,
             "_init_params_packed(uint64_t seed, void **params);\n\n");
  return extras;
}

// The plan with each kernel replaced by its GPU launches run in order.
absl::StatusOr<ModelPlan> planEmulatedGpuModel(const EntryPoint &e) {
  kernel::GpuForm gpuForm;
  auto plan = planModel(*e.module, *e.function, *e.weights, e.options);
  if (!plan.ok())
    return plan.status();
  for (KernelCall &call : plan->calls) {
    auto launches = kernel::mapToGpu(call.kernel);
    if (!launches.ok())
      return launches.status();
    call.kernel = kernel::runLaunchesInOrder(call.kernel, *launches);
  }
  return plan;
}

} // namespace

absl::StatusOr<std::string> CompiledModel::ptx() const {
  return absl::InvalidArgumentError(
      "PTX is made for the cuda-* targets only; expected --target=cuda-sm80, "
      "cuda-sm90 or cuda-sm90a");
}

absl::StatusOr<std::string> CompiledModel::cudaAssembly() const {
  return ptx().status();
}

absl::StatusOr<std::unique_ptr<CompiledModel>>
compileModel(const ir::Module &module, const ir::Function &entry,
             const ir::WeightMap &weights, const Options &options) {
  ObjectSpec spec{
      options.modelName, {{&module, &entry, &weights, options}}, {}};
  return compileObject(spec);
}

absl::StatusOr<std::unique_ptr<CompiledModel>>
compileObject(const ObjectSpec &spec) {
  if (spec.entries.empty())
    return absl::InvalidArgumentError("an object needs an entry point");
  const Options &first = spec.entries[0].options;
  if (first.optLevel < 0 || first.optLevel > 3)
    return absl::InvalidArgumentError(
        strCat("optimization level ", first.optLevel, "; expected 0 to 3"));
  if (cuda::isCudaTarget(first.target))
    return cuda::compileCudaObject(spec);
  auto target = cpu::resolveTarget(first.target);
  if (!target.ok())
    return target.status();
  std::vector<ModelPlan> plans;
  for (const EntryPoint &e : spec.entries) {
    auto plan = e.options.emulateGpu
                    ? planEmulatedGpuModel(e)
                    : planModel(*e.module, *e.function, *e.weights, e.options);
    if (!plan.ok())
      return plan.status();
    plans.push_back(std::move(*plan));
  }
  auto tm = cpu::createTargetMachine(*target, first.optLevel);
  if (!tm.ok())
    return tm.status();

  auto ctx = std::make_unique<llvm::LLVMContext>();
  llvm::DataLayout layout = (*tm)->createDataLayout();
  std::unique_ptr<llvm::Module> llvmModule;
  for (size_t i = 0; i < plans.size(); ++i) {
    auto part = cpu::buildModelModule(plans[i], *ctx, *target, layout,
                                      spec.entries[i].options.instrument);
    if (!llvmModule) {
      llvmModule = std::move(part);
      continue;
    }
    // Kernels are internal: the linker renames any that share a name.
    if (llvm::Linker::linkModules(*llvmModule, std::move(part)))
      return absl::InternalError(
          strCat("linking entry point ", plans[i].runName, " failed"));
  }
  if (!spec.params.empty())
    cpu::emitInitParams(*llvmModule, spec.name, spec.params, *target);
  if (auto s = cpu::optimizeModule(*llvmModule, **tm, first.optLevel); !s.ok())
    return s;

  std::string kernels;
  std::vector<const ModelPlan *> planPointers;
  for (const ModelPlan &plan : plans) {
    planPointers.push_back(&plan);
    for (const KernelCall &call : plan.calls)
      kernels += kernel::print(call.kernel);
  }
  std::string header =
      spec.entries.size() == 1 && spec.params.empty()
          ? emitHeader(plans[0])
          : emitHeader(spec.name, planPointers, initParamsHeader(spec));
  return std::make_unique<CpuCompiledModel>(
      std::move(ctx), std::move(llvmModule), std::move(*tm), std::move(header),
      std::move(kernels));
}

} // namespace nyx::codegen
