#include "codegen/cpu/kernel_codegen.h"

#include <algorithm>
#include <limits>
#include <string_view>

#include "codegen/llvm/kernel_emitter.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Intrinsics.h"

namespace nyx::codegen::cpu {

using kernel::Expr;
using kernel::Stmt;

void setTargetAttributes(llvm::Function &fn, const TargetSpec &target) {
  fn.addFnAttr("target-cpu", target.cpu);
  if (!target.features.empty())
    fn.addFnAttr("target-features", target.features);
  if (target.avx512)
    fn.addFnAttr("prefer-vector-width", "512");
}

namespace {

llvmir::KernelBodyOptions bodyOptions(const TargetSpec &target) {
  llvmir::KernelBodyOptions options;
  options.vectorLanes = target.vectorLanes();
  auto has = [&](std::string_view feature) {
    return target.features.find(feature) != std::string::npos;
  };
  if (has("+avx512vnni") && target.avx512)
    options.vnniBits = 512;
  else if (has("+avxvnni") || (has("+avx512vnni") && has("+avx512vl")))
    options.vnniBits = 256;
  return options;
}

// Below this many innermost iterations a kernel runs on the calling thread:
// handing work to the pool costs more than it saves.
constexpr int64_t kParallelWorkThreshold = int64_t{1} << 16;

// Innermost iterations of `s` (a register tile counts its multiply-adds)
// when every loop extent is a constant; -1 when one is not known.
// Sums and products saturate here: the work of huge loop nests would
// overflow, and the result is only compared with a threshold.
constexpr int64_t kMaxWork = std::numeric_limits<int64_t>::max();

int64_t constantWork(const Stmt &s) {
  auto listWork = [](const std::vector<kernel::StmtRef> &list) -> int64_t {
    int64_t total = 0;
    for (const auto &child : list) {
      int64_t w = constantWork(*child);
      if (w < 0)
        return -1;
      total = w > kMaxWork - total ? kMaxWork : total + w;
    }
    return std::max<int64_t>(total, 1);
  };
  switch (s.kind) {
  case Stmt::Kind::For: {
    if (s.extent->kind != Expr::Kind::IntConst)
      return -1;
    int64_t inner = listWork(s.body), extent = s.extent->intValue;
    if (inner < 0)
      return -1;
    return inner > 0 && extent > kMaxWork / inner ? kMaxWork : extent * inner;
  }
  case Stmt::Kind::Block:
    return listWork(s.body);
  case Stmt::Kind::If: {
    int64_t a = listWork(s.body), b = listWork(s.orElse);
    return a < 0 || b < 0 ? -1 : std::max(a, b);
  }
  case Stmt::Kind::MatmulTile: {
    const kernel::MatmulTileArgs &t = *s.tile;
    if (s.extent->kind != Expr::Kind::IntConst)
      return -1;
    int64_t tile = t.rows * t.cols;
    return s.extent->intValue > kMaxWork / std::max<int64_t>(tile, 1)
               ? kMaxWork
               : std::max<int64_t>(tile * s.extent->intValue, 1);
  }
  default:
    return 1;
  }
}

// The loop a kernel may split across threads: its whole body is one
// Parallel loop with a constant extent and enough work.
const Stmt *splittableLoop(const kernel::Kernel &k) {
  const Stmt *s = k.body.get();
  while (s && s->kind == Stmt::Kind::Block && s->body.size() == 1)
    s = s->body[0].get();
  if (!s || s->kind != Stmt::Kind::For ||
      s->loopKind != kernel::LoopKind::Parallel ||
      s->extent->kind != Expr::Kind::IntConst || s->extent->intValue < 2)
    return nullptr;
  // Loops whose extents are computed (GEMM edge tiles) are big enough to
  // have them.
  int64_t work = constantWork(*s);
  return work < 0 || work >= kParallelWorkThreshold ? s : nullptr;
}

llvm::Function *declareKernel(const kernel::Kernel &k, llvm::Module &module,
                              const TargetSpec &target, const std::string &name,
                              bool withRange) {
  llvm::LLVMContext &ctx = module.getContext();
  const size_t n = k.numParams();
  std::vector<llvm::Type *> params(n, llvm::PointerType::getUnqual(ctx));
  if (withRange)
    params.insert(params.end(), 2, llvm::Type::getInt64Ty(ctx));
  auto *type =
      llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), params, false);
  llvm::Function *fn = llvm::Function::Create(
      type, llvm::GlobalValue::InternalLinkage, name, module);
  fn->addFnAttr(llvm::Attribute::NoUnwind);
  setTargetAttributes(*fn, target);
  // Every access goes through one pointer per memory, so each argument may
  // be noalias; one that an in-place result writes through is not readonly.
  std::vector<bool> written(n, false);
  for (size_t i = 0; i < n; ++i)
    if (k.buffers[i].isOutput && k.buffers[i].sameMemoryAs >= 0)
      written[k.buffers[i].sameMemoryAs] = true;
  for (size_t i = 0; i < n; ++i) {
    llvm::Argument *arg = fn->getArg(i);
    arg->setName(k.buffers[i].name);
    arg->addAttr(llvm::Attribute::NoAlias);
    arg->addAttr(llvm::Attribute::NoCapture);
    if (!k.buffers[i].isOutput && !written[i])
      arg->addAttr(llvm::Attribute::ReadOnly);
  }
  if (withRange) {
    fn->getArg(n)->setName("begin");
    fn->getArg(n + 1)->setName("end");
  }
  return fn;
}

// Splits `loop` across nyx_parallel_for: `kernel` packs its buffer pointers
// into a context, `<kernel>.chunk(ctx, begin, end)` unpacks them and calls
// `<kernel>.range`, the kernel body restricted to [begin, end).
void emitSplitKernel(const kernel::Kernel &k, const Stmt &loop,
                     llvm::Function &kernelFn, llvm::Module &module,
                     const TargetSpec &target) {
  llvm::LLVMContext &ctx = module.getContext();
  llvm::Type *ptrTy = llvm::PointerType::getUnqual(ctx);
  llvm::Type *i64Ty = llvm::Type::getInt64Ty(ctx);
  size_t n = k.numParams();

  llvm::Function *range =
      declareKernel(k, module, target, k.name + ".range", true);
  llvmir::KernelBodyOptions options = bodyOptions(target);
  options.restrictedLoop = &loop;
  options.begin = range->getArg(n);
  options.end = range->getArg(n + 1);
  llvmir::emitKernelBody(k, *range, options);

  auto *chunkTy = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx),
                                          {ptrTy, i64Ty, i64Ty}, false);
  llvm::Function *chunk = llvm::Function::Create(
      chunkTy, llvm::GlobalValue::InternalLinkage, k.name + ".chunk", module);
  chunk->addFnAttr(llvm::Attribute::NoUnwind);
  setTargetAttributes(*chunk, target);
  {
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", chunk));
    std::vector<llvm::Value *> args;
    for (size_t i = 0; i < n; ++i)
      args.push_back(b.CreateLoad(
          ptrTy, b.CreateConstInBoundsGEP1_64(ptrTy, chunk->getArg(0), i)));
    args.push_back(chunk->getArg(1));
    args.push_back(chunk->getArg(2));
    b.CreateCall(range, args);
    b.CreateRetVoid();
  }

  llvm::FunctionCallee parallelFor = module.getOrInsertFunction(
      "nyx_parallel_for",
      llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {i64Ty, ptrTy, ptrTy},
                              false));
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", &kernelFn));
  llvm::Value *pointers =
      b.CreateAlloca(llvm::ArrayType::get(ptrTy, n), nullptr, "buffers");
  for (size_t i = 0; i < n; ++i)
    b.CreateStore(kernelFn.getArg(i),
                  b.CreateConstInBoundsGEP1_64(ptrTy, pointers, i));
  b.CreateCall(parallelFor,
               {b.getInt64(loop.extent->intValue), chunk, pointers});
  b.CreateRetVoid();
}

} // namespace

llvm::Function *emitKernel(const kernel::Kernel &k, llvm::Module &module,
                           const TargetSpec &target) {
  llvm::Function *fn = declareKernel(k, module, target, k.name, false);
  if (const Stmt *loop = splittableLoop(k)) {
    // The pointers escape into the context nyx_parallel_for hands around.
    for (llvm::Argument &arg : fn->args())
      arg.removeAttr(llvm::Attribute::NoCapture);
    emitSplitKernel(k, *loop, *fn, module, target);
  } else {
    llvmir::emitKernelBody(k, *fn, bodyOptions(target));
  }
  return fn;
}

} // namespace nyx::codegen::cpu
