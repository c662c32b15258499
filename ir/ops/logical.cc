// Ops with a bool result: the float tests `isnan` and `isinf`, and the
// logical ops `not`, `and`, `or`, `xor` on bool. Semantics: docs/ops.md.
#include <cmath>
#include <functional>

#include "ir/op_registry.h"
#include "ir/ops/elementwise_kernels.h"
#include "ir/ops/op_helpers.h"

namespace nyx::ir {
namespace {

using namespace ops;

// Decides one element of a float test from its value (every f16, bf16 and
// f32 value is exact in double).
using FloatTest = std::function<bool(double)>;
// The test of one op, from its attributes.
using MakeFloatTest = absl::StatusOr<FloatTest> (*)(const Op &);

absl::StatusOr<FloatTest> isNanTest(const Op &) {
  return FloatTest([](double x) { return std::isnan(x); });
}

absl::StatusOr<FloatTest> isInfTest(const Op &op) {
  NYX_ASSIGN_OR_RETURN(bool positive, op.getBool("detect_positive", true));
  NYX_ASSIGN_OR_RETURN(bool negative, op.getBool("detect_negative", true));
  return FloatTest([positive, negative](double x) {
    return std::isinf(x) && (x > 0 ? positive : negative);
  });
}

// A float test: operand of a float dtype, bool result of its shape. Only
// isinf takes attributes.
void addFloatTest(OpRegistry &r, std::string name, bool takesInfSigns,
                  MakeFloatTest makeTest) {
  OpDef def;
  def.name = std::move(name);
  def.minOperands = def.maxOperands = 1;
  def.inferTypes = [takesInfSigns, makeTest](const Op &op, const Module &)
      -> absl::StatusOr<std::vector<TensorType>> {
    NYX_RETURN_IF_ERROR(takesInfSigns ? checkOpBasics(op, {"detect_negative",
                                                           "detect_positive"})
                                      : checkOpBasics(op, {}));
    NYX_RETURN_IF_ERROR(checkOperandDType(op, 0, DTypeClass::Float));
    NYX_RETURN_IF_ERROR(makeTest(op).status()); // attribute kinds
    return oneResult(DType::Bool, op.operand(0)->type.shape);
  };
  def.interpret = [makeTest](const Op &op, std::span<const Tensor *const> in,
                             std::span<Tensor> out,
                             const InterpContext &) -> absl::Status {
    NYX_ASSIGN_OR_RETURN(FloatTest test, makeTest(op));
    for (int64_t i = 0, n = in[0]->numElements(); i < n; ++i)
      out[0].setInt(i, test(in[0]->getDouble(i)) ? 1 : 0);
    return absl::OkStatus();
  };
  r.add(std::move(def));
}

void registerFloatTests(OpRegistry &r) {
  addFloatTest(r, "isnan", false, isNanTest);
  addFloatTest(r, "isinf", true, isInfTest);
}

void registerLogical(OpRegistry &r) {
  OpDef def;
  def.name = "not";
  def.minOperands = def.maxOperands = 1;
  def.inferTypes =
      [](const Op &op,
         const Module &) -> absl::StatusOr<std::vector<TensorType>> {
    NYX_RETURN_IF_ERROR(checkOpBasics(op, {}));
    NYX_RETURN_IF_ERROR(checkOperandIsDType(op, 0, DType::Bool));
    return std::vector<TensorType>{op.operand(0)->type};
  };
  def.interpret = [](const Op &, std::span<const Tensor *const> in,
                     std::span<Tensor> out,
                     const InterpContext &) -> absl::Status {
    for (int64_t i = 0, n = in[0]->numElements(); i < n; ++i)
      out[0].setInt(i, in[0]->getInt(i) ? 0 : 1);
    return absl::OkStatus();
  };
  r.add(std::move(def));

  auto addLogical = [&r](std::string name, auto fn) {
    OpDef def;
    def.name = std::move(name);
    def.minOperands = def.maxOperands = 2;
    def.inferTypes =
        [](const Op &op,
           const Module &) -> absl::StatusOr<std::vector<TensorType>> {
      NYX_RETURN_IF_ERROR(checkOpBasics(op, {}));
      NYX_RETURN_IF_ERROR(checkOperandIsDType(op, 0, DType::Bool));
      NYX_RETURN_IF_ERROR(checkOperandIsDType(op, 1, DType::Bool));
      static constexpr int kBoth[] = {0, 1};
      NYX_ASSIGN_OR_RETURN(Shape shape, broadcastOperandShapes(op, kBoth));
      return oneResult(DType::Bool, std::move(shape));
    };
    def.interpret = [fn](const Op &, std::span<const Tensor *const> in,
                         std::span<Tensor> out,
                         const InterpContext &) -> absl::Status {
      const Tensor &a = *in[0], &b = *in[1];
      forEachPair(a, b, out[0], [&](int64_t o, int64_t i, int64_t j) {
        out[0].setInt(o, fn(a.getInt(i) != 0, b.getInt(j) != 0) ? 1 : 0);
      });
      return absl::OkStatus();
    };
    r.add(std::move(def));
  };
  addLogical("and", [](bool a, bool b) { return a && b; });
  addLogical("or", [](bool a, bool b) { return a || b; });
  addLogical("xor", [](bool a, bool b) { return a != b; });
}

} // namespace

void registerLogicalOps(OpRegistry &r) {
  registerFloatTests(r);
  registerLogical(r);
  r.setFusionKind({"isnan", "isinf", "not", "and", "or", "xor"},
                  FusionKind::Elementwise);
  r.setCommutative({"and", "or", "xor"});
}

} // namespace nyx::ir
