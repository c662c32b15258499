// Verifier and shape rules of matmul, the shape ops and conv/pooling: every
// error path with its message, and the result types of valid ops.
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

using Ints = std::vector<int64_t>;

// ---- matmul ----

TEST(MatmulVerify, ResultShapes) {
  EXPECT_EQ(resultOf("matmul", {t(F32, {2, 3}), t(F32, {3, 4})}),
            t(F32, {2, 4}));
  EXPECT_EQ(resultOf("matmul",
                     {t(DType::I64, {2, 1, 3, 4}), t(DType::I64, {5, 4, 6})}),
            t(DType::I64, {2, 5, 3, 6}));
  EXPECT_EQ(resultOf("matmul", {t(DType::F16, {3, 2}), t(DType::F16, {4, 3})},
                     {{"transpose_a", true}, {"transpose_b", true}}),
            t(DType::F16, {2, 4}));
}

TEST(MatmulVerify, Errors) {
  EXPECT_EQ(errorOf("matmul", {t(F32, {2, 3})}),
            "'matmul' has 1 operand; expected 2");
  EXPECT_EQ(errorOf("matmul", {t(F32, {2, 3}), t(F32, {3, 4})},
                    {{"transpose", true}}),
            "'matmul' has no attribute 'transpose'; it takes: transpose_a, "
            "transpose_b");
  EXPECT_EQ(errorOf("matmul", {t(DType::I8, {2, 3}), t(DType::I32, {3, 4})}),
            "'matmul' operands have different element types: a is i8[2,3] "
            "and b is i32[3,4]; expected them equal");
  EXPECT_EQ(errorOf("matmul", {t(DType::Bool, {2, 3}), t(DType::Bool, {3, 4})}),
            "'matmul' operand a is bool[2,3]; expected a float, i8, i32 or i64 "
            "element type");
  EXPECT_EQ(errorOf("matmul", {t(F32, {2, 3}), t(DType::F64, {3, 4})}),
            "'matmul' operands have different element types: a is f32[2,3] "
            "and b is f64[3,4]; expected them equal");
  EXPECT_EQ(errorOf("matmul", {t(F32, {3}), t(F32, {3, 4})}),
            "'matmul' operands are f32[3] and f32[3,4]; expected rank >= 2");
  EXPECT_EQ(errorOf("matmul", {t(F32, {2, 3}), t(F32, {4, 5})}),
            "'matmul' inner dimensions differ: a is f32[2,3] (K=3) and b is "
            "f32[4,5] (K=4); expected them equal");
  EXPECT_EQ(errorOf("matmul", {t(F32, {2, 3}), t(F32, {3, 4})},
                    {{"transpose_a", true}}),
            "'matmul' inner dimensions differ: a is f32[2,3] transposed "
            "(K=2) and b is f32[3,4] (K=3); expected them equal");
  EXPECT_EQ(errorOf("matmul", {t(F32, {2, 2, 3}), t(F32, {3, 3, 4})}),
            "'matmul' batch axes do not broadcast: a is f32[2,2,3] and b is "
            "f32[3,3,4]");
  EXPECT_EQ(errorOf("matmul", {t(F32, {2, 3}), t(F32, {3, 4})},
                    {{"transpose_b", int64_t{1}}}),
            "attribute 'transpose_b' of 'matmul' must be true or false");
}

// ---- reshape ----

TEST(ReshapeVerify, ResultShapes) {
  EXPECT_EQ(
      resultOf("reshape", {t(DType::I8, {2, 3, 4})}, {{"shape", Ints{4, -1}}}),
      t(DType::I8, {4, 6}));
  EXPECT_EQ(resultOf("reshape", {t(F32, {1})}, {{"shape", Ints{}}}),
            t(F32, {}));
  EXPECT_EQ(resultOf("reshape", {t(F32, {0, 3})}, {{"shape", Ints{3, 0}}}),
            t(F32, {3, 0}));
}

TEST(ReshapeVerify, Errors) {
  EXPECT_EQ(errorOf("reshape", {t(F32, {6})}),
            "'reshape' needs attribute 'shape' (a list of integers)");
  EXPECT_EQ(errorOf("reshape", {t(F32, {6})}, {{"shape", Ints{-1, -1}}}),
            "'reshape' shape [-1, -1] has more than one -1; expected at most "
            "one");
  EXPECT_EQ(errorOf("reshape", {t(F32, {6})}, {{"shape", Ints{-2, 3}}}),
            "'reshape' shape [-2, 3] has entry -2; expected sizes >= 0 or a "
            "single -1");
  EXPECT_EQ(errorOf("reshape", {t(F32, {6})}, {{"shape", Ints{4, 2}}}),
            "'reshape' of f32[6] (6 elements) to [4, 2] (8 elements); "
            "expected the same element count");
  EXPECT_EQ(errorOf("reshape", {t(F32, {6})}, {{"shape", Ints{4, -1}}}),
            "'reshape' cannot infer the -1 in [4, -1] for f32[6] (6 "
            "elements)");
  EXPECT_EQ(errorOf("reshape", {t(F32, {0})}, {{"shape", Ints{0, -1}}}),
            "'reshape' cannot infer the -1 in [0, -1] for f32[0] (0 "
            "elements)");
  EXPECT_EQ(
      errorOf("reshape", {t(F32, {6}), t(F32, {6})}, {{"shape", Ints{6}}}),
      "'reshape' has 2 operands; expected 1");
}

// ---- transpose ----

TEST(TransposeVerify, ResultShapes) {
  EXPECT_EQ(resultOf("transpose", {t(DType::Bool, {2, 3, 4})}),
            t(DType::Bool, {4, 3, 2}));
  EXPECT_EQ(
      resultOf("transpose", {t(F32, {2, 3, 4})}, {{"perm", Ints{0, -1, 1}}}),
      t(F32, {2, 4, 3}));
}

TEST(TransposeVerify, Errors) {
  EXPECT_EQ(errorOf("transpose", {t(F32, {2, 3})}, {{"perm", Ints{0}}}),
            "'transpose' perm [0] has 1 entries for f32[2,3]; expected 2");
  EXPECT_EQ(errorOf("transpose", {t(F32, {2, 3})}, {{"perm", Ints{1, -1}}}),
            "'transpose' perm [1, -1] repeats axis 1; expected a permutation");
  EXPECT_EQ(errorOf("transpose", {t(F32, {2, 3})}, {{"perm", Ints{0, 2}}}),
            "'transpose' axis 2 is out of range for rank 2");
  EXPECT_EQ(errorOf("transpose", {t(F32, {2, 3})}, {{"axes", Ints{1, 0}}}),
            "'transpose' has no attribute 'axes'; it takes: perm");
}

// ---- broadcast_to ----

TEST(BroadcastToVerify, ResultShapes) {
  EXPECT_EQ(resultOf("broadcast_to", {t(DType::I32, {3, 1})},
                     {{"shape", Ints{2, 3, 4}}}),
            t(DType::I32, {2, 3, 4}));
  EXPECT_EQ(resultOf("broadcast_to", {t(F32, {1})}, {{"shape", Ints{0}}}),
            t(F32, {0}));
}

TEST(BroadcastToVerify, Errors) {
  EXPECT_EQ(errorOf("broadcast_to", {t(F32, {3, 2})}, {{"shape", Ints{3, 4}}}),
            "'broadcast_to' cannot broadcast f32[3,2] to [3, 4]; expected "
            "each dimension to equal the target's or be 1");
  EXPECT_EQ(errorOf("broadcast_to", {t(F32, {2, 3})}, {{"shape", Ints{3}}}),
            "'broadcast_to' cannot broadcast f32[2,3] to [3]; expected each "
            "dimension to equal the target's or be 1");
  EXPECT_EQ(errorOf("broadcast_to", {t(F32, {1})}, {{"shape", Ints{-1}}}),
            "'broadcast_to' shape [-1] has a negative size; expected sizes "
            ">= 0");
}

// ---- slice ----

TEST(SliceVerify, ResultShapes) {
  auto slice = [](Shape in, Ints starts, Ints ends, Ints axes, Ints steps) {
    return resultOf("slice", {t(F32, std::move(in))},
                    {{"starts", starts},
                     {"ends", ends},
                     {"axes", axes},
                     {"steps", steps}})
        .shape;
  };
  EXPECT_EQ(slice({10}, {2}, {8}, {0}, {3}), Shape{2});
  EXPECT_EQ(slice({10}, {-3}, {100}, {0}, {1}), Shape{3});
  EXPECT_EQ(slice({10}, {-100}, {3}, {0}, {1}), Shape{3});
  EXPECT_EQ(slice({10}, {8}, {2}, {0}, {1}), Shape{0});
  EXPECT_EQ(slice({10}, {100}, {-100}, {0}, {-1}), Shape{10});
  EXPECT_EQ(slice({10}, {-1}, {0}, {0}, {-3}), Shape{3});
  EXPECT_EQ(slice({4, 5}, {1, 0}, {-1, 5}, {-1, 0}, {2, 1}), (Shape{4, 2}));
  // axes and steps default to the leading axes and 1.
  EXPECT_EQ(resultOf("slice", {t(F32, {4, 5})},
                     {{"starts", Ints{1}}, {"ends", Ints{3}}})
                .shape,
            (Shape{2, 5}));
}

TEST(SliceVerify, Errors) {
  EXPECT_EQ(errorOf("slice", {t(F32, {4})}, {{"ends", Ints{1}}}),
            "'slice' needs attribute 'starts' (a list of integers)");
  EXPECT_EQ(errorOf("slice", {t(F32, {4, 5})},
                    {{"starts", Ints{0, 0}}, {"ends", Ints{1}}}),
            "'slice' has 2 starts, 1 ends, 2 axes and 2 steps; expected "
            "equal counts");
  EXPECT_EQ(
      errorOf("slice", {t(F32, {4})},
              {{"starts", Ints{0}}, {"ends", Ints{1}}, {"steps", Ints{0}}}),
      "'slice' step for axis 0 is 0; expected a non-zero step");
  EXPECT_EQ(errorOf("slice", {t(F32, {4, 5})},
                    {{"starts", Ints{0, 0}},
                     {"ends", Ints{1, 1}},
                     {"axes", Ints{1, -1}}}),
            "'slice' axes [1, -1] list axis 1 twice; expected distinct axes");
  EXPECT_EQ(
      errorOf("slice", {t(F32, {4, 5})},
              {{"starts", Ints{0}}, {"ends", Ints{1}}, {"axes", Ints{2}}}),
      "'slice' axis 2 is out of range for rank 2");
}

// ---- concat ----

TEST(ConcatVerify, ResultShapes) {
  EXPECT_EQ(resultOf("concat",
                     {t(DType::I64, {2, 3}), t(DType::I64, {2, 1}),
                      t(DType::I64, {2, 0})},
                     {{"axis", int64_t{-1}}}),
            t(DType::I64, {2, 4}));
  EXPECT_EQ(resultOf("concat", {t(F32, {5})}, {{"axis", int64_t{0}}}),
            t(F32, {5}));
}

TEST(ConcatVerify, Errors) {
  EXPECT_EQ(errorOf("concat", {}, {{"axis", int64_t{0}}}),
            "'concat' has 0 operands; expected at least 1");
  EXPECT_EQ(errorOf("concat", {t(F32, {2})}),
            "'concat' needs attribute 'axis' (an integer)");
  EXPECT_EQ(errorOf("concat", {t(F32, {})}, {{"axis", int64_t{0}}}),
            "'concat' operand 0 is f32[]; expected rank >= 1");
  EXPECT_EQ(errorOf("concat", {t(F32, {2, 3})}, {{"axis", int64_t{2}}}),
            "'concat' axis 2 is out of range for rank 2");
  EXPECT_EQ(errorOf("concat", {t(F32, {2, 3}), t(F32, {3, 3})},
                    {{"axis", int64_t{1}}}),
            "'concat' operand 1 is f32[3,3] and operand 0 is f32[2,3]; "
            "expected the same dtype and rank and equal dimensions except "
            "along axis 1");
  EXPECT_EQ(errorOf("concat", {t(F32, {2, 3}), t(DType::F16, {2, 3})},
                    {{"axis", int64_t{0}}}),
            "'concat' operand 1 is f16[2,3] and operand 0 is f32[2,3]; "
            "expected the same dtype and rank and equal dimensions except "
            "along axis 0");
  EXPECT_EQ(errorOf("concat", {t(F32, {2, 3}), t(F32, {2, 3, 1})},
                    {{"axis", int64_t{0}}}),
            "'concat' operand 1 is f32[2,3,1] and operand 0 is f32[2,3]; "
            "expected the same dtype and rank and equal dimensions except "
            "along axis 0");
}

// ---- gather ----

TEST(GatherVerify, ResultShapes) {
  EXPECT_EQ(resultOf("gather", {t(DType::F16, {5, 4}), t(DType::I32, {2, 3})}),
            t(DType::F16, {2, 3, 4}));
  EXPECT_EQ(resultOf("gather", {t(F32, {5, 4, 3}), t(DType::I64, {})},
                     {{"axis", int64_t{-2}}}),
            t(F32, {5, 3}));
}

TEST(GatherVerify, Errors) {
  EXPECT_EQ(errorOf("gather", {t(F32, {5}), t(F32, {2})}),
            "'gather' indices are f32[2]; expected i32 or i64");
  EXPECT_EQ(errorOf("gather", {t(F32, {}), t(DType::I32, {2})}),
            "'gather' data is f32[]; expected rank >= 1");
  EXPECT_EQ(errorOf("gather", {t(F32, {5}), t(DType::I32, {2})},
                    {{"axis", int64_t{1}}}),
            "'gather' axis 1 is out of range for rank 1");
  EXPECT_EQ(errorOf("gather", {t(F32, {5})}),
            "'gather' has 1 operand; expected 2");
}

// ---- pad ----

TEST(PadVerify, ResultShapes) {
  EXPECT_EQ(
      resultOf("pad", {t(DType::I8, {2, 3})}, {{"pads", Ints{1, 0, 2, 3}}}),
      t(DType::I8, {5, 6}));
  EXPECT_EQ(resultOf("pad", {t(F32, {3})},
                     {{"pads", Ints{2, 2}}, {"mode", std::string("reflect")}}),
            t(F32, {7}));
  EXPECT_EQ(resultOf("pad", {t(F32, {1})},
                     {{"pads", Ints{3, 0}}, {"mode", std::string("edge")}}),
            t(F32, {4}));
}

TEST(PadVerify, Errors) {
  EXPECT_EQ(errorOf("pad", {t(F32, {2, 3})}, {{"pads", Ints{1, 1}}}),
            "'pad' pads [1, 1] has 2 entries for f32[2,3]; expected 4 (begin "
            "and end per axis)");
  EXPECT_EQ(errorOf("pad", {t(F32, {2})}, {{"pads", Ints{1, -1}}}),
            "'pad' pads [1, -1] has a negative entry; expected pads >= 0");
  EXPECT_EQ(errorOf("pad", {t(F32, {2})},
                    {{"pads", Ints{1, 1}}, {"mode", std::string("wrap")}}),
            "'pad' attribute 'mode' is \"wrap\"; expected one of "
            "\"constant\", \"reflect\", \"edge\"");
  EXPECT_EQ(
      errorOf("pad", {t(F32, {4, 3})},
              {{"pads", Ints{0, 0, 1, 3}}, {"mode", std::string("reflect")}}),
      "'pad' reflect pad 3 on axis 1 of f32[4,3]; expected pads smaller "
      "than the dimension");
  EXPECT_EQ(errorOf("pad", {t(F32, {0})},
                    {{"pads", Ints{1, 0}}, {"mode", std::string("edge")}}),
            "'pad' edge pad on axis 0 of f32[0]; expected a non-empty "
            "dimension to repeat");
  EXPECT_EQ(errorOf("pad", {t(F32, {2})},
                    {{"pads", Ints{1, 1}}, {"value", std::string("x")}}),
            "attribute 'value' of 'pad' must be a float");
}

// ---- conv2d ----

TEST(Conv2dVerify, ResultShapes) {
  EXPECT_EQ(resultOf("conv2d", {t(F32, {1, 3, 7, 7}), t(F32, {8, 3, 3, 3})}),
            t(F32, {1, 8, 5, 5}));
  EXPECT_EQ(
      resultOf("conv2d",
               {t(DType::F16, {2, 4, 9, 8}), t(DType::F16, {6, 2, 3, 2}),
                t(DType::F16, {6})},
               {{"strides", Ints{2, 3}},
                {"padding", Ints{1, 0, 2, 1}},
                {"dilations", Ints{2, 1}},
                {"groups", int64_t{2}}}),
      // OH = (9 + 3 - 2*2 - 1) / 2 + 1 = 4; OW = (8 + 1 - 1 - 1) / 3 + 1 = 3
      t(DType::F16, {2, 6, 4, 3}));
}

TEST(Conv2dVerify, HwioFilters) {
  // [kH, kW, C/groups, M]: M = 6 output channels, bias of 6.
  EXPECT_EQ(resultOf("conv2d",
                     {t(F32, {1, 4, 7, 7}), t(F32, {3, 2, 2, 6}), t(F32, {6})},
                     {{"groups", int64_t{2}},
                      {"filter_layout", std::string("hwio")}}),
            t(F32, {1, 6, 5, 6}));
  EXPECT_EQ(errorOf("conv2d", {t(F32, {1, 4, 7, 7}), t(F32, {4, 3, 3, 8})},
                    {{"filter_layout", std::string("ohwi")}}),
            "'conv2d' attribute 'filter_layout' is \"ohwi\"; expected "
            "\"oihw\", \"hwio\" or \"Ohwi<B>o\" with B a positive block "
            "size");
  EXPECT_EQ(errorOf("conv2d",
                    {t(F32, {1, 4, 7, 7}), t(F32, {3, 3, 4, 8}), t(F32, {3})},
                    {{"filter_layout", std::string("hwio")}}),
            "'conv2d' bias is f32[3] for w: f32[3,3,4,8]; expected shape [8]");
}

TEST(Conv2dVerify, BlockedFilters) {
  // [M/16, kH, kW, C/groups, 16]: M = 32, two groups of 16.
  EXPECT_EQ(
      resultOf(
          "conv2d",
          {t(F32, {1, 4, 7, 7}), t(F32, {2, 3, 2, 2, 16}), t(F32, {32})},
          {{"groups", int64_t{2}}, {"filter_layout", std::string("Ohwi16o")}}),
      t(F32, {1, 32, 5, 6}));
  EXPECT_EQ(errorOf("conv2d", {t(F32, {1, 4, 7, 7}), t(F32, {4, 4, 3})}),
            "'conv2d' w is f32[4,4,3] in filter_layout \"oihw\"; expected "
            "rank 4");
  EXPECT_EQ(errorOf("conv2d", {t(F32, {1, 4, 7, 7}), t(F32, {4, 4, 3, 3})},
                    {{"filter_layout", std::string("Ohwi8o")}}),
            "'conv2d' w is f32[4,4,3,3] in filter_layout \"Ohwi8o\"; "
            "expected rank 5");
  EXPECT_EQ(errorOf("conv2d", {t(F32, {1, 4, 7, 7}), t(F32, {1, 3, 3, 2, 8})},
                    {{"groups", int64_t{2}},
                     {"filter_layout", std::string("Ohwi8o")}}),
            "'conv2d' filter_layout \"Ohwi8o\" splits the 4 output channels "
            "per group into blocks of 8; expected a multiple of 8");
  // The names of the channel-major layouts these replaced are refused too.
  for (const char *bad :
       {"Ohwi0o", "Ohwio", "Ohwi08o", "Ohwi-8o", "oihw8o", "ihwo", "Oihw8o"})
    EXPECT_EQ(errorOf("conv2d", {t(F32, {1, 4, 7, 7}), t(F32, {1, 3, 3, 4, 8})},
                      {{"filter_layout", std::string(bad)}}),
              strCat("'conv2d' attribute 'filter_layout' is \"", bad,
                     "\"; expected \"oihw\", \"hwio\" or \"Ohwi<B>o\" "
                     "with B a positive block size"));
}

TEST(Conv2dVerify, Errors) {
  EXPECT_EQ(errorOf("conv2d", {t(F32, {1, 3, 7}), t(F32, {8, 3, 3, 3})}),
            "'conv2d' x is f32[1,3,7]; expected rank 4 (NCHW)");
  EXPECT_EQ(errorOf("conv2d",
                    {t(DType::I32, {1, 3, 7, 7}), t(DType::I32, {8, 3, 3, 3})}),
            "'conv2d' operand 0 has dtype i32; expected a float dtype (f32, "
            "f16, bf16, f64)");
  EXPECT_EQ(
      errorOf("conv2d", {t(F32, {1, 3, 7, 7}), t(DType::F64, {8, 3, 3, 3})}),
      "'conv2d' operands have dtypes f32 and f64; expected the same "
      "dtype");
  EXPECT_EQ(errorOf("conv2d",
                    {t(F32, {1, 3, 7, 7}), t(F32, {8, 3, 3, 3}), t(F32, {3})}),
            "'conv2d' bias is f32[3] for w: f32[8,3,3,3]; expected shape [8]");
  EXPECT_EQ(errorOf("conv2d", {t(F32, {1, 3, 7, 7}), t(F32, {8, 1, 3, 3})},
                    {{"groups", int64_t{2}}}),
            "'conv2d' groups 2 does not divide the 3 input channels of x: "
            "f32[1,3,7,7] and the 8 output channels of w: f32[8,1,3,3]; "
            "expected both divisible by groups");
  EXPECT_EQ(errorOf("conv2d", {t(F32, {1, 4, 7, 7}), t(F32, {8, 4, 3, 3})},
                    {{"groups", int64_t{2}}}),
            "'conv2d' w is f32[8,4,3,3] for x: f32[1,4,7,7] and groups 2; "
            "expected 2 input channels per group in w");
  EXPECT_EQ(errorOf("conv2d", {t(F32, {1, 4, 7, 7}), t(F32, {8, 4, 3, 3})},
                    {{"groups", int64_t{0}}}),
            "'conv2d' groups is 0; expected groups >= 1");
  EXPECT_EQ(errorOf("conv2d", {t(F32, {1, 1, 3, 3}), t(F32, {1, 1, 3, 3})},
                    {{"dilations", Ints{2, 1}}}),
            "'conv2d' window 3x3 (dilated to 5x3) does not fit the input "
            "3x3 with padding [0, 0, 0, 0]; expected a window no larger than "
            "the padded input");
  EXPECT_EQ(errorOf("conv2d", {t(F32, {1, 1, 3, 3}), t(F32, {1, 1, 0, 3})}),
            "'conv2d' w is f32[1,1,0,3]; expected a kernel of at least 1x1");
  EXPECT_EQ(errorOf("conv2d", {t(F32, {1, 1, 3, 3}), t(F32, {1, 1, 1, 1})},
                    {{"strides", Ints{1}}}),
            "'conv2d' attribute 'strides' is [1]; expected 2 entries");
  EXPECT_EQ(errorOf("conv2d", {t(F32, {1, 1, 3, 3}), t(F32, {1, 1, 1, 1})},
                    {{"strides", Ints{1, 0}}}),
            "'conv2d' attribute 'strides' is [1, 0]; expected entries >= 1");
  EXPECT_EQ(errorOf("conv2d", {t(F32, {1, 1, 3, 3}), t(F32, {1, 1, 1, 1})},
                    {{"padding", Ints{0, 0, -1, 0}}}),
            "'conv2d' attribute 'padding' is [0, 0, -1, 0]; expected entries "
            ">= 0");
  EXPECT_EQ(errorOf("conv2d", {t(F32, {1, 1, 3, 3}), t(F32, {1, 1, 1, 1})},
                    {{"pads", Ints{0, 0, 0, 0}}}),
            "'conv2d' has no attribute 'pads'; it takes: strides, padding, "
            "dilations, groups, filter_layout");
  EXPECT_EQ(errorOf("conv2d", {t(F32, {1, 1, 3, 3})}),
            "'conv2d' has 1 operand; expected at least 2");
}

// ---- pooling ----

TEST(PoolVerify, ResultShapes) {
  // strides default to the kernel.
  EXPECT_EQ(
      resultOf("max_pool2d", {t(F32, {1, 2, 7, 6})}, {{"kernel", Ints{2, 3}}}),
      t(F32, {1, 2, 3, 2}));
  EXPECT_EQ(resultOf("avg_pool2d", {t(DType::BF16, {2, 1, 5, 5})},
                     {{"kernel", Ints{3, 3}},
                      {"strides", Ints{2, 1}},
                      {"padding", Ints{1, 1, 1, 1}},
                      {"count_include_pad", true}}),
            t(DType::BF16, {2, 1, 3, 5}));
}

TEST(PoolVerify, Errors) {
  EXPECT_EQ(errorOf("max_pool2d", {t(F32, {1, 1, 4, 4})}),
            "'max_pool2d' needs attribute 'kernel' (a list of integers)");
  EXPECT_EQ(
      errorOf("max_pool2d", {t(F32, {1, 4, 4})}, {{"kernel", Ints{2, 2}}}),
      "'max_pool2d' x is f32[1,4,4]; expected rank 4 (NCHW)");
  EXPECT_EQ(errorOf("avg_pool2d", {t(DType::I64, {1, 1, 4, 4})},
                    {{"kernel", Ints{2, 2}}}),
            "'avg_pool2d' operand has dtype i64; expected a float dtype (f32, "
            "f16, bf16, f64)");
  EXPECT_EQ(errorOf("max_pool2d", {t(F32, {1, 1, 4, 4})},
                    {{"kernel", Ints{2, 2}}, {"padding", Ints{0, 2, 0, 0}}}),
            "'max_pool2d' padding [0, 2, 0, 0] for kernel [2, 2]; expected "
            "each pad smaller than the kernel along its axis");
  EXPECT_EQ(errorOf("max_pool2d", {t(F32, {1, 1, 4, 4})},
                    {{"kernel", Ints{2, 2}}, {"count_include_pad", true}}),
            "'max_pool2d' has no attribute 'count_include_pad'; it takes: "
            "kernel, strides, padding");
  EXPECT_EQ(
      errorOf("avg_pool2d", {t(F32, {1, 1, 4, 4})},
              {{"kernel", Ints{2, 2}}, {"count_include_pad", int64_t{1}}}),
      "attribute 'count_include_pad' of 'avg_pool2d' must be true or "
      "false");
  EXPECT_EQ(
      errorOf("avg_pool2d", {t(F32, {1, 1, 2, 4})}, {{"kernel", Ints{3, 2}}}),
      "'avg_pool2d' window 3x2 does not fit the "
      "input 2x4 with padding [0, 0, 0, 0]; expected a window no larger "
      "than the padded input");
  EXPECT_EQ(
      errorOf("avg_pool2d", {t(F32, {1, 1, 4, 4})}, {{"kernel", Ints{0, 2}}}),
      "'avg_pool2d' attribute 'kernel' is [0, 2]; expected entries >= "
      "1");
}

} // namespace
} // namespace nyx::ir
