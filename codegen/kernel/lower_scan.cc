// cumsum (docs/ops.md): one running sum per position of the other axes,
// carried along the scanned axis in a local. Floats sum in f64 and integers
// in i64 (wrapping), in the interpreter's order, so each stored result is
// the interpreter's, rounded (or wrapped) once to the element type.
#include "absl/status/status.h"
#include "codegen/kernel/index_math.h"
#include "codegen/kernel/lowering.h"
#include "ir/strings.h"

namespace nyx::kernel {
namespace {

using B = Builder;

absl::StatusOr<Kernel> lowerCumsum(const ir::Op &op, std::string name) {
  const ir::TensorType &in = op.operand(0)->type;
  const DType dt = in.dtype;
  if ((!ir::isFloat(dt) && !ir::isInteger(dt)) || op.result()->type != in)
    return absl::InvalidArgumentError(
        strCat("'cumsum' of ", in.str(), " to ", op.result()->type.str(),
               "; expected a numeric operand and a result of its type"));
  auto axis = axisAttribute(op, "axis", std::nullopt, in.rank());
  if (!axis.ok())
    return axis.status();
  auto exclusive = op.getBool("exclusive", false);
  if (!exclusive.ok())
    return exclusive.status();
  auto reverse = op.getBool("reverse", false);
  if (!reverse.ok())
    return reverse.status();

  Kernel k = kernelSkeleton(op, std::move(name));
  Builder b;
  AlongAxis along(b, in.shape, *axis);
  const int64_t n = along.extent();
  const DType accType = ir::isFloat(dt) ? DType::F64 : DType::I64;
  Var sum = b.newVar(accType, "sum");
  Var step = b.newVar(DType::I64, "k");
  ExprRef position = *reverse ? B::i64(n - 1) - B::ref(step) : B::ref(step);
  ExprRef at = along.at(position);
  StmtRef add =
      B::assign(sum, B::ref(sum) + B::cast(accType, B::load(0, dt, at)));
  StmtRef store = B::store(1, at, B::cast(dt, B::ref(sum)));
  std::vector<StmtRef> body =
      *exclusive ? std::vector<StmtRef>{store, add} : std::vector{add, store};
  k.body = along.others().wrap({B::declare(sum, B::constant(accType, 0)),
                                B::loop(step, B::i64(n), std::move(body))},
                               true);
  return k;
}

} // namespace

void registerScanLowerings(LoweringRegistry &r) {
  r.add("cumsum", lowerCumsum);
}

} // namespace nyx::kernel
