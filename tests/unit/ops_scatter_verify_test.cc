// Verifier and shape rules of gather_nd, scatter_elements and scatter_nd:
// the result types of valid ops and every error path with its message;
// the interpreter's handling of duplicate and out-of-range indices.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ir/interpreter.h"
#include "ir/module.h"
#include "ir/op_registry.h"
#include "ir/parser.h"
#include "ir/strings.h"
#include "tests/support/shape_rule.h"

namespace nyx::ir {
namespace {

using test::errorOf;
using test::infer;
using test::resultOf;
using test::t;
constexpr DType F32 = DType::F32;
constexpr DType F16 = DType::F16;
constexpr DType I8 = DType::I8;
constexpr DType I32 = DType::I32;
constexpr DType I64 = DType::I64;
constexpr DType Bool = DType::Bool;

Attributes batchDims(int64_t b) { return {{"batch_dims", b}}; }
Attributes reduction(std::string r) { return {{"reduction", std::move(r)}}; }

TEST(GatherNdVerify, ResultShapes) {
  EXPECT_EQ(resultOf("gather_nd", {t(F32, {3, 4, 5}), t(I64, {2, 1})}),
            t(F32, {2, 4, 5}));
  EXPECT_EQ(resultOf("gather_nd", {t(Bool, {3, 4, 5}), t(I32, {7, 2, 3})}),
            t(Bool, {7, 2}));
  EXPECT_EQ(resultOf("gather_nd", {t(I8, {3, 4, 5}), t(I64, {3, 6, 2})},
                     batchDims(1)),
            t(I8, {3, 6}));
  EXPECT_EQ(resultOf("gather_nd", {t(F32, {3, 4, 5}), t(I64, {3, 4, 1})},
                     batchDims(2)),
            t(F32, {3, 4}));
  EXPECT_EQ(resultOf("gather_nd", {t(F32, {3, 4}), t(I64, {0, 1})}),
            t(F32, {0, 4}));
}

TEST(GatherNdVerify, Errors) {
  EXPECT_EQ(errorOf("gather_nd", {t(F32, {3, 4}), t(F32, {2, 1})}),
            "'gather_nd' indices are f32[2,1]; expected i32 or i64");
  EXPECT_EQ(errorOf("gather_nd", {t(F32, {}), t(I64, {1})}),
            "'gather_nd' data is f32[]; expected rank >= 1");
  EXPECT_EQ(errorOf("gather_nd", {t(F32, {3}), t(I64, {})}),
            "'gather_nd' indices are i64[]; expected rank >= 1");
  EXPECT_EQ(errorOf("gather_nd", {t(F32, {3, 4}), t(I64, {2, 3})}),
            "'gather_nd' indices are i64[2,3] for data f32[3,4] with "
            "batch_dims 0; expected a last dimension from 1 to 2");
  EXPECT_EQ(errorOf("gather_nd", {t(F32, {3, 4}), t(I64, {2, 0})}),
            "'gather_nd' indices are i64[2,0] for data f32[3,4] with "
            "batch_dims 0; expected a last dimension from 1 to 2");
  EXPECT_EQ(
      errorOf("gather_nd", {t(F32, {3, 4}), t(I64, {3, 2})}, batchDims(1)),
      "'gather_nd' indices are i64[3,2] for data f32[3,4] with "
      "batch_dims 1; expected a last dimension from 1 to 1");
  EXPECT_EQ(
      errorOf("gather_nd", {t(F32, {3, 4}), t(I64, {2, 1})}, batchDims(1)),
      "'gather_nd' indices are i64[2,1] for data f32[3,4]; expected "
      "batch dimension 0 equal");
  EXPECT_EQ(
      errorOf("gather_nd", {t(F32, {3, 4}), t(I64, {3, 1})}, batchDims(2)),
      "'gather_nd' batch_dims is 2 for data f32[3,4] and indices "
      "i64[3,1]; expected 0 to 1");
  EXPECT_EQ(
      errorOf("gather_nd", {t(F32, {3, 4}), t(I64, {3, 1})}, batchDims(-1)),
      "'gather_nd' batch_dims is -1 for data f32[3,4] and indices "
      "i64[3,1]; expected 0 to 1");
  EXPECT_EQ(errorOf("gather_nd", {t(F32, {3, 4}), t(I64, {3, 1})},
                    {{"axis", int64_t(0)}}),
            "'gather_nd' has no attribute 'axis'; it takes: batch_dims");
  EXPECT_EQ(errorOf("gather_nd", {t(F32, {3, 4})}),
            "'gather_nd' has 1 operand; expected 2");
}

TEST(ScatterElementsVerify, ResultShapes) {
  EXPECT_EQ(resultOf("scatter_elements",
                     {t(F32, {3, 4}), t(I64, {7, 2}), t(F32, {7, 2})}),
            t(F32, {3, 4}));
  EXPECT_EQ(resultOf("scatter_elements",
                     {t(Bool, {3, 4}), t(I32, {1, 9}), t(Bool, {1, 9})},
                     {{"axis", int64_t(-1)}}),
            t(Bool, {3, 4}));
  for (const char *r : {"none", "add", "mul", "max", "min"})
    EXPECT_EQ(resultOf("scatter_elements",
                       {t(I8, {3}), t(I64, {5}), t(I8, {5})}, reduction(r)),
              t(I8, {3}));
}

TEST(ScatterElementsVerify, Errors) {
  const TensorType d = t(F32, {3, 4}), i = t(I64, {3, 4}), u = t(F32, {3, 4});
  EXPECT_EQ(errorOf("scatter_elements", {d, t(F32, {3, 4}), u}),
            "'scatter_elements' indices are f32[3,4]; expected i32 or i64");
  EXPECT_EQ(errorOf("scatter_elements", {t(F32, {}), t(I64, {}), t(F32, {})}),
            "'scatter_elements' data is f32[]; expected rank >= 1");
  EXPECT_EQ(errorOf("scatter_elements", {d, i, t(F16, {3, 4})}),
            "'scatter_elements' updates are f16[3,4] for data f32[3,4]; "
            "expected the same dtype");
  EXPECT_EQ(errorOf("scatter_elements", {d, t(I64, {3}), t(F32, {3})}),
            "'scatter_elements' indices are i64[3] for data f32[3,4]; "
            "expected the same rank");
  EXPECT_EQ(errorOf("scatter_elements", {d, i, t(F32, {3, 3})}),
            "'scatter_elements' updates are f32[3,3] for indices i64[3,4]; "
            "expected the same shape");
  EXPECT_EQ(errorOf("scatter_elements", {d, t(I64, {2, 5}), t(F32, {2, 5})}),
            "'scatter_elements' indices are i64[2,5] for data f32[3,4]; "
            "expected dimension 1 at most 4");
  EXPECT_EQ(errorOf("scatter_elements", {d, i, u}, {{"axis", int64_t(2)}}),
            "'scatter_elements' axis 2 is out of range for rank 2");
  EXPECT_EQ(errorOf("scatter_elements", {d, i, u}, reduction("sum")),
            "'scatter_elements' attribute 'reduction' is \"sum\"; expected "
            "one of \"none\", \"add\", \"mul\", \"max\", \"min\"");
  EXPECT_EQ(errorOf("scatter_elements",
                    {t(Bool, {3}), t(I64, {3}), t(Bool, {3})},
                    reduction("add")),
            "'scatter_elements' reduction \"add\" of data bool[3]; expected "
            "a numeric dtype");
  EXPECT_EQ(errorOf("scatter_elements", {d, i, u}, batchDims(0)),
            "'scatter_elements' has no attribute 'batch_dims'; it takes: "
            "axis, reduction");
  EXPECT_EQ(errorOf("scatter_elements", {d, i}),
            "'scatter_elements' has 2 operands; expected 3");
}

TEST(ScatterNdVerify, ResultShapes) {
  EXPECT_EQ(resultOf("scatter_nd",
                     {t(F32, {4, 3, 2}), t(I64, {5, 1}), t(F32, {5, 3, 2})}),
            t(F32, {4, 3, 2}));
  EXPECT_EQ(resultOf("scatter_nd",
                     {t(I32, {4, 3, 2}), t(I32, {2, 5, 3}), t(I32, {2, 5})},
                     reduction("mul")),
            t(I32, {4, 3, 2}));
  EXPECT_EQ(
      resultOf("scatter_nd", {t(Bool, {4, 3}), t(I64, {0, 2}), t(Bool, {0})}),
      t(Bool, {4, 3}));
}

TEST(ScatterNdVerify, Errors) {
  const TensorType d = t(F32, {4, 3});
  EXPECT_EQ(errorOf("scatter_nd", {d, t(I8, {2, 1}), t(F32, {2, 3})}),
            "'scatter_nd' indices are i8[2,1]; expected i32 or i64");
  EXPECT_EQ(errorOf("scatter_nd", {d, t(I64, {}), t(F32, {})}),
            "'scatter_nd' indices are i64[]; expected rank >= 1");
  EXPECT_EQ(errorOf("scatter_nd", {d, t(I64, {2, 3}), t(F32, {2})}),
            "'scatter_nd' indices are i64[2,3] for data f32[4,3]; expected a "
            "last dimension from 1 to 2");
  EXPECT_EQ(errorOf("scatter_nd", {d, t(I64, {2, 1}), t(F32, {2, 4})}),
            "'scatter_nd' updates are f32[2,4] for indices i64[2,1] and data "
            "f32[4,3]; expected shape f32[2,3]");
  EXPECT_EQ(errorOf("scatter_nd", {d, t(I64, {2, 1}), t(I32, {2, 3})}),
            "'scatter_nd' updates are i32[2,3] for data f32[4,3]; expected "
            "the same dtype");
  EXPECT_EQ(errorOf("scatter_nd", {d, t(I64, {2, 1}), t(F32, {2, 3})},
                    reduction("prod")),
            "'scatter_nd' attribute 'reduction' is \"prod\"; expected one of "
            "\"none\", \"add\", \"mul\", \"max\", \"min\"");
  EXPECT_EQ(errorOf("scatter_nd", {d, t(I64, {2, 1}), t(F32, {2, 3})},
                    {{"axis", int64_t(0)}}),
            "'scatter_nd' has no attribute 'axis'; it takes: reduction");
}

// Runs a one-op module on `args` through the interpreter.
std::vector<double> interpret(const std::string &text,
                              std::vector<Tensor> args) {
  auto module = parseModule(text, "test.nyx");
  EXPECT_TRUE(module.ok()) << module.status().message();
  if (!module.ok())
    return {};
  Interpreter interp(**module, nullptr);
  auto results = interp.run(*(*module)->functions[0], std::move(args));
  EXPECT_TRUE(results.ok()) << results.status().message();
  if (!results.ok())
    return {};
  std::vector<double> values;
  for (int64_t i = 0; i < (*results)[0].numElements(); ++i)
    values.push_back((*results)[0].getDouble(i));
  return values;
}

Tensor values(DType dtype, Shape shape, const std::vector<double> &v) {
  Tensor x(TensorType{dtype, std::move(shape)});
  for (size_t i = 0; i < v.size(); ++i)
    x.setDouble(static_cast<int64_t>(i), v[i]);
  return x;
}

// Duplicates: the last update wins ("none") or all combine in order;
// out-of-range indices (after counting negative ones from the end) are
// skipped.
TEST(ScatterInterpret, DuplicatesAndOutOfRange) {
  const std::string elements = R"(
func @main(%d: f32[4], %i: i64[5], %u: f32[5]) -> (f32[4]) {
  %y = scatter_elements(%d, %i, %u) {reduction = "REDUCTION"} : f32[4]
  return %y
})";
  auto run = [&](const std::string &r) {
    std::string text = elements;
    text.replace(text.find("REDUCTION"), 9, r);
    return interpret(text, {values(F32, {4}, {1, 2, 3, 4}),
                            values(I64, {5}, {1, -3, 4, -5, 0}),
                            values(F32, {5}, {10, 20, 30, 40, 50})});
  };
  EXPECT_EQ(run("none"), (std::vector<double>{50, 20, 3, 4}));
  EXPECT_EQ(run("add"), (std::vector<double>{51, 32, 3, 4}));
  EXPECT_EQ(run("mul"), (std::vector<double>{50, 400, 3, 4}));
  EXPECT_EQ(run("max"), (std::vector<double>{50, 20, 3, 4}));
  EXPECT_EQ(run("min"), (std::vector<double>{1, 2, 3, 4}));

  EXPECT_EQ(interpret(R"(
func @main(%d: i8[3,2], %i: i32[3,1], %u: i8[3,2]) -> (i8[3,2]) {
  %y = scatter_nd(%d, %i, %u) {reduction = "add"} : i8[3,2]
  return %y
})",
                      {values(I8, {3, 2}, {100, 1, 2, 3, 4, 5}),
                       values(I32, {3, 1}, {0, 3, -3}),
                       values(I8, {3, 2}, {100, 7, 9, 9, 1, 1})}),
            (std::vector<double>{-55, 9, 2, 3, 4, 5}));
  EXPECT_EQ(interpret(R"(
func @main(%d: f32[2,2], %i: i64[3,2]) -> (f32[3]) {
  %y = gather_nd(%d, %i) : f32[3]
  return %y
})",
                      {values(F32, {2, 2}, {1, 2, 3, 4}),
                       values(I64, {3, 2}, {1, 0, -1, -1, 0, 2})}),
            (std::vector<double>{3, 4, 0}));
}

} // namespace
} // namespace nyx::ir
