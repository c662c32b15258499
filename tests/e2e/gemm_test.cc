// GEMM kernels (f32 matmul and conv2d as implicit GEMMs) against the
// interpreter: explicit schedules covering every tile shape and blocking,
// edge tiles, A read in place and packed, and fused prologues/epilogues.
#include <string>
#include <vector>

#include "harness.h"
#include "ir/printer.h"
#include "ir/strings.h"

namespace nyx {
namespace {

using e2e::expectCompiledMatchesInterpreter;

// Products of length k drift from the f64 reference by about k ulps of the
// largest partial sum; conv2d's bias is added after the sum.
e2e::HarnessOptions dotOptions(int64_t k) {
  e2e::HarnessOptions o;
  o.atol = std::max(1e-6, 4e-6 * k);
  return o;
}

std::string matmulModule(int64_t m, int64_t k, int64_t n, bool ta, bool tb,
                         const std::string &schedule) {
  std::string a = ta ? strCat(k, ",", m) : strCat(m, ",", k);
  std::string b = tb ? strCat(n, ",", k) : strCat(k, ",", n);
  std::string attrs = strCat("transpose_a = ", ta ? "true" : "false",
                             ", transpose_b = ", tb ? "true" : "false");
  if (!schedule.empty())
    attrs += strCat(", schedule = \"", schedule, "\"");
  return strCat("func @main(%a: f32[", a, "], %b: f32[", b, "]) -> (f32[", m,
                ",", n, "]) {\n  %c = matmul(%a, %b) {", attrs, "} : f32[", m,
                ",", n, "]\n  return %c\n}\n");
}

// Register tiles of every width the backends use, blocks that split M and
// N into several tasks with edge tiles, and both ways of reading A.
constexpr const char *kSchedules[] = {
    "mr=6,nr=64,mc=96,nc=256,pack_a=1",
    "mr=6,nr=64,mc=12,nc=64,pack_a=0",
    "mr=14,nr=32,mc=28,nc=96,pack_a=1",
    "mr=12,nr=32,mc=36,nc=32,pack_a=0",
    "mr=16,nr=16,mc=16,nc=48,pack_a=1",
    "mr=4,nr=8,mc=8,nc=24,pack_a=0",
    "mr=1,nr=4,mc=3,nc=8,pack_a=1",
    // K in blocks (the last one short), accumulating in the task's tiles.
    "mr=6,nr=32,mc=18,nc=64,kc=16,pack_a=0",
    "mr=4,nr=16,mc=8,nc=32,kc=7,pack_a=1",
    // B read in place (row-major B only; the short last panel masked).
    "mr=8,nr=32,mc=16,nc=64,pack_a=0,pack_b=0",
    "mr=6,nr=16,mc=12,nc=48,kc=16,pack_a=1,pack_b=0",
};

TEST(Gemm, MatmulSchedulesAndShapes) {
  const int64_t shapes[][3] = {{1, 1, 1},    {5, 7, 3},      {17, 33, 65},
                               {64, 80, 96}, {130, 200, 70}, {32, 51, 10}};
  for (const char *schedule : kSchedules)
    for (const auto &s : shapes)
      for (int t = 0; t < 4; ++t) {
        SCOPED_TRACE(strCat(schedule, " ", s[0], "x", s[1], "x", s[2],
                            " transposes ", t));
        expectCompiledMatchesInterpreter(
            matmulModule(s[0], s[1], s[2], t & 1, t & 2, schedule),
            dotOptions(s[1]));
      }
}

TEST(Gemm, DefaultScheduleLargeAndSkinny) {
  const int64_t shapes[][3] = {
      {256, 256, 256}, {32, 784, 512}, {32, 512, 10}, {3, 1000, 300}};
  for (const auto &s : shapes) {
    SCOPED_TRACE(strCat(s[0], "x", s[1], "x", s[2]));
    expectCompiledMatchesInterpreter(
        matmulModule(s[0], s[1], s[2], false, false, ""), dotOptions(s[1]));
  }
}

TEST(Gemm, EmptyProducts) {
  // No rows, no columns, no inner dimension (C is zeros), no batch (of a
  // matmul and of a convolution); with the default schedules of -O2 and
  // without a schedule at -O0.
  const std::string module = R"(
func @main(%a: f32[0,5], %b: f32[5,3], %c: f32[4,0], %d: f32[0,3], %e: f32[0,300,64], %f: f32[64,64], %x: f32[0,8,14,14], %w: f32[16,8,3,3]) -> (f32[0,3], f32[4,3], f32[0,300,64], f32[0,16,14,14]) {
  %y = matmul(%a, %b) : f32[0,3]
  %z = matmul(%c, %d) : f32[4,3]
  %v = matmul(%e, %f) : f32[0,300,64]
  %u = conv2d(%x, %w) {padding = [1, 1, 1, 1]} : f32[0,16,14,14]
  return %y, %z, %v, %u
})";
  for (int level : {0, 2}) {
    e2e::HarnessOptions o = dotOptions(72);
    o.optLevel = level;
    expectCompiledMatchesInterpreter(module, o);
  }
}

TEST(Gemm, BatchedBroadcast) {
  expectCompiledMatchesInterpreter(R"(
func @main(%a: f32[2,1,19,23], %b: f32[3,23,29]) -> (f32[2,3,19,29], f32[2,3,19,29]) {
  %c = matmul(%a, %b) {schedule = "mr=6,nr=16,mc=12,nc=16,pack_a=0"} : f32[2,3,19,29]
  %d = matmul(%a, %b) {schedule = "mr=6,nr=16,mc=12,nc=16,pack_a=0,pack_b=0"} : f32[2,3,19,29]
  return %c, %d
})",
                                   dotOptions(23));
}

std::string convModule(int64_t n, int64_t c, int64_t hw, int64_t m,
                       int64_t kernel, int64_t stride, int64_t pad,
                       int64_t groups, int64_t dilation, bool bias,
                       const std::string &schedule) {
  int64_t extent = dilation * (kernel - 1) + 1;
  int64_t out = (hw + 2 * pad - extent) / stride + 1;
  std::string attrs =
      strCat("strides = [", stride, ", ", stride, "], padding = [", pad, ", ",
             pad, ", ", pad, ", ", pad, "], dilations = [", dilation, ", ",
             dilation, "], groups = ", groups);
  if (!schedule.empty())
    attrs += strCat(", schedule = \"", schedule, "\"");
  std::string params =
      strCat("%x: f32[", n, ",", c, ",", hw, ",", hw, "], %w: f32[", m, ",",
             c / groups, ",", kernel, ",", kernel, "]");
  if (bias)
    params += strCat(", %b: f32[", m, "]");
  std::string y = strCat("f32[", n, ",", m, ",", out, ",", out, "]");
  return strCat("func @main(", params, ") -> (", y, ") {\n  %y = conv2d(%x, %w",
                bias ? ", %b" : "", ") {", attrs, "} : ", y,
                "\n  return %y\n}\n");
}

TEST(Gemm, Convolutions) {
  struct Case {
    int64_t n, c, hw, m, kernel, stride, pad, groups, dilation;
    bool bias;
  };
  const Case cases[] = {
      {1, 3, 23, 16, 7, 2, 3, 1, 1, false}, // stem: 7x7/2
      {2, 8, 13, 12, 3, 1, 1, 1, 1, true},  // 3x3 same, two images
      {1, 16, 14, 24, 1, 2, 0, 1, 1, true}, // 1x1/2 shortcut
      {1, 16, 9, 20, 1, 1, 0, 1, 1, false}, // 1x1: B read contiguously
      {1, 8, 11, 8, 3, 1, 2, 2, 2, true},   // grouped, dilated
      {1, 12, 10, 6, 3, 2, 1, 3, 1, false}, // 3 groups, strided
  };
  for (const Case &c : cases)
    for (const char *schedule : {"", "mr=6,nr=16,mc=6,nc=32,pack_a=0",
                                 "mr=4,nr=32,mc=8,nc=32,pack_a=1"}) {
      SCOPED_TRACE(strCat(c.c, "->", c.m, " k", c.kernel, " s", c.stride, " p",
                          c.pad, " g", c.groups, " ", schedule));
      expectCompiledMatchesInterpreter(
          convModule(c.n, c.c, c.hw, c.m, c.kernel, c.stride, c.pad, c.groups,
                     c.dilation, c.bias, schedule),
          dotOptions(c.c / c.groups * c.kernel * c.kernel));
    }
}

// `module` with SCHEDULE replaced by each schedule ("": the default)
// against the interpreter; its products are `depth` terms long.
void expectSchedulesMatch(const std::string &module,
                          std::initializer_list<const char *> schedules,
                          int64_t depth) {
  for (const char *schedule : schedules) {
    SCOPED_TRACE(schedule);
    std::string text = module;
    const std::string attr =
        *schedule ? strCat("schedule = \"", schedule, "\"") : "groups = 1";
    text.replace(text.find("SCHEDULE"), 8, attr);
    expectCompiledMatchesInterpreter(text, dotOptions(depth));
  }
}

// Different strides, paddings and dilations per axis give every tap its own
// stride phase and shift; narrow tasks start mid-row of the widened output
// grid, and K blocks start mid-way through the row table.
TEST(Gemm, ConvolutionPhasesAndShifts) {
  const std::string module = R"(
func @main(%x: f32[2,5,17,19], %w: f32[7,5,3,2]) -> (f32[2,7,8,7]) {
  %y = conv2d(%x, %w) {strides = [2, 3], padding = [1, 0, 2, 1], dilations = [2, 1], SCHEDULE} : f32[2,7,8,7]
  return %y
})";
  expectSchedulesMatch(module,
                       {"", "mr=6,nr=16,mc=6,nc=16,pack_a=0",
                        "mr=4,nr=16,mc=8,nc=48,pack_a=1",
                        "mr=6,nr=32,mc=6,nc=32,kc=12,pack_a=0"},
                       30);
}

// A hwio filter turns the product around: pixels are C's rows and output
// channels its columns, the filter read in place except for a short last
// column panel (20 channels in panels of 16 or 32), which is packed.
TEST(Gemm, ConvolutionWithPixelRows) {
  const std::string module = R"(
func @main(%x: f32[2,5,17,19], %w: f32[3,2,5,20], %b: f32[20]) -> (f32[2,20,8,7]) {
  %y = conv2d(%x, %w, %b) {strides = [2, 3], padding = [1, 0, 2, 1], dilations = [2, 1], filter_layout = "hwio", SCHEDULE} : f32[2,20,8,7]
  return %y
})";
  expectSchedulesMatch(module,
                       {"", "mr=6,nr=16,mc=12,nc=16,pack_a=0",
                        "mr=4,nr=32,mc=8,nc=32,pack_a=0",
                        "mr=14,nr=32,mc=56,nc=32,kc=8,pack_a=0",
                        "mr=6,nr=64,mc=60,nc=64,kc=16,pack_a=0"},
                       30);
  // Fused: a prologue on the input, bias, activation and a residual.
  e2e::HarnessOptions o = dotOptions(72);
  o.pipeline = "verify,shape-infer,inline,fuse,dce";
  expectCompiledMatchesInterpreter(R"(
func @main(%x: f32[1,8,12,12], %w: f32[3,3,8,16], %b: f32[16], %r: f32[1,16,12,12]) -> (f32[1,16,12,12]) {
  %t = tanh(%x) : f32[1,8,12,12]
  %y = conv2d(%t, %w, %b) {padding = [1, 1, 1, 1], filter_layout = "hwio"} : f32[1,16,12,12]
  %a = relu(%y) : f32[1,16,12,12]
  %o = add(%a, %r) : f32[1,16,12,12]
  return %o
})",
                                   o);
}

// The filter-layout pass permutes a filter known at compile time (a param
// with embedded weights) into hwio, or into blocks of output channels; the
// model computes what the interpreter computes from the original filter.
TEST(Gemm, FilterLayoutPass) {
  const std::string module = R"(
module @m
param @w : f32[32,40,3,3]
param @b : f32[32]
func @main(%x: f32[1,40,9,9]) -> (f32[1,32,9,9]) {
  %w = param() {name = @w} : f32[32,40,3,3]
  %b = param() {name = @b} : f32[32]
  %y = conv2d(%x, %w, %b) {padding = [1, 1, 1, 1]} : f32[1,32,9,9]
  %a = relu(%y) : f32[1,32,9,9]
  return %a
})";
  for (auto [block, layout] : {std::pair{0, "hwio"}, std::pair{16, "Ohwi16o"},
                               std::pair{8, "Ohwi8o"}}) {
    e2e::HarnessOptions o = dotOptions(360);
    o.pipeline = strCat("verify,shape-infer,inline,filter-layout{block=", block,
                        "},fuse,dce");
    std::mt19937_64 rng(7);
    for (const char *name : {"w", "b"}) {
      ir::TensorType t{ir::DType::F32,
                       *name == 'w' ? ir::Shape{32, 40, 3, 3} : ir::Shape{32}};
      o.weights.emplace(name, e2e::randomTensor(t, rng, o));
    }
    auto compiled = e2e::parseWithPipeline(module, o.pipeline, &o.weights);
    ASSERT_TRUE(compiled.ok()) << compiled.status().message();
    EXPECT_NE(ir::printModule(**compiled)
                  .find(strCat("filter_layout = \"", layout, "\"")),
              std::string::npos)
        << layout;
    expectCompiledMatchesInterpreter(module, o);
  }
}

// The fuse pass puts bias, activation and residual after the product and
// elementwise/layout ops before it into the GEMM kernel.
TEST(Gemm, FusedPrologueAndEpilogue) {
  e2e::HarnessOptions o = dotOptions(48);
  o.pipeline = "verify,shape-infer,inline,fuse,dce";
  expectCompiledMatchesInterpreter(R"(
func @main(%x: f32[37,48], %w: f32[48,40], %b: f32[40], %r: f32[37,40]) -> (f32[37,40], f32[37,40]) {
  %s = mul(%x, %x) : f32[37,48]
  %y = matmul(%s, %w) : f32[37,40]
  %z = add(%y, %b) : f32[37,40]
  %a = relu(%z) : f32[37,40]
  %o = add(%a, %r) : f32[37,40]
  return %o, %z
})",
                                   o);
  expectCompiledMatchesInterpreter(R"(
func @main(%x: f32[1,8,12,12], %w: f32[16,8,3,3], %b: f32[16]) -> (f32[1,16,12,12]) {
  %t = tanh(%x) : f32[1,8,12,12]
  %y = conv2d(%t, %w, %b) {padding = [1, 1, 1, 1]} : f32[1,16,12,12]
  %a = relu(%y) : f32[1,16,12,12]
  return %a
})",
                                   [&] {
                                     e2e::HarnessOptions c = dotOptions(72);
                                     c.pipeline = o.pipeline;
                                     return c;
                                   }());
}

// A fused prologue of transposes, reshapes and slices whose offsets split
// into a row part and a K part is read in place through offset tables by
// full panels (pack_a=0), packed by the short last one; views whose rows
// and K mix are packed (tests/lit/codegen/gemm-a-view.nyx shows which).
TEST(Gemm, ViewsOfAReadInPlace) {
  // Attention's heads side by side again and sliced, A[b, i, p] =
  // h[b*210 + (p/6 + 1)*42 + i*6 + p%6]; and a view whose rows and K mix,
  // A[i, p] = x[(f/4 % 2)*12 + f/8*4 + f%4] for f = 6i + p.
  const std::string module = R"(
func @main(%h: f32[2,5,7,6], %w: f32[18,21], %x: f32[2,3,4], %v: f32[6,17]) -> (f32[2,7,21], f32[4,17]) {
  %t = transpose(%h) {perm = [0, 2, 1, 3]} : f32[2,7,5,6]
  %r = reshape(%t) {shape = [2, 7, 30]} : f32[2,7,30]
  %s = slice(%r) {axes = [2], starts = [6], ends = [24]} : f32[2,7,18]
  %y = matmul(%s, %w) {schedule = "SCHEDULE"} : f32[2,7,21]
  %xt = transpose(%x) {perm = [1, 0, 2]} : f32[3,2,4]
  %xr = reshape(%xt) {shape = [4, 6]} : f32[4,6]
  %z = matmul(%xr, %v) {schedule = "SCHEDULE"} : f32[4,17]
  return %y, %z
})";
  // Full and short row panels, K blocks, one-row panels, and packing.
  for (std::string schedule :
       {"mr=4,nr=16,mc=8,nc=16,pack_a=0",
        "mr=6,nr=32,mc=12,nc=32,kc=5,pack_a=0",
        "mr=1,nr=16,mc=3,nc=16,pack_a=0", "mr=4,nr=16,mc=8,nc=16,pack_a=1"}) {
    SCOPED_TRACE(schedule);
    e2e::HarnessOptions o = dotOptions(18);
    o.pipeline = "verify,shape-infer,inline,fuse,dce";
    std::string text = module;
    for (size_t at; (at = text.find("SCHEDULE")) != std::string::npos;)
      text.replace(at, 8, schedule);
    expectCompiledMatchesInterpreter(text, o);
  }
}

// The register tile takes the target's vector width: 8-lane AVX2 tiles and
// 16-lane ones on an AVX-512 target, whatever the schedule asks for.
TEST(Gemm, Avx2AndAvx512Targets) {
  for (const char *target : {"x86-64-avx2", "x86-64-avx512"})
    for (const char *schedule : {"", "mr=6,nr=16,mc=12,nc=32,pack_a=0",
                                 "mr=6,nr=64,mc=12,nc=64,kc=24,pack_a=1"}) {
      SCOPED_TRACE(strCat(target, " ", schedule));
      e2e::HarnessOptions o = dotOptions(70);
      o.target = target;
      expectCompiledMatchesInterpreter(
          matmulModule(45, 70, 83, false, true, schedule), o);
    }
}

} // namespace
} // namespace nyx
