// Plans the model as for the CPU, maps each kernel onto GPU launches,
// compiles the launches to PTX (and a cubin when ptxas is installed) and
// builds the host module that embeds them and launches the kernels.
#include "codegen/cuda/compile_cuda.h"

#include "codegen/cpu/llvm_pipeline.h"
#include "codegen/cpu/target.h"
#include "codegen/cuda/cuda_tools.h"
#include "codegen/cuda/device_code.h"
#include "codegen/cuda/host_module.h"
#include "codegen/cuda/target.h"
#include "codegen/emit/header.h"
#include "codegen/kernel/lowering.h"
#include "ir/diagnostic.h"
#include "ir/strings.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"

namespace nyx::codegen::cuda {
namespace {

class CudaCompiledModel : public CompiledModel {
public:
  CudaCompiledModel(std::unique_ptr<llvm::LLVMContext> ctx,
                    std::unique_ptr<llvm::Module> host,
                    std::unique_ptr<llvm::TargetMachine> tm,
                    std::string deviceIR, std::vector<DeviceImage> images,
                    std::string header, std::string kernels)
      : ctx_(std::move(ctx)), host_(std::move(host)), tm_(std::move(tm)),
        deviceIR_(std::move(deviceIR)), images_(std::move(images)),
        header_(std::move(header)), kernels_(std::move(kernels)) {}
  ~CudaCompiledModel() override { host_.reset(); }

  // The device module, then the host module.
  std::string llvmIR() const override {
    std::string text = deviceIR_;
    llvm::raw_string_ostream os(text);
    host_->print(os, nullptr);
    return os.str();
  }
  absl::StatusOr<std::string> assembly() const override {
    return cpu::emitMachineCode(*host_, *tm_,
                                llvm::CodeGenFileType::AssemblyFile);
  }
  absl::StatusOr<std::string> object() const override {
    return cpu::emitMachineCode(*host_, *tm_,
                                llvm::CodeGenFileType::ObjectFile);
  }
  std::string header() const override { return header_; }
  std::string kernels() const override { return kernels_; }
  // Nyx's kernels, then each custom_cuda kernel's module.
  absl::StatusOr<std::string> ptx() const override {
    std::string text = images_[0].ptx;
    for (size_t i = 1; i < images_.size(); ++i)
      text += strCat("\n// custom_cuda kernel ", images_[i].kernelNames[0],
                     " (NVRTC)\n", images_[i].ptx);
    return text;
  }
  absl::StatusOr<std::string> cudaAssembly() const override {
    std::string text;
    for (const DeviceImage &image : images_) {
      if (image.cubin.empty())
        return absl::NotFoundError(strCat("no cubin: ptxas not found under ",
                                          cudaToolkitPath(),
                                          "/bin; --emit=cuda-asm needs it"));
      auto sass = disassembleCubin(image.cubin);
      if (!sass.ok())
        return sass.status();
      text += *sass;
    }
    return text;
  }

private:
  std::unique_ptr<llvm::LLVMContext> ctx_;
  std::unique_ptr<llvm::Module> host_;
  std::unique_ptr<llvm::TargetMachine> tm_;
  std::string deviceIR_;
  std::vector<DeviceImage> images_;
  std::string header_, kernels_;
};

// The launches of each kernel call, and their printed form for
// --emit=kernel.
absl::StatusOr<std::vector<std::vector<Launch>>>
launchesOf(const ModelPlan &plan, const ir::Module &module,
           const CudaTarget &target, std::string &printed) {
  std::vector<std::vector<Launch>> launches;
  for (const KernelCall &call : plan.calls) {
    std::vector<Launch> &list = launches.emplace_back();
    if (call.op->name() == "custom_cuda") {
      auto custom = compileCustomKernel(*call.op, target);
      if (!custom.ok())
        return ir::errorAt(module.filename, call.op->loc,
                           std::string(custom.status().message()));
      printed += strCat("// launch ", custom->kernel, ": ", custom->grid, " x ",
                        custom->block, " threads, custom_cuda\n");
      list.push_back({std::move(*custom)});
      continue;
    }
    if (auto gemm = mmaGemmOf(*call.op, call.kernel.name)) {
      printed += strCat("// launch ", gemm->name, ": ", gemm->blocks(), " x ",
                        MmaGemm::kThreads,
                        " threads, tensor-core GEMM (mma.sync m16n8k16) of ",
                        call.op->result(0)->type.str(), "\n");
      list.push_back({*gemm});
      continue;
    }
    auto mapped = kernel::mapToGpu(call.kernel);
    if (!mapped.ok())
      return mapped.status();
    for (kernel::GpuLaunch &l : *mapped) {
      printed += strCat("// launch ", l.kernel.name, ": ", l.blocks(), " x ",
                        l.blockSize, " threads\n", kernel::print(l.kernel));
      list.push_back({std::move(l)});
    }
  }
  return launches;
}

// With ptxas the object carries a cubin the driver loads as is, and the
// PTX has been checked; without, the driver compiles the PTX at load.
absl::StatusOr<DeviceImage> imageOf(std::string ptx,
                                    std::vector<std::string> kernelNames,
                                    const CudaTarget &target,
                                    std::string_view what) {
  DeviceImage image{std::move(ptx), "", std::move(kernelNames)};
  if (!findCudaTool("ptxas"))
    return image;
  auto cubin = assembleCubin(image.ptx, target.arch);
  if (!cubin.ok())
    return absl::InternalError(strCat(
        "the PTX of ", what, " does not assemble: ", cubin.status().message()));
  image.cubin = std::move(*cubin);
  return image;
}

// The declarations of the device-pointer entry points.
HeaderExtras cudaHeader(const ModelPlan &plan) {
  HeaderExtras extras;
  extras.comment = strCat(
      " * ", plan.runName, "_cuda takes device pointers and a device arena of ",
      "_ARENA_BYTES\n * and enqueues the kernels on `stream` (NULL: the "
      "default stream); ",
      plan.runName,
      "\n * takes host buffers, copies "
      "them to the GPU and back, and ignores its arena.\n");
  std::string runCuda = runPrototype(plan);
  // "int m_run(..., void *arena)" -> "int m_run_cuda(..., void
  // *device_arena, nyx_stream *stream)".
  runCuda.replace(runCuda.find(plan.runName + "("), plan.runName.size(),
                  plan.runName + "_cuda");
  runCuda.replace(runCuda.rfind("void *arena"), 11,
                  "void *device_arena, nyx_stream *stream");
  extras.declarations =
      strCat("#include <nyx/cuda.h>\n\n", runCuda, ";\nint ", plan.runName,
             "_cuda_packed(void **buffers, void *device_arena, nyx_stream "
             "*stream);\n\n");
  return extras;
}

} // namespace

absl::StatusOr<std::unique_ptr<CompiledModel>>
compileCudaObject(const ObjectSpec &spec) {
  if (spec.entries.size() != 1 || !spec.params.empty())
    return absl::UnimplementedError(
        strCat("target '", spec.entries.at(0).options.target,
               "' compiles one entry point; training objects (--train) are "
               "CPU only so far"));
  const EntryPoint &entry = spec.entries[0];
  const Options &options = entry.options;
  if (options.externalWeights)
    return absl::UnimplementedError(
        strCat("target '", options.target,
               "' embeds the weights; --weights=external is CPU only so far"));
  if (options.instrument)
    return absl::UnimplementedError(strCat(
        "target '", options.target, "' has no --instrument; it is CPU only"));
  auto target = resolveCudaTarget(options.target);
  if (!target.ok())
    return target.status();

  absl::StatusOr<ModelPlan> plan = [&] {
    kernel::GpuForm gpuForm;
    return planModel(*entry.module, *entry.function, *entry.weights, options);
  }();
  if (!plan.ok())
    return plan.status();
  std::string kernels;
  auto launches = launchesOf(*plan, *entry.module, *target, kernels);
  if (!launches.ok())
    return launches.status();
  std::vector<const Launch *> generated;
  for (const auto &list : *launches)
    for (const Launch &l : list)
      if (l.generated())
        generated.push_back(&l);
  auto device =
      compileDeviceCode(plan->name, generated, *target, options.optLevel);
  if (!device.ok())
    return device.status();
  std::vector<DeviceImage> images;
  auto image = imageOf(device->ptx, device->kernelNames, *target,
                       "the generated kernels");
  if (!image.ok())
    return image.status();
  images.push_back(std::move(*image));
  for (const auto &list : *launches)
    for (const Launch &l : list)
      if (auto *custom = std::get_if<CustomKernel>(&l.code)) {
        auto customImage =
            imageOf(custom->ptx, {custom->kernel}, *target,
                    strCat("custom_cuda kernel ", custom->kernel));
        if (!customImage.ok())
          return customImage.status();
        images.push_back(std::move(*customImage));
      }

  cpu::TargetSpec host;
  host.name = "x86-64";
  host.triple = "x86_64-unknown-linux-gnu";
  host.cpu = "x86-64";
  auto tm = cpu::createTargetMachine(host, options.optLevel);
  if (!tm.ok())
    return tm.status();
  auto ctx = std::make_unique<llvm::LLVMContext>();
  auto module = buildHostModule(*plan, *launches, images, *ctx,
                                (*tm)->createDataLayout(), host.triple);
  if (auto s = cpu::optimizeModule(*module, **tm, options.optLevel); !s.ok())
    return s;
  std::string header = emitHeader(plan->name, {&*plan}, cudaHeader(*plan));
  return std::make_unique<CudaCompiledModel>(
      std::move(ctx), std::move(module), std::move(*tm),
      std::move(device->llvmIR), std::move(images), std::move(header),
      std::move(kernels));
}

} // namespace nyx::codegen::cuda
