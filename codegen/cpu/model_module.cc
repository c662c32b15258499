#include "codegen/cpu/model_module.h"

#include "codegen/cpu/kernel_codegen.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"

namespace nyx::codegen::cpu {
namespace {

// Status codes of nyx/runtime.h used by the generated entry points.
constexpr int kOk = 0;
constexpr int kInvalidArgument = 1;
constexpr int kMisaligned = 2;
constexpr int kWeightsNotLoaded = 8;

class ModelModuleBuilder {
public:
  ModelModuleBuilder(const ModelPlan &plan, llvm::LLVMContext &ctx,
                     const TargetSpec &target, const llvm::DataLayout &layout,
                     bool instrument)
      : plan_(plan), ctx_(ctx), target_(target), instrument_(instrument),
        module_(std::make_unique<llvm::Module>(plan.name, ctx)),
        ptrTy_(llvm::PointerType::getUnqual(ctx)),
        i64Ty_(llvm::Type::getInt64Ty(ctx)),
        i32Ty_(llvm::Type::getInt32Ty(ctx)) {
    module_->setTargetTriple(target.triple);
    module_->setDataLayout(layout);
  }

  std::unique_ptr<llvm::Module> build() {
    emitWeights();
    for (size_t i = 0; i < plan_.constants.size(); ++i)
      constants_.push_back(bytesGlobal(
          plan_.name + ".const" + std::to_string(i),
          plan_.constants[i]->bytes(), plan_.constants[i]->byteSize()));
    for (const KernelCall &call : plan_.calls)
      kernels_.push_back(emitKernel(call.kernel, *module_, target_));
    llvm::Function *run = emitRun();
    emitRunPacked(run);
    exportSize(plan_.name + "_arena_bytes", plan_.arenaBytes);
    exportSize(plan_.name + "_weights_bytes", plan_.weightsBytes);
    if (plan_.externalWeights)
      emitWeightLoading();
    return std::move(module_);
  }

private:
  // A private, 64-aligned constant holding `size` bytes.
  llvm::GlobalVariable *bytesGlobal(const std::string &name,
                                    const uint8_t *data, size_t size) {
    auto *init =
        llvm::ConstantDataArray::get(ctx_, llvm::ArrayRef<uint8_t>(data, size));
    auto *g =
        new llvm::GlobalVariable(*module_, init->getType(), true,
                                 llvm::GlobalValue::PrivateLinkage, init, name);
    g->setAlignment(llvm::Align(64));
    g->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
    return g;
  }

  void emitWeights() {
    if (plan_.externalWeights) {
      weightsPtr_ = new llvm::GlobalVariable(
          *module_, ptrTy_, false, llvm::GlobalValue::InternalLinkage,
          llvm::ConstantPointerNull::get(ptrTy_), plan_.name + ".weights_ptr");
      return;
    }
    std::vector<uint8_t> blob(plan_.weightsBytes, 0);
    for (const WeightSlot &w : plan_.weights)
      std::memcpy(blob.data() + w.offset, w.data->bytes(), w.data->byteSize());
    weights_ = bytesGlobal(plan_.name + ".weights", blob.data(), blob.size());
  }

  void exportSize(const std::string &name, uint64_t value) {
    new llvm::GlobalVariable(*module_, i64Ty_, true,
                             llvm::GlobalValue::ExternalLinkage,
                             llvm::ConstantInt::get(i64Ty_, value), name);
  }

  llvm::Function *newFunction(const std::string &name, llvm::Type *result,
                              std::vector<llvm::Type *> params) {
    auto *fn = llvm::Function::Create(
        llvm::FunctionType::get(result, params, false),
        llvm::GlobalValue::ExternalLinkage, name, *module_);
    fn->addFnAttr(llvm::Attribute::NoUnwind);
    setTargetAttributes(*fn, target_);
    return fn;
  }

  // Returns `status` from the function when `failed` holds.
  void returnIf(llvm::IRBuilder<> &b, llvm::Value *failed, int status) {
    llvm::Function *fn = b.GetInsertBlock()->getParent();
    auto *fail = llvm::BasicBlock::Create(ctx_, "fail", fn);
    auto *next = llvm::BasicBlock::Create(ctx_, "ok", fn);
    b.CreateCondBr(failed, fail, next);
    b.SetInsertPoint(fail);
    b.CreateRet(b.getInt32(status));
    b.SetInsertPoint(next);
  }

  llvm::Function *emitRun() {
    size_t nIn = plan_.inputs.size();
    std::vector<int> outputArg = outputArguments(plan_);
    size_t nArgs = runArgumentCount(plan_);
    std::vector<llvm::Type *> params(nArgs + 1, ptrTy_);
    llvm::Function *fn = newFunction(plan_.runName, i32Ty_, params);
    for (size_t i = 0; i < nIn; ++i) {
      fn->getArg(i)->setName(plan_.inputs[i].paramName);
      fn->getArg(i)->addAttr(llvm::Attribute::NoAlias);
      if (!plan_.inputs[i].updated)
        fn->getArg(i)->addAttr(llvm::Attribute::ReadOnly);
    }
    for (size_t i = 0; i < plan_.outputs.size(); ++i) {
      if (plan_.outputs[i].inputAlias >= 0)
        continue;
      fn->getArg(outputArg[i])->setName(plan_.outputs[i].paramName);
      fn->getArg(outputArg[i])->addAttr(llvm::Attribute::NoAlias);
    }
    llvm::Argument *arena = fn->getArg(nArgs);
    arena->setName("arena");
    arena->addAttr(llvm::Attribute::NoAlias);

    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx_, "entry", fn));
    for (size_t i = 0; i < nArgs; ++i)
      returnIf(b, b.CreateIsNull(fn->getArg(i)), kInvalidArgument);
    if (plan_.arenaBytes > 0) {
      returnIf(b, b.CreateIsNull(arena), kInvalidArgument);
      llvm::Value *low =
          b.CreateAnd(b.CreatePtrToInt(arena, i64Ty_), b.getInt64(63));
      returnIf(b, b.CreateIsNotNull(low), kMisaligned);
    }
    llvm::Value *weights = weights_;
    if (plan_.externalWeights) {
      weights = b.CreateLoad(ptrTy_, weightsPtr_, "weights");
      if (!plan_.weights.empty())
        returnIf(b, b.CreateIsNull(weights), kWeightsNotLoaded);
    }

    auto pointerTo = [&](const ir::Value *v) -> llvm::Value * {
      const Location &loc = plan_.locations.at(v);
      switch (loc.kind) {
      case Location::Kind::Input:
        return fn->getArg(loc.index);
      case Location::Kind::Output:
        return fn->getArg(outputArg[loc.index]);
      case Location::Kind::Weight:
        return b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), weights, loc.offset);
      case Location::Kind::Constant:
        return constants_[loc.index];
      case Location::Kind::Arena:
        return b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), arena, loc.offset);
      }
      return nullptr;
    };

    for (size_t k = 0; k < plan_.calls.size(); ++k) {
      std::vector<llvm::Value *> args;
      for (const ir::Value *v : plan_.calls[k].buffers)
        args.push_back(pointerTo(v));
      b.CreateCall(kernels_[k], args);
      if (instrument_)
        emitInstrumentCalls(b, plan_.calls[k], args);
    }
    for (const OutputCopy &copy : plan_.copies) {
      uint64_t bytes = plan_.outputs[copy.output].type.byteSize();
      if (bytes > 0)
        b.CreateMemCpy(fn->getArg(outputArg[copy.output]), llvm::MaybeAlign(1),
                       pointerTo(copy.source), llvm::MaybeAlign(1), bytes);
    }
    b.CreateRet(b.getInt32(kOk));
    return fn;
  }

  // Hands every buffer the kernel wrote to nyx_instrument (nyx/instrument.h)
  // and returns its status from the run when it is not NYX_OK. The names
  // and shapes are private constants of the object.
  void emitInstrumentCalls(llvm::IRBuilder<> &b, const KernelCall &call,
                           const std::vector<llvm::Value *> &buffers) {
    llvm::FunctionCallee instrument = module_->getOrInsertFunction(
        "nyx_instrument",
        llvm::FunctionType::get(
            i32Ty_, {ptrTy_, ptrTy_, ptrTy_, i32Ty_, i32Ty_, ptrTy_}, false));
    llvm::Constant *kernelName = nullptr;
    for (size_t i = 0; i < call.buffers.size(); ++i) {
      if (!call.kernel.buffers[i].isOutput)
        continue;
      if (!kernelName)
        kernelName =
            b.CreateGlobalString(call.kernel.name, plan_.name + ".kernel_name");
      const ir::Value *v = call.buffers[i];
      llvm::Constant *valueName =
          b.CreateGlobalString(v->name, plan_.name + ".value_name");
      llvm::Constant *shape = llvm::ConstantPointerNull::get(ptrTy_);
      if (!v->type.shape.empty()) {
        std::vector<uint64_t> dims(v->type.shape.begin(), v->type.shape.end());
        auto *init = llvm::ConstantDataArray::get(ctx_, dims);
        auto *g = new llvm::GlobalVariable(*module_, init->getType(), true,
                                           llvm::GlobalValue::PrivateLinkage,
                                           init, plan_.name + ".value_shape");
        g->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
        shape = g;
      }
      llvm::Value *status = b.CreateCall(
          instrument, {kernelName, valueName, buffers[i],
                       b.getInt32(static_cast<int>(v->type.dtype)),
                       b.getInt32(static_cast<int>(v->type.rank())), shape});
      llvm::Function *fn = b.GetInsertBlock()->getParent();
      auto *fail = llvm::BasicBlock::Create(ctx_, "instrument_failed", fn);
      auto *next = llvm::BasicBlock::Create(ctx_, "instrumented", fn);
      b.CreateCondBr(b.CreateICmpNE(status, b.getInt32(kOk)), fail, next);
      b.SetInsertPoint(fail);
      b.CreateRet(status);
      b.SetInsertPoint(next);
    }
  }

  void emitRunPacked(llvm::Function *run) {
    llvm::Function *fn =
        newFunction(plan_.runName + "_packed", i32Ty_, {ptrTy_, ptrTy_});
    llvm::Argument *buffers = fn->getArg(0);
    buffers->setName("buffers");
    fn->getArg(1)->setName("arena");
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx_, "entry", fn));
    size_t n = run->arg_size() - 1;
    if (n > 0)
      returnIf(b, b.CreateIsNull(buffers), kInvalidArgument);
    std::vector<llvm::Value *> args;
    for (size_t i = 0; i < n; ++i)
      args.push_back(b.CreateLoad(
          ptrTy_, b.CreateConstInBoundsGEP1_64(ptrTy_, buffers, i)));
    args.push_back(fn->getArg(1));
    b.CreateRet(b.CreateCall(run, args));
  }

  // The nyx_tensor_desc table nyx_load_weights checks the file against.
  llvm::Constant *descriptorTable() {
    auto *descTy =
        llvm::StructType::get(ctx_, {ptrTy_, i32Ty_, i32Ty_, ptrTy_, i64Ty_});
    std::vector<llvm::Constant *> descs;
    for (const WeightSlot &w : plan_.weights) {
      llvm::Constant *name = llvm::IRBuilder<>(ctx_).CreateGlobalString(
          w.name, plan_.name + ".weight_name", 0, module_.get());
      llvm::Constant *shape = llvm::ConstantPointerNull::get(ptrTy_);
      if (!w.type.shape.empty()) {
        std::vector<uint64_t> dims(w.type.shape.begin(), w.type.shape.end());
        auto *init = llvm::ConstantDataArray::get(ctx_, dims);
        shape = new llvm::GlobalVariable(*module_, init->getType(), true,
                                         llvm::GlobalValue::PrivateLinkage,
                                         init, plan_.name + ".weight_shape");
      }
      descs.push_back(llvm::ConstantStruct::get(
          descTy,
          {name, llvm::ConstantInt::get(i32Ty_, static_cast<int>(w.type.dtype)),
           llvm::ConstantInt::get(i32Ty_, w.type.rank()), shape,
           llvm::ConstantInt::get(i64Ty_, w.offset)}));
    }
    auto *arrayTy = llvm::ArrayType::get(descTy, descs.size());
    return new llvm::GlobalVariable(
        *module_, arrayTy, true, llvm::GlobalValue::PrivateLinkage,
        llvm::ConstantArray::get(arrayTy, descs), plan_.name + ".weight_descs");
  }

  void emitWeightLoading() {
    llvm::FunctionCallee load = module_->getOrInsertFunction(
        "nyx_load_weights",
        llvm::FunctionType::get(
            i32Ty_, {ptrTy_, ptrTy_, i64Ty_, i64Ty_, i64Ty_, ptrTy_}, false));
    llvm::FunctionCallee release = module_->getOrInsertFunction(
        "nyx_free_weights",
        llvm::FunctionType::get(llvm::Type::getVoidTy(ctx_), {ptrTy_}, false));
    llvm::Constant *table = descriptorTable();

    llvm::Function *loader =
        newFunction(plan_.name + "_load_weights", i32Ty_, {ptrTy_});
    loader->getArg(0)->setName("path");
    {
      llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx_, "entry", loader));
      llvm::Value *slot = b.CreateAlloca(ptrTy_, nullptr, "buffer");
      llvm::Value *status = b.CreateCall(
          load, {loader->getArg(0), table, b.getInt64(plan_.weights.size()),
                 b.getInt64(plan_.weightsBytes), b.getInt64(64), slot});
      auto *fail = llvm::BasicBlock::Create(ctx_, "fail", loader);
      auto *ok = llvm::BasicBlock::Create(ctx_, "ok", loader);
      b.CreateCondBr(b.CreateICmpNE(status, b.getInt32(kOk)), fail, ok);
      b.SetInsertPoint(fail);
      b.CreateRet(status);
      b.SetInsertPoint(ok);
      // Replace (and free) weights loaded before.
      b.CreateCall(release, {b.CreateLoad(ptrTy_, weightsPtr_)});
      b.CreateStore(b.CreateLoad(ptrTy_, slot), weightsPtr_);
      b.CreateRet(b.getInt32(kOk));
    }
    llvm::Function *unloader = newFunction(plan_.name + "_unload_weights",
                                           llvm::Type::getVoidTy(ctx_), {});
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx_, "entry", unloader));
    b.CreateCall(release, {b.CreateLoad(ptrTy_, weightsPtr_)});
    b.CreateStore(llvm::ConstantPointerNull::get(ptrTy_), weightsPtr_);
    b.CreateRetVoid();
  }

  const ModelPlan &plan_;
  llvm::LLVMContext &ctx_;
  const TargetSpec &target_;
  bool instrument_; // call nyx_instrument after every kernel
  std::unique_ptr<llvm::Module> module_;
  llvm::PointerType *ptrTy_;
  llvm::IntegerType *i64Ty_, *i32Ty_;
  llvm::GlobalVariable *weights_ = nullptr;    // embedded blob
  llvm::GlobalVariable *weightsPtr_ = nullptr; // external: the loaded buffer
  std::vector<llvm::GlobalVariable *> constants_;
  std::vector<llvm::Function *> kernels_;
};

} // namespace

std::unique_ptr<llvm::Module> buildModelModule(const ModelPlan &plan,
                                               llvm::LLVMContext &ctx,
                                               const TargetSpec &target,
                                               const llvm::DataLayout &layout,
                                               bool instrument) {
  return ModelModuleBuilder(plan, ctx, target, layout, instrument).build();
}

} // namespace nyx::codegen::cpu
