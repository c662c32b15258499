// Compiled cumsum against the interpreter: every numeric dtype, each axis
// of ranks 1 to 4, exclusive and reverse, long axes, integer wrapping and
// NaN/infinity propagation. Both sum floats in f64 in the same order, so
// results are compared bit for bit.
#include <cmath>
#include <limits>
#include <string>
#include <tuple>

#include "harness.h"
#include "ir/strings.h"

namespace nyx {
namespace {

using e2e::expectOpMatchesInterpreter;
using e2e::typeText;
using ir::DType;

constexpr DType kNumeric[] = {DType::F32, DType::F64, DType::F16, DType::BF16,
                              DType::I8,  DType::I32, DType::I64};

e2e::HarnessOptions bitExact() {
  e2e::HarnessOptions o;
  o.bitExact = true;
  return o;
}

std::string cumsum(int64_t axis, bool exclusive, bool reverse) {
  return strCat("cumsum(%x) {axis = ", axis,
                exclusive ? ", exclusive = true" : "",
                reverse ? ", reverse = true" : "", "}");
}

TEST(Cumsum, EveryDTypeAxisAndDirection) {
  for (DType t : kNumeric)
    for (int64_t axis : {0, 1, 2, -1})
      for (bool exclusive : {false, true})
        for (bool reverse : {false, true})
          expectOpMatchesInterpreter(strCat("%x: ", typeText(t, {3, 4, 5})),
                                     cumsum(axis, exclusive, reverse),
                                     bitExact());
}

TEST(Cumsum, ShapesFromScalarRowsToLongAxes) {
  const std::pair<ir::Shape, int64_t> cases[] = {
      {{1}, 0},       {{7}, 0},          {{1000}, 0},       {{33, 1}, 1},
      {{1, 33}, 0},   {{2, 3, 1, 4}, 2}, {{2, 3, 1, 4}, 3}, {{5000, 3}, 0},
      {{3, 5000}, 1}, {{0, 4}, 1},       {{4, 0}, 1}};
  for (const auto &[shape, axis] : cases)
    for (DType t : {DType::F32, DType::I64})
      for (bool reverse : {false, true})
        expectOpMatchesInterpreter(strCat("%x: ", typeText(t, shape)),
                                   cumsum(axis, !reverse, reverse), bitExact());
}

// Each type's sums leave its range within a few steps of the 40.
TEST(Cumsum, IntegerSumsWrap) {
  const std::tuple<DType, int64_t, int64_t> ranges[] = {
      {DType::I8, -128, 127},
      {DType::I32, int64_t{1} << 29, std::numeric_limits<int32_t>::max()},
      {DType::I64, std::numeric_limits<int64_t>::max() / 4,
       std::numeric_limits<int64_t>::max()}};
  for (const auto &[t, lo, hi] : ranges) {
    e2e::HarnessOptions o = bitExact();
    o.intMin = lo;
    o.intMax = hi;
    expectOpMatchesInterpreter(strCat("%x: ", typeText(t, {6, 40})),
                               cumsum(1, false, false), o);
  }
}

TEST(Cumsum, NanAndInfinityPropagate) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (DType t : {DType::F32, DType::F16, DType::F64}) {
    ir::Tensor x(ir::TensorType{t, {2, 5}});
    const double values[] = {1, nan, 2, 3, 4, inf, 1, -inf, 2, 5};
    for (int i = 0; i < 10; ++i)
      x.setDouble(i, values[i]);
    e2e::HarnessOptions o;
    o.inputs = {x};
    for (bool reverse : {false, true})
      expectOpMatchesInterpreter(strCat("%x: ", typeText(t, {2, 5})),
                                 cumsum(1, false, reverse), o);
  }
}

TEST(Cumsum, FeedsAndFollowsFusedKernels) {
  e2e::HarnessOptions o = bitExact();
  o.pipeline = "verify,shape-infer,inline,fuse,dce";
  e2e::expectCompiledMatchesInterpreter(R"(
func @main(%x: f32[6,50], %y: f32[50]) -> (f32[6,50]) {
  %a = mul(%x, %y) : f32[6,50]
  %c = cumsum(%a) {axis = -1, exclusive = true} : f32[6,50]
  %r = sub(%c, %y) : f32[6,50]
  return %r
})",
                                        o);
}

} // namespace
} // namespace nyx
