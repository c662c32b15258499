// Compiled gather_elements against the interpreter: every dtype and index
// type, each axis, indices smaller than data off the axis, negative and
// out-of-range indices (zeros), empty and large cases.
#include <string>

#include "harness.h"
#include "ir/strings.h"

namespace nyx {
namespace {

using e2e::expectOpMatchesInterpreter;
using e2e::typeText;
using ir::DType;

TEST(GatherElements, EveryDTypeAndIndexType) {
  // Random indices lie in [-20, 20]: negative ones count from the end, and
  // those outside [-7, 7) yield zeros.
  for (DType t : ir::kAllDTypes)
    for (DType it : {DType::I32, DType::I64})
      expectOpMatchesInterpreter(
          strCat("%d: ", typeText(t, {7, 3}), ", %i: ", typeText(it, {9, 3})),
          "gather_elements(%d, %i)");
}

// Index shapes for data [5, 9, 4]: larger than data along the axis, equal
// or smaller elsewhere.
TEST(GatherElements, AxesAndIndexShapes) {
  const ir::Shape data = {5, 9, 4};
  const ir::Shape idxShapes[] = {{5, 9, 4},  {2, 9, 4}, {5, 30, 1},
                                 {1, 1, 40}, {3, 2, 2}, {12, 1, 3}};
  e2e::HarnessOptions o;
  o.intMin = -12;
  o.intMax = 12;
  for (int64_t axis : {0, 1, 2, -1, -3})
    for (const ir::Shape &idx : idxShapes) {
      bool fits = true;
      for (int64_t d = 0; d < 3; ++d)
        fits = fits && (d == (axis + 3) % 3 || idx[d] <= data[d]);
      if (fits)
        expectOpMatchesInterpreter(
            strCat("%d: f32[5,9,4], %i: ", typeText(DType::I64, idx)),
            strCat("gather_elements(%d, %i) {axis = ", axis, "}"), o);
    }
}

TEST(GatherElements, LargeInRangeAndEmpty) {
  e2e::HarnessOptions o;
  o.intMin = -300;
  o.intMax = 299;
  expectOpMatchesInterpreter("%d: f32[300,40], %i: i32[500,40]",
                             "gather_elements(%d, %i)", o);
  expectOpMatchesInterpreter("%d: f16[40,300], %i: i64[40,1000]",
                             "gather_elements(%d, %i) {axis = 1}", o);
  expectOpMatchesInterpreter("%d: f32[3,4], %i: i64[3,0]",
                             "gather_elements(%d, %i) {axis = 1}");
  expectOpMatchesInterpreter("%d: f32[3,0], %i: i64[3,5]",
                             "gather_elements(%d, %i) {axis = 1}");
}

} // namespace
} // namespace nyx
