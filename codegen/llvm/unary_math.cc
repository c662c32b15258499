#include "codegen/llvm/unary_math.h"

#include "codegen/llvm/fast_math.h"
#include "llvm/IR/Intrinsics.h"
#include "llvm/IR/Module.h"

namespace nyx::codegen::llvmir {
using kernel::UnaryFn;

llvm::Value *mathCall(llvm::IRBuilder<> &b, MathLibrary lib,
                      const char *f64Name, llvm::Value *a,
                      llvm::Value *second) {
  std::string name = lib == MathLibrary::Libdevice ? "__nv_" : "";
  name += f64Name;
  if (a->getType()->isFloatTy())
    name += 'f';
  llvm::Module *module = b.GetInsertBlock()->getModule();
  std::vector<llvm::Type *> params(second ? 2 : 1, a->getType());
  llvm::FunctionCallee callee = module->getOrInsertFunction(
      name, llvm::FunctionType::get(a->getType(), params, false));
  if (auto *f = llvm::dyn_cast<llvm::Function>(callee.getCallee())) {
    // Like clang's -fno-math-errno: results depend on the arguments only,
    // so calls can be hoisted, merged and vectorized.
    f->setDoesNotThrow();
    f->setDoesNotAccessMemory();
    f->setWillReturn();
  }
  if (second)
    return b.CreateCall(callee, {a, second});
  return b.CreateCall(callee, {a});
}

llvm::Value *emitUnary(llvm::IRBuilder<> &b, UnaryFn fn, llvm::Value *a,
                       ir::DType type, MathLibrary lib) {
  const bool isFp = ir::isFloat(type);
  const bool isF32 = type == ir::DType::F32;
  switch (fn) {
  case UnaryFn::Neg:
    return isFp ? b.CreateFNeg(a) : b.CreateNeg(a);
  case UnaryFn::Abs:
    if (isFp)
      return b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, a);
    if (type == ir::DType::Bool)
      return a;
    return b.CreateBinaryIntrinsic(llvm::Intrinsic::abs, a,
                                   b.getFalse()); // abs(min) = min
  case UnaryFn::Exp:
    if (isF32)
      return emitFastMath(b, FastMathFn::Exp, a);
    if (lib == MathLibrary::Libdevice)
      return mathCall(b, lib, "exp", a);
    return b.CreateUnaryIntrinsic(llvm::Intrinsic::exp, a);
  case UnaryFn::Log:
    if (isF32)
      return emitFastMath(b, FastMathFn::Log, a);
    if (lib == MathLibrary::Libdevice)
      return mathCall(b, lib, "log", a);
    return b.CreateUnaryIntrinsic(llvm::Intrinsic::log, a);
  case UnaryFn::Sqrt:
    return b.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, a);
  case UnaryFn::Rsqrt:
    return b.CreateFDiv(llvm::ConstantFP::get(a->getType(), 1.0),
                        b.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, a));
  case UnaryFn::Tanh:
    if (isF32)
      return emitFastMath(b, FastMathFn::Tanh, a);
    return mathCall(b, lib, "tanh", a);
  case UnaryFn::Erf:
    if (isF32)
      return emitFastMath(b, FastMathFn::Erf, a);
    return mathCall(b, lib, "erf", a);
  case UnaryFn::Sigmoid: {
    if (isF32)
      return emitFastMath(b, FastMathFn::Sigmoid, a);
    llvm::Value *one = llvm::ConstantFP::get(a->getType(), 1.0);
    llvm::Value *e = emitUnary(b, UnaryFn::Exp, b.CreateFNeg(a), type, lib);
    return b.CreateFDiv(one, b.CreateFAdd(one, e));
  }
  case UnaryFn::Floor:
    return isFp ? b.CreateUnaryIntrinsic(llvm::Intrinsic::floor, a) : a;
  case UnaryFn::Ceil:
    return isFp ? b.CreateUnaryIntrinsic(llvm::Intrinsic::ceil, a) : a;
  case UnaryFn::Round:
    return isFp ? b.CreateUnaryIntrinsic(llvm::Intrinsic::roundeven, a) : a;
  case UnaryFn::Log1p:
  case UnaryFn::Sin:
  case UnaryFn::Cos:
  case UnaryFn::Tan:
  case UnaryFn::Asin:
  case UnaryFn::Acos:
  case UnaryFn::Atan:
  case UnaryFn::Sinh:
  case UnaryFn::Cosh:
  case UnaryFn::Asinh:
  case UnaryFn::Acosh:
  case UnaryFn::Atanh:
    return mathCall(b, lib, unaryFnName(fn), a);
  case UnaryFn::Not:
    return b.CreateNot(a);
  }
  return nullptr;
}

} // namespace nyx::codegen::llvmir
