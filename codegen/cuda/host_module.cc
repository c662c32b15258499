#include "codegen/cuda/host_module.h"

#include <algorithm>
#include <cstring>

#include "ir/strings.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"

namespace nyx::codegen::cuda {
namespace {

// Status codes of nyx/runtime.h used by the generated entry points.
constexpr int kOk = 0;
constexpr int kInvalidArgument = 1;

// How nyx_cuda_run_host moves a host buffer (nyx/cuda.h).
constexpr uint8_t kCopyIn = 1, kCopyOut = 2;

constexpr uint64_t kConstantAlign = 256;

class HostModuleBuilder {
public:
  HostModuleBuilder(const ModelPlan &plan,
                    const std::vector<std::vector<Launch>> &launches,
                    const std::vector<DeviceImage> &images,
                    llvm::LLVMContext &ctx)
      : plan_(plan), launches_(launches), images_(images), ctx_(ctx),
        module_(std::make_unique<llvm::Module>(plan.name, ctx)),
        ptrTy_(llvm::PointerType::getUnqual(ctx)),
        i64Ty_(llvm::Type::getInt64Ty(ctx)),
        i32Ty_(llvm::Type::getInt32Ty(ctx)) {}

  std::unique_ptr<llvm::Module> build(const llvm::DataLayout &layout,
                                      const std::string &triple) {
    module_->setTargetTriple(triple);
    module_->setDataLayout(layout);
    emitImages();
    emitDeviceConstants();
    llvm::Function *run = emitRunCuda();
    llvm::Function *packed = emitPacked(run, plan_.runName + "_cuda_packed",
                                        /*withStream=*/true);
    llvm::Function *hostRun = emitHostRun(packed);
    emitPacked(hostRun, plan_.runName + "_packed", /*withStream=*/false);
    exportSize(plan_.name + "_arena_bytes", plan_.arenaBytes);
    exportSize(plan_.name + "_weights_bytes", plan_.weightsBytes);
    return std::move(module_);
  }

private:
  llvm::GlobalVariable *constantGlobal(const std::string &name,
                                       llvm::Constant *init, uint64_t align) {
    auto *g =
        new llvm::GlobalVariable(*module_, init->getType(), true,
                                 llvm::GlobalValue::PrivateLinkage, init, name);
    g->setAlignment(llvm::Align(align));
    return g;
  }

  llvm::GlobalVariable *slot(const std::string &name) {
    return new llvm::GlobalVariable(
        *module_, ptrTy_, false, llvm::GlobalValue::InternalLinkage,
        llvm::ConstantPointerNull::get(ptrTy_), name);
  }

  llvm::Constant *bytes(const std::string &data) {
    return llvm::ConstantDataArray::get(
        ctx_, llvm::ArrayRef<uint8_t>(
                  reinterpret_cast<const uint8_t *>(data.data()), data.size()));
  }

  // Per image: its PTX, cubin, kernel names and the slot of its loaded
  // module.
  struct ImageGlobals {
    llvm::Constant *ptx, *cubin, *names;
    llvm::GlobalVariable *slot;
    uint64_t cubinBytes;
    int numKernels;
  };

  void emitImages() {
    llvm::IRBuilder<> b(ctx_);
    for (size_t i = 0; i < images_.size(); ++i) {
      const DeviceImage &image = images_[i];
      std::string prefix = strCat(plan_.name, ".image", i);
      ImageGlobals g;
      g.ptx = constantGlobal(
          prefix + ".ptx", llvm::ConstantDataArray::getString(ctx_, image.ptx),
          1);
      g.cubin = image.cubin.empty()
                    ? static_cast<llvm::Constant *>(
                          llvm::ConstantPointerNull::get(ptrTy_))
                    : constantGlobal(prefix + ".cubin", bytes(image.cubin), 8);
      g.cubinBytes = image.cubin.size();
      std::vector<llvm::Constant *> names;
      for (const std::string &n : image.kernelNames)
        names.push_back(
            b.CreateGlobalString(n, prefix + ".kernel", 0, module_.get()));
      auto *arrayTy = llvm::ArrayType::get(ptrTy_, names.size());
      g.names = constantGlobal(prefix + ".kernel_names",
                               llvm::ConstantArray::get(arrayTy, names), 8);
      g.numKernels = static_cast<int>(names.size());
      g.slot = slot(prefix + ".module");
      imageGlobals_.push_back(g);
    }
  }

  // Weights then constants in one block, copied to the device on the first
  // run.
  void emitDeviceConstants() {
    uint64_t size = plan_.weightsBytes;
    for (const auto &c : plan_.constants) {
      size = (size + kConstantAlign - 1) / kConstantAlign * kConstantAlign;
      constantOffsets_.push_back(size);
      size += c->byteSize();
    }
    constantsBytes_ = size;
    std::string blob(size, '\0');
    for (const WeightSlot &w : plan_.weights)
      std::memcpy(blob.data() + w.offset, w.data->bytes(), w.data->byteSize());
    for (size_t i = 0; i < plan_.constants.size(); ++i)
      std::memcpy(blob.data() + constantOffsets_[i],
                  plan_.constants[i]->bytes(), plan_.constants[i]->byteSize());
    constants_ = constantGlobal(plan_.name + ".constants", bytes(blob), 64);
    constantsSlot_ = slot(plan_.name + ".device_constants");
  }

  void exportSize(const std::string &name, uint64_t value) {
    new llvm::GlobalVariable(*module_, i64Ty_, true,
                             llvm::GlobalValue::ExternalLinkage,
                             llvm::ConstantInt::get(i64Ty_, value), name);
  }

  llvm::Function *newFunction(const std::string &name,
                              std::vector<llvm::Type *> params) {
    auto *fn = llvm::Function::Create(
        llvm::FunctionType::get(i32Ty_, params, false),
        llvm::GlobalValue::ExternalLinkage, name, *module_);
    fn->addFnAttr(llvm::Attribute::NoUnwind);
    return fn;
  }

  llvm::FunctionCallee runtime(const char *name, llvm::Type *result,
                               std::vector<llvm::Type *> params) {
    return module_->getOrInsertFunction(
        name, llvm::FunctionType::get(result, params, false));
  }

  // Returns `status` from the function when it is not NYX_OK.
  void returnIfFailed(llvm::IRBuilder<> &b, llvm::Value *status) {
    llvm::Function *fn = b.GetInsertBlock()->getParent();
    auto *fail = llvm::BasicBlock::Create(ctx_, "fail", fn);
    auto *next = llvm::BasicBlock::Create(ctx_, "ok", fn);
    b.CreateCondBr(b.CreateICmpNE(status, b.getInt32(kOk)), fail, next);
    b.SetInsertPoint(fail);
    b.CreateRet(status);
    b.SetInsertPoint(next);
  }

  void nameArgs(llvm::Function *fn) {
    std::vector<int> outputArg = outputArguments(plan_);
    for (size_t i = 0; i < plan_.inputs.size(); ++i)
      fn->getArg(i)->setName(plan_.inputs[i].paramName);
    for (size_t i = 0; i < plan_.outputs.size(); ++i)
      if (plan_.outputs[i].inputAlias < 0)
        fn->getArg(outputArg[i])->setName(plan_.outputs[i].paramName);
  }

  llvm::Function *emitRunCuda() {
    const size_t n = runArgumentCount(plan_);
    std::vector<llvm::Type *> params(n + 2, ptrTy_);
    llvm::Function *fn = newFunction(plan_.runName + "_cuda", params);
    nameArgs(fn);
    llvm::Argument *arena = fn->getArg(n);
    arena->setName("device_arena");
    fn->getArg(n + 1)->setName("stream");
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx_, "entry", fn));
    auto failIf = [&](llvm::Value *cond) {
      returnIfFailed(b, b.CreateSelect(cond, b.getInt32(kInvalidArgument),
                                       b.getInt32(kOk)));
    };
    for (size_t i = 0; i < n; ++i)
      failIf(b.CreateIsNull(fn->getArg(i)));
    if (plan_.arenaBytes > 0)
      failIf(b.CreateIsNull(arena));

    llvm::FunctionCallee moduleGet =
        runtime("nyx_cuda_module_get", i32Ty_,
                {ptrTy_, ptrTy_, ptrTy_, i64Ty_, ptrTy_, i32Ty_});
    std::vector<llvm::Value *> modules;
    for (const ImageGlobals &g : imageGlobals_) {
      returnIfFailed(b,
                     b.CreateCall(moduleGet, {g.slot, g.ptx, g.cubin,
                                              b.getInt64(g.cubinBytes), g.names,
                                              b.getInt32(g.numKernels)}));
      modules.push_back(b.CreateLoad(ptrTy_, g.slot, "module"));
    }
    returnIfFailed(b, b.CreateCall(runtime("nyx_cuda_upload_once", i32Ty_,
                                           {ptrTy_, ptrTy_, i64Ty_}),
                                   {constantsSlot_, constants_,
                                    b.getInt64(constantsBytes_)}));
    llvm::Value *deviceConstants =
        b.CreateLoad(ptrTy_, constantsSlot_, "constants");

    std::vector<int> outputArg = outputArguments(plan_);
    auto pointerTo = [&](const ir::Value *v) -> llvm::Value * {
      const Location &loc = plan_.locations.at(v);
      switch (loc.kind) {
      case Location::Kind::Input:
        return fn->getArg(loc.index);
      case Location::Kind::Output:
        return fn->getArg(outputArg[loc.index]);
      case Location::Kind::Weight:
        return b.CreateGEP(b.getInt8Ty(), deviceConstants,
                           b.getInt64(loc.offset));
      case Location::Kind::Constant:
        return b.CreateGEP(b.getInt8Ty(), deviceConstants,
                           b.getInt64(constantOffsets_[loc.index]));
      case Location::Kind::Arena:
        return b.CreateGEP(b.getInt8Ty(), arena, b.getInt64(loc.offset));
      }
      return nullptr;
    };

    llvm::FunctionCallee launch =
        runtime("nyx_cuda_launch", i32Ty_,
                {ptrTy_, i32Ty_, i32Ty_, i32Ty_, i32Ty_, ptrTy_, ptrTy_});
    // Generated kernels are numbered in order in image 0; each custom_cuda
    // kernel is alone in the next image.
    int generated = 0, custom = 0;
    // cuLaunchKernel takes the address of each argument's value: one pair
    // of arrays in the entry block serves every launch.
    size_t most = 1;
    for (const KernelCall &call : plan_.calls)
      most = std::max(most, call.kernel.numParams());
    auto *arrayTy = llvm::ArrayType::get(ptrTy_, most);
    llvm::IRBuilder<> entry(&fn->getEntryBlock(), fn->getEntryBlock().begin());
    llvm::Value *values = entry.CreateAlloca(arrayTy, nullptr, "values");
    llvm::Value *args = entry.CreateAlloca(arrayTy, nullptr, "args");
    for (size_t k = 0; k < plan_.calls.size(); ++k) {
      const KernelCall &call = plan_.calls[k];
      for (size_t i = 0; i < call.kernel.numParams(); ++i) {
        llvm::Value *value =
            b.CreateConstInBoundsGEP2_64(arrayTy, values, 0, i);
        b.CreateStore(pointerTo(call.buffers[i]), value);
        b.CreateStore(value, b.CreateConstInBoundsGEP2_64(arrayTy, args, 0, i));
      }
      for (const Launch &l : launches_[k]) {
        llvm::Value *module = l.generated() ? modules[0] : modules[++custom];
        llvm::Value *index = b.getInt32(l.generated() ? generated++ : 0);
        // An empty grid (a result with no elements) has nothing to run.
        if (l.blocks() == 0)
          continue;
        returnIfFailed(
            b, b.CreateCall(launch,
                            {module, index,
                             b.getInt32(static_cast<uint32_t>(l.blocks())),
                             b.getInt32(static_cast<uint32_t>(l.blockSize())),
                             b.getInt32(0), args, fn->getArg(n + 1)}));
      }
    }
    llvm::FunctionCallee copy = runtime("nyx_cuda_copy_device", i32Ty_,
                                        {ptrTy_, ptrTy_, i64Ty_, ptrTy_});
    for (const OutputCopy &c : plan_.copies) {
      uint64_t size = plan_.outputs[c.output].type.byteSize();
      if (size > 0)
        returnIfFailed(
            b, b.CreateCall(copy, {fn->getArg(outputArg[c.output]),
                                   pointerTo(c.source), b.getInt64(size),
                                   fn->getArg(n + 1)}));
    }
    b.CreateRet(b.getInt32(kOk));
    return fn;
  }

  // `name(void **buffers, void *arena[, nyx_stream *stream])` calling `run`
  // with the buffers unpacked.
  llvm::Function *emitPacked(llvm::Function *run, const std::string &name,
                             bool withStream) {
    std::vector<llvm::Type *> params(withStream ? 3 : 2, ptrTy_);
    llvm::Function *fn = newFunction(name, params);
    fn->getArg(0)->setName("buffers");
    fn->getArg(1)->setName("arena");
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx_, "entry", fn));
    const size_t n = runArgumentCount(plan_);
    if (n > 0)
      returnIfFailed(b, b.CreateSelect(b.CreateIsNull(fn->getArg(0)),
                                       b.getInt32(kInvalidArgument),
                                       b.getInt32(kOk)));
    std::vector<llvm::Value *> args;
    for (size_t i = 0; i < n; ++i)
      args.push_back(b.CreateLoad(
          ptrTy_, b.CreateConstInBoundsGEP1_64(ptrTy_, fn->getArg(0), i)));
    args.push_back(fn->getArg(1));
    if (withStream)
      args.push_back(fn->getArg(2));
    b.CreateRet(b.CreateCall(run, args));
    return fn;
  }

  // The run on host buffers: nyx_cuda_run_host copies them to device
  // memory, calls <run>_cuda_packed and copies the results back.
  llvm::Function *emitHostRun(llvm::Function *packed) {
    const size_t n = runArgumentCount(plan_);
    std::vector<llvm::Type *> params(n + 1, ptrTy_);
    llvm::Function *fn = newFunction(plan_.runName, params);
    nameArgs(fn);
    fn->getArg(n)->setName("arena");
    std::vector<uint64_t> sizes(n);
    std::vector<uint8_t> directions(n, 0);
    for (size_t i = 0; i < plan_.inputs.size(); ++i) {
      sizes[i] = plan_.inputs[i].type.byteSize();
      directions[i] = kCopyIn;
    }
    std::vector<int> outputArg = outputArguments(plan_);
    for (size_t i = 0; i < plan_.outputs.size(); ++i) {
      sizes[outputArg[i]] = plan_.outputs[i].type.byteSize();
      directions[outputArg[i]] |= kCopyOut;
    }
    llvm::GlobalVariable *sizeTable =
        constantGlobal(plan_.name + ".buffer_bytes",
                       llvm::ConstantDataArray::get(ctx_, sizes), 8);
    llvm::GlobalVariable *directionTable =
        constantGlobal(plan_.name + ".buffer_directions",
                       llvm::ConstantDataArray::get(ctx_, directions), 1);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx_, "entry", fn));
    auto *arrayTy = llvm::ArrayType::get(ptrTy_, std::max<size_t>(n, 1));
    llvm::Value *buffers = b.CreateAlloca(arrayTy, nullptr, "buffers");
    for (size_t i = 0; i < n; ++i)
      b.CreateStore(fn->getArg(i),
                    b.CreateConstInBoundsGEP2_64(arrayTy, buffers, 0, i));
    llvm::FunctionCallee runHost =
        runtime("nyx_cuda_run_host", i32Ty_,
                {ptrTy_, ptrTy_, ptrTy_, ptrTy_, i32Ty_, i64Ty_});
    b.CreateRet(
        b.CreateCall(runHost, {packed, buffers, sizeTable, directionTable,
                               b.getInt32(n), b.getInt64(plan_.arenaBytes)}));
    return fn;
  }

  const ModelPlan &plan_;
  const std::vector<std::vector<Launch>> &launches_;
  const std::vector<DeviceImage> &images_;
  std::vector<ImageGlobals> imageGlobals_;
  llvm::LLVMContext &ctx_;
  std::unique_ptr<llvm::Module> module_;
  llvm::PointerType *ptrTy_;
  llvm::IntegerType *i64Ty_, *i32Ty_;
  llvm::GlobalVariable *constants_ = nullptr, *constantsSlot_ = nullptr;
  std::vector<uint64_t> constantOffsets_;
  uint64_t constantsBytes_ = 0;
};

} // namespace

std::unique_ptr<llvm::Module>
buildHostModule(const ModelPlan &plan,
                const std::vector<std::vector<Launch>> &launches,
                const std::vector<DeviceImage> &images, llvm::LLVMContext &ctx,
                const llvm::DataLayout &layout, const std::string &triple) {
  return HostModuleBuilder(plan, launches, images, ctx).build(layout, triple);
}

} // namespace nyx::codegen::cuda
