#include "codegen/cuda/mma_gemm.h"

#include "ir/strings.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/IntrinsicsNVPTX.h"

namespace nyx::codegen::cuda {
namespace {

constexpr unsigned kGlobalAddressSpace = 1;
constexpr int kWarpTile = 32;           // each warp: 32 x 32 of C
constexpr int kMTiles = 2, kNTiles = 4; // of 16 x 8 mma tiles
constexpr int kMmaM = 16, kMmaN = 8, kMmaK = 16;

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

class MmaEmitter {
public:
  MmaEmitter(const MmaGemm &g, llvm::Function &fn)
      : g_(g), fn_(fn), ctx_(fn.getContext()),
        b_(llvm::BasicBlock::Create(ctx_, "entry", &fn)),
        elemTy_(g.dtype == ir::DType::F16 ? b_.getHalfTy() : b_.getBFloatTy()) {
  }

  void run() {
    llvm::Value *tid = read(llvm::Intrinsic::nvvm_read_ptx_sreg_tid_x);
    llvm::Value *block = read(llvm::Intrinsic::nvvm_read_ptx_sreg_ctaid_x);
    llvm::Value *warp = b_.CreateUDiv(tid, i64(32));
    llvm::Value *lane = b_.CreateURem(tid, i64(32));
    group_ = b_.CreateLShr(lane, i64(2));
    tig_ = b_.CreateAnd(lane, i64(3));
    const int64_t tilesM = ceilDiv(g_.m, MmaGemm::kBlockTile);
    const int64_t tilesN = ceilDiv(g_.n, MmaGemm::kBlockTile);
    llvm::Value *batch = b_.CreateUDiv(block, i64(tilesM * tilesN));
    llvm::Value *tile = b_.CreateURem(block, i64(tilesM * tilesN));
    warpRow_ =
        b_.CreateAdd(b_.CreateMul(b_.CreateUDiv(tile, i64(tilesN)),
                                  i64(MmaGemm::kBlockTile)),
                     b_.CreateMul(b_.CreateLShr(warp, i64(1)), i64(kWarpTile)));
    warpCol_ =
        b_.CreateAdd(b_.CreateMul(b_.CreateURem(tile, i64(tilesN)),
                                  i64(MmaGemm::kBlockTile)),
                     b_.CreateMul(b_.CreateAnd(warp, i64(1)), i64(kWarpTile)));
    aBase_ = b_.CreateMul(batch, i64(g_.aBatchStride));
    bBase_ = b_.CreateMul(batch, i64(g_.bBatchStride));
    cBase_ = b_.CreateMul(batch, i64(g_.m * g_.n));

    // 2 x 4 tiles of four f32 accumulators, promoted to registers by SROA.
    auto *accTy = llvm::ArrayType::get(b_.getFloatTy(), kMTiles * kNTiles * 4);
    acc_ = b_.CreateAlloca(accTy, nullptr, "acc");
    for (int i = 0; i < kMTiles * kNTiles * 4; ++i)
      b_.CreateStore(llvm::ConstantFP::get(b_.getFloatTy(), 0.0), accAt(i));
    kLoop();
    storeC();
    b_.CreateRetVoid();
  }

private:
  llvm::Value *i64(int64_t v) { return b_.getInt64(v); }

  llvm::Value *read(llvm::Intrinsic::ID id) {
    return b_.CreateZExt(b_.CreateIntrinsic(id, {}, {}), b_.getInt64Ty());
  }

  llvm::Value *accAt(int i) {
    return b_.CreateConstInBoundsGEP1_64(b_.getFloatTy(), acc_, i);
  }

  // Element (row, col) of op(A) (M x K), or zero outside it.
  llvm::Value *loadA(llvm::Value *row, llvm::Value *col) {
    llvm::Value *offset = g_.transA
                              ? b_.CreateAdd(b_.CreateMul(col, i64(g_.m)), row)
                              : b_.CreateAdd(b_.CreateMul(row, i64(g_.k)), col);
    return guardedLoad(fn_.getArg(0), b_.CreateAdd(aBase_, offset),
                       b_.CreateAnd(b_.CreateICmpULT(row, i64(g_.m)),
                                    b_.CreateICmpULT(col, i64(g_.k))));
  }

  // Element (row, col) of op(B) (K x N), or zero outside it.
  llvm::Value *loadB(llvm::Value *row, llvm::Value *col) {
    llvm::Value *offset = g_.transB
                              ? b_.CreateAdd(b_.CreateMul(col, i64(g_.k)), row)
                              : b_.CreateAdd(b_.CreateMul(row, i64(g_.n)), col);
    return guardedLoad(fn_.getArg(1), b_.CreateAdd(bBase_, offset),
                       b_.CreateAnd(b_.CreateICmpULT(row, i64(g_.k)),
                                    b_.CreateICmpULT(col, i64(g_.n))));
  }

  // The 16-bit element, as i16 bits; the address is clamped to the first
  // element when out of bounds so the load itself is always valid.
  llvm::Value *guardedLoad(llvm::Value *base, llvm::Value *index,
                           llvm::Value *inBounds) {
    llvm::Value *safe = b_.CreateSelect(inBounds, index, i64(0));
    llvm::Value *bits = b_.CreateLoad(
        b_.getInt16Ty(), b_.CreateInBoundsGEP(b_.getInt16Ty(), base, safe));
    return b_.CreateSelect(inBounds, bits, b_.getInt16(0));
  }

  // Two elements packed as one mma register: <2 x half> for f16, i32 for
  // bf16; the first element in the low half.
  llvm::Value *pack(llvm::Value *lo, llvm::Value *hi) {
    if (g_.dtype == ir::DType::BF16)
      return b_.CreateOr(b_.CreateZExt(lo, b_.getInt32Ty()),
                         b_.CreateShl(b_.CreateZExt(hi, b_.getInt32Ty()), 16));
    auto *vecTy = llvm::FixedVectorType::get(b_.getHalfTy(), 2);
    llvm::Value *v = llvm::PoisonValue::get(vecTy);
    v = b_.CreateInsertElement(v, b_.CreateBitCast(lo, b_.getHalfTy()),
                               uint64_t{0});
    return b_.CreateInsertElement(v, b_.CreateBitCast(hi, b_.getHalfTy()),
                                  uint64_t{1});
  }

  void kLoop() {
    llvm::BasicBlock *pre = b_.GetInsertBlock();
    llvm::BasicBlock *body = llvm::BasicBlock::Create(ctx_, "k", &fn_);
    llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx_, "k.done", &fn_);
    b_.CreateBr(body);
    b_.SetInsertPoint(body);
    llvm::PHINode *kk = b_.CreatePHI(b_.getInt64Ty(), 2, "kk");
    kk->addIncoming(i64(0), pre);

    // Fragment layouts of mma.m16n8k16 (PTX ISA): A register r holds rows
    // group (+8 for r = 1, 3), columns 2*tig + {0, 1} (+8 for r >= 2);
    // B register r holds rows 2*tig + {0, 1} (+8 for r = 1), column group.
    llvm::Value *col0 = b_.CreateAdd(kk, b_.CreateMul(tig_, i64(2)));
    std::vector<std::array<llvm::Value *, 4>> a(kMTiles);
    for (int mi = 0; mi < kMTiles; ++mi) {
      llvm::Value *row =
          b_.CreateAdd(warpRow_, b_.CreateAdd(i64(mi * kMmaM), group_));
      for (int r = 0; r < 4; ++r) {
        llvm::Value *rr = (r & 1) ? b_.CreateAdd(row, i64(8)) : row;
        llvm::Value *cc = (r & 2) ? b_.CreateAdd(col0, i64(8)) : col0;
        a[mi][r] = pack(loadA(rr, cc), loadA(rr, b_.CreateAdd(cc, i64(1))));
      }
    }
    std::vector<std::array<llvm::Value *, 2>> bf(kNTiles);
    for (int ni = 0; ni < kNTiles; ++ni) {
      llvm::Value *col =
          b_.CreateAdd(warpCol_, b_.CreateAdd(i64(ni * kMmaN), group_));
      for (int r = 0; r < 2; ++r) {
        llvm::Value *kr = r ? b_.CreateAdd(col0, i64(8)) : col0;
        bf[ni][r] = pack(loadB(kr, col), loadB(b_.CreateAdd(kr, i64(1)), col));
      }
    }
    llvm::Intrinsic::ID mma =
        g_.dtype == ir::DType::F16
            ? llvm::Intrinsic::nvvm_mma_m16n8k16_row_col_f32_f32
            : llvm::Intrinsic::nvvm_mma_m16n8k16_row_col_bf16;
    for (int mi = 0; mi < kMTiles; ++mi)
      for (int ni = 0; ni < kNTiles; ++ni) {
        int first = (mi * kNTiles + ni) * 4;
        std::vector<llvm::Value *> args(a[mi].begin(), a[mi].end());
        args.insert(args.end(), bf[ni].begin(), bf[ni].end());
        for (int i = 0; i < 4; ++i)
          args.push_back(b_.CreateLoad(b_.getFloatTy(), accAt(first + i)));
        llvm::Value *d = b_.CreateIntrinsic(mma, {}, args);
        for (int i = 0; i < 4; ++i)
          b_.CreateStore(b_.CreateExtractValue(d, i), accAt(first + i));
      }

    llvm::Value *next = b_.CreateAdd(kk, i64(kMmaK));
    kk->addIncoming(next, b_.GetInsertBlock());
    b_.CreateCondBr(b_.CreateICmpULT(next, i64(g_.k)), body, done);
    b_.SetInsertPoint(done);
  }

  // Accumulator i of a tile is row group (+8 for i >= 2), column
  // 2*tig + (i & 1); each is rounded once to the result type.
  void storeC() {
    llvm::Value *c = fn_.getArg(2);
    for (int mi = 0; mi < kMTiles; ++mi)
      for (int ni = 0; ni < kNTiles; ++ni)
        for (int i = 0; i < 4; ++i) {
          llvm::Value *row = b_.CreateAdd(
              warpRow_,
              b_.CreateAdd(i64(mi * kMmaM + (i >= 2 ? 8 : 0)), group_));
          llvm::Value *col =
              b_.CreateAdd(warpCol_, b_.CreateAdd(i64(ni * kMmaN + (i & 1)),
                                                  b_.CreateMul(tig_, i64(2))));
          llvm::Value *inside = b_.CreateAnd(b_.CreateICmpULT(row, i64(g_.m)),
                                             b_.CreateICmpULT(col, i64(g_.n)));
          llvm::BasicBlock *then =
              llvm::BasicBlock::Create(ctx_, "store", &fn_);
          llvm::BasicBlock *next = llvm::BasicBlock::Create(ctx_, "next", &fn_);
          b_.CreateCondBr(inside, then, next);
          b_.SetInsertPoint(then);
          llvm::Value *value = b_.CreateFPTrunc(
              b_.CreateLoad(b_.getFloatTy(),
                            accAt((mi * kNTiles + ni) * 4 + i)),
              elemTy_);
          llvm::Value *index = b_.CreateAdd(
              cBase_, b_.CreateAdd(b_.CreateMul(row, i64(g_.n)), col));
          b_.CreateStore(b_.CreateBitCast(value, b_.getInt16Ty()),
                         b_.CreateInBoundsGEP(b_.getInt16Ty(), c, index));
          b_.CreateBr(next);
          b_.SetInsertPoint(next);
        }
  }

  const MmaGemm &g_;
  llvm::Function &fn_;
  llvm::LLVMContext &ctx_;
  llvm::IRBuilder<> b_;
  llvm::Type *elemTy_;
  llvm::Value *group_ = nullptr, *tig_ = nullptr;
  llvm::Value *warpRow_ = nullptr, *warpCol_ = nullptr;
  llvm::Value *aBase_ = nullptr, *bBase_ = nullptr, *cBase_ = nullptr;
  llvm::Value *acc_ = nullptr;
};

} // namespace

int64_t MmaGemm::blocks() const {
  return batch * ceilDiv(m, kBlockTile) * ceilDiv(n, kBlockTile);
}

std::optional<MmaGemm> mmaGemmOf(const ir::Op &op, std::string name) {
  if (op.name() != "matmul" || op.numOperands() != 2)
    return std::nullopt;
  const ir::TensorType &a = op.operand(0)->type;
  const ir::TensorType &b = op.operand(1)->type;
  const ir::TensorType &c = op.result(0)->type;
  if ((a.dtype != ir::DType::F16 && a.dtype != ir::DType::BF16) ||
      b.dtype != a.dtype || c.dtype != a.dtype || a.rank() < 2 || b.rank() < 2)
    return std::nullopt;
  auto ta = op.getBool("transpose_a", false);
  auto tb = op.getBool("transpose_b", false);
  if (!ta.ok() || !tb.ok())
    return std::nullopt;
  MmaGemm g;
  g.name = std::move(name);
  g.dtype = a.dtype;
  g.transA = *ta;
  g.transB = *tb;
  const int64_t ra = a.rank(), rc = c.rank();
  g.m = c.shape[rc - 2];
  g.n = c.shape[rc - 1];
  g.k = g.transA ? a.shape[ra - 2] : a.shape[ra - 1];
  // Batch axes: one of the operands may be broadcast as a whole; other
  // broadcasts keep the plain kernel.
  g.batch = c.numElements() / std::max<int64_t>(g.m * g.n, 1);
  int64_t batchA = a.numElements() / std::max<int64_t>(g.m * g.k, 1);
  int64_t batchB = b.numElements() / std::max<int64_t>(g.k * g.n, 1);
  if ((batchA != g.batch && batchA != 1) || (batchB != g.batch && batchB != 1))
    return std::nullopt;
  g.aBatchStride = batchA == 1 ? 0 : g.m * g.k;
  g.bBatchStride = batchB == 1 ? 0 : g.k * g.n;
  if (c.numElements() == 0 || g.k == 0 || g.blocks() >= (int64_t{1} << 31))
    return std::nullopt;
  return g;
}

llvm::Function *emitMmaGemm(const MmaGemm &gemm, llvm::Module &module,
                            const std::string &name) {
  llvm::LLVMContext &ctx = module.getContext();
  auto *ptr = llvm::PointerType::get(ctx, kGlobalAddressSpace);
  llvm::Function *fn =
      llvm::Function::Create(llvm::FunctionType::get(llvm::Type::getVoidTy(ctx),
                                                     {ptr, ptr, ptr}, false),
                             llvm::GlobalValue::ExternalLinkage, name, module);
  fn->setCallingConv(llvm::CallingConv::PTX_Kernel);
  fn->addFnAttr(llvm::Attribute::NoUnwind);
  const char *names[] = {"a", "b", "c"};
  for (unsigned i = 0; i < 3; ++i) {
    fn->getArg(i)->setName(names[i]);
    fn->getArg(i)->addAttr(llvm::Attribute::NoAlias);
    fn->getArg(i)->addAttr(llvm::Attribute::NoCapture);
    if (i < 2)
      fn->getArg(i)->addAttr(llvm::Attribute::ReadOnly);
  }
  MmaEmitter(gemm, *fn).run();
  return fn;
}

} // namespace nyx::codegen::cuda
