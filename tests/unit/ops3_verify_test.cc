// Verifier and shape rules of the elementwise math ops (rounding,
// trigonometric, softplus, sign, mod), the bool-result ops (isnan, isinf,
// not, and, or, xor), cumsum and gather_elements: every error path with its
// message, and the result types of valid ops.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ir/module.h"
#include "ir/op_registry.h"
#include "ir/strings.h"
#include "tests/support/shape_rule.h"

namespace nyx::ir {
namespace {

using test::errorOf;
using test::infer;
using test::resultOf;
using test::t;
constexpr DType F32 = DType::F32;
constexpr DType I32 = DType::I32;
constexpr DType I64 = DType::I64;
constexpr DType Bool = DType::Bool;

const char *const kFloatUnary[] = {"floor", "ceil",  "round", "reciprocal",
                                   "sin",   "cos",   "tan",   "asin",
                                   "acos",  "atan",  "sinh",  "cosh",
                                   "asinh", "acosh", "atanh", "softplus"};

TEST(MathVerify, FloatUnaryOps) {
  for (const char *op : kFloatUnary) {
    SCOPED_TRACE(op);
    EXPECT_EQ(resultOf(op, {t(DType::BF16, {2, 3})}), t(DType::BF16, {2, 3}));
    EXPECT_EQ(resultOf(op, {t(DType::F64, {})}), t(DType::F64, {}));
    EXPECT_EQ(errorOf(op, {t(I32, {2})}),
              strCat("'", op,
                     "' operand has dtype i32; expected a float dtype (f32, "
                     "f16, bf16, f64)"));
    EXPECT_EQ(
        errorOf(op, {t(F32, {2})}, {{"axis", int64_t(0)}}),
        strCat("'", op, "' has no attribute 'axis'; it takes no attributes"));
    EXPECT_EQ(errorOf(op, {t(F32, {2}), t(F32, {2})}),
              strCat("'", op, "' has 2 operands; expected 1"));
  }
}

TEST(MathVerify, Sign) {
  EXPECT_EQ(resultOf("sign", {t(DType::I8, {4})}), t(DType::I8, {4}));
  EXPECT_EQ(resultOf("sign", {t(DType::F16, {4, 1})}), t(DType::F16, {4, 1}));
  EXPECT_EQ(errorOf("sign", {t(Bool, {4})}),
            "'sign' operand has dtype bool; expected a numeric dtype (f32, "
            "f16, bf16, f64, i8, i32, i64)");
}

TEST(MathVerify, Mod) {
  EXPECT_EQ(resultOf("mod", {t(I32, {3, 1}), t(I32, {4})}), t(I32, {3, 4}));
  EXPECT_EQ(resultOf("mod", {t(F32, {2}), t(F32, {})}, {{"fmod", true}}),
            t(F32, {2}));
  EXPECT_EQ(errorOf("mod", {t(F32, {2}), t(I32, {2})}),
            "'mod' operands have dtypes f32 and i32; expected the same dtype");
  EXPECT_EQ(errorOf("mod", {t(Bool, {2}), t(Bool, {2})}),
            "'mod' operand 0 has dtype bool; expected a numeric dtype (f32, "
            "f16, bf16, f64, i8, i32, i64)");
  EXPECT_EQ(errorOf("mod", {t(F32, {2, 3}), t(F32, {4})}),
            "'mod' operand shapes [2,3] and [4] do not broadcast");
  EXPECT_EQ(errorOf("mod", {t(F32, {2}), t(F32, {2})}, {{"fmod", int64_t(1)}}),
            "attribute 'fmod' of 'mod' must be true or false");
  EXPECT_EQ(errorOf("mod", {t(F32, {2}), t(F32, {2})}, {{"floor", true}}),
            "'mod' has no attribute 'floor'; it takes: fmod");
}

TEST(LogicalVerify, FloatTests) {
  EXPECT_EQ(resultOf("isnan", {t(DType::F16, {2, 3})}), t(Bool, {2, 3}));
  EXPECT_EQ(resultOf("isinf", {t(F32, {5})}, {{"detect_negative", false}}),
            t(Bool, {5}));
  EXPECT_EQ(errorOf("isnan", {t(I64, {2})}),
            "'isnan' operand has dtype i64; expected a float dtype (f32, f16, "
            "bf16, f64)");
  EXPECT_EQ(errorOf("isinf", {t(Bool, {2})}),
            "'isinf' operand has dtype bool; expected a float dtype (f32, "
            "f16, bf16, f64)");
  EXPECT_EQ(errorOf("isinf", {t(F32, {2})}, {{"detect_positive", int64_t(0)}}),
            "attribute 'detect_positive' of 'isinf' must be true or false");
  EXPECT_EQ(errorOf("isinf", {t(F32, {2})}, {{"positive", true}}),
            "'isinf' has no attribute 'positive'; it takes: detect_negative, "
            "detect_positive");
  EXPECT_EQ(errorOf("isnan", {t(F32, {2})}, {{"detect_positive", true}}),
            "'isnan' has no attribute 'detect_positive'; it takes no "
            "attributes");
}

TEST(LogicalVerify, LogicalOps) {
  EXPECT_EQ(resultOf("not", {t(Bool, {2, 3})}), t(Bool, {2, 3}));
  EXPECT_EQ(errorOf("not", {t(I32, {2})}),
            "'not' operand has dtype i32; expected bool");
  for (const char *op : {"and", "or", "xor"}) {
    SCOPED_TRACE(op);
    EXPECT_EQ(resultOf(op, {t(Bool, {3, 1}), t(Bool, {4})}), t(Bool, {3, 4}));
    EXPECT_EQ(errorOf(op, {t(Bool, {2}), t(F32, {2})}),
              strCat("'", op, "' operand 1 has dtype f32; expected bool"));
    EXPECT_EQ(errorOf(op, {t(I32, {2}), t(I32, {2})}),
              strCat("'", op, "' operand 0 has dtype i32; expected bool"));
    EXPECT_EQ(errorOf(op, {t(Bool, {2}), t(Bool, {3})}),
              strCat("'", op, "' operand shapes [2] and [3] do not broadcast"));
    EXPECT_EQ(errorOf(op, {t(Bool, {2})}),
              strCat("'", op, "' has 1 operand; expected 2"));
  }
}

TEST(CumsumVerify, ResultShapes) {
  EXPECT_EQ(resultOf("cumsum", {t(F32, {2, 3})}, {{"axis", int64_t(-1)}}),
            t(F32, {2, 3}));
  EXPECT_EQ(
      resultOf("cumsum", {t(DType::I8, {4})},
               {{"axis", int64_t(0)}, {"exclusive", true}, {"reverse", true}}),
      t(DType::I8, {4}));
}

TEST(CumsumVerify, Errors) {
  EXPECT_EQ(errorOf("cumsum", {t(F32, {2, 3})}),
            "'cumsum' needs attribute 'axis' (an integer)");
  EXPECT_EQ(errorOf("cumsum", {t(F32, {2, 3})}, {{"axis", int64_t(2)}}),
            "'cumsum' axis 2 is out of range for rank 2");
  EXPECT_EQ(errorOf("cumsum", {t(F32, {})}, {{"axis", int64_t(0)}}),
            "'cumsum' operand has rank 0; expected rank >= 1");
  EXPECT_EQ(errorOf("cumsum", {t(Bool, {3})}, {{"axis", int64_t(0)}}),
            "'cumsum' operand has dtype bool; expected a numeric dtype (f32, "
            "f16, bf16, f64, i8, i32, i64)");
  EXPECT_EQ(errorOf("cumsum", {t(F32, {3})},
                    {{"axis", int64_t(0)}, {"exclusive", int64_t(1)}}),
            "attribute 'exclusive' of 'cumsum' must be true or false");
  EXPECT_EQ(errorOf("cumsum", {t(F32, {3})},
                    {{"axis", int64_t(0)}, {"axes", std::vector<int64_t>{0}}}),
            "'cumsum' has no attribute 'axes'; it takes: axis, exclusive, "
            "reverse");
}

TEST(GatherElementsVerify, ResultShapes) {
  // The result has the indices' shape: larger along the axis, smaller
  // elsewhere.
  EXPECT_EQ(resultOf("gather_elements", {t(F32, {3, 4}), t(I64, {7, 2})}),
            t(F32, {7, 2}));
  EXPECT_EQ(resultOf("gather_elements", {t(Bool, {3, 4}), t(I32, {1, 9})},
                     {{"axis", int64_t(-1)}}),
            t(Bool, {1, 9}));
  EXPECT_EQ(resultOf("gather_elements", {t(F32, {3, 0}), t(I64, {3, 2})},
                     {{"axis", int64_t(1)}}),
            t(F32, {3, 2}));
}

TEST(GatherElementsVerify, Errors) {
  EXPECT_EQ(errorOf("gather_elements", {t(F32, {3, 4}), t(F32, {3, 4})}),
            "'gather_elements' indices are f32[3,4]; expected i32 or i64");
  EXPECT_EQ(errorOf("gather_elements", {t(F32, {}), t(I64, {})}),
            "'gather_elements' data is f32[]; expected rank >= 1");
  EXPECT_EQ(errorOf("gather_elements", {t(F32, {3, 4}), t(I64, {3})}),
            "'gather_elements' indices are i64[3] for data f32[3,4]; expected "
            "the same rank");
  EXPECT_EQ(errorOf("gather_elements", {t(F32, {3, 4}), t(I64, {2, 5})}),
            "'gather_elements' indices are i64[2,5] for data f32[3,4]; "
            "expected dimension 1 at most 4");
  EXPECT_EQ(errorOf("gather_elements", {t(F32, {3, 4}), t(I64, {3, 4})},
                    {{"axis", int64_t(2)}}),
            "'gather_elements' axis 2 is out of range for rank 2");
  EXPECT_EQ(errorOf("gather_elements", {t(F32, {3, 4}), t(I64, {3, 4})},
                    {{"axes", int64_t(0)}}),
            "'gather_elements' has no attribute 'axes'; it takes: axis");
  EXPECT_EQ(errorOf("gather_elements", {t(F32, {3, 4})}),
            "'gather_elements' has 1 operand; expected 2");
}

} // namespace
} // namespace nyx::ir
