// Lowerings of the elementwise math and logical ops, cumsum and
// gather_elements to loop nests: the element expressions and loop nests
// (printed), and the errors a malformed op reports. Numerics are covered by
// tests/e2e/ops_math_test.cc, ops_cumsum_test.cc and
// ops_gather_elements_test.cc.
#include <string>

#include "codegen/kernel/lowering.h"
#include "ir/op_registry.h"
#include "ir/strings.h"
#include "tests/support/lowered.h"
#include "gtest/gtest.h"

namespace nyx::kernel {
namespace {

using ir::DType;
using test::Lowered;

// The printed kernel of the single op `call` with result type `type` on
// `params`.
std::string printedOp(const std::string &params, const std::string &call,
                      const std::string &type) {
  Lowered l = test::lowerFirstOp(strCat("func @main(", params, ") -> (", type,
                                        ") {\n  %y = ", call, " : ", type,
                                        "\n  return %y\n}\n"));
  EXPECT_TRUE(l.kernel.ok()) << l.error();
  return l.printed;
}

// The value stored by a one-loop elementwise kernel: the text after "y[i.0]
// = " on its store line.
std::string storedValue(const std::string &printed) {
  const std::string store = "y[i.0] = ";
  size_t at = printed.find(store);
  if (at == std::string::npos)
    return "no store in:\n" + printed;
  at += store.size();
  return printed.substr(at, printed.find('\n', at) - at);
}

std::string element(const std::string &params, const std::string &call,
                    const std::string &type) {
  return storedValue(printedOp(params, call, type));
}

// Lowers a one-op function built without the verifier, for the malformed
// ops a parser would reject before lowering.
absl::StatusOr<Kernel> lowerUnchecked(std::string_view opName,
                                      std::vector<ir::TensorType> operands,
                                      ir::Attributes attrs,
                                      ir::TensorType result) {
  ir::Module m;
  ir::Function *f = m.addFunction("main");
  std::vector<ir::Value *> values;
  for (size_t i = 0; i < operands.size(); ++i)
    values.push_back(f->addParam(strCat("p", i), operands[i]));
  ir::Op *op =
      f->appendOp(ir::lookupOp(opName), values, std::move(attrs), {result});
  return (*lookupLowering(opName))(*op, "k");
}

TEST(LowerMath, UnaryFunctionsAreOneLoopIrFunction) {
  for (const char *op :
       {"floor", "ceil", "round", "sin", "cos", "tan", "asin", "acos", "atan",
        "sinh", "cosh", "asinh", "acosh", "atanh"})
    EXPECT_EQ(element("%x: f64[4]", strCat(op, "(%x)"), "f64[4]"),
              strCat(op, "(x[i.0])"));
}

TEST(LowerMath, ComposedElementFunctions) {
  EXPECT_EQ(element("%x: f32[4]", "reciprocal(%x)", "f32[4]"),
            "(1.0:f32 / x[i.0])");
  EXPECT_EQ(element("%x: f32[4]", "softplus(%x)", "f32[4]"),
            "(max(x[i.0], 0.0:f32) + log1p(exp(neg(abs(x[i.0])))))");
  EXPECT_EQ(element("%x: i8[4]", "sign(%x)", "i8[4]"),
            "select((x[i.0] > 0:i8), 1:i8, select((x[i.0] < 0:i8), -1:i8, "
            "0:i8))");
  // f16 computes in f32; a NaN is its own sign.
  EXPECT_EQ(element("%x: f16[4]", "sign(%x)", "f16[4]"),
            "select((x[i.0] != x[i.0]), x[i.0], select((x[i.0] > "
            "0.0:f32), 1.0:f32, select((x[i.0] < 0.0:f32), -1.0:f32, "
            "0.0:f32)))");
  EXPECT_EQ(element("%x: f32[4]", "isnan(%x)", "bool[4]"),
            "(x[i.0] != x[i.0])");
  EXPECT_EQ(element("%x: f32[4]", "isinf(%x)", "bool[4]"),
            "(abs(x[i.0]) == inf:f32)");
  EXPECT_EQ(
      element("%x: f32[4]", "isinf(%x) {detect_positive = false}", "bool[4]"),
      "(x[i.0] == -inf:f32)");
  EXPECT_EQ(element("%x: f32[4]",
                    "isinf(%x) {detect_positive = false, detect_negative = "
                    "false}",
                    "bool[4]"),
            "false");
  EXPECT_EQ(element("%x: bool[4]", "not(%x)", "bool[4]"), "not(x[i.0])");
  EXPECT_EQ(element("%a: bool[4], %b: bool[4]", "xor(%a, %b)", "bool[4]"),
            "(a[i.0] != b[i.0])");
  EXPECT_EQ(element("%a: bool[4], %b: bool[]", "and(%a, %b)", "bool[4]"),
            "(a[i.0] & b[0])");
}

TEST(LowerMath, ModMovesTheRemainderToTheDivisorsSign) {
  EXPECT_EQ(
      element("%a: i32[4], %b: i32[4]", "mod(%a, %b) {fmod = true}", "i32[4]"),
      "(a[i.0] % b[i.0])");
  EXPECT_EQ(element("%a: i32[4], %b: i32[4]", "mod(%a, %b)", "i32[4]"),
            "select((((a[i.0] % b[i.0]) != 0:i32) & (((a[i.0] % b[i.0]) < "
            "0:i32) != (b[i.0] < 0:i32))), ((a[i.0] % b[i.0]) + b[i.0]), "
            "(a[i.0] % b[i.0]))");
  // Float zeros take the divisor's sign.
  std::string f = element("%a: f64[4], %b: f64[4]", "mod(%a, %b)", "f64[4]");
  EXPECT_EQ(f.rfind("select(((a[i.0] % b[i.0]) == 0.0:f64), select((b[i.0] < "
                    "0.0:f64), -0.0:f64, 0.0:f64), ",
                    0),
            0u)
      << f;
}

TEST(LowerMath, CumsumCarriesAnF64SumAlongTheAxis) {
  EXPECT_EQ(printedOp("%x: f32[3,4]",
                      "cumsum(%x) {axis = 0, exclusive = true, reverse = true}",
                      "f32[3,4]"),
            R"(kernel k(x: f32[12], out y: f32[12]) {
  parallel for o0.0 in 0..4 {
    var sum.1: f64 = 0.0:f64
    for k.2 in 0..3 {
      y[(((2 - k.2) * 4) + o0.0)] = f32(sum.1)
      sum.1 = (sum.1 + f64(x[(((2 - k.2) * 4) + o0.0)]))
    }
  }
}
)");
}

TEST(LowerMath, GatherElementsGuardsItsLoad) {
  EXPECT_EQ(printedOp("%d: i8[2,5], %i: i32[2,3]",
                      "gather_elements(%d, %i) {axis = 1}", "i8[2,3]"),
            R"(kernel k(d: i8[10], i: i32[6], out y: i8[6]) {
  parallel for i0.0 in 0..2 {
    parallel for i1.1 in 0..3 {
      var index.2: i64 = select((i64(i[((i0.0 * 3) + i1.1)]) < 0), (i64(i[((i0.0 * 3) + i1.1)]) + 5), i64(i[((i0.0 * 3) + i1.1)]))
      if ((index.2 >= 0) & (index.2 < 5)) {
        y[((i0.0 * 3) + i1.1)] = d[((i0.0 * 5) + index.2)]
      } else {
        y[((i0.0 * 3) + i1.1)] = 0:i8
      }
    }
  }
}
)");
}

TEST(LowerMath, MalformedOpsReportWhatIsWrong) {
  const ir::TensorType f32x3{DType::F32, {3}};
  auto bad = lowerUnchecked("cumsum", {{DType::Bool, {3}}},
                            {{"axis", int64_t(0)}}, {DType::Bool, {3}});
  EXPECT_EQ(std::string(bad.status().message()),
            "'cumsum' of bool[3] to bool[3]; expected a numeric operand and a "
            "result of its type");
  bad = lowerUnchecked("cumsum", {f32x3}, {{"axis", int64_t(1)}}, f32x3);
  EXPECT_EQ(std::string(bad.status().message()),
            "'cumsum' attribute 'axis' is 1; expected an axis in [-1, 1)");
  bad = lowerUnchecked("cumsum", {f32x3},
                       {{"axis", int64_t(0)}, {"reverse", int64_t(1)}}, f32x3);
  EXPECT_EQ(std::string(bad.status().message()),
            "attribute 'reverse' of 'cumsum' must be true or false");
  bad = lowerUnchecked("gather_elements", {f32x3, f32x3}, {}, f32x3);
  EXPECT_EQ(std::string(bad.status().message()),
            "'gather_elements' indices are f32[3]; expected i32 or i64");
  bad = lowerUnchecked("gather_elements", {f32x3, {DType::I64, {4}}}, {},
                       {DType::F32, {3}});
  EXPECT_EQ(std::string(bad.status().message()),
            "'gather_elements' of f32[3] at i64[4] gives f32[3]; expected "
            "indices of data's rank, no larger than data off the axis, and a "
            "result of data's dtype and the indices' shape");
  bad = lowerUnchecked("mod", {f32x3, f32x3}, {{"fmod", int64_t(1)}}, f32x3);
  EXPECT_EQ(std::string(bad.status().message()),
            "attribute 'fmod' of 'mod' must be true or false");
  bad = lowerUnchecked("isinf", {f32x3}, {{"detect_negative", 0.5}},
                       {DType::Bool, {3}});
  EXPECT_EQ(std::string(bad.status().message()),
            "attribute 'detect_negative' of 'isinf' must be true or false");
}

} // namespace
} // namespace nyx::kernel
