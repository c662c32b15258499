#include "codegen/cpu/init_params.h"

#include "codegen/cpu/kernel_codegen.h"
#include "llvm/IR/IRBuilder.h"

namespace nyx::codegen::cpu {

void emitInitParams(llvm::Module &module, const std::string &name,
                    const std::vector<ParamInit> &params,
                    const TargetSpec &target) {
  llvm::LLVMContext &ctx = module.getContext();
  auto *ptrTy = llvm::PointerType::getUnqual(ctx);
  auto *i64Ty = llvm::Type::getInt64Ty(ctx);
  auto *i32Ty = llvm::Type::getInt32Ty(ctx);
  auto *f32Ty = llvm::Type::getFloatTy(ctx);
  llvm::FunctionCallee fill = module.getOrInsertFunction(
      "nyx_fill_uniform",
      llvm::FunctionType::get(llvm::Type::getVoidTy(ctx),
                              {ptrTy, i64Ty, f32Ty, f32Ty, i64Ty, i64Ty},
                              false));
  auto define = [&](const std::string &symbol,
                    std::vector<llvm::Type *> argTypes) {
    auto *fn = llvm::Function::Create(
        llvm::FunctionType::get(i32Ty, argTypes, false),
        llvm::GlobalValue::ExternalLinkage, symbol, module);
    fn->addFnAttr(llvm::Attribute::NoUnwind);
    setTargetAttributes(*fn, target);
    return fn;
  };

  std::vector<llvm::Type *> argTypes(params.size() + 1, ptrTy);
  argTypes[0] = i64Ty;
  llvm::Function *init = define(name + "_init_params", argTypes);
  init->getArg(0)->setName("seed");
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", init));
  auto *fail = llvm::BasicBlock::Create(ctx, "null_buffer", init);
  for (size_t i = 0; i < params.size(); ++i) {
    llvm::Argument *dst = init->getArg(i + 1);
    dst->setName(params[i].cName);
    auto *next = llvm::BasicBlock::Create(ctx, "fill", init);
    b.CreateCondBr(b.CreateIsNull(dst), fail, next);
    b.SetInsertPoint(next);
    b.CreateCall(fill, {dst, b.getInt64(params[i].type.numElements()),
                        llvm::ConstantFP::get(f32Ty, params[i].lo),
                        llvm::ConstantFP::get(f32Ty, params[i].hi),
                        init->getArg(0), b.getInt64(i)});
  }
  b.CreateRet(b.getInt32(0));
  b.SetInsertPoint(fail);
  b.CreateRet(b.getInt32(1)); // NYX_ERR_INVALID_ARGUMENT

  llvm::Function *packed = define(name + "_init_params_packed", {i64Ty, ptrTy});
  llvm::IRBuilder<> p(llvm::BasicBlock::Create(ctx, "entry", packed));
  if (!params.empty()) {
    auto *null = llvm::BasicBlock::Create(ctx, "null_array", packed);
    auto *load = llvm::BasicBlock::Create(ctx, "load", packed);
    p.CreateCondBr(p.CreateIsNull(packed->getArg(1)), null, load);
    p.SetInsertPoint(null);
    p.CreateRet(p.getInt32(1));
    p.SetInsertPoint(load);
  }
  std::vector<llvm::Value *> args = {packed->getArg(0)};
  for (size_t i = 0; i < params.size(); ++i)
    args.push_back(p.CreateLoad(
        ptrTy, p.CreateConstInBoundsGEP1_64(ptrTy, packed->getArg(1), i)));
  p.CreateRet(p.CreateCall(init, args));
}

} // namespace nyx::codegen::cpu
