// Compiled matmul against the interpreter: every dtype it allows, matrix
// sizes from 1 to a few hundred, all four transpose combinations,
// broadcast batch axes and wrapping integer products.
#include <string>
#include <vector>

#include "harness.h"
#include "ir/strings.h"

namespace nyx {
namespace {

using e2e::expectOpMatchesInterpreter;
using e2e::typeText;
using ir::DType;

constexpr DType kDTypes[] = {DType::F32, DType::F64, DType::F16, DType::BF16,
                             DType::I8,  DType::I32, DType::I64};

// The operand shapes of an [M, K] x [K, N] product with the transposes.
ir::Shape aShape(ir::Shape batch, int64_t m, int64_t k, bool ta) {
  batch.push_back(ta ? k : m);
  batch.push_back(ta ? m : k);
  return batch;
}
ir::Shape bShape(ir::Shape batch, int64_t k, int64_t n, bool tb) {
  batch.push_back(tb ? n : k);
  batch.push_back(tb ? k : n);
  return batch;
}

// f32 dot products of length k drift from the f64 reference by about
// k ulps of the largest partial sum.
e2e::HarnessOptions dotOptions(int64_t k) {
  e2e::HarnessOptions o;
  o.atol = std::max(1e-6, 2e-6 * k);
  return o;
}

void checkMatmul(DType t, ir::Shape batchA, ir::Shape batchB, int64_t m,
                 int64_t k, int64_t n, bool ta, bool tb) {
  std::string params = strCat("%a: ", typeText(t, aShape(batchA, m, k, ta)),
                              ", %b: ", typeText(t, bShape(batchB, k, n, tb)));
  std::string call =
      strCat("matmul(%a, %b) {transpose_a = ", ta ? "true" : "false",
             ", transpose_b = ", tb ? "true" : "false", "}");
  SCOPED_TRACE(params);
  expectOpMatchesInterpreter(params, call, dotOptions(k));
}

TEST(Matmul, EveryDTypeAndTransposeOverSmallSizes) {
  for (DType t : kDTypes)
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        for (auto [m, k, n] :
             {std::tuple{1, 1, 1}, std::tuple{3, 7, 1}, std::tuple{1, 33, 7},
              std::tuple{7, 3, 33}, std::tuple{33, 7, 3}})
          checkMatmul(t, {}, {}, m, k, n, ta, tb);
}

TEST(Matmul, LargerMatricesInEveryTransposeForm) {
  for (DType t : {DType::F32, DType::F16, DType::I8, DType::I32})
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        checkMatmul(t, {}, {}, 65, 129, 97, ta, tb);
  checkMatmul(DType::F64, {}, {}, 128, 256, 96, false, false);
  checkMatmul(DType::BF16, {}, {}, 96, 200, 64, false, true);
}

TEST(Matmul, BatchAxesBroadcast) {
  struct Case {
    ir::Shape a, b;
  };
  const Case cases[] = {{{2}, {2}},          {{4}, {}},       {{}, {3}},
                        {{1}, {3}},          {{2, 1}, {5}},   {{2, 1}, {1, 3}},
                        {{3, 1, 2}, {4, 1}}, {{1, 1}, {1, 1}}};
  for (const Case &c : cases)
    for (DType t : {DType::F32, DType::I8, DType::I64, DType::BF16})
      for (bool tb : {false, true})
        checkMatmul(t, c.a, c.b, 3, 5, 7, false, tb);
  checkMatmul(DType::F32, {2, 1}, {3}, 7, 33, 5, true, true);
}

TEST(Matmul, IntegerProductsWrap) {
  e2e::HarnessOptions o;
  o.intMin = -(int64_t{1} << 20);
  o.intMax = int64_t{1} << 20;
  expectOpMatchesInterpreter("%a: i32[7,33], %b: i32[33,5]", "matmul(%a, %b)",
                             o);
  o.intMin = -(int64_t{1} << 40);
  o.intMax = int64_t{1} << 40;
  expectOpMatchesInterpreter("%a: i64[3,7], %b: i64[5,7]",
                             "matmul(%a, %b) {transpose_b = true}", o);
}

// Quantized values: i8 products summed in i32 over a K long enough that
// the sums leave the i16 range by far.
TEST(Matmul, I8ProductsAccumulateInI32) {
  e2e::HarnessOptions o;
  o.intMin = -128;
  o.intMax = 127;
  o.bitExact = true;
  expectOpMatchesInterpreter("%a: i8[5,4099], %b: i8[4099,19]",
                             "matmul(%a, %b)", o);
  expectOpMatchesInterpreter("%a: i8[2,17,300], %b: i8[33,300]",
                             "matmul(%a, %b) {transpose_b = true}", o);
}

// The i8 GEMM kernel (gemm_i8.h) over its edges: one or a few rows and
// columns, tiles of one to four column vectors with short last tiles and
// panels, K not a multiple of four or zero, tasks of several panels or row
// blocks, transposed operands, and full-range bytes, where the sign-bit
// flip and the column sums reach their extremes.
TEST(Matmul, I8GemmKernelEdges) {
  e2e::HarnessOptions o;
  o.intMin = -128;
  o.intMax = 127;
  o.bitExact = true;
  for (const char *dims :
       {"[1,1] x [1,1]", "[1,7] x [7,1]", "[3,5] x [5,13]", "[16,4] x [4,12]",
        "[17,3] x [3,25]", "[33,64] x [64,37]", "[70,130] x [130,300]",
        "[49,21] x [21,10]", "[64,8] x [8,1000]", "[100,3000] x [3000,20]",
        "[3,0] x [0,5]"}) {
    SCOPED_TRACE(dims);
    std::string text = dims;
    const size_t x = text.find(" x ");
    const std::string a = text.substr(0, x), b = text.substr(x + 3);
    expectOpMatchesInterpreter(strCat("%a: i8", a, ", %b: i8", b),
                               "matmul(%a, %b)", o);
  }
  expectOpMatchesInterpreter("%a: i8[9,40], %b: i8[30,9]",
                             "matmul(%a, %b) {transpose_a = true, "
                             "transpose_b = true}",
                             o);
  expectOpMatchesInterpreter("%a: i8[20,13], %b: i8[45,13]",
                             "matmul(%a, %b) {transpose_b = true}", o);
  expectOpMatchesInterpreter("%a: i8[3,2,300,21], %b: i8[2,21,50]",
                             "matmul(%a, %b)", o);
  // Every byte -128: each product is 16384, the flipped A bytes are 0.
  o.intMax = -128;
  expectOpMatchesInterpreter("%a: i8[40,777], %b: i8[777,30]", "matmul(%a, %b)",
                             o);
}

} // namespace
} // namespace nyx
