// Elementwise ops (docs/ops.md): the value of one result element from the
// operand elements at the same (NumPy-broadcast) position, each taken in its
// compute type. The standalone kernels and the fused ones are both built
// from these element functions (element_fn.h).
#include <cmath>
#include <functional>

#include "codegen/kernel/element_fn.h"
#include "codegen/kernel/index_math.h"
#include "codegen/kernel/lowering.h"
#include "ir/strings.h"

namespace nyx::kernel {
namespace {

using B = Builder;

// The computation of one element from the operands' elements in their
// compute types.
using Compute = std::function<absl::StatusOr<ExprRef>(
    const ir::Op &op, const std::vector<ExprRef> &args)>;

// Each operand read at the position broadcasting maps `coords` to.
ElementFn broadcasting(Compute compute) {
  return [compute = std::move(compute)](
             const ir::Op &op, const std::vector<ExprRef> &coords,
             const OperandAt &operandAt) -> absl::StatusOr<ExprRef> {
    std::vector<ExprRef> args;
    for (int j = 0; j < op.numOperands(); ++j) {
      const ir::Shape &shape = op.operand(j)->type.shape;
      if (shape.size() > coords.size())
        return absl::InvalidArgumentError(strCat(
            "'", op.name(), "' operand ", j, " is ", op.operand(j)->type.str(),
            " for result ", op.result()->type.str(),
            "; expected a shape that broadcasts to the result"));
      auto v = operandAt(j, broadcastCoords(coords, shape));
      if (!v.ok())
        return v.status();
      args.push_back(computeValue(*v));
    }
    return compute(op, args);
  };
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

void addUnary(ElementFnRegistry &r, std::string_view name,
              std::function<ExprRef(const ExprRef &)> f) {
  r.add(name, broadcasting([f](const ir::Op &, const std::vector<ExprRef> &a)
                               -> absl::StatusOr<ExprRef> { return f(a[0]); }));
}

void addBinary(ElementFnRegistry &r, std::string_view name, BinaryFn fn) {
  r.add(name, broadcasting([fn](const ir::Op &, const std::vector<ExprRef> &a)
                               -> absl::StatusOr<ExprRef> {
          return B::binary(fn, a[0], a[1]);
        }));
}

void addCompare(ElementFnRegistry &r, std::string_view name, CmpFn fn) {
  r.add(name, broadcasting([fn](const ir::Op &, const std::vector<ExprRef> &a)
                               -> absl::StatusOr<ExprRef> {
          return B::compare(fn, a[0], a[1]);
        }));
}

} // namespace

void registerElementwiseElementFns(ElementFnRegistry &r) {
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
  r.add("gelu",
        broadcasting([](const ir::Op &op, const std::vector<ExprRef> &a) {
          return gelu(op, a[0]);
        }));

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

  r.add("select", broadcasting([](const ir::Op &, const std::vector<ExprRef> &a)
                                   -> absl::StatusOr<ExprRef> {
          return B::select(a[0], a[1], a[2]);
        }));
  r.add("cast", broadcasting([](const ir::Op &op, const std::vector<ExprRef> &a)
                                 -> absl::StatusOr<ExprRef> {
          return B::cast(op.result()->type.dtype, a[0]);
        }));
}

void registerElementwiseLowerings(LoweringRegistry &r) {
  ElementFnRegistry fns;
  registerElementwiseElementFns(fns);
  for (const auto &[name, fn] : fns.fns)
    r.add(name, lowerElementwiseOp);
}

} // namespace nyx::kernel
