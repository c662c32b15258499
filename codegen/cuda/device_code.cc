#include "codegen/cuda/device_code.h"

#include <cctype>
#include <cstdlib>

#include "codegen/cpu/llvm_pipeline.h"
#include "codegen/llvm/kernel_emitter.h"
#include "ir/strings.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/IntrinsicsNVPTX.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Metadata.h"
#include "llvm/IR/Module.h"
#include "llvm/Linker/Linker.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"

namespace nyx::codegen::cuda {
namespace {

constexpr unsigned kGlobalAddressSpace = 1;

void annotate(llvm::Module &module, llvm::Function *fn, const char *key,
              int value) {
  llvm::LLVMContext &ctx = module.getContext();
  llvm::Metadata *md[] = {llvm::ValueAsMetadata::get(fn),
                          llvm::MDString::get(ctx, key),
                          llvm::ConstantAsMetadata::get(llvm::ConstantInt::get(
                              llvm::Type::getInt32Ty(ctx), value))};
  module.getOrInsertNamedMetadata("nvvm.annotations")
      ->addOperand(llvm::MDNode::get(ctx, md));
}

// blockIdx.x * blockDim.x + threadIdx.x, as i64.
llvm::Value *globalThreadIndex(llvm::IRBuilder<> &b) {
  auto read = [&](llvm::Intrinsic::ID id) {
    return b.CreateZExt(b.CreateIntrinsic(id, {}, {}), b.getInt64Ty());
  };
  return b.CreateAdd(
      b.CreateMul(read(llvm::Intrinsic::nvvm_read_ptx_sreg_ctaid_x),
                  read(llvm::Intrinsic::nvvm_read_ptx_sreg_ntid_x), "", true,
                  true),
      read(llvm::Intrinsic::nvvm_read_ptx_sreg_tid_x), "thread", true, true);
}

llvm::Function *emitLaunch(const kernel::GpuLaunch &launch,
                           llvm::Module &module, const std::string &name) {
  llvm::LLVMContext &ctx = module.getContext();
  const kernel::Kernel &k = launch.kernel;
  const size_t n = k.numParams();
  std::vector<llvm::Type *> params(
      n, llvm::PointerType::get(ctx, kGlobalAddressSpace));
  llvm::Function *fn = llvm::Function::Create(
      llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), params, false),
      llvm::GlobalValue::ExternalLinkage, name, module);
  fn->setCallingConv(llvm::CallingConv::PTX_Kernel);
  fn->addFnAttr(llvm::Attribute::NoUnwind);
  // Pointers of one memory are shared through sameMemoryAs, so arguments
  // never alias; read-only ones may use the non-coherent cache.
  std::vector<bool> written(n, false);
  for (size_t i = 0; i < n; ++i)
    if (k.buffers[i].isOutput)
      written[k.buffers[i].sameMemoryAs >= 0 ? k.buffers[i].sameMemoryAs : i] =
          true;
  for (size_t i = 0; i < n; ++i) {
    llvm::Argument *arg = fn->getArg(i);
    arg->setName(k.buffers[i].name);
    arg->addAttr(llvm::Attribute::NoAlias);
    arg->addAttr(llvm::Attribute::NoCapture);
    if (!written[i])
      arg->addAttr(llvm::Attribute::ReadOnly);
  }

  // The thread index is computed in a block of its own, then moved to the
  // top of the body's entry block.
  llvm::BasicBlock *prologue = llvm::BasicBlock::Create(ctx, "thread", fn);
  llvm::IRBuilder<> b(prologue);
  llvm::Value *thread = globalThreadIndex(b);
  llvmir::KernelBodyOptions options;
  options.math = llvmir::MathLibrary::Libdevice;
  options.boundVars = {{launch.thread, thread}};
  llvmir::emitKernelBody(k, *fn, options);
  llvm::BasicBlock *entry = &*std::next(fn->begin());
  entry->splice(entry->begin(), prologue);
  prologue->eraseFromParent();
  return fn;
}

// `name` with every character PTX does not allow in an identifier (kernel
// functions may be named `@layer.0` in the IR) made '_'.
std::string ptxIdentifier(const std::string &name) {
  std::string id = name;
  for (char &c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '$')
      c = '_';
  return id;
}

// Links CUDA's libdevice when a kernel calls one of its functions.
absl::Status linkLibdevice(llvm::Module &module) {
  std::vector<std::string> needed;
  for (const llvm::Function &f : module)
    if (f.isDeclaration() && f.getName().starts_with("__nv_"))
      needed.push_back(f.getName().str());
  if (needed.empty())
    return absl::OkStatus();
  std::string path =
      strCat(cudaToolkitPath(), "/nvvm/libdevice/libdevice.10.bc");
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return absl::NotFoundError(
        strCat("the GPU kernels call ", needed[0],
               " from CUDA's libdevice, which is not at ", path,
               "; expected the CUDA toolkit there or under $NYX_CUDA_PATH"));
  auto lib =
      llvm::parseBitcodeFile((*buffer)->getMemBufferRef(), module.getContext());
  if (!lib) {
    std::string message = llvm::toString(lib.takeError());
    return absl::InvalidArgumentError(
        strCat("cannot read ", path, ": ", message));
  }
  (*lib)->setTargetTriple(module.getTargetTriple());
  (*lib)->setDataLayout(module.getDataLayout());
  if (llvm::Linker::linkModules(module, std::move(*lib),
                                llvm::Linker::Flags::LinkOnlyNeeded))
    return absl::InternalError(strCat("linking ", path, " failed"));
  // Denormals are kept (IEEE results, like the CPU backend); libdevice
  // reads this flag through NVVMReflect.
  module.addModuleFlag(llvm::Module::Override, "nvvm-reflect-ftz", uint32_t{0});
  for (llvm::Function &f : module)
    if (!f.isDeclaration() &&
        f.getCallingConv() != llvm::CallingConv::PTX_Kernel)
      f.setLinkage(llvm::GlobalValue::InternalLinkage);
  return absl::OkStatus();
}

} // namespace

std::string cudaToolkitPath() {
  const char *env = std::getenv("NYX_CUDA_PATH");
  return env && *env ? env : "/usr/local/cuda";
}

absl::StatusOr<DeviceCode>
compileDeviceCode(const std::string &moduleName,
                  const std::vector<const Launch *> &launches,
                  const CudaTarget &target, int optLevel) {
  auto tm = createCudaTargetMachine(target, optLevel);
  if (!tm.ok())
    return tm.status();
  llvm::LLVMContext ctx;
  llvm::Module module(moduleName + ".device", ctx);
  module.setTargetTriple(kNvptxTriple);
  module.setDataLayout((*tm)->createDataLayout());
  DeviceCode code;
  for (const Launch *launch : launches) {
    // LLVM renames a function whose name is taken; the table keeps the
    // name it got.
    std::string name = ptxIdentifier(launch->name());
    llvm::Function *fn =
        std::holds_alternative<kernel::GpuLaunch>(launch->code)
            ? emitLaunch(std::get<kernel::GpuLaunch>(launch->code), module,
                         name)
            : emitMmaGemm(std::get<MmaGemm>(launch->code), module, name);
    annotate(module, fn, "kernel", 1);
    annotate(module, fn, "maxntidx", static_cast<int>(launch->blockSize()));
    code.kernelNames.push_back(fn->getName().str());
  }
  if (auto s = linkLibdevice(module); !s.ok())
    return s;
  if (auto s = cpu::optimizeModule(module, **tm, optLevel); !s.ok())
    return s;
  llvm::raw_string_ostream os(code.llvmIR);
  module.print(os, nullptr);
  auto ptx =
      cpu::emitMachineCode(module, **tm, llvm::CodeGenFileType::AssemblyFile);
  if (!ptx.ok())
    return ptx.status();
  code.ptx = std::move(*ptx);
  return code;
}

} // namespace nyx::codegen::cuda
