#include "codegen/llvm/kernel_emitter.h"

#include <unordered_map>

#include "codegen/llvm/float_bits.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Intrinsics.h"
#include "llvm/IR/IntrinsicsX86.h"
#include "llvm/IR/Module.h"

namespace nyx::codegen::llvmir {

using ir::DType;
using kernel::BinaryFn;
using kernel::CmpFn;
using kernel::Expr;
using kernel::Stmt;

llvm::Type *storageType(llvm::LLVMContext &ctx, DType t) {
  switch (t) {
  case DType::F32:
    return llvm::Type::getFloatTy(ctx);
  case DType::F64:
    return llvm::Type::getDoubleTy(ctx);
  case DType::F16:
  case DType::BF16:
    return llvm::Type::getInt16Ty(ctx);
  case DType::I8:
  case DType::Bool:
    return llvm::Type::getInt8Ty(ctx);
  case DType::I32:
    return llvm::Type::getInt32Ty(ctx);
  case DType::I64:
    return llvm::Type::getInt64Ty(ctx);
  }
  return nullptr;
}

namespace {

// How many steps ahead a register tile prefetches the rows of a B read in
// place. Measured on the ResNet-18 layer4 convolution (49 x 512 x 4608,
// filter rows 2 KiB apart): 8 ran 12% faster than none, 4 and 12 less.
constexpr int64_t kPrefetchRows = 8;

// The LLVM type of an expression value: bool is i1; f16/bf16 (only produced
// by casts) are i16 bits.
llvm::Type *valueType(llvm::LLVMContext &ctx, DType t) {
  if (t == DType::Bool)
    return llvm::Type::getInt1Ty(ctx);
  return storageType(ctx, t);
}

bool isHalfLike(DType t) { return t == DType::F16 || t == DType::BF16; }

class KernelEmitter {
public:
  KernelEmitter(const kernel::Kernel &k, llvm::Function &fn,
                const KernelBodyOptions &options)
      : kernel_(k), fn_(fn), ctx_(fn.getContext()),
        entry_(llvm::BasicBlock::Create(ctx_, "entry", &fn)), b_(entry_),
        restricted_(options.restrictedLoop), begin_(options.begin),
        end_(options.end), lanes_(options.vectorLanes),
        vnniBits_(options.vnniBits), math_(options.math) {
    for (const auto &[var, value] : options.boundVars)
      indices_[var.id] = value;
  }

  void run() {
    bindMemory();
    if (kernel_.body)
      stmt(*kernel_.body);
    b_.CreateRetVoid();
  }

  // Converts `v` of type `from` to `to`, following the loop IR's cast rules.
  llvm::Value *convert(llvm::Value *v, DType from, DType to) {
    if (from == to)
      return v;
    if (from == DType::F16) {
      v = halfBitsToFloat(b_, v);
      from = DType::F32;
    } else if (from == DType::BF16) {
      v = bf16BitsToFloat(b_, v);
      from = DType::F32;
    }
    if (from == to)
      return v;
    if (isHalfLike(to)) {
      // Through f32 rounded to odd when the source is wider than f32, so
      // the value is rounded once.
      if (from != DType::F32) {
        if (from != DType::F64)
          v = convert(v, from, DType::F64);
        v = doubleToFloatRoundToOdd(b_, v);
      }
      return to == DType::F16 ? floatToHalfBits(b_, v) : floatToBf16Bits(b_, v);
    }
    llvm::Type *dst = valueType(ctx_, to);
    if (to == DType::Bool) {
      if (ir::isFloat(from))
        return b_.CreateFCmpUNE(v, llvm::ConstantFP::get(v->getType(), 0.0));
      return b_.CreateICmpNE(v, llvm::ConstantInt::get(v->getType(), 0));
    }
    if (from == DType::Bool)
      return ir::isFloat(to) ? b_.CreateUIToFP(v, dst) : b_.CreateZExt(v, dst);
    if (ir::isFloat(from) && ir::isFloat(to))
      return b_.CreateFPCast(v, dst);
    if (ir::isFloat(from)) {
      const unsigned bits = dst->getScalarSizeInBits();
      if (bits >= 32)
        return b_.CreateIntrinsic(llvm::Intrinsic::fptosi_sat,
                                  {dst, v->getType()}, {v});
      // A narrow integer holds every value of its range exactly as a
      // float: clamp there, NaN to 0, then a plain conversion. The same
      // values as a saturating conversion, which x86 scalarizes for
      // vectors; this becomes vmaxps, vminps, vcvttps2dq and vpmovdb.
      llvm::Type *ft = v->getType();
      const double lo = -std::ldexp(1.0, static_cast<int>(bits) - 1);
      llvm::Value *clamped =
          b_.CreateMinNum(b_.CreateMaxNum(v, llvm::ConstantFP::get(ft, lo)),
                          llvm::ConstantFP::get(ft, -lo - 1));
      llvm::Value *isNan = b_.CreateFCmpUNO(v, v);
      clamped = b_.CreateSelect(isNan, llvm::ConstantFP::get(ft, 0.0), clamped);
      return b_.CreateTrunc(
          b_.CreateFPToSI(clamped, valueType(ctx_, DType::I32)), dst);
    }
    if (ir::isFloat(to))
      return b_.CreateSIToFP(v, dst);
    return b_.CreateSExtOrTrunc(v, dst);
  }

private:
  // -- Statements ----------------------------------------------------------

  void stmts(const std::vector<kernel::StmtRef> &list) {
    for (const auto &s : list)
      stmt(*s);
  }

  void stmt(const Stmt &s) {
    // Expression values are shared within one statement only: statements
    // may store to buffers or assign locals that later expressions read.
    cache_.clear();
    switch (s.kind) {
    case Stmt::Kind::Block:
      stmts(s.body);
      return;
    case Stmt::Kind::For:
      forLoop(s);
      return;
    case Stmt::Kind::Store:
      store(s);
      return;
    case Stmt::Kind::Declare: {
      llvm::AllocaInst *slot = localSlot(s.var);
      b_.CreateStore(convert(expr(*s.value), s.value->type, s.var.type), slot);
      return;
    }
    case Stmt::Kind::Assign: {
      llvm::AllocaInst *slot = localSlot(s.var);
      b_.CreateStore(convert(expr(*s.value), s.value->type, s.var.type), slot);
      return;
    }
    case Stmt::Kind::If:
      ifThen(s);
      return;
    case Stmt::Kind::MatmulTile:
      matmulTile(s);
      return;
    }
  }

  // Parameters are the function's arguments; the scratch buffers share one
  // block from nyx_scratch, each at a 64-byte aligned offset.
  void bindMemory() {
    const size_t params = kernel_.numParams();
    for (size_t i = 0; i < params; ++i)
      memory_.push_back(fn_.getArg(i));
    if (params == kernel_.buffers.size())
      return;
    std::vector<int64_t> offsets;
    int64_t total = 0;
    for (size_t i = params; i < kernel_.buffers.size(); ++i) {
      const kernel::Buffer &buf = kernel_.buffers[i];
      offsets.push_back(total);
      int64_t bytes =
          buf.numElements * static_cast<int64_t>(ir::dtypeSize(buf.dtype));
      total += (bytes + 63) / 64 * 64;
    }
    llvm::Type *ptrTy = llvm::PointerType::getUnqual(ctx_);
    llvm::FunctionCallee scratch = fn_.getParent()->getOrInsertFunction(
        "nyx_scratch",
        llvm::FunctionType::get(ptrTy, {b_.getInt64Ty()}, false));
    if (auto *f = llvm::dyn_cast<llvm::Function>(scratch.getCallee())) {
      // Like malloc: the block aliases nothing the kernel already sees.
      f->setDoesNotThrow();
      f->addRetAttr(llvm::Attribute::NoAlias);
      f->addRetAttr(llvm::Attribute::getWithAlignment(ctx_, llvm::Align(64)));
    }
    llvm::Value *block =
        b_.CreateCall(scratch, {b_.getInt64(total)}, "scratch");
    for (int64_t offset : offsets)
      memory_.push_back(
          b_.CreateConstInBoundsGEP1_64(b_.getInt8Ty(), block, offset));
  }

  // The register tile: rows x (cols / lanes) vector accumulators carried
  // through the p loop, one broadcast FMA (or, i8Dot4, one four-byte dot
  // product per lane) per accumulator and step.
  void matmulTile(const Stmt &s) {
    const kernel::MatmulTileArgs &t = *s.tile;
    int64_t lanes = lanes_;
    // A vector never straddles two blocks of B's columns.
    while (t.cols % lanes != 0 || (t.bBlock && t.bBlock % lanes != 0))
      lanes /= 2;
    const int64_t vectors = t.cols / lanes;
    // Operand elements and the bytes of one column of b, tile elements.
    llvm::Type *elem = t.i8Dot4 ? b_.getInt8Ty() : b_.getFloatTy();
    const int64_t columnElems = t.i8Dot4 ? 4 : 1;
    llvm::Type *acc32 = t.i8Dot4 ? b_.getInt32Ty() : b_.getFloatTy();
    auto *vecTy =
        llvm::FixedVectorType::get(acc32, static_cast<unsigned>(lanes));
    llvm::Value *aBase = elementPointer(t.aBuffer, *t.aIndex);
    llvm::Value *bBase = elementPointer(t.bBuffer, *t.bIndex);
    // A stride's table, read at x (in the loop for steps, before it for
    // rows); or x times the step.
    auto tableOf = [&](const kernel::TileStride &st) -> llvm::Value * {
      return st.table >= 0 ? elementPointer(st.table, *st.tableIndex) : nullptr;
    };
    llvm::Value *aRows = tableOf(t.aRow), *aSteps = tableOf(t.aStep),
                *bRows = tableOf(t.bRow);
    auto offset = [&](const kernel::TileStride &st, llvm::Value *table,
                      llvm::Value *x) -> llvm::Value * {
      if (table)
        return b_.CreateLoad(b_.getInt64Ty(),
                             b_.CreateInBoundsGEP(b_.getInt64Ty(), table, x));
      return b_.CreateMul(x, b_.getInt64(st.step));
    };
    std::vector<llvm::Value *> aRow(static_cast<size_t>(t.rows));
    for (int64_t r = 0; r < t.rows; ++r)
      aRow[static_cast<size_t>(r)] = b_.CreateInBoundsGEP(
          elem, aBase, offset(t.aRow, aRows, b_.getInt64(r)));
    llvm::Value *tile = elementPointer(s.buffer, *s.index);
    llvm::Value *k = convert(expr(*s.extent), s.extent->type, DType::I64);
    llvm::Value *zero = llvm::ConstantAggregateZero::get(vecTy);
    const size_t count = static_cast<size_t>(t.rows * vectors);
    // The sums start from zero or, when accumulating, from the tile.
    std::vector<llvm::Value *> init(count, zero);
    if (t.accumulate) {
      llvm::Value *more =
          convert(expr(*t.accumulate), t.accumulate->type, DType::Bool);
      for (int64_t r = 0; r < t.rows; ++r)
        for (int64_t v = 0; v < vectors; ++v)
          init[static_cast<size_t>(r * vectors + v)] = b_.CreateSelect(
              more,
              b_.CreateAlignedLoad(vecTy,
                                   b_.CreateConstInBoundsGEP1_64(
                                       acc32, tile, r * t.cols + v * lanes),
                                   llvm::Align(4)),
              zero);
    }

    // A short panel of B loads only its first bCols columns (a masked
    // load does not touch the memory of the lanes it leaves out).
    std::vector<llvm::Value *> bMask(vectors, nullptr);
    if (t.bCols) {
      llvm::Value *valid = b_.CreateVectorSplat(
          static_cast<unsigned>(lanes),
          convert(expr(*t.bCols), t.bCols->type, DType::I64));
      for (int64_t v = 0; v < vectors; ++v) {
        std::vector<llvm::Constant *> column;
        for (int64_t l = 0; l < lanes; ++l)
          column.push_back(b_.getInt64(v * lanes + l));
        bMask[v] = b_.CreateICmpSLT(llvm::ConstantVector::get(column), valid);
      }
    }

    llvm::BasicBlock *pre = b_.GetInsertBlock();
    llvm::BasicBlock *body = llvm::BasicBlock::Create(ctx_, "tile", &fn_);
    llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx_, "tile.done", &fn_);
    b_.CreateCondBr(b_.CreateICmpSGT(k, b_.getInt64(0)), body, done);
    b_.SetInsertPoint(body);
    llvm::PHINode *p = b_.CreatePHI(b_.getInt64Ty(), 2, "p");
    p->addIncoming(b_.getInt64(0), pre);
    std::vector<llvm::PHINode *> acc(count);
    for (size_t i = 0; i < count; ++i) {
      acc[i] = b_.CreatePHI(vecTy, 2, "acc");
      acc[i]->addIncoming(init[i], pre);
    }
    llvm::Value *bRow =
        b_.CreateInBoundsGEP(elem, bBase, offset(t.bRow, bRows, p));
    std::vector<llvm::Value *> bVec(vectors);
    for (int64_t v = 0; v < vectors; ++v) {
      const int64_t c = v * lanes;
      const int64_t offset =
          (t.bBlock ? c / t.bBlock * t.bBlockStride + c % t.bBlock : c) *
          columnElems;
      // Not inbounds where masked: a block past B's end is not read.
      llvm::Value *at = bMask[v]
                            ? b_.CreateConstGEP1_64(elem, bRow, offset)
                            : b_.CreateConstInBoundsGEP1_64(elem, bRow, offset);
      bVec[v] = bMask[v] ? static_cast<llvm::Value *>(b_.CreateMaskedLoad(
                               vecTy, at, llvm::Align(4), bMask[v], zero))
                         : b_.CreateAlignedLoad(vecTy, at, llvm::Align(4));
    }
    // B read in place has rows wider apart than the tile: each row is a
    // few separate lines that the hardware prefetchers, following one
    // stream, fetch late. Ask for those of a row kPrefetchRows ahead
    // (a hint: past B's end it loads nothing).
    if (!bRows && t.bRow.step > t.cols * columnElems) {
      // Not inbounds: the address may lie past the buffer.
      llvm::Value *ahead =
          b_.CreateGEP(elem, bRow, b_.getInt64(kPrefetchRows * t.bRow.step));
      for (int64_t v = 0; v < vectors; ++v)
        b_.CreateIntrinsic(
            llvm::Intrinsic::prefetch, {b_.getPtrTy()},
            {b_.CreateConstGEP1_64(elem, ahead, v * lanes * columnElems),
             /*read*/ b_.getInt32(0),
             /*keep in all levels*/ b_.getInt32(3),
             /*data*/ b_.getInt32(1)});
    }
    llvm::Value *aStep = offset(t.aStep, aSteps, p);
    std::vector<llvm::Value *> next(count);
    for (int64_t r = 0; r < t.rows; ++r) {
      // An f32, or the four bytes of a step as one i32.
      llvm::Value *a = b_.CreateAlignedLoad(
          acc32,
          b_.CreateInBoundsGEP(elem, aRow[static_cast<size_t>(r)], aStep),
          llvm::Align(t.i8Dot4 ? 1 : 4));
      llvm::Value *splat =
          b_.CreateVectorSplat(static_cast<unsigned>(lanes), a);
      for (int64_t v = 0; v < vectors; ++v) {
        size_t i = static_cast<size_t>(r * vectors + v);
        next[i] = t.i8Dot4 ? dot4(acc[i], splat, bVec[v])
                           : b_.CreateIntrinsic(llvm::Intrinsic::fma, {vecTy},
                                                {splat, bVec[v], acc[i]});
      }
    }
    llvm::Value *pNext = b_.CreateAdd(p, b_.getInt64(1), "", true, true);
    llvm::BasicBlock *latch = b_.GetInsertBlock();
    p->addIncoming(pNext, latch);
    for (size_t i = 0; i < count; ++i)
      acc[i]->addIncoming(next[i], latch);
    b_.CreateCondBr(b_.CreateICmpSLT(pNext, k), body, done);

    b_.SetInsertPoint(done);
    std::vector<llvm::Value *> results(count);
    for (size_t i = 0; i < count; ++i) {
      llvm::PHINode *result = b_.CreatePHI(vecTy, 2, "tile.acc");
      result->addIncoming(init[i], pre);
      result->addIncoming(next[i], latch);
      results[i] = result;
    }
    for (int64_t r = 0; r < t.rows; ++r)
      for (int64_t v = 0; v < vectors; ++v) {
        size_t i = static_cast<size_t>(r * vectors + v);
        b_.CreateAlignedStore(
            results[i],
            b_.CreateConstInBoundsGEP1_64(acc32, tile, r * t.cols + v * lanes),
            llvm::Align(4));
      }
    cache_.clear();
  }

  // acc + the sums of four products of unsigned bytes of `u` and signed
  // bytes of `s` per i32 lane, wrapping: vpdpbusd where the target has one
  // this wide, else widening multiplies and adds that compute the same.
  llvm::Value *dot4(llvm::Value *acc, llvm::Value *u, llvm::Value *s) {
    auto *vecTy = llvm::cast<llvm::FixedVectorType>(acc->getType());
    const unsigned lanes = vecTy->getNumElements();
    if (static_cast<int>(lanes * 32) == vnniBits_)
      return b_.CreateIntrinsic(lanes == 16
                                    ? llvm::Intrinsic::x86_avx512_vpdpbusd_512
                                    : llvm::Intrinsic::x86_avx512_vpdpbusd_256,
                                {}, {acc, u, s});
    auto *bytes = llvm::FixedVectorType::get(b_.getInt8Ty(), lanes * 4);
    auto *wide = llvm::FixedVectorType::get(b_.getInt32Ty(), lanes * 4);
    llvm::Value *products =
        b_.CreateMul(b_.CreateZExt(b_.CreateBitCast(u, bytes), wide),
                     b_.CreateSExt(b_.CreateBitCast(s, bytes), wide));
    llvm::Value *sum = acc;
    for (unsigned q = 0; q < 4; ++q) {
      std::vector<int> lane;
      for (unsigned l = 0; l < lanes; ++l)
        lane.push_back(static_cast<int>(l * 4 + q));
      sum = b_.CreateAdd(sum, b_.CreateShuffleVector(products, lane));
    }
    return sum;
  }

  llvm::AllocaInst *localSlot(const kernel::Var &v) {
    auto it = locals_.find(v.id);
    if (it != locals_.end())
      return it->second;
    llvm::IRBuilder<> entryBuilder(entry_, entry_->begin());
    llvm::AllocaInst *slot =
        entryBuilder.CreateAlloca(valueType(ctx_, v.type), nullptr, v.name);
    locals_.emplace(v.id, slot);
    return slot;
  }

  void forLoop(const Stmt &s) {
    llvm::Value *start = b_.getInt64(0);
    llvm::Value *extent = nullptr;
    if (&s == restricted_) {
      start = begin_;
      extent = end_;
    } else {
      extent = convert(expr(*s.extent), s.extent->type, DType::I64);
    }
    llvm::BasicBlock *pre = b_.GetInsertBlock();
    llvm::BasicBlock *header = llvm::BasicBlock::Create(ctx_, "loop", &fn_);
    llvm::BasicBlock *exit = llvm::BasicBlock::Create(ctx_, "loop.exit", &fn_);
    b_.CreateCondBr(b_.CreateICmpSLT(start, extent), header, exit);

    b_.SetInsertPoint(header);
    llvm::PHINode *index = b_.CreatePHI(b_.getInt64Ty(), 2, s.var.name);
    index->addIncoming(start, pre);
    auto saved = indices_.find(s.var.id);
    llvm::Value *outer = saved == indices_.end() ? nullptr : saved->second;
    indices_[s.var.id] = index;
    stmts(s.body);
    cache_.clear();
    llvm::Value *next = b_.CreateAdd(index, b_.getInt64(1), "", /*NUW=*/true,
                                     /*NSW=*/true);
    index->addIncoming(next, b_.GetInsertBlock());
    b_.CreateCondBr(b_.CreateICmpSLT(next, extent), header, exit);
    b_.SetInsertPoint(exit);
    if (outer)
      indices_[s.var.id] = outer;
    else
      indices_.erase(s.var.id);
  }

  void ifThen(const Stmt &s) {
    llvm::Value *cond = convert(expr(*s.value), s.value->type, DType::Bool);
    llvm::BasicBlock *thenBlock = llvm::BasicBlock::Create(ctx_, "then", &fn_);
    llvm::BasicBlock *elseBlock =
        s.orElse.empty() ? nullptr
                         : llvm::BasicBlock::Create(ctx_, "else", &fn_);
    llvm::BasicBlock *join = llvm::BasicBlock::Create(ctx_, "endif", &fn_);
    b_.CreateCondBr(cond, thenBlock, elseBlock ? elseBlock : join);
    b_.SetInsertPoint(thenBlock);
    stmts(s.body);
    b_.CreateBr(join);
    if (elseBlock) {
      b_.SetInsertPoint(elseBlock);
      stmts(s.orElse);
      b_.CreateBr(join);
    }
    b_.SetInsertPoint(join);
    cache_.clear();
  }

  llvm::Value *elementPointer(int buffer, const Expr &index) {
    const kernel::Buffer &buf = kernel_.buffers.at(buffer);
    llvm::Value *i = convert(expr(index), index.type, DType::I64);
    int memory = buf.sameMemoryAs >= 0 ? buf.sameMemoryAs : buffer;
    return b_.CreateInBoundsGEP(storageType(ctx_, buf.dtype),
                                memory_.at(memory), i);
  }

  void store(const Stmt &s) {
    const kernel::Buffer &buf = kernel_.buffers.at(s.buffer);
    llvm::Value *value = expr(*s.value);
    // Bool storage is a byte; every other storage type is what convert()
    // produces for the buffer's dtype.
    value = convert(value, s.value->type, buf.dtype);
    if (buf.dtype == DType::Bool)
      value = b_.CreateZExt(value, b_.getInt8Ty());
    b_.CreateStore(value, elementPointer(s.buffer, *s.index));
  }

  // -- Expressions ---------------------------------------------------------

  llvm::Value *expr(const Expr &e) {
    auto it = cache_.find(&e);
    if (it != cache_.end())
      return it->second;
    llvm::Value *v = exprUncached(e);
    cache_.emplace(&e, v);
    return v;
  }

  llvm::Value *exprUncached(const Expr &e) {
    switch (e.kind) {
    case Expr::Kind::IntConst:
      return llvm::ConstantInt::get(valueType(ctx_, e.type), e.intValue,
                                    /*IsSigned=*/true);
    case Expr::Kind::FloatConst:
      return llvm::ConstantFP::get(valueType(ctx_, e.type), e.floatValue);
    case Expr::Kind::VarRef: {
      auto idx = indices_.find(e.var.id);
      if (idx != indices_.end())
        return idx->second;
      return b_.CreateLoad(valueType(ctx_, e.var.type), localSlot(e.var),
                           e.var.name);
    }
    case Expr::Kind::Load: {
      const kernel::Buffer &buf = kernel_.buffers.at(e.buffer);
      llvm::Value *raw = b_.CreateLoad(storageType(ctx_, buf.dtype),
                                       elementPointer(e.buffer, *e.args[0]));
      if (buf.dtype == DType::Bool)
        return b_.CreateICmpNE(raw, b_.getInt8(0));
      return convert(raw, buf.dtype, e.type); // e.type: compute or stored
    }
    case Expr::Kind::Unary:
      return emitUnary(b_, e.unary, expr(*e.args[0]), e.type, math_);
    case Expr::Kind::Binary:
      return binary(e.binary, expr(*e.args[0]), expr(*e.args[1]), e.type,
                    *e.args[1]);
    case Expr::Kind::Compare:
      return compare(e.cmp, expr(*e.args[0]), expr(*e.args[1]),
                     e.args[0]->type);
    case Expr::Kind::Select:
      return b_.CreateSelect(
          convert(expr(*e.args[0]), e.args[0]->type, DType::Bool),
          expr(*e.args[1]), expr(*e.args[2]));
    case Expr::Kind::Cast:
      return convert(expr(*e.args[0]), e.args[0]->type, e.type);
    }
    return nullptr;
  }

  static bool isConstNotZeroOrMinusOne(const Expr &e) {
    return e.kind == Expr::Kind::IntConst && e.intValue != 0 &&
           e.intValue != -1;
  }

  // Integer division and remainder never trap: x / 0 = 0, x % 0 = 0,
  // min / -1 = min (wrapping), min % -1 = 0.
  llvm::Value *safeDivRem(bool isDiv, llvm::Value *a, llvm::Value *d,
                          const Expr &divisor) {
    if (isConstNotZeroOrMinusOne(divisor))
      return isDiv ? b_.CreateSDiv(a, d) : b_.CreateSRem(a, d);
    llvm::Type *t = a->getType();
    llvm::Value *zero = llvm::ConstantInt::get(t, 0);
    llvm::Value *minusOne = llvm::ConstantInt::getSigned(t, -1);
    llvm::Value *isZero = b_.CreateICmpEQ(d, zero);
    llvm::Value *isMinusOne = b_.CreateICmpEQ(d, minusOne);
    llvm::Value *safe = b_.CreateSelect(b_.CreateOr(isZero, isMinusOne),
                                        llvm::ConstantInt::get(t, 1), d);
    llvm::Value *q = isDiv ? b_.CreateSDiv(a, safe) : b_.CreateSRem(a, safe);
    llvm::Value *byMinusOne = isDiv ? b_.CreateNeg(a) : zero;
    return b_.CreateSelect(isZero, zero,
                           b_.CreateSelect(isMinusOne, byMinusOne, q));
  }

  llvm::Value *binary(BinaryFn fn, llvm::Value *a, llvm::Value *c, DType type,
                      const Expr &rhs) {
    bool isFp = ir::isFloat(type);
    switch (fn) {
    case BinaryFn::Add:
      return isFp ? b_.CreateFAdd(a, c) : b_.CreateAdd(a, c);
    case BinaryFn::Sub:
      return isFp ? b_.CreateFSub(a, c) : b_.CreateSub(a, c);
    case BinaryFn::Mul:
      return isFp ? b_.CreateFMul(a, c) : b_.CreateMul(a, c);
    case BinaryFn::Div:
      return isFp ? b_.CreateFDiv(a, c) : safeDivRem(true, a, c, rhs);
    case BinaryFn::Rem:
      if (!isFp)
        return safeDivRem(false, a, c, rhs);
      // NVPTX expands frem as x - y * trunc(x / y), which is not fmod.
      if (math_ == MathLibrary::Libdevice)
        return mathCall(b_, math_, "fmod", a, c);
      return b_.CreateFRem(a, c);
    case BinaryFn::Pow:
      if (math_ == MathLibrary::Libdevice)
        return mathCall(b_, math_, "pow", a, c);
      return b_.CreateBinaryIntrinsic(llvm::Intrinsic::pow, a, c);
    case BinaryFn::Max:
      if (isFp)
        return b_.CreateBinaryIntrinsic(llvm::Intrinsic::maximum, a, c);
      return b_.CreateBinaryIntrinsic(
          type == DType::Bool ? llvm::Intrinsic::umax : llvm::Intrinsic::smax,
          a, c);
    case BinaryFn::Min:
      if (isFp)
        return b_.CreateBinaryIntrinsic(llvm::Intrinsic::minimum, a, c);
      return b_.CreateBinaryIntrinsic(
          type == DType::Bool ? llvm::Intrinsic::umin : llvm::Intrinsic::smin,
          a, c);
    case BinaryFn::And:
      return b_.CreateAnd(a, c);
    case BinaryFn::Or:
      return b_.CreateOr(a, c);
    }
    return nullptr;
  }

  llvm::Value *compare(CmpFn fn, llvm::Value *a, llvm::Value *c,
                       DType operandType) {
    if (ir::isFloat(operandType)) {
      static const llvm::CmpInst::Predicate preds[] = {
          llvm::CmpInst::FCMP_OEQ, llvm::CmpInst::FCMP_UNE,
          llvm::CmpInst::FCMP_OLT, llvm::CmpInst::FCMP_OLE,
          llvm::CmpInst::FCMP_OGT, llvm::CmpInst::FCMP_OGE};
      return b_.CreateFCmp(preds[static_cast<int>(fn)], a, c);
    }
    // Bools compare unsigned (false < true); integers signed.
    bool u = operandType == DType::Bool;
    static const llvm::CmpInst::Predicate signedPreds[] = {
        llvm::CmpInst::ICMP_EQ,  llvm::CmpInst::ICMP_NE,
        llvm::CmpInst::ICMP_SLT, llvm::CmpInst::ICMP_SLE,
        llvm::CmpInst::ICMP_SGT, llvm::CmpInst::ICMP_SGE};
    static const llvm::CmpInst::Predicate unsignedPreds[] = {
        llvm::CmpInst::ICMP_EQ,  llvm::CmpInst::ICMP_NE,
        llvm::CmpInst::ICMP_ULT, llvm::CmpInst::ICMP_ULE,
        llvm::CmpInst::ICMP_UGT, llvm::CmpInst::ICMP_UGE};
    return b_.CreateICmp(
        (u ? unsignedPreds : signedPreds)[static_cast<int>(fn)], a, c);
  }

  const kernel::Kernel &kernel_;
  llvm::Function &fn_;
  llvm::LLVMContext &ctx_;
  llvm::BasicBlock *entry_;
  llvm::IRBuilder<> b_;
  std::unordered_map<int, llvm::Value *> indices_;     // loop index phis
  std::unordered_map<int, llvm::AllocaInst *> locals_; // Declare'd locals
  std::unordered_map<const Expr *, llvm::Value *> cache_;
  const Stmt *restricted_ = nullptr;
  llvm::Value *begin_ = nullptr, *end_ = nullptr;
  int lanes_;    // f32 lanes of the target's vectors
  int vnniBits_; // KernelBodyOptions::vnniBits
  MathLibrary math_;
  std::vector<llvm::Value *> memory_; // each buffer's base pointer
};

} // namespace

void emitKernelBody(const kernel::Kernel &kernel, llvm::Function &fn,
                    const KernelBodyOptions &options) {
  KernelEmitter(kernel, fn, options).run();
}

} // namespace nyx::codegen::llvmir
