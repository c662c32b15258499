// Lowerings of the elementwise ops (docs/ops.md): one parallel loop over the
// flat output index; each operand is read at the index NumPy broadcasting
// maps that output element to.
#include <cmath>
#include <functional>

#include "codegen/kernel/index_math.h"
#include "codegen/kernel/lowering.h"
#include "ir/strings.h"

namespace nyx::kernel {
namespace {

using B = Builder;

// The operand element that output element `flat` reads under broadcasting:
// the output coordinates with the operand's size-1 axes dropped, linearized
// with the operand's strides.
ExprRef broadcastIndex(const ir::Shape &out, const ir::Shape &in,
                       ExprRef flat) {
  if (in == out)
    return flat;
  if (ir::numElements(in) == 1)
    return B::i64(0);
  std::vector<int64_t> outStrides = ir::rowMajorStrides(out);
  std::vector<int64_t> inStrides = ir::rowMajorStrides(in);
  size_t offset = out.size() - in.size();
  ExprRef index = B::i64(0);
  for (size_t d = offset; d < out.size(); ++d) {
    if (in[d - offset] == 1)
      continue;
    ExprRef coord = flat;
    if (outStrides[d] != 1)
      coord = B::binary(BinaryFn::Div, coord, B::i64(outStrides[d]));
    // The outermost axis needs no wrap-around.
    if (d > 0)
      coord = B::binary(BinaryFn::Rem, coord, B::i64(out[d]));
    index = index + coord * B::i64(inStrides[d - offset]);
  }
  return index;
}

// The computation of one element from the operands' elements (loaded in
// their compute types, see computeType).
using ElementFn =
    std::function<absl::StatusOr<ExprRef>(const std::vector<ExprRef> &)>;

absl::StatusOr<Kernel> elementwiseKernel(const ir::Op &op, std::string name,
                                         const ElementFn &compute) {
  Kernel k = kernelSkeleton(op, std::move(name));
  const ir::TensorType &outType = op.result()->type;

  Builder b;
  Var i = b.newVar(DType::I64, "i");
  std::vector<ExprRef> args;
  for (int j = 0; j < op.numOperands(); ++j) {
    const ir::TensorType &t = op.operand(j)->type;
    args.push_back(
        B::load(j, t.dtype, broadcastIndex(outType.shape, t.shape, B::ref(i))));
  }
  auto value = compute(args);
  if (!value.ok())
    return value.status();
  int out = op.numOperands();
  k.body = B::loop(i, B::i64(outType.numElements()),
                   {B::store(out, B::ref(i), *value)}, LoopKind::Parallel);
  return k;
}

ExprRef one(const ExprRef &like) { return B::constant(like->type, 1); }

ExprRef sigmoid(const ExprRef &x) {
  return B::binary(BinaryFn::Div, one(x),
                   one(x) + B::unary(UnaryFn::Exp, B::unary(UnaryFn::Neg, x)));
}

absl::StatusOr<ExprRef> gelu(const ir::Op &op, const ExprRef &x) {
  auto approximate = op.getString("approximate", "none");
  if (!approximate.ok())
    return approximate.status();
  DType t = x->type;
  ExprRef half = B::constant(t, 0.5);
  if (*approximate == "none")
    return half * x *
           (one(x) + B::unary(UnaryFn::Erf, x * B::constant(t, M_SQRT1_2)));
  if (*approximate == "tanh") {
    ExprRef inner = B::constant(t, std::sqrt(2.0 / M_PI)) *
                    (x + B::constant(t, 0.044715) * x * x * x);
    return half * x * (one(x) + B::unary(UnaryFn::Tanh, inner));
  }
  return absl::InvalidArgumentError(
      strCat("'gelu' has approximate = \"", *approximate,
             "\"; expected \"none\" or \"tanh\""));
}

void addUnary(LoweringRegistry &r, std::string_view name,
              std::function<ExprRef(const ExprRef &)> f) {
  r.add(name, [f](const ir::Op &op, std::string kernelName) {
    return elementwiseKernel(
        op, std::move(kernelName),
        [&](const std::vector<ExprRef> &a) -> absl::StatusOr<ExprRef> {
          return f(a[0]);
        });
  });
}

void addBinary(LoweringRegistry &r, std::string_view name, BinaryFn fn) {
  r.add(name, [fn](const ir::Op &op, std::string kernelName) {
    return elementwiseKernel(
        op, std::move(kernelName),
        [&](const std::vector<ExprRef> &a) -> absl::StatusOr<ExprRef> {
          return B::binary(fn, a[0], a[1]);
        });
  });
}

void addCompare(LoweringRegistry &r, std::string_view name, CmpFn fn) {
  r.add(name, [fn](const ir::Op &op, std::string kernelName) {
    return elementwiseKernel(
        op, std::move(kernelName),
        [&](const std::vector<ExprRef> &a) -> absl::StatusOr<ExprRef> {
          return B::compare(fn, a[0], a[1]);
        });
  });
}

} // namespace

void registerElementwiseLowerings(LoweringRegistry &r) {
  addUnary(r, "neg", [](auto x) { return B::unary(UnaryFn::Neg, x); });
  addUnary(r, "abs", [](auto x) { return B::unary(UnaryFn::Abs, x); });
  addUnary(r, "relu", [](auto x) {
    return B::binary(BinaryFn::Max, x, B::constant(x->type, 0));
  });
  addUnary(r, "exp", [](auto x) { return B::unary(UnaryFn::Exp, x); });
  addUnary(r, "log", [](auto x) { return B::unary(UnaryFn::Log, x); });
  addUnary(r, "sqrt", [](auto x) { return B::unary(UnaryFn::Sqrt, x); });
  addUnary(r, "rsqrt", [](auto x) { return B::unary(UnaryFn::Rsqrt, x); });
  addUnary(r, "tanh", [](auto x) { return B::unary(UnaryFn::Tanh, x); });
  addUnary(r, "erf", [](auto x) { return B::unary(UnaryFn::Erf, x); });
  addUnary(r, "sigmoid", [](auto x) { return sigmoid(x); });
  addUnary(r, "silu", [](auto x) { return x * sigmoid(x); });
  r.add("gelu", [](const ir::Op &op, std::string kernelName) {
    return elementwiseKernel(
        op, std::move(kernelName),
        [&](const std::vector<ExprRef> &a) { return gelu(op, a[0]); });
  });

  addBinary(r, "add", BinaryFn::Add);
  addBinary(r, "sub", BinaryFn::Sub);
  addBinary(r, "mul", BinaryFn::Mul);
  addBinary(r, "div", BinaryFn::Div);
  addBinary(r, "pow", BinaryFn::Pow);
  addBinary(r, "max", BinaryFn::Max);
  addBinary(r, "min", BinaryFn::Min);

  addCompare(r, "eq", CmpFn::Eq);
  addCompare(r, "ne", CmpFn::Ne);
  addCompare(r, "lt", CmpFn::Lt);
  addCompare(r, "le", CmpFn::Le);
  addCompare(r, "gt", CmpFn::Gt);
  addCompare(r, "ge", CmpFn::Ge);

  r.add("select", [](const ir::Op &op, std::string kernelName) {
    return elementwiseKernel(
        op, std::move(kernelName),
        [](const std::vector<ExprRef> &a) -> absl::StatusOr<ExprRef> {
          return B::select(a[0], a[1], a[2]);
        });
  });
  r.add("cast", [](const ir::Op &op, std::string kernelName) {
    DType to = op.result()->type.dtype;
    return elementwiseKernel(
        op, std::move(kernelName),
        [to](const std::vector<ExprRef> &a) -> absl::StatusOr<ExprRef> {
          return B::cast(to, a[0]);
        });
  });
}

} // namespace nyx::kernel
