// Compiled normalization ops against the interpreter: softmax,
// log_softmax, layer_norm and rms_norm over every float dtype, sizes from 1
// to a few thousand, every axis, with and without scale and bias, and
// inputs that stress numerical stability.
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
constexpr int64_t kSizes[] = {1, 3, 7, 33, 2500};

TEST(Softmax, EveryFloatDTypeAndSize) {
  for (const char *op : {"softmax", "log_softmax"})
    for (DType t : kFloats)
      for (int64_t n : kSizes)
        expectOpMatchesInterpreter(strCat("%x: ", typeText(t, {3, n})),
                                   strCat(op, "(%x)"));
}

TEST(Softmax, EveryAxis) {
  for (const char *op : {"softmax", "log_softmax"})
    for (const char *axis : {"0", "1", "2", "-1", "-2", "-3"})
      for (DType t : {DType::F32, DType::F16})
        expectOpMatchesInterpreter(strCat("%x: ", typeText(t, {3, 7, 5})),
                                   strCat(op, "(%x) {axis = ", axis, "}"));
}

TEST(Softmax, RankOneAndExtentOneAxes) {
  for (const char *op : {"softmax", "log_softmax"}) {
    expectOpMatchesInterpreter("%x: f32[33]", strCat(op, "(%x)"));
    expectOpMatchesInterpreter("%x: f64[1,5,1]", strCat(op, "(%x) {axis = 1}"));
    expectOpMatchesInterpreter("%x: f32[4,1]", strCat(op, "(%x)"));
  }
}

TEST(Softmax, LargeInputsStayFinite) {
  // exp(200) overflows f32; subtracting the row max first keeps every
  // term in range.
  e2e::HarnessOptions o;
  o.minValue = -200;
  o.maxValue = 200;
  for (const char *op : {"softmax", "log_softmax"})
    for (DType t : {DType::F32, DType::BF16})
      expectOpMatchesInterpreter(strCat("%x: ", typeText(t, {7, 33})),
                                 strCat(op, "(%x)"), o);
}

TEST(Softmax, NaNAndInfinityRows) {
  // Rows: ordinary, a NaN, +inf, -inf, all -inf.
  ir::Tensor x({DType::F32, {5, 3}});
  const double vals[5][3] = {{1, 2, 3},
                             {1, NAN, 3},
                             {1, INFINITY, 3},
                             {-INFINITY, 0, 1},
                             {-INFINITY, -INFINITY, -INFINITY}};
  for (int r = 0; r < 5; ++r)
    for (int c = 0; c < 3; ++c)
      x.setDouble(r * 3 + c, vals[r][c]);
  e2e::HarnessOptions o;
  o.inputs = {x};
  expectOpMatchesInterpreter("%x: f32[5,3]", "softmax(%x)", o);
  expectOpMatchesInterpreter("%x: f32[5,3]", "log_softmax(%x)", o);
}

// The optional operands: none, scale, scale and bias.
std::vector<std::pair<std::string, std::string>>
affineForms(const std::string &x, const std::string &affine, int maxOperands) {
  std::vector<std::pair<std::string, std::string>> forms = {
      {strCat("%x: ", x), "(%x)"},
      {strCat("%x: ", x, ", %g: ", affine), "(%x, %g)"}};
  if (maxOperands == 3)
    forms.push_back({strCat("%x: ", x, ", %g: ", affine, ", %b: ", affine),
                     "(%x, %g, %b)"});
  return forms;
}

TEST(Norm, EveryFloatDTypeSizeAndOperandCount) {
  for (auto [op, maxOperands] :
       {std::pair{"layer_norm", 3}, std::pair{"rms_norm", 2}})
    for (DType t : kFloats)
      for (int64_t n : kSizes)
        for (const auto &[params, args] :
             affineForms(typeText(t, {3, n}), typeText(t, {n}), maxOperands))
          expectOpMatchesInterpreter(params, strCat(op, args));
}

TEST(Norm, EveryAxisNormalizesTheTrailingBlock) {
  const ir::Shape shape = {3, 4, 5};
  for (auto [op, maxOperands] :
       {std::pair{"layer_norm", 3}, std::pair{"rms_norm", 2}})
    for (int64_t axis : {0, 1, 2, -1, -2, -3}) {
      int64_t a = axis < 0 ? axis + 3 : axis;
      ir::Shape block(shape.begin() + a, shape.end());
      for (DType t : {DType::F32, DType::BF16})
        for (const auto &[params, args] :
             affineForms(typeText(t, shape), typeText(t, block), maxOperands))
          expectOpMatchesInterpreter(params,
                                     strCat(op, args, " {axis = ", axis, "}"));
    }
}

TEST(Norm, EpsilonAttribute) {
  // A constant row has zero variance: the output is decided by epsilon.
  e2e::HarnessOptions o;
  o.minValue = 0.5;
  o.maxValue = 0.5001;
  for (const char *eps : {"0.5", "1e-3", "1"}) {
    expectOpMatchesInterpreter(
        "%x: f32[4,8]", strCat("layer_norm(%x) {epsilon = ", eps, "}"), o);
    expectOpMatchesInterpreter("%x: f64[4,8]",
                               strCat("rms_norm(%x) {epsilon = ", eps, "}"), o);
  }
}

TEST(Norm, LargeMeanUsesTwoPassVariance) {
  // Values near 1000 with unit spread: a one-pass E[x^2] - E[x]^2 would
  // cancel away most of f32's digits.
  e2e::HarnessOptions o;
  o.minValue = 1000;
  o.maxValue = 1004;
  o.atol = 2e-3;
  expectOpMatchesInterpreter("%x: f32[7,257]", "layer_norm(%x)", o);
  expectOpMatchesInterpreter("%x: f64[7,257]", "layer_norm(%x)", o);
}

} // namespace
} // namespace nyx
