// Compiled gather_nd, scatter_elements and scatter_nd against the
// interpreter: every dtype and index type, batch_dims and tuple lengths,
// each axis, every reduction with many duplicate indices (the order of
// updates decides the result), negative and out-of-range indices, empty
// cases, and the scatters inside the fused and memory-planned pipeline.
#include <string>
#include <string_view>
#include <vector>

#include "harness.h"
#include "ir/strings.h"

namespace nyx {
namespace {

using e2e::expectOpMatchesInterpreter;
using e2e::typeText;
using ir::DType;

const char *const kReductions[] = {"none", "add", "mul", "max", "min"};

bool isBool(DType t) { return t == DType::Bool; }

// Both index types for "none", one for each reduction (the index type does
// not meet the reduction in the kernel).
std::vector<DType> indexTypesFor(std::string_view reduction) {
  if (reduction == "none")
    return {DType::I32, DType::I64};
  if (reduction == "add" || reduction == "max")
    return {DType::I32};
  return {DType::I64};
}

TEST(GatherNd, EveryDTypeAndIndexType) {
  // Random indices lie in [-20, 20]: for data [6, 5, ...] many are out of
  // range (zeros) and many negative.
  for (DType t : ir::kAllDTypes)
    for (DType it : {DType::I32, DType::I64})
      expectOpMatchesInterpreter(strCat("%d: ", typeText(t, {6, 5, 3}),
                                        ", %i: ", typeText(it, {4, 7, 2})),
                                 "gather_nd(%d, %i)");
}

TEST(GatherNd, TupleLengthsAndBatchDims) {
  e2e::HarnessOptions o;
  o.intMin = -6;
  o.intMax = 6;
  struct Case {
    ir::Shape indices;
    int64_t batchDims;
  };
  const Case cases[] = {{{9, 1}, 0},    {{3, 3, 2}, 0},    {{2, 5, 3}, 0},
                        {{4, 4}, 0},    {{5, 1, 1}, 1},    {{5, 7, 2}, 1},
                        {{5, 6, 3}, 1}, {{5, 6, 2, 1}, 2}, {{5, 6, 1, 2}, 2}};
  for (const Case &c : cases)
    expectOpMatchesInterpreter(
        strCat("%d: f32[5,6,4,3], %i: ", typeText(DType::I64, c.indices)),
        strCat("gather_nd(%d, %i) {batch_dims = ", c.batchDims, "}"), o);
}

TEST(GatherNd, LargeAndEmpty) {
  e2e::HarnessOptions o;
  o.intMin = -300;
  o.intMax = 299;
  expectOpMatchesInterpreter("%d: f32[300,64], %i: i64[2000,1]",
                             "gather_nd(%d, %i)", o);
  expectOpMatchesInterpreter("%d: f32[3,4], %i: i64[0,2]", "gather_nd(%d, %i)");
  expectOpMatchesInterpreter("%d: f32[3,0], %i: i64[5,1]", "gather_nd(%d, %i)");
}

TEST(ScatterElements, EveryDTypeIndexTypeAndReduction) {
  // Updates [9, 3] into data [4, 3] along axis 0: every element is hit
  // about twice, and indices in [-6, 6] miss now and then.
  e2e::HarnessOptions o;
  o.intMin = -6;
  o.intMax = 6;
  for (DType t : ir::kAllDTypes)
    for (const char *r : kReductions) {
      if (isBool(t) && std::string(r) != "none")
        continue;
      for (DType it : indexTypesFor(r))
        expectOpMatchesInterpreter(
            strCat("%d: ", typeText(t, {4, 3}), ", %i: ", typeText(it, {9, 3}),
                   ", %u: ", typeText(t, {9, 3})),
            strCat("scatter_elements(%d, %i, %u) {reduction = \"", r, "\"}"),
            o);
    }
}

TEST(ScatterElements, AxesAndIndexShapes) {
  e2e::HarnessOptions o;
  o.intMin = -10;
  o.intMax = 10;
  const ir::Shape data = {5, 9, 4};
  const ir::Shape idxShapes[] = {{5, 9, 4}, {2, 9, 4}, {5, 30, 1}, {3, 2, 2}};
  for (int64_t axis : {0, 1, 2, -1})
    for (const ir::Shape &idx : idxShapes) {
      bool fits = true;
      for (int64_t d = 0; d < 3; ++d)
        fits = fits && (d == (axis + 3) % 3 || idx[d] <= data[d]);
      if (!fits)
        continue;
      for (const char *r : {"none", "add"})
        expectOpMatchesInterpreter(
            strCat("%d: f32[5,9,4], %i: ", typeText(DType::I64, idx),
                   ", %u: ", typeText(DType::F32, idx)),
            strCat("scatter_elements(%d, %i, %u) {axis = ", axis,
                   ", reduction = \"", r, "\"}"),
            o);
    }
}

TEST(ScatterNd, EveryDTypeIndexTypeAndReduction) {
  e2e::HarnessOptions o;
  o.intMin = -5;
  o.intMax = 5;
  for (DType t : ir::kAllDTypes)
    for (const char *r : kReductions) {
      if (isBool(t) && std::string(r) != "none")
        continue;
      for (DType it : indexTypesFor(r))
        expectOpMatchesInterpreter(
            strCat("%d: ", typeText(t, {4, 3, 2}), ", %i: ",
                   typeText(it, {7, 2}), ", %u: ", typeText(t, {7, 2})),
            strCat("scatter_nd(%d, %i, %u) {reduction = \"", r, "\"}"), o);
    }
}

TEST(ScatterNd, TupleLengths) {
  e2e::HarnessOptions o;
  o.intMin = -7;
  o.intMax = 7;
  // k = 1, 2, 3 into data [6, 5, 4], with leading update axes.
  expectOpMatchesInterpreter("%d: f32[6,5,4], %i: i64[3,4,1], %u: f32[3,4,5,4]",
                             "scatter_nd(%d, %i, %u) {reduction = \"add\"}", o);
  expectOpMatchesInterpreter("%d: f32[6,5,4], %i: i64[10,2], %u: f32[10,4]",
                             "scatter_nd(%d, %i, %u)", o);
  expectOpMatchesInterpreter("%d: f32[6,5,4], %i: i32[2,20,3], %u: f32[2,20]",
                             "scatter_nd(%d, %i, %u) {reduction = \"max\"}", o);
}

TEST(Scatter, LargeAndEmpty) {
  e2e::HarnessOptions o;
  o.intMin = -500;
  o.intMax = 499;
  expectOpMatchesInterpreter(
      "%d: f32[500,32], %i: i64[1000,32], %u: f32[1000,32]",
      "scatter_elements(%d, %i, %u) {reduction = \"add\"}", o);
  expectOpMatchesInterpreter("%d: f32[500,32], %i: i64[800,1], %u: f32[800,32]",
                             "scatter_nd(%d, %i, %u)", o);
  expectOpMatchesInterpreter("%d: f32[3,4], %i: i64[3,0], %u: f32[3,0]",
                             "scatter_elements(%d, %i, %u) {axis = 1}");
  expectOpMatchesInterpreter("%d: f32[3,4], %i: i64[0,1], %u: f32[0,4]",
                             "scatter_nd(%d, %i, %u)");
}

// Scatters between elementwise ops, through fusion and the memory plan:
// their kernels stay whole and read data before the copy overwrites it.
TEST(Scatter, InsideTheOptimizingPipeline) {
  e2e::HarnessOptions o;
  o.intMin = -4;
  o.intMax = 4;
  o.pipeline = "verify,shape-infer,inline,canonicalize,const-fold,"
               "canonicalize,cse,dce,fuse,dce,memory-plan";
  e2e::expectCompiledMatchesInterpreter(R"(
func @main(%d: f32[4,6], %i: i64[7,6], %u: f32[7,6], %j: i64[3,1], %v: f32[3,6]) -> (f32[4,6]) {
  %a = exp(%d) : f32[4,6]
  %s = scatter_elements(%a, %i, %u) {reduction = "add"} : f32[4,6]
  %t = relu(%s) : f32[4,6]
  %n = scatter_nd(%t, %j, %v) {reduction = "mul"} : f32[4,6]
  %g = gather_nd(%n, %j) : f32[3,6]
  %w = add(%g, %v) : f32[3,6]
  %r = scatter_nd(%n, %j, %w) : f32[4,6]
  %y = neg(%r) : f32[4,6]
  return %y
}
)",
                                        o);
}

} // namespace
} // namespace nyx
