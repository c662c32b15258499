// Compiled convolution and pooling against the interpreter: conv2d with
// every stride/padding/dilation/groups form (depthwise included) and an
// optional bias, max_pool2d and avg_pool2d with and without padding and
// count_include_pad, over every float dtype and spatial sizes 1 to 33+.
#include <cmath>
#include <string>
#include <vector>

#include "harness.h"
#include "ir/conv_filter.h"
#include "ir/strings.h"

namespace nyx {
namespace {

using e2e::expectOpMatchesInterpreter;
using e2e::typeText;
using ir::DType;

constexpr DType kFloats[] = {DType::F32, DType::F64, DType::F16, DType::BF16};

struct Conv {
  ir::Shape x, w; // w as [M, C/groups, kH, kW]
  std::string attrs;
  bool bias = false;
  std::string layout = "oihw"; // the filter_layout w is passed in
};

void checkConv(DType t, const Conv &c) {
  ir::Op layoutOf;
  layoutOf.attrs[std::string(ir::kFilterLayoutAttr)] = c.layout;
  auto layout = ir::filterLayout(layoutOf);
  ASSERT_TRUE(layout.ok()) << layout.status();
  const ir::Shape w =
      ir::filterShape({c.w[0], c.w[1], c.w[2], c.w[3]}, *layout);
  std::string params =
      strCat("%x: ", typeText(t, c.x), ", %w: ", typeText(t, w));
  if (c.bias)
    params += strCat(", %b: ", typeText(t, {c.w[0]}));
  std::string attrs = c.attrs;
  if (c.layout != "oihw")
    attrs +=
        strCat(attrs.empty() ? "" : ", ", "filter_layout = \"", c.layout, "\"");
  std::string call = strCat("conv2d(%x, %w", c.bias ? ", %b" : "", ")");
  if (!attrs.empty())
    call += strCat(" {", attrs, "}");
  SCOPED_TRACE(params);
  // Dot products of C/groups * kH * kW terms, as for matmul.
  e2e::HarnessOptions o;
  o.atol = std::max(1e-6, 2e-6 * c.w[1] * c.w[2] * c.w[3]);
  expectOpMatchesInterpreter(params, call, o);
}

TEST(Conv2d, EveryFloatDTypeWithAndWithoutBias) {
  for (DType t : kFloats)
    for (bool bias : {false, true})
      checkConv(t, {{2, 3, 7, 7}, {4, 3, 3, 3}, "", bias});
}

TEST(Conv2d, SpatialSizes) {
  for (int64_t n : {1, 3, 7, 33}) {
    checkConv(DType::F32, {{1, 2, n, n}, {3, 2, 1, 1}, "", true});
    checkConv(DType::F32,
              {{1, 2, n, n}, {3, 2, 3, 3}, "padding = [1, 1, 1, 1]", false});
    checkConv(DType::F16, {{1, 3, n, n + 2}, {2, 3, 1, 3}, "", true});
  }
  checkConv(DType::F32,
            {{2, 16, 64, 64}, {32, 16, 3, 3}, "padding = [1, 1, 1, 1]", true});
}

TEST(Conv2d, StridesPaddingAndDilations) {
  const char *attrs[] = {
      "strides = [2, 2]",
      "strides = [2, 1]",
      "strides = [3, 2], padding = [1, 2, 0, 1]",
      "padding = [2, 0, 1, 3]",
      "dilations = [2, 2]",
      "dilations = [1, 3], padding = [0, 3, 0, 3]",
      "strides = [2, 2], padding = [1, 1, 1, 1], dilations = [2, 2]",
      "strides = [1, 1], padding = [0, 0, 0, 0], dilations = [1, 1], "
      "groups = 1",
  };
  for (const char *a : attrs)
    for (DType t : {DType::F32, DType::BF16})
      checkConv(t, {{2, 3, 9, 8}, {4, 3, 3, 2}, a, true});
}

TEST(Conv2d, GroupsAndDepthwise) {
  // Two groups, four groups, depthwise (groups = C) with a multiplier of
  // one and of two.
  checkConv(DType::F32, {{2, 4, 7, 7}, {6, 2, 3, 3}, "groups = 2", true});
  checkConv(DType::F32, {{1, 8, 5, 6},
                         {4, 2, 3, 3},
                         "groups = 4, padding = [1, 1, 1, 1]",
                         false});
  checkConv(
      DType::F32,
      {{2, 6, 7, 7}, {6, 1, 3, 3}, "groups = 6, padding = [1, 1, 1, 1]", true});
  checkConv(
      DType::F16,
      {{1, 5, 9, 9}, {10, 1, 3, 3}, "groups = 5, strides = [2, 2]", true});
  checkConv(DType::F64, {{1, 4, 8, 8},
                         {4, 1, 5, 5},
                         "groups = 4, padding = [2, 2, 2, 2], dilations = "
                         "[1, 2]",
                         false});
}

// Filters in the hwio layout: f32 ones go through the pixel-rows GEMM
// kernel, the other dtypes and depthwise ones through the loop nest.
TEST(Conv2d, HwioFilters) {
  for (DType t : kFloats)
    checkConv(t, {{2, 3, 7, 7}, {4, 3, 3, 3}, "", true, "hwio"});
  checkConv(DType::F32, {{2, 3, 9, 8},
                         {20, 3, 3, 2},
                         "strides = [3, 2], padding = [1, 2, 0, 1], "
                         "dilations = [2, 1]",
                         true,
                         "hwio"});
  checkConv(DType::F32,
            {{1, 8, 6, 6}, {12, 4, 1, 1}, "groups = 2", false, "hwio"});
  checkConv(DType::F32, {{1, 6, 7, 7},
                         {6, 1, 3, 3},
                         "groups = 6, padding = [1, 1, 1, 1]",
                         true,
                         "hwio"});
}

// Filters in blocks of output channels: the pixel-rows GEMM kernel reads
// each block's columns on their own; register tiles wider than a block
// (several blocks per tile), tiles reaching past the last channel (48
// channels, 64-wide tiles), groups, and blocks of 8 (AVX2) read by wider
// vectors. The other dtypes go through the loop nest.
TEST(Conv2d, BlockedFilters) {
  for (DType t : kFloats)
    checkConv(t, {{2, 3, 7, 7}, {16, 3, 3, 3}, "", true, "Ohwi16o"});
  for (const char *schedule : {"mr=6,nr=64,mc=12,nc=64,pack_a=0",
                               "mr=4,nr=32,mc=8,nc=32,kc=16,pack_a=0",
                               "mr=7,nr=48,mc=49,nc=96,kc=100,pack_a=0"})
    checkConv(DType::F32, {{2, 12, 9, 8},
                           {48, 12, 3, 3},
                           strCat("strides = [2, 1], padding = [1, 2, 0, 1], "
                                  "schedule = \"",
                                  schedule, "\""),
                           true,
                           "Ohwi16o"});
  checkConv(DType::F32,
            {{1, 8, 6, 6}, {32, 4, 3, 3}, "groups = 2", false, "Ohwi16o"});
  checkConv(
      DType::F32,
      {{2, 6, 7, 7}, {24, 6, 3, 3}, "padding = [1, 1, 1, 1]", true, "Ohwi8o"});
  checkConv(DType::F32, {{1, 4, 5, 5}, {16, 4, 1, 1}, "", true, "Ohwi4o"});
}

// A batch of small images is stacked into products whose rows are the
// pixels of several images: tasks whose row blocks start inside an image
// and end in a later one, strided and padded, with and without bias, a
// batch split into several products; images above the size limit (17 x 17
// outputs) stay one product each.
TEST(Conv2d, StackedImages) {
  checkConv(DType::F32, {{5, 6, 7, 7},
                         {16, 6, 3, 3},
                         "padding = [1, 1, 1, 1], schedule = "
                         "\"mr=6,nr=16,mc=30,nc=16,pack_a=0\"",
                         true,
                         "hwio"});
  checkConv(DType::F32, {{3, 4, 9, 8},
                         {32, 4, 3, 3},
                         "strides = [2, 2], padding = [0, 1, 1, 0], schedule = "
                         "\"mr=4,nr=32,mc=8,nc=32,kc=16,pack_a=0\"",
                         false,
                         "hwio"});
  checkConv(
      DType::F32,
      {{2, 3, 17, 17}, {16, 3, 3, 3}, "padding = [1, 1, 1, 1]", true, "hwio"});
  // More images than one product takes: 3 products of 4, row blocks that
  // cross images inside a product.
  checkConv(DType::F32, {{12, 2, 14, 14},
                         {16, 2, 3, 3},
                         "padding = [1, 1, 1, 1], schedule = "
                         "\"mr=6,nr=16,mc=300,nc=16,pack_a=0\"",
                         true,
                         "hwio"});
}

// Register tiles whose pixels lie in the top or bottom output rows skip
// the filter rows over the padding: K blocks that cut a tap row, output
// rows that see only padding (the tile then runs every tap on zeros),
// tiles of whole output rows and tiles across rows, stacked images with
// tiles within one image and across two, stride and dilation.
TEST(Conv2d, TapRowsOnPadding) {
  for (const char *schedule : {"mr=6,nr=16,mc=12,nc=16,kc=16,pack_a=0",
                               "mr=4,nr=16,mc=48,nc=16,pack_a=0"})
    checkConv(DType::F32,
              {{1, 5, 4, 6},
               {16, 5, 3, 3},
               strCat("padding = [3, 1, 3, 1], schedule = \"", schedule, "\""),
               true,
               "Ohwi16o"});
  for (const char *schedule : {"mr=5,nr=16,mc=20,nc=16,kc=8,pack_a=0",
                               "mr=7,nr=16,mc=21,nc=16,kc=24,pack_a=0"})
    checkConv(DType::F32, {{4, 5, 5, 5},
                           {16, 5, 3, 3},
                           strCat("padding = [2, 1, 1, 1], dilations = [2, 1], "
                                  "schedule = \"",
                                  schedule, "\""),
                           true,
                           "hwio"});
  checkConv(DType::F32, {{1, 3, 11, 7},
                         {16, 3, 5, 3},
                         "strides = [2, 1], padding = [2, 1, 3, 1], schedule = "
                         "\"mr=7,nr=16,mc=14,nc=16,kc=9,pack_a=0\"",
                         false,
                         "Ohwi16o"});
}

// With 64 or more input channels per group, tiles that are part of one
// output row also skip, tap by tap, the tiles' edge pixels that read the
// left or right padding: tiles of one and two rows fewer, and the whole
// tile where more rows read only padding (a 7-wide kernel), K blocks that
// cut taps, half rows, stride and dilation, a batch of images, groups.
TEST(Conv2d, TapColumnsOnPadding) {
  for (const char *schedule : {"mr=7,nr=16,mc=14,nc=16,pack_a=0",
                               "mr=7,nr=32,mc=49,nc=32,kc=100,pack_a=0"})
    checkConv(DType::F32,
              {{1, 64, 7, 7},
               {32, 64, 3, 3},
               strCat("padding = [1, 1, 1, 1], schedule = \"", schedule, "\""),
               true,
               "Ohwi16o"});
  checkConv(DType::F32, {{2, 64, 6, 7},
                         {16, 64, 5, 5},
                         "padding = [2, 2, 2, 2], schedule = "
                         "\"mr=7,nr=16,mc=28,nc=16,kc=96,pack_a=0\"",
                         true,
                         "hwio"});
  checkConv(DType::F32, {{1, 64, 5, 7},
                         {16, 64, 3, 7},
                         "padding = [1, 3, 1, 3], schedule = "
                         "\"mr=7,nr=16,mc=35,nc=16,pack_a=0\"",
                         true,
                         "Ohwi16o"});
  checkConv(DType::F32, {{1, 128, 7, 7},
                         {32, 64, 3, 3},
                         "groups = 2, padding = [1, 1, 1, 1]",
                         true,
                         "Ohwi16o"});
  checkConv(DType::F32, {{1, 64, 9, 14},
                         {16, 64, 3, 3},
                         "padding = [1, 1, 1, 1], schedule = "
                         "\"mr=7,nr=16,mc=21,nc=16,pack_a=0\"",
                         false,
                         "Ohwi16o"});
  checkConv(DType::F32, {{1, 64, 8, 13},
                         {16, 64, 3, 3},
                         "strides = [1, 2], padding = [1, 3, 1, 4], "
                         "dilations = [1, 2], schedule = "
                         "\"mr=4,nr=16,mc=8,nc=16,kc=200,pack_a=0\"",
                         true,
                         "Ohwi16o"});
}

TEST(Conv2d, KernelAsLargeAsThePaddedInput) {
  checkConv(DType::F32, {{1, 2, 3, 3}, {2, 2, 3, 3}, "", true});
  checkConv(DType::F32,
            {{1, 1, 1, 1}, {1, 1, 3, 3}, "padding = [1, 1, 1, 1]", false});
}

struct Pool {
  ir::Shape x;
  std::string attrs;
};

// im2col copies elements, so the compiled result equals the interpreter's
// bit for bit, for every window form, i8 and f32, with a pad value.
TEST(Im2col, WindowFormsAndPadValues) {
  const char *attrs[] = {
      "kernel = [3, 3], padding = [1, 1, 1, 1]",
      "kernel = [3, 3], strides = [2, 2], padding = [1, 1, 1, 1], "
      "value = -7.0",
      "kernel = [7, 7], strides = [2, 2], padding = [3, 3, 3, 3]",
      "kernel = [1, 1]",
      "kernel = [3, 2], strides = [3, 2], padding = [1, 2, 0, 1], "
      "dilations = [2, 1], value = 5.0",
      "kernel = [2, 2], dilations = [1, 3], padding = [0, 3, 0, 3]",
  };
  e2e::HarnessOptions o;
  o.bitExact = true;
  o.intMin = -128;
  o.intMax = 127;
  for (const char *a : attrs)
    for (DType t : {DType::I8, DType::F32, DType::F16}) {
      const ir::Shape x = {2, 3, 9, 17};
      expectOpMatchesInterpreter(strCat("%x: ", typeText(t, x)),
                                 strCat("im2col(%x) {", a, "}"), o);
    }
  // Inputs narrower than the window: some taps read only padding.
  for (const char *a : {"kernel = [5, 5], padding = [3, 3, 3, 3]",
                        "kernel = [3, 4], strides = [2, 3], padding = [2, 4, "
                        "2, 4], value = 1.0"})
    expectOpMatchesInterpreter("%x: i8[1,2,2,3]",
                               strCat("im2col(%x) {", a, "}"), o);
}

// A convolution is the product of its filter, as [M, C * kh * kw], and
// im2col of its input: the interpreter's im2col agrees with its conv2d.
TEST(Im2col, MatmulOfItIsTheConvolution) {
  const std::string text =
      R"(func @main(%x: f32[2,3,9,8], %w: f32[4,3,3,2]) -> (f32[2,4,5,4], f32[2,4,5,4]) {
  %c = conv2d(%x, %w) {strides = [2, 2], padding = [1, 1, 1, 0], dilations = [1, 2]} : f32[2,4,5,4]
  %cols = im2col(%x) {kernel = [3, 2], strides = [2, 2], padding = [1, 1, 1, 0], dilations = [1, 2]} : f32[2,18,20]
  %w2 = reshape(%w) {shape = [4, 18]} : f32[4,18]
  %p = matmul(%w2, %cols) : f32[2,4,20]
  %m = reshape(%p) {shape = [2, 4, 5, 4]} : f32[2,4,5,4]
  return %c, %m
}
)";
  auto m = ir::parseModule(text, "t.nyx");
  ASSERT_TRUE(m.ok()) << m.status().message();
  std::mt19937_64 rng(3);
  e2e::HarnessOptions o;
  const ir::Function &fn = **(*m)->entry();
  std::vector<ir::Tensor> args;
  for (const ir::Value *p : fn.params)
    args.push_back(e2e::randomTensor(p->type, rng, o));
  ir::Interpreter interp(**m, nullptr);
  auto out = interp.run(fn, args);
  ASSERT_TRUE(out.ok()) << out.status().message();
  for (int64_t i = 0; i < (*out)[0].numElements(); ++i)
    EXPECT_NEAR((*out)[0].getDouble(i), (*out)[1].getDouble(i), 1e-4) << i;
}

TEST(Pool, EveryFloatDType) {
  for (DType t : kFloats)
    for (const char *op : {"max_pool2d", "avg_pool2d"})
      expectOpMatchesInterpreter(strCat("%x: ", typeText(t, {2, 3, 8, 8})),
                                 strCat(op, "(%x) {kernel = [2, 2]}"));
}

TEST(Pool, WindowForms) {
  const Pool cases[] = {
      {{1, 2, 7, 7}, "kernel = [3, 3]"},
      {{1, 2, 7, 7}, "kernel = [3, 3], strides = [1, 1]"},
      {{2, 1, 9, 8}, "kernel = [3, 2], strides = [2, 3]"},
      {{1, 3, 7, 7},
       "kernel = [3, 3], strides = [2, 2], padding = [1, 1, 1, 1]"},
      {{1, 1, 6, 5},
       "kernel = [2, 3], strides = [1, 2], padding = [1, 0, 0, 2]"},
      {{1, 1, 1, 1}, "kernel = [1, 1]"},
      {{1, 1, 3, 3}, "kernel = [3, 3]"},
      {{1, 1, 33, 33}, "kernel = [2, 2]"},
      {{4, 8, 33, 17},
       "kernel = [3, 3], strides = [2, 2], padding = [1, 1, 1, 1]"},
      // Border outputs on every side around the unchecked interior, and
      // inputs with no interior at all.
      {{1, 2, 10, 11},
       "kernel = [3, 4], strides = [3, 2], padding = [2, 1, 2, 3]"},
      {{1, 1, 2, 3}, "kernel = [3, 3], padding = [1, 1, 1, 1]"},
  };
  for (const Pool &p : cases)
    for (const char *op : {"max_pool2d", "avg_pool2d"})
      expectOpMatchesInterpreter(strCat("%x: ", typeText(DType::F32, p.x)),
                                 strCat(op, "(%x) {", p.attrs, "}"));
}

TEST(Pool, CountIncludePad) {
  for (DType t : {DType::F32, DType::F16})
    for (const char *incl : {"false", "true"})
      for (const char *pad : {"[1, 1, 1, 1]", "[0, 1, 2, 0]", "[0, 0, 0, 0]"})
        expectOpMatchesInterpreter(
            strCat("%x: ", typeText(t, {2, 2, 7, 6})),
            strCat("avg_pool2d(%x) {kernel = [3, 3], strides = [2, 2], "
                   "padding = ",
                   pad, ", count_include_pad = ", incl, "}"));
}

TEST(Pool, MaxPoolPropagatesNaN) {
  ir::Tensor x({DType::F32, {1, 1, 4, 4}});
  for (int i = 0; i < 16; ++i)
    x.setDouble(i, i == 5 ? NAN : i - 8.0);
  e2e::HarnessOptions o;
  o.inputs = {x};
  expectOpMatchesInterpreter("%x: f32[1,1,4,4]",
                             "max_pool2d(%x) {kernel = [2, 2]}", o);
  expectOpMatchesInterpreter(
      "%x: f32[1,1,4,4]",
      "max_pool2d(%x) {kernel = [2, 2], strides = [1, 1], padding = [1, 1, "
      "1, 1]}",
      o);
}

// Winograd F(4x4, 3x3) (ir/winograd.h). The transforms on their own, in
// every float dtype: output sizes that are and are not multiples of 4 (a
// last tile reaching past the edge), every padding from 0 to 2 on each
// side, a batch, one tile, and an output transform with a bias.
TEST(Winograd, Transforms) {
  // Kernels compute in f32 what the interpreter sums in f64: sums of up to
  // 36 inputs in [-4, 4] times coefficients up to 25 (BT) or 64 (AT).
  auto options = [](DType t) {
    e2e::HarnessOptions o;
    if (t == DType::F32)
      o.atol = 2e-4;
    return o;
  };
  const char *paddings[] = {"[1, 1, 1, 1]", "[0, 0, 0, 0]", "[2, 0, 1, 2]",
                            "[0, 2, 2, 1]"};
  for (DType t : kFloats)
    for (const char *pad : paddings)
      for (const ir::Shape &x : std::vector<ir::Shape>{
               {2, 3, 9, 11}, {1, 2, 8, 8}, {1, 1, 4, 3}, {1, 2, 17, 6}})
        expectOpMatchesInterpreter(
            strCat("%x: ", typeText(t, x)),
            strCat("winograd_input(%x) {padding = ", pad, "}"), options(t));
  // An input with no rows is all padding.
  expectOpMatchesInterpreter("%x: f32[1,2,0,5]",
                             "winograd_input(%x) {padding = [2, 0, 2, 0]}");
  for (DType t : kFloats)
    for (const ir::Shape &size :
         std::vector<ir::Shape>{{8, 8}, {7, 9}, {1, 1}, {5, 12}}) {
      const int64_t tiles = (size[0] + 3) / 4 * ((size[1] + 3) / 4);
      const std::string attr =
          strCat(" {output_size = [", size[0], ", ", size[1], "]}");
      expectOpMatchesInterpreter(
          strCat("%m: ", typeText(t, {36, 3, 2 * tiles})),
          strCat("winograd_output(%m)", attr), options(t));
      expectOpMatchesInterpreter(strCat("%m: ", typeText(t, {36, 5, tiles}),
                                        ", %b: ", typeText(t, {5})),
                                 strCat("winograd_output(%m, %b)", attr),
                                 options(t));
    }
}

// A convolution whose filter is known at compile time (an embedded
// param), rewritten by the winograd pass and compiled, against the
// interpreter's direct convolution of the module as written. With
// `fused`, a residual add and a ReLU follow, and fuse makes them the
// output transform's epilogue.
void checkWinogradConv(const ir::Shape &x, int64_t m,
                       const std::vector<int64_t> &pad, bool bias,
                       bool fused = false) {
  const int64_t oh = x[2] + pad[0] + pad[2] - 2,
                ow = x[3] + pad[1] + pad[3] - 2;
  const std::string y = typeText(DType::F32, {x[0], m, oh, ow});
  const std::string padding = strCat("[", strJoin(pad, ", "), "]");
  std::string text =
      strCat("module @t\nparam @w : f32[", m, ",", x[1], ",3,3]\n",
             bias ? strCat("param @b : f32[", m, "]\n") : "",
             "func @main(%x: ", typeText(DType::F32, x),
             fused ? strCat(", %r: ", y) : "", ") -> (", y, ") {\n",
             "  %w = param() {name = @w} : f32[", m, ",", x[1], ",3,3]\n");
  if (bias)
    text += strCat("  %b = param() {name = @b} : f32[", m, "]\n");
  text += strCat("  %y = conv2d(%x, %w", bias ? ", %b" : "",
                 ") {padding = ", padding, "} : ", y, "\n");
  if (fused)
    text += strCat("  %s = add(%y, %r) : ", y, "\n  %z = relu(%s) : ", y,
                   "\n  return %z\n}\n");
  else
    text += "  return %y\n}\n";
  SCOPED_TRACE(text);
  e2e::HarnessOptions o;
  o.pipeline = fused ? "verify,shape-infer,inline,winograd,fuse,dce"
                     : "verify,shape-infer,inline,winograd";
  // The transforms add rounding of sums with coefficients up to 25 (BT)
  // and 64 (AT): with inputs and weights in [-4, 4] and K = 144 the
  // largest error measured was below 1e-3 (outputs of about 64), where
  // the direct kernel is allowed 2e-6 * K.
  o.atol = 1e-5 * x[1] * 9;
  std::mt19937_64 rng(7);
  o.weights.emplace("w",
                    e2e::randomTensor({DType::F32, {m, x[1], 3, 3}}, rng, o));
  if (bias)
    o.weights.emplace("b", e2e::randomTensor({DType::F32, {m}}, rng, o));
  auto rewritten = e2e::parseWithPipeline(text, o.pipeline, &o.weights);
  ASSERT_TRUE(rewritten.ok()) << rewritten.status();
  // The output transform with the add and the ReLU in one kernel.
  std::vector<std::string> kernel;
  int transforms = 0;
  for (const auto &fn : (*rewritten)->functions)
    for (const auto &op : fn->ops) {
      transforms += op->name() == "winograd_input";
      if (fn->isKernel)
        kernel.push_back(std::string(op->name()));
    }
  EXPECT_EQ(transforms, 1) << "the winograd pass left the convolution alone";
  if (fused)
    EXPECT_EQ(kernel,
              (std::vector<std::string>{"winograd_output", "add", "relu"}));
  e2e::expectCompiledMatchesInterpreter(text, o);
}

TEST(Winograd, ConvolutionsMatchTheDirectOne) {
  // At least 16 tiles each (the pass leaves fewer alone): whole tiles,
  // tiles past the bottom and right edges, every padding, batches.
  checkWinogradConv({1, 16, 16, 16}, 16, {1, 1, 1, 1}, false);
  checkWinogradConv({2, 16, 14, 14}, 32, {1, 1, 1, 1}, true);
  checkWinogradConv({3, 24, 7, 9}, 16, {0, 2, 1, 0}, true);
  checkWinogradConv({4, 16, 5, 6}, 16, {2, 2, 2, 2}, false);
}

// The epilogue fused into the output transform: whole tiles and tiles
// past the edges.
TEST(Winograd, FusedEpilogue) {
  checkWinogradConv({1, 16, 16, 16}, 16, {1, 1, 1, 1}, true, true);
  checkWinogradConv({2, 16, 9, 10}, 32, {1, 1, 1, 1}, true, true);
}

} // namespace
} // namespace nyx
