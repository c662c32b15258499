// cumsum: running sums along one axis (ONNX CumSum). Semantics:
// docs/ops.md.
#include "ir/op_registry.h"
#include "ir/ops/op_helpers.h"

namespace nyx::ir {
namespace {

using namespace ops;

struct CumsumSpec {
  int64_t axis = 0;
  bool exclusive = false, reverse = false;
};

absl::StatusOr<CumsumSpec> cumsumSpec(const Op &op) {
  CumsumSpec s;
  NYX_ASSIGN_OR_RETURN(int64_t axis, op.getInt("axis"));
  NYX_ASSIGN_OR_RETURN(s.axis,
                       normalizeAxis(op, axis, op.operand(0)->type.rank()));
  NYX_ASSIGN_OR_RETURN(s.exclusive, op.getBool("exclusive", false));
  NYX_ASSIGN_OR_RETURN(s.reverse, op.getBool("reverse", false));
  return s;
}

absl::StatusOr<std::vector<TensorType>> inferCumsum(const Op &op,
                                                    const Module &) {
  NYX_RETURN_IF_ERROR(checkOpBasics(op, {"axis", "exclusive", "reverse"}));
  NYX_RETURN_IF_ERROR(checkOperandDType(op, 0, DTypeClass::Numeric));
  NYX_RETURN_IF_ERROR(checkMinRank(op, 0, 1));
  NYX_RETURN_IF_ERROR(cumsumSpec(op).status());
  return std::vector<TensorType>{op.operand(0)->type};
}

// Floats sum in f64 and integers in i64 (wrapping), in order along the
// axis; each result is rounded (or wrapped) once to the element type.
absl::Status interpretCumsum(const Op &op, std::span<const Tensor *const> in,
                             std::span<Tensor> out, const InterpContext &) {
  NYX_ASSIGN_OR_RETURN(CumsumSpec spec, cumsumSpec(op));
  const Tensor &x = *in[0];
  Tensor &y = out[0];
  const Shape &shape = x.shape();
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < spec.axis; ++d)
    outer *= shape[d];
  for (size_t d = spec.axis + 1; d < shape.size(); ++d)
    inner *= shape[d];
  const int64_t n = shape[spec.axis];
  const bool floating = isFloat(x.dtype());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < inner; ++j) {
      double fsum = 0;
      int64_t isum = 0;
      auto store = [&](int64_t at) {
        if (floating)
          storeRounded(y, at, fsum);
        else
          y.setInt(at, isum);
      };
      for (int64_t step = 0; step < n; ++step) {
        int64_t k = spec.reverse ? n - 1 - step : step;
        int64_t at = (o * n + k) * inner + j;
        if (spec.exclusive)
          store(at);
        if (floating)
          fsum += x.getDouble(at);
        else
          isum = wrapAdd(isum, x.getInt(at));
        if (!spec.exclusive)
          store(at);
      }
    }
  return absl::OkStatus();
}

} // namespace

void registerScanOps(OpRegistry &r) {
  r.add(OpDef{.name = "cumsum",
              .minOperands = 1,
              .maxOperands = 1,
              .inferTypes = inferCumsum,
              .interpret = interpretCumsum});
}

} // namespace nyx::ir
