// Compiled reductions against the interpreter: reduce_sum, reduce_mean,
// reduce_max, reduce_min and argmax over every dtype each allows, sizes from
// 1 to a few thousand, every axes/keepdims form, NaN and wrapping cases.
#include <cmath>
#include <string>
#include <vector>

#include "harness.h"
#include "ir/strings.h"

namespace nyx {
namespace {

using e2e::expectOpMatchesInterpreter;
using e2e::typeText;
using ir::DType;

constexpr DType kFloats[] = {DType::F32, DType::F64, DType::F16, DType::BF16};
constexpr DType kNumeric[] = {DType::F32, DType::F64, DType::F16, DType::BF16,
                              DType::I8,  DType::I32, DType::I64};
constexpr int64_t kSizes[] = {1, 3, 7, 33, 2500};

// Sums of many values: the compiled code adds in f32 (f64 for f64), the
// reference in f64, so let the absolute error grow with the count.
e2e::HarnessOptions sumOptions(int64_t count, DType t = DType::F32) {
  e2e::HarnessOptions o;
  o.atol = std::max(e2e::defaultTolerance(t).atol, 1e-6 * count);
  return o;
}

TEST(Reduction, EveryNumericDTypeAndSize) {
  for (const char *op : {"reduce_sum", "reduce_max", "reduce_min"})
    for (DType t : kNumeric)
      for (int64_t n : kSizes)
        expectOpMatchesInterpreter(strCat("%x: ", typeText(t, {n})),
                                   strCat(op, "(%x)"), sumOptions(n, t));
}

TEST(Reduction, MeanOfEveryFloatDTypeAndSize) {
  for (DType t : kFloats)
    for (int64_t n : kSizes)
      expectOpMatchesInterpreter(strCat("%x: ", typeText(t, {n})),
                                 "reduce_mean(%x)", sumOptions(n, t));
}

TEST(Reduction, EveryAxesSetWithAndWithoutKeepdims) {
  const char *axesSets[] = {"[0]",      "[1]",    "[2]",
                            "[-1]",     "[0, 2]", "[1, 2]",
                            "[-3, -1]", "[2, 0]", "[0, 1, 2]"};
  for (const char *op :
       {"reduce_sum", "reduce_mean", "reduce_max", "reduce_min"})
    for (const char *axes : axesSets)
      for (bool keep : {false, true})
        expectOpMatchesInterpreter(
            "%x: f32[3,7,5]", strCat(op, "(%x) {axes = ", axes, ", keepdims = ",
                                     keep ? "true" : "false", "}"));
}

TEST(Reduction, AllAxesWhenOmittedKeepingDims) {
  for (DType t : {DType::F32, DType::I32, DType::F16})
    expectOpMatchesInterpreter(strCat("%x: ", typeText(t, {4, 3, 2})),
                               "reduce_sum(%x) {keepdims = true}");
}

TEST(Reduction, AxesOverLowPrecisionAndIntegerDTypes) {
  for (DType t : {DType::F16, DType::BF16, DType::F64, DType::I8, DType::I64})
    for (const char *op : {"reduce_sum", "reduce_max", "reduce_min"})
      for (const char *axes : {"[0]", "[-1]", "[0, 2]"})
        expectOpMatchesInterpreter(strCat("%x: ", typeText(t, {7, 33, 3})),
                                   strCat(op, "(%x) {axes = ", axes, "}"));
}

TEST(Reduction, LargeMatrixAlongEachAxis) {
  for (const char *op : {"reduce_sum", "reduce_mean", "reduce_max"})
    for (const char *axes : {"[0]", "[1]"})
      expectOpMatchesInterpreter("%x: f32[65,129]",
                                 strCat(op, "(%x) {axes = ", axes, "}"),
                                 sumOptions(129));
}

TEST(Reduction, EmptyAxesListReducesNothing) {
  expectOpMatchesInterpreter("%x: f32[3,4]", "reduce_sum(%x) {axes = []}");
  expectOpMatchesInterpreter("%x: i32[3,4]",
                             "reduce_max(%x) {axes = [], keepdims = true}");
}

TEST(Reduction, ExtentOneAxes) {
  expectOpMatchesInterpreter("%x: f32[1,5,1]",
                             "reduce_sum(%x) {axes = [0, 2]}");
  expectOpMatchesInterpreter("%x: f32[1,5,1]",
                             "reduce_max(%x) {axes = [1], keepdims = true}");
  expectOpMatchesInterpreter("%x: f64[1]", "reduce_mean(%x)");
}

TEST(Reduction, IntegerSumsWrap) {
  e2e::HarnessOptions o;
  o.intMin = -128;
  o.intMax = 127;
  expectOpMatchesInterpreter("%x: i8[257]", "reduce_sum(%x)", o);
  expectOpMatchesInterpreter("%x: i8[7,40]", "reduce_sum(%x) {axes = [1]}", o);
  o.intMin = int64_t{1} << 29;
  o.intMax = int64_t{1} << 30;
  expectOpMatchesInterpreter("%x: i32[3,33]", "reduce_sum(%x) {axes = [-1]}",
                             o);
  o.intMin = int64_t{1} << 61;
  o.intMax = int64_t{1} << 62;
  expectOpMatchesInterpreter("%x: i64[33]", "reduce_sum(%x)", o);
}

TEST(Reduction, IntegerExtremesSurvive) {
  // Max/min start from the type's extremes; an input made of them must
  // still come out right.
  for (DType t : {DType::I8, DType::I32, DType::I64}) {
    ir::Tensor x({t, {2, 3}});
    int64_t lo = t == DType::I8    ? -128
                 : t == DType::I32 ? INT32_MIN
                                   : INT64_MIN;
    int64_t hi = t == DType::I8 ? 127 : t == DType::I32 ? INT32_MAX : INT64_MAX;
    for (int i = 0; i < 3; ++i) {
      x.setInt(i, lo);
      x.setInt(3 + i, hi);
    }
    e2e::HarnessOptions o;
    o.inputs = {x};
    for (const char *op : {"reduce_max", "reduce_min", "argmax"})
      expectOpMatchesInterpreter(strCat("%x: ", typeText(t, {2, 3})),
                                 strCat(op, std::string(op) == "argmax"
                                                ? "(%x) {axis = 1}"
                                                : "(%x) {axes = [1]}"),
                                 o);
  }
}

// Rows: no NaN, NaN first, NaN in the middle, NaN last, all NaN.
ir::Tensor nanRows(DType t) {
  ir::Tensor x({t, {5, 4}});
  const double vals[5][4] = {{1, -2, 3, 0.5},
                             {NAN, 1, 2, 3},
                             {-1, NAN, 5, 7},
                             {4, 2, 1, NAN},
                             {NAN, NAN, NAN, NAN}};
  for (int r = 0; r < 5; ++r)
    for (int c = 0; c < 4; ++c)
      x.setDouble(r * 4 + c, vals[r][c]);
  return x;
}

TEST(Reduction, MaxMinAndArgmaxPropagateNaN) {
  for (DType t : kFloats) {
    e2e::HarnessOptions o;
    o.inputs = {nanRows(t)};
    std::string param = strCat("%x: ", typeText(t, {5, 4}));
    expectOpMatchesInterpreter(param, "reduce_max(%x) {axes = [1]}", o);
    expectOpMatchesInterpreter(param, "reduce_min(%x) {axes = [-1]}", o);
    expectOpMatchesInterpreter(param, "reduce_max(%x) {axes = [0]}", o);
    expectOpMatchesInterpreter(param, "reduce_sum(%x) {axes = [1]}", o);
    expectOpMatchesInterpreter(param, "argmax(%x) {axis = 1}", o);
    expectOpMatchesInterpreter(param, "argmax(%x) {axis = 0}", o);
  }
}

TEST(Reduction, InfinitiesAreOrdinaryExtremes) {
  ir::Tensor x({DType::F32, {2, 3}});
  const double vals[] = {-INFINITY, -INFINITY, -INFINITY, 1, INFINITY, 2};
  for (int i = 0; i < 6; ++i)
    x.setDouble(i, vals[i]);
  e2e::HarnessOptions o;
  o.inputs = {x};
  expectOpMatchesInterpreter("%x: f32[2,3]", "reduce_max(%x) {axes = [1]}", o);
  expectOpMatchesInterpreter("%x: f32[2,3]", "reduce_min(%x) {axes = [1]}", o);
  expectOpMatchesInterpreter("%x: f32[2,3]", "argmax(%x) {axis = 1}", o);
}

TEST(Argmax, EveryNumericDTypeAndSize) {
  for (DType t : kNumeric)
    for (int64_t n : kSizes)
      expectOpMatchesInterpreter(strCat("%x: ", typeText(t, {n})),
                                 "argmax(%x)");
}

TEST(Argmax, EveryAxisWithAndWithoutKeepdims) {
  for (const char *axis : {"0", "1", "2", "-1", "-3"})
    for (bool keep : {false, true})
      expectOpMatchesInterpreter(
          "%x: f32[3,7,5]", strCat("argmax(%x) {axis = ", axis, ", keepdims = ",
                                   keep ? "true" : "false", "}"));
}

TEST(Argmax, DefaultAxisIsZero) {
  expectOpMatchesInterpreter("%x: bf16[33,4]", "argmax(%x)");
  expectOpMatchesInterpreter("%x: i64[7,3]", "argmax(%x)");
}

TEST(Argmax, TiesPickTheFirst) {
  e2e::HarnessOptions o;
  o.intMin = 0;
  o.intMax = 2;
  for (DType t : {DType::I8, DType::I32, DType::I64})
    expectOpMatchesInterpreter(strCat("%x: ", typeText(t, {33, 7})),
                               "argmax(%x) {axis = 1}", o);
  ir::Tensor x({DType::F32, {3, 4}});
  const double vals[] = {1, 3, 3, 0, 2, 2, 2, 2, -1, 0, 5, 5};
  for (int i = 0; i < 12; ++i)
    x.setDouble(i, vals[i]);
  o.inputs = {x};
  expectOpMatchesInterpreter("%x: f32[3,4]", "argmax(%x) {axis = 1}", o);
}

} // namespace
} // namespace nyx
