// Compiled shape and data-movement ops against the interpreter: reshape,
// transpose, broadcast_to, slice, concat, gather and pad over every dtype
// (bool included), sizes from 1 to a few thousand and every attribute form.
#include <algorithm>
#include <string>
#include <vector>

#include "harness.h"
#include "ir/strings.h"

namespace nyx {
namespace {

using e2e::expectOpMatchesInterpreter;
using e2e::typeText;
using ir::DType;

std::string x(DType t, const ir::Shape &shape) {
  return strCat("%x: ", typeText(t, shape));
}

TEST(Reshape, EveryDTypeAndSize) {
  for (DType t : ir::kAllDTypes)
    for (int64_t n : {1, 3, 7, 33, 2500}) {
      expectOpMatchesInterpreter(x(t, {n, 2}),
                                 strCat("reshape(%x) {shape = [2, ", n, "]}"));
      expectOpMatchesInterpreter(x(t, {2, n}), "reshape(%x) {shape = [-1]}");
    }
}

TEST(Reshape, InferredAndUnitDimensions) {
  expectOpMatchesInterpreter(x(DType::F32, {2, 3, 4}),
                             "reshape(%x) {shape = [4, -1]}");
  expectOpMatchesInterpreter(x(DType::I8, {24}),
                             "reshape(%x) {shape = [1, 2, 1, 12, 1]}");
  expectOpMatchesInterpreter(x(DType::Bool, {1}), "reshape(%x) {shape = []}");
}

TEST(Transpose, EveryDTypeWithDefaultPerm) {
  for (DType t : ir::kAllDTypes) {
    expectOpMatchesInterpreter(x(t, {3, 4, 5}), "transpose(%x)");
    expectOpMatchesInterpreter(x(t, {33, 7}), "transpose(%x)");
  }
}

TEST(Transpose, EveryPermutationOfRankThreeAndFour) {
  std::vector<int64_t> perm = {0, 1, 2};
  do
    expectOpMatchesInterpreter(
        x(DType::F32, {3, 4, 5}),
        strCat("transpose(%x) {perm = [", strJoin(perm, ", "), "]}"));
  while (std::next_permutation(perm.begin(), perm.end()));
  for (const char *p : {"[0, 2, 3, 1]", "[3, 1, 0, 2]", "[0, 1, 3, 2]"})
    expectOpMatchesInterpreter(x(DType::F16, {2, 3, 4, 5}),
                               strCat("transpose(%x) {perm = ", p, "}"));
}

TEST(Transpose, SizesFromOneToLarge) {
  for (int64_t n : {1, 3, 7, 33})
    expectOpMatchesInterpreter(x(DType::I32, {n, 5}),
                               "transpose(%x) {perm = [1, 0]}");
  expectOpMatchesInterpreter(x(DType::F32, {257, 65}), "transpose(%x)");
  expectOpMatchesInterpreter(x(DType::F64, {1, 7, 1}),
                             "transpose(%x) {perm = [2, 0, 1]}");
}

TEST(BroadcastTo, EveryDType) {
  for (DType t : ir::kAllDTypes)
    expectOpMatchesInterpreter(x(t, {3, 1}),
                               "broadcast_to(%x) {shape = [2, 3, 5]}");
}

TEST(BroadcastTo, ShapeForms) {
  const std::pair<ir::Shape, const char *> cases[] = {
      {{1}, "[7]"},    {{5}, "[3, 5]"},    {{1, 1}, "[33, 7]"},
      {{}, "[3, 3]"},  {{2, 3}, "[2, 3]"}, {{1, 4, 1}, "[2, 4, 3]"},
      {{7}, "[1, 7]"}, {{1}, "[2500]"},    {{33, 1}, "[2, 33, 65]"}};
  for (const auto &[shape, to] : cases)
    expectOpMatchesInterpreter(x(DType::F32, shape),
                               strCat("broadcast_to(%x) {shape = ", to, "}"));
}

TEST(Slice, EveryDType) {
  for (DType t : ir::kAllDTypes)
    expectOpMatchesInterpreter(
        x(t, {7, 5}),
        "slice(%x) {starts = [1, -4], ends = [6, 100], steps = [2, 1]}");
}

TEST(Slice, PythonSlicingForms) {
  // {starts, ends, axes (or ""), steps (or "")} on an f32[33, 7].
  const char *cases[][4] = {
      {"[0]", "[33]", "", ""},
      {"[3]", "[10]", "", ""},
      {"[-5]", "[-1]", "", ""},
      {"[-100]", "[100]", "", ""},
      {"[2, 1]", "[30, 6]", "", "[3, 2]"},
      {"[1]", "[5]", "[1]", ""},
      {"[1]", "[5]", "[-1]", ""},
      {"[2, 0]", "[5, 20]", "[-1, 0]", "[1, 4]"},
      {"[-1]", "[-1000]", "", "[-1]"},
      {"[20]", "[2]", "", "[-3]"},
      {"[100]", "[-100]", "[1]", "[-2]"},
      {"[5, 6]", "[0, 0]", "", "[-1, -2]"},
      {"[10]", "[5]", "", ""},
      {"[5]", "[10]", "", "[-1]"},
  };
  for (const auto &c : cases) {
    std::string attrs = strCat("starts = ", c[0], ", ends = ", c[1]);
    if (*c[2])
      attrs += strCat(", axes = ", c[2]);
    if (*c[3])
      attrs += strCat(", steps = ", c[3]);
    expectOpMatchesInterpreter(x(DType::F32, {33, 7}),
                               strCat("slice(%x) {", attrs, "}"));
  }
}

TEST(Slice, SizesFromOneToLarge) {
  for (int64_t n : {1, 3, 7, 33, 2500}) {
    expectOpMatchesInterpreter(x(DType::I64, {n}),
                               "slice(%x) {starts = [1], ends = [-1]}");
    expectOpMatchesInterpreter(
        x(DType::BF16, {n}),
        "slice(%x) {starts = [-1], ends = [-10000], steps = [-1]}");
  }
}

TEST(Concat, EveryDTypeAlongEachAxis) {
  for (DType t : ir::kAllDTypes)
    for (const char *axis : {"0", "1", "-1"}) {
      bool first = std::string(axis) == "0";
      std::string params = strCat(
          "%a: ", typeText(t, {3, 4}),
          ", %b: ", typeText(t, first ? ir::Shape{2, 4} : ir::Shape{3, 1}),
          ", %c: ", typeText(t, first ? ir::Shape{5, 4} : ir::Shape{3, 6}));
      expectOpMatchesInterpreter(
          params, strCat("concat(%a, %b, %c) {axis = ", axis, "}"));
    }
}

TEST(Concat, OperandCountsAndSizes) {
  expectOpMatchesInterpreter("%a: f32[7]", "concat(%a) {axis = 0}");
  expectOpMatchesInterpreter("%a: f32[1], %b: f32[1]",
                             "concat(%a, %b) {axis = 0}");
  expectOpMatchesInterpreter("%a: f16[2,33,3], %b: f16[2,7,3]",
                             "concat(%a, %b) {axis = 1}");
  expectOpMatchesInterpreter("%a: i32[2,3,1], %b: i32[2,3,7], %c: i32[2,3,33]",
                             "concat(%a, %b, %c) {axis = 2}");
  expectOpMatchesInterpreter("%a: f64[2500], %b: f64[33]",
                             "concat(%a, %b) {axis = -1}");
}

TEST(Gather, EveryDTypeAndIndexType) {
  // Random indices lie in [-20, 20]: negative ones count from the end, and
  // those outside [-7, 7) yield zeros.
  for (DType t : ir::kAllDTypes)
    for (DType it : {DType::I32, DType::I64})
      expectOpMatchesInterpreter(
          strCat("%d: ", typeText(t, {7, 3}), ", %i: ", typeText(it, {33})),
          "gather(%d, %i)");
}

TEST(Gather, AxesAndIndexShapes) {
  const char *idxShapes[] = {"[]", "[1]", "[4]", "[2, 3]"};
  for (const char *axis : {"0", "1", "2", "-1", "-3"})
    for (const char *s : idxShapes)
      expectOpMatchesInterpreter(strCat("%d: f32[5,9,4], %i: i64", s),
                                 strCat("gather(%d, %i) {axis = ", axis, "}"));
}

TEST(Gather, InRangeIndicesOverLargeData) {
  e2e::HarnessOptions o;
  o.intMin = -2500;
  o.intMax = 2499;
  expectOpMatchesInterpreter("%d: f32[2500,3], %i: i32[7,33]", "gather(%d, %i)",
                             o);
  expectOpMatchesInterpreter("%d: i8[3,2500], %i: i64[33]",
                             "gather(%d, %i) {axis = 1}", o);
  o.intMin = -1;
  o.intMax = 0;
  expectOpMatchesInterpreter("%d: bf16[1,1], %i: i32[3]", "gather(%d, %i)", o);
}

TEST(Pad, EveryModeAndDType) {
  for (DType t : ir::kAllDTypes)
    for (const char *mode : {"constant", "reflect", "edge"})
      expectOpMatchesInterpreter(
          x(t, {4, 5}), strCat("pad(%x) {pads = [1, 2, 3, 4], mode = \"", mode,
                               "\", value = 1.0}"));
}

TEST(Pad, ValuesPadsAndSizes) {
  for (const char *mode : {"constant", "reflect", "edge"}) {
    for (int64_t n : {3, 7, 33, 2500})
      expectOpMatchesInterpreter(
          x(DType::F32, {n}),
          strCat("pad(%x) {pads = [2, 1], mode = \"", mode, "\"}"));
    expectOpMatchesInterpreter(
        x(DType::F32, {3, 4, 5}),
        strCat("pad(%x) {pads = [0, 1, 0, 0, 3, 2], mode = \"", mode, "\"}"));
    expectOpMatchesInterpreter(
        x(DType::I32, {2, 6}),
        strCat("pad(%x) {pads = [0, 0, 0, 0], mode = \"", mode, "\"}"));
  }
  expectOpMatchesInterpreter(x(DType::F32, {1}),
                             "pad(%x) {pads = [3, 2], mode = \"edge\"}");
  expectOpMatchesInterpreter(x(DType::F16, {1, 1}),
                             "pad(%x) {pads = [1, 1, 1, 1]}");
  expectOpMatchesInterpreter(x(DType::F32, {3, 3}),
                             "pad(%x) {pads = [1, 1, 1, 1], value = -2.5}");
  expectOpMatchesInterpreter(x(DType::I8, {3, 3}),
                             "pad(%x) {pads = [2, 0, 0, 2], value = -7.0}");
  expectOpMatchesInterpreter(x(DType::Bool, {3}),
                             "pad(%x) {pads = [1, 1], value = 1.0}");
}

// The fill converts like `cast`: saturating for ints, rounded once for
// f16 (1 + 2^-11 + 2^-30 rounds up to 0x3c01, through f32 it would not).
TEST(Pad, FillValueConvertsLikeCast) {
  e2e::HarnessOptions exact;
  exact.bitExact = true;
  expectOpMatchesInterpreter(x(DType::I8, {2}),
                             "pad(%x) {pads = [1, 1], value = 300.0}", exact);
  expectOpMatchesInterpreter(x(DType::I32, {2}),
                             "pad(%x) {pads = [1, 1], value = 1.0e30}", exact);
  expectOpMatchesInterpreter(x(DType::I64, {2}),
                             "pad(%x) {pads = [1, 1], value = nan}", exact);
  expectOpMatchesInterpreter(
      x(DType::F16, {2}), "pad(%x) {pads = [1, 1], value = 1.0004882816970348}",
      exact);
  expectOpMatchesInterpreter(x(DType::BF16, {2}),
                             "pad(%x) {pads = [1, 1], value = 1.0039062500001}",
                             exact);
}

// Data movement copies f16/bf16 bits: NaN payloads and signalling NaNs
// survive, as they do in the interpreter.
TEST(DataMovement, KeepsEveryHalfBitPattern) {
  for (DType t : {DType::F16, DType::BF16}) {
    ir::Tensor bits(ir::TensorType{t, {2, 4}});
    const uint16_t patterns[] = {0x7c01, 0xfd23, 0x7f81, 0x7fc1,
                                 0x0001, 0x8000, 0x7bff, 0xffff};
    std::memcpy(bits.bytes(), patterns, sizeof patterns);
    e2e::HarnessOptions exact;
    exact.bitExact = true;
    exact.inputs = {bits};
    std::string in = x(t, {2, 4});
    expectOpMatchesInterpreter(in, "transpose(%x)", exact);
    expectOpMatchesInterpreter(in, "reshape(%x) {shape = [8]}", exact);
    expectOpMatchesInterpreter(
        in, "slice(%x) {starts = [3], ends = [0], axes = [1], steps = [-1]}",
        exact);
    expectOpMatchesInterpreter(in, "pad(%x) {pads = [0, 1, 0, 1]}", exact);
    expectOpMatchesInterpreter(in, "broadcast_to(%x) {shape = [3, 2, 4]}",
                               exact);
  }
}

// A step larger than the axis reads one element; its arithmetic must not
// overflow.
TEST(Slice, HugeSteps) {
  expectOpMatchesInterpreter(
      x(DType::F32, {5}),
      "slice(%x) {starts = [0], ends = [5], steps = [9223372036854775807]}");
  expectOpMatchesInterpreter(
      x(DType::F32, {5}),
      "slice(%x) {starts = [4], ends = [-9223372036854775807], steps = "
      "[-9223372036854775807]}");
}

} // namespace
} // namespace nyx
