// Lowerings of the non-elementwise op families to loop nests: the buffers
// each kernel declares, the shape of its loop nest (printed), and the
// errors a malformed op reports. Numerics are covered by tests/e2e.
#include <string>

#include "codegen/kernel/index_math.h"
#include "codegen/kernel/lowering.h"
#include "ir/op_registry.h"
#include "ir/parser.h"
#include "ir/strings.h"
#include "tests/support/lowered.h"
#include "gtest/gtest.h"

namespace nyx::kernel {
namespace {

using test::Lowered;

Lowered lowerText(const std::string &text) { return test::lowerFirstOp(text); }

// Lowers a one-op function built without the verifier, for the malformed
// ops a parser would reject before lowering.
absl::StatusOr<Kernel> lowerUnchecked(std::string_view opName,
                                      std::vector<ir::TensorType> operands,
                                      ir::Attributes attrs,
                                      ir::TensorType result) {
  ir::Module m;
  ir::Function *f = m.addFunction("main");
  std::vector<ir::Value *> values;
  for (size_t i = 0; i < operands.size(); ++i)
    values.push_back(f->addParam(strCat("p", i), operands[i]));
  ir::Op *op =
      f->appendOp(ir::lookupOp(opName), values, std::move(attrs), {result});
  return (*lookupLowering(opName))(*op, "k");
}

ir::TensorType f32(ir::Shape s) { return {ir::DType::F32, std::move(s)}; }

// The kernel's parameters; any scratch buffers follow them.
void expectBuffers(const Kernel &k, std::vector<Buffer> want) {
  ASSERT_EQ(k.numParams(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(k.buffers[i].name, want[i].name) << i;
    EXPECT_EQ(k.buffers[i].dtype, want[i].dtype) << i;
    EXPECT_EQ(k.buffers[i].numElements, want[i].numElements) << i;
    EXPECT_EQ(k.buffers[i].isOutput, want[i].isOutput) << i;
  }
}

using ir::DType;

TEST(Lowering, EveryRegisteredOpThatComputesHasOne) {
  for (const ir::OpDef *def : ir::allOps()) {
    // custom_cuda's code comes from NVRTC, on CUDA targets only.
    bool producesNoKernel = def->name == "param" || def->name == "constant" ||
                            def->name == "call" || def->name == "fusion" ||
                            def->name == "custom_cuda";
    EXPECT_EQ(hasLowering(def->name), !producesNoKernel) << def->name;
  }
}

TEST(Lowering, EveryNonElementwiseOpHasOne) {
  for (const char *op :
       {"reduce_sum",   "reduce_mean", "reduce_max",  "reduce_min",
        "argmax",       "softmax",     "log_softmax", "layer_norm",
        "rms_norm",     "matmul",      "reshape",     "transpose",
        "broadcast_to", "slice",       "concat",      "gather",
        "pad",          "conv2d",      "max_pool2d",  "avg_pool2d"}) {
    EXPECT_TRUE(hasLowering(op)) << op;
    EXPECT_NE(ir::lookupOp(op), nullptr) << op;
  }
}

TEST(Lowering, ReduceOverMiddleAxisAccumulatesIntoContiguousOutputRows) {
  Lowered l = lowerText(R"(
func @main(%x: f32[4,5,6]) -> (f32[4,1,6]) {
  %s = reduce_sum(%x) {axes = [-2], keepdims = true} : f32[4,1,6]
  return %s
})");
  ASSERT_TRUE(l.kernel.ok()) << l.kernel.status().message();
  expectBuffers(*l.kernel,
                {{"x", DType::F32, 120, false}, {"s", DType::F32, 24, true}});
  EXPECT_EQ(l.kernel->name, "k");
  EXPECT_EQ(l.printed, R"(kernel k(x: f32[120], out s: f32[24]) {
  parallel for o0.0 in 0..4 {
    for i0.1 in 0..6 {
      s[((o0.0 * 6) + i0.1)] = 0.0:f32
    }
    for r0.2 in 0..5 {
      for r1.3 in 0..6 {
        s[((o0.0 * 6) + r1.3)] = (s[((o0.0 * 6) + r1.3)] + x[(((o0.0 * 30) + (r0.2 * 6)) + r1.3)])
      }
    }
  }
}
)");
}

TEST(Lowering, ReduceMeanOverLeadingAxisDividesInAFinalPass) {
  Lowered l = lowerText(R"(
func @main(%x: f64[8,3]) -> (f64[3]) {
  %m = reduce_mean(%x) {axes = [0]} : f64[3]
  return %m
})");
  ASSERT_TRUE(l.kernel.ok()) << l.kernel.status().message();
  // The leading axis is reduced: no kept prefix, so no parallel loop.
  EXPECT_EQ(l.printed.find("parallel"), std::string::npos) << l.printed;
  EXPECT_NE(l.printed.find("m[m0.3] = (m[m0.3] / 8.0:f64)"), std::string::npos)
      << l.printed;
}

TEST(Lowering, ReduceOverInnermostAxisUsesAScalarAccumulator) {
  Lowered l = lowerText(R"(
func @main(%x: f32[4,6]) -> (f32[4]) {
  %s = reduce_sum(%x) {axes = [1]} : f32[4]
  return %s
})");
  ASSERT_TRUE(l.kernel.ok()) << l.kernel.status().message();
  EXPECT_EQ(l.printed, R"(kernel k(x: f32[24], out s: f32[4]) {
  parallel for o0.0 in 0..4 {
    var acc.2: f32 = 0.0:f32
    for r0.1 in 0..6 {
      acc.2 = (acc.2 + x[((o0.0 * 6) + r0.1)])
    }
    s[o0.0] = acc.2
  }
}
)");
}

TEST(Lowering, HalfReductionKeepsAnF32AccumulatorOverAnyAxis) {
  Lowered l = lowerText(R"(
func @main(%x: f16[5,6]) -> (f16[6]) {
  %s = reduce_sum(%x) {axes = [0]} : f16[6]
  return %s
})");
  ASSERT_TRUE(l.kernel.ok()) << l.kernel.status().message();
  EXPECT_NE(l.printed.find("var acc.2: f32"), std::string::npos) << l.printed;
}

TEST(Lowering, ReduceOverAllAxesIsOneSerialNest) {
  Lowered l = lowerText(R"(
func @main(%x: i8[3,7]) -> (i8[]) {
  %s = reduce_max(%x) : i8[]
  return %s
})");
  ASSERT_TRUE(l.kernel.ok()) << l.kernel.status().message();
  EXPECT_EQ(l.printed.find("parallel"), std::string::npos) << l.printed;
  EXPECT_NE(l.printed.find("var acc.2: i8 = -128:i8"), std::string::npos)
      << l.printed;
  EXPECT_NE(l.printed.find("s[0] = acc.2"), std::string::npos) << l.printed;
}

TEST(Lowering, ReduceMeanOfHalfAccumulatesInF32) {
  Lowered l = lowerText(R"(
func @main(%x: f16[2,8]) -> (f16[2]) {
  %m = reduce_mean(%x) {axes = [1]} : f16[2]
  return %m
})");
  ASSERT_TRUE(l.kernel.ok()) << l.kernel.status().message();
  EXPECT_NE(l.printed.find("var acc.2: f32"), std::string::npos) << l.printed;
  EXPECT_NE(l.printed.find("m[o0.0] = (acc.2 / 8.0:f32)"), std::string::npos)
      << l.printed;
}

TEST(Lowering, ReduceMaxPropagatesNaNThroughSelect) {
  Lowered l = lowerText(R"(
func @main(%x: f32[3,4]) -> (f32[3]) {
  %m = reduce_max(%x) {axes = [1]} : f32[3]
  return %m
})");
  ASSERT_TRUE(l.kernel.ok()) << l.kernel.status().message();
  EXPECT_NE(l.printed.find("var acc.2: f32 = -inf:f32"), std::string::npos)
      << l.printed;
  EXPECT_NE(l.printed.find("acc.2 = select(((x[((o0.0 * 4) + r0.1)] > "
                           "acc.2) | (x[((o0.0 * 4) + r0.1)] != x[((o0.0 * 4) "
                           "+ r0.1)])), x[((o0.0 * 4) + r0.1)], acc.2)"),
            std::string::npos)
      << l.printed;
}

TEST(Lowering, ArgmaxScansTheAxisAndStoresI64) {
  Lowered l = lowerText(R"(
func @main(%x: f32[3,5,2]) -> (i64[3,2]) {
  %a = argmax(%x) {axis = 1} : i64[3,2]
  return %a
})");
  ASSERT_TRUE(l.kernel.ok()) << l.kernel.status().message();
  expectBuffers(*l.kernel,
                {{"x", DType::F32, 30, false}, {"a", DType::I64, 6, true}});
  EXPECT_NE(l.printed.find("for r.2 in 0..5"), std::string::npos) << l.printed;
  EXPECT_NE(l.printed.find("best_index.4 = r.2"), std::string::npos)
      << l.printed;
}

TEST(Lowering, SoftmaxOverInnerAxisHasThreePasses) {
  Lowered l = lowerText(R"(
func @main(%x: f32[4,10]) -> (f32[4,10]) {
  %y = softmax(%x) : f32[4,10]
  return %y
})");
  ASSERT_TRUE(l.kernel.ok()) << l.kernel.status().message();
  EXPECT_NE(l.printed.find("parallel for o0.0 in 0..4"), std::string::npos)
      << l.printed;
  size_t loops = 0;
  for (size_t p = l.printed.find("in 0..10"); p != std::string::npos;
       p = l.printed.find("in 0..10", p + 1))
    ++loops;
  EXPECT_EQ(loops, 3u) << l.printed;
  EXPECT_NE(l.printed.find("exp("), std::string::npos);
}

TEST(Lowering, LogSoftmaxSubtractsLogOfSum) {
  Lowered l = lowerText(R"(
func @main(%x: f64[2,3,4]) -> (f64[2,3,4]) {
  %y = log_softmax(%x) {axis = 1} : f64[2,3,4]
  return %y
})");
  ASSERT_TRUE(l.kernel.ok()) << l.kernel.status().message();
  EXPECT_NE(l.printed.find("log(sum."), std::string::npos) << l.printed;
  // The row runs along axis 1, stride 4.
  EXPECT_NE(l.printed.find("(r.2 * 4)"), std::string::npos) << l.printed;
}

TEST(Lowering, LayerNormReadsScaleAndBias) {
  Lowered l = lowerText(R"(
func @main(%x: f32[3,2,5], %g: f32[2,5], %b: f32[2,5]) -> (f32[3,2,5]) {
  %y = layer_norm(%x, %g, %b) {axis = 1, epsilon = 0.001} : f32[3,2,5]
  return %y
})");
  ASSERT_TRUE(l.kernel.ok()) << l.kernel.status().message();
  expectBuffers(*l.kernel, {{"x", DType::F32, 30, false},
                            {"g", DType::F32, 10, false},
                            {"b", DType::F32, 10, false},
                            {"y", DType::F32, 30, true}});
  EXPECT_NE(l.printed.find("parallel for row0.0 in 0..3"), std::string::npos)
      << l.printed;
  EXPECT_NE(l.printed.find("0.001"), std::string::npos) << l.printed;
  EXPECT_NE(l.printed.find("g[j."), std::string::npos) << l.printed;
  EXPECT_NE(l.printed.find("b[j."), std::string::npos) << l.printed;
}

TEST(Lowering, RmsNormDefaultsEpsilon) {
  Lowered l = lowerText(R"(
func @main(%x: bf16[4,8]) -> (bf16[4,8]) {
  %y = rms_norm(%x) : bf16[4,8]
  return %y
})");
  ASSERT_TRUE(l.kernel.ok()) << l.kernel.status().message();
  EXPECT_NE(l.printed.find("9.9999999999999995e-07:f32"), std::string::npos)
      << l.printed;
  EXPECT_EQ(l.printed.find("mean"), std::string::npos) << l.printed;
}

TEST(Lowering, MatmulUsesIKJOrderWithContiguousInnerLoop) {
  Lowered l = lowerText(R"(
func @main(%a: f64[2,3], %b: f64[3,4]) -> (f64[2,4]) {
  %c = matmul(%a, %b) : f64[2,4]
  return %c
})");
  ASSERT_TRUE(l.kernel.ok()) << l.kernel.status().message();
  EXPECT_EQ(l.printed, R"(kernel k(a: f64[6], b: f64[12], out c: f64[8]) {
  parallel for i.0 in 0..2 {
    for j.3 in 0..4 {
      c[((i.0 * 4) + j.3)] = 0.0:f64
    }
    for k.2 in 0..3 {
      for j.1 in 0..4 {
        c[((i.0 * 4) + j.1)] = (c[((i.0 * 4) + j.1)] + (a[((i.0 * 3) + k.2)] * b[((k.2 * 4) + j.1)]))
      }
    }
  }
}
)");
}

TEST(Lowering, MatmulTransposedBUsesDotProducts) {
  Lowered l = lowerText(R"(
func @main(%a: f64[2,3], %b: f64[4,3]) -> (f64[2,4]) {
  %c = matmul(%a, %b) {transpose_b = true} : f64[2,4]
  return %c
})");
  ASSERT_TRUE(l.kernel.ok()) << l.kernel.status().message();
  EXPECT_NE(l.printed.find("b[((j.1 * 3) + k.2)]"), std::string::npos)
      << l.printed;
  EXPECT_NE(l.printed.find("var acc.3: f64"), std::string::npos) << l.printed;
}

TEST(Lowering, MatmulBroadcastsBatchAxes) {
  Lowered l = lowerText(R"(
func @main(%a: f64[2,1,3,4], %b: f64[5,4,2]) -> (f64[2,5,3,2]) {
  %c = matmul(%a, %b) : f64[2,5,3,2]
  return %c
})");
  ASSERT_TRUE(l.kernel.ok()) << l.kernel.status().message();
  EXPECT_NE(l.printed.find("parallel for batch0.0 in 0..2"), std::string::npos)
      << l.printed;
  // a ignores the second batch index; b ignores the first.
  EXPECT_NE(l.printed.find("a[((batch0.0 * 12) + ((i.2 * 4) + k.4))]"),
            std::string::npos)
      << l.printed;
  EXPECT_NE(l.printed.find("b[((batch1.1 * 8) + ((k.4 * 2) + j.3))]"),
            std::string::npos)
      << l.printed;
}

TEST(Lowering, GemmBroadcastsBatchAxes) {
  // f32 products are GEMM kernels: one task per batch position here, and
  // each operand's offset ignores the batch index it broadcasts along.
  Lowered l = lowerText(R"(
func @main(%a: f32[2,1,3,4], %b: f32[5,4,2]) -> (f32[2,5,3,2]) {
  %c = matmul(%a, %b) : f32[2,5,3,2]
  return %c
})");
  ASSERT_TRUE(l.kernel.ok()) << l.kernel.status().message();
  EXPECT_NE(l.printed.find("parallel for task.0 in 0..10"), std::string::npos)
      << l.printed;
  EXPECT_NE(l.printed.find("b[(((task.0 % 5) * 8) + (jr.3 * 8)) + p*2 + c]"),
            std::string::npos)
      << l.printed;
  EXPECT_NE(l.printed.find("a[(((task.0 / 5) * 12)"), std::string::npos)
      << l.printed;
  EXPECT_NE(l.printed.find("matmul_tile("), std::string::npos) << l.printed;
}

TEST(Lowering, HalfMatmulAccumulatesInF32Scalar) {
  Lowered l = lowerText(R"(
func @main(%a: f16[2,3], %b: f16[3,4]) -> (f16[2,4]) {
  %c = matmul(%a, %b) : f16[2,4]
  return %c
})");
  ASSERT_TRUE(l.kernel.ok()) << l.kernel.status().message();
  EXPECT_NE(l.printed.find("var acc.3: f32 = 0.0:f32"), std::string::npos)
      << l.printed;
}

TEST(Lowering, ReshapeIsAFlatParallelCopy) {
  Lowered l = lowerText(R"(
func @main(%x: bool[2,6]) -> (bool[3,4]) {
  %y = reshape(%x) {shape = [3, -1]} : bool[3,4]
  return %y
})");
  ASSERT_TRUE(l.kernel.ok()) << l.kernel.status().message();
  EXPECT_EQ(l.printed, R"(kernel k(x: bool[12], out y: bool[12]) {
  parallel for i0.0 in 0..12 {
    y[i0.0] = x[i0.0]
  }
}
)");
}

TEST(Lowering, TransposePermutesStrides) {
  Lowered l = lowerText(R"(
func @main(%x: f32[2,3,4]) -> (f32[4,2,3]) {
  %y = transpose(%x) {perm = [2, 0, 1]} : f32[4,2,3]
  return %y
})");
  ASSERT_TRUE(l.kernel.ok()) << l.kernel.status().message();
  EXPECT_NE(l.printed.find("x[(((i1.1 * 12) + (i2.2 * 4)) + i0.0)]"),
            std::string::npos)
      << l.printed;
}

TEST(Lowering, BroadcastToSkipsExtentOneAxes) {
  Lowered l = lowerText(R"(
func @main(%x: i32[3,1]) -> (i32[2,3,5]) {
  %y = broadcast_to(%x) {shape = [2, 3, 5]} : i32[2,3,5]
  return %y
})");
  ASSERT_TRUE(l.kernel.ok()) << l.kernel.status().message();
  EXPECT_NE(l.printed.find("= x[i1.1]"), std::string::npos) << l.printed;
}

TEST(Lowering, SliceWithNegativeStepStartsAtTheEnd) {
  Lowered l = lowerText(R"(
func @main(%x: f32[10]) -> (f32[4]) {
  %y = slice(%x) {starts = [-1], ends = [1], steps = [-2]} : f32[4]
  return %y
})");
  ASSERT_TRUE(l.kernel.ok()) << l.kernel.status().message();
  EXPECT_NE(l.printed.find("y[i0.0] = x[(9 + (i0.0 * -2))]"), std::string::npos)
      << l.printed;
}

TEST(Lowering, ConcatCopiesEachOperandAtItsOffset) {
  Lowered l = lowerText(R"(
func @main(%a: f32[2,3], %b: f32[2,1]) -> (f32[2,4]) {
  %c = concat(%a, %b) {axis = 1} : f32[2,4]
  return %c
})");
  ASSERT_TRUE(l.kernel.ok()) << l.kernel.status().message();
  expectBuffers(*l.kernel, {{"a", DType::F32, 6, false},
                            {"b", DType::F32, 2, false},
                            {"c", DType::F32, 8, true}});
  EXPECT_NE(l.printed.find("c[((row0.0 * 4) + j0.1)] = a[((row0.0 * 3) + "
                           "j0.1)]"),
            std::string::npos)
      << l.printed;
  EXPECT_NE(l.printed.find("c[((row0.2 * 4) + 3)] = b[row0.2]"),
            std::string::npos)
      << l.printed;
}

TEST(Lowering, GatherGuardsOutOfRangeIndices) {
  Lowered l = lowerText(R"(
func @main(%d: f32[5,3], %i: i32[4]) -> (f32[4,3]) {
  %g = gather(%d, %i) : f32[4,3]
  return %g
})");
  ASSERT_TRUE(l.kernel.ok()) << l.kernel.status().message();
  EXPECT_NE(l.printed.find("i64(i[i1.1])"), std::string::npos) << l.printed;
  EXPECT_NE(l.printed.find("} else {"), std::string::npos) << l.printed;
  EXPECT_NE(l.printed.find("= 0.0:f32"), std::string::npos) << l.printed;
}

TEST(Lowering, PadModesReadDifferentCoordinates) {
  auto pad = [](const char *mode) {
    return lowerText(strCat(R"(
func @main(%x: f32[4]) -> (f32[7]) {
  %y = pad(%x) {pads = [2, 1], mode = ")",
                            mode, R"(", value = 1.5} : f32[7]
  return %y
})"));
  };
  Lowered constant = pad("constant"), reflect = pad("reflect"),
          edge = pad("edge");
  ASSERT_TRUE(constant.kernel.ok()) << constant.kernel.status().message();
  ASSERT_TRUE(reflect.kernel.ok()) << reflect.kernel.status().message();
  ASSERT_TRUE(edge.kernel.ok()) << edge.kernel.status().message();
  EXPECT_NE(constant.printed.find("1.5:f32"), std::string::npos)
      << constant.printed;
  EXPECT_NE(reflect.printed.find("(6 - (i0.0 + -2))"), std::string::npos)
      << reflect.printed;
  EXPECT_NE(edge.printed.find("select(((i0.0 + -2) >= 4), 3,"),
            std::string::npos)
      << edge.printed;
  EXPECT_EQ(edge.printed.find("1.5"), std::string::npos) << edge.printed;
}

TEST(Lowering, Conv2dLoopsOverGroupsAndChecksPadding) {
  Lowered l = lowerText(R"(
func @main(%x: f64[1,4,5,5], %w: f64[6,2,3,3], %b: f64[6]) -> (f64[1,6,5,5]) {
  %y = conv2d(%x, %w, %b) {padding = [1, 1, 1, 1], groups = 2} : f64[1,6,5,5]
  return %y
})");
  ASSERT_TRUE(l.kernel.ok()) << l.kernel.status().message();
  expectBuffers(*l.kernel, {{"x", DType::F64, 100, false},
                            {"w", DType::F64, 108, false},
                            {"b", DType::F64, 6, false},
                            {"y", DType::F64, 150, true}});
  // N = 1 has no loop; the group loop is the parallel one.
  EXPECT_NE(l.printed.find("parallel for o1.1 in 0..2"), std::string::npos)
      << l.printed;
  EXPECT_NE(l.printed.find("var acc.8: f64 = b[((o1.1 * 3) + o2.2)]"),
            std::string::npos)
      << l.printed;
  EXPECT_NE(l.printed.find("if ("), std::string::npos) << l.printed;
}

TEST(Lowering, UnpaddedConvHasNoBoundsCheck) {
  Lowered l = lowerText(R"(
func @main(%x: f64[2,3,6,6], %w: f64[4,3,2,2]) -> (f64[2,4,3,3]) {
  %y = conv2d(%x, %w) {strides = [2, 2]} : f64[2,4,3,3]
  return %y
})");
  ASSERT_TRUE(l.kernel.ok()) << l.kernel.status().message();
  EXPECT_EQ(l.printed.find("if "), std::string::npos) << l.printed;
  EXPECT_NE(l.printed.find("var acc.8: f64 = 0.0:f64"), std::string::npos)
      << l.printed;
}

TEST(Lowering, Conv2dIsAnImplicitGemm) {
  // f32: one task per image and group, the weights read in place, the
  // input packed by walking the window and the output rows.
  Lowered l = lowerText(R"(
func @main(%x: f32[1,4,5,5], %w: f32[6,2,3,3], %b: f32[6]) -> (f32[1,6,5,5]) {
  %y = conv2d(%x, %w, %b) {padding = [1, 1, 1, 1], groups = 2} : f32[1,6,5,5]
  return %y
})");
  ASSERT_TRUE(l.kernel.ok()) << l.kernel.status().message();
  expectBuffers(*l.kernel, {{"x", DType::F32, 100, false},
                            {"w", DType::F32, 108, false},
                            {"b", DType::F32, 6, false},
                            {"y", DType::F32, 150, true}});
  for (const char *want : {"parallel for task.0 in 0..2", "for kh.", "for oh.",
                           "matmul_tile(w[", "+ b[(((task.0 * 3) +"})
    EXPECT_NE(l.printed.find(want), std::string::npos) << want << l.printed;
}

TEST(Lowering, AvgPoolDividesByCountOrWindow) {
  Lowered excl = lowerText(R"(
func @main(%x: f32[1,1,4,4]) -> (f32[1,1,3,3]) {
  %y = avg_pool2d(%x) {kernel = [2, 2], strides = [2, 2], padding = [1, 1, 1, 1]} : f32[1,1,3,3]
  return %y
})");
  Lowered incl = lowerText(R"(
func @main(%x: f32[1,1,4,4]) -> (f32[1,1,3,3]) {
  %y = avg_pool2d(%x) {kernel = [2, 2], strides = [2, 2], padding = [1, 1, 1, 1], count_include_pad = true} : f32[1,1,3,3]
  return %y
})");
  ASSERT_TRUE(excl.kernel.ok()) << excl.kernel.status().message();
  ASSERT_TRUE(incl.kernel.ok()) << incl.kernel.status().message();
  EXPECT_NE(excl.printed.find("/ count."), std::string::npos) << excl.printed;
  EXPECT_NE(incl.printed.find("/ 4.0:f32)"), std::string::npos) << incl.printed;
}

TEST(Lowering, MaxPoolStartsAtMinusInfinity) {
  Lowered l = lowerText(R"(
func @main(%x: f16[2,3,4,4]) -> (f16[2,3,2,2]) {
  %y = max_pool2d(%x) {kernel = [2, 2]} : f16[2,3,2,2]
  return %y
})");
  ASSERT_TRUE(l.kernel.ok()) << l.kernel.status().message();
  EXPECT_NE(l.printed.find("= -inf:f32"), std::string::npos) << l.printed;
  EXPECT_NE(l.printed.find("parallel for o0.0 in 0..2"), std::string::npos)
      << l.printed;
}

// Malformed ops (the parser's verifier would reject these first; the
// lowerings check what they rely on anyway).

TEST(LoweringErrors, MatmulInnerDimensionsDiffer) {
  auto k =
      lowerUnchecked("matmul", {f32({2, 3}), f32({4, 5})}, {}, f32({2, 5}));
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.status().message(), "'matmul' operands have inner dimensions 3 "
                                  "and 4; expected them equal");
}

TEST(LoweringErrors, MatmulOfBool) {
  auto k =
      lowerUnchecked("matmul", {{DType::Bool, {2, 2}}, {DType::Bool, {2, 2}}},
                     {}, {DType::Bool, {2, 2}});
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.status().message().find("expected a float, i8, i32 or i64"),
            std::string::npos)
      << k.status().message();
}

TEST(LoweringErrors, ReduceAxisOutOfRange) {
  auto k = lowerUnchecked("reduce_sum", {f32({2, 3})},
                          {{"axes", std::vector<int64_t>{2}}}, f32({2}));
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.status().message(),
            "'reduce_sum' attribute 'axes' is 2; expected an axis in [-2, 2)");
}

TEST(LoweringErrors, ReduceAxisListedTwice) {
  auto k = lowerUnchecked("reduce_max", {f32({2, 3})},
                          {{"axes", std::vector<int64_t>{1, -1}}}, f32({2}));
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.status().message().find("expected distinct axes"),
            std::string::npos)
      << k.status().message();
}

TEST(LoweringErrors, ReduceMeanOfIntegers) {
  auto k =
      lowerUnchecked("reduce_mean", {{DType::I32, {4}}}, {}, {DType::I32, {}});
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.status().message().find("expected a float element type"),
            std::string::npos)
      << k.status().message();
}

TEST(LoweringErrors, SoftmaxAttributeOfWrongKind) {
  auto k = lowerUnchecked("softmax", {f32({2, 3})},
                          {{"axis", std::string("last")}}, f32({2, 3}));
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.status().message().find("'axis'"), std::string::npos)
      << k.status().message();
}

TEST(LoweringErrors, LayerNormScaleOfWrongShape) {
  auto k =
      lowerUnchecked("layer_norm", {f32({2, 3}), f32({2})}, {}, f32({2, 3}));
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.status().message(),
            "'layer_norm' operand 1 is f32[2]; expected f32[3]");
}

TEST(LoweringErrors, SliceWithZeroStep) {
  auto k = lowerUnchecked("slice", {f32({5})},
                          {{"starts", std::vector<int64_t>{0}},
                           {"ends", std::vector<int64_t>{5}},
                           {"steps", std::vector<int64_t>{0}}},
                          f32({5}));
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.status().message(),
            "'slice' step for axis 0 is 0; expected a non-zero step");
}

TEST(LoweringErrors, SliceResultDisagreesWithAttributes) {
  auto k = lowerUnchecked(
      "slice", {f32({5})},
      {{"starts", std::vector<int64_t>{1}}, {"ends", std::vector<int64_t>{3}}},
      f32({3}));
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.status().message(), "'slice' result is f32[3]; expected f32[2]");
}

TEST(LoweringErrors, TransposeWithBadPerm) {
  auto k = lowerUnchecked("transpose", {f32({2, 3})},
                          {{"perm", std::vector<int64_t>{0, 0}}}, f32({2, 2}));
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.status().message().find("expected a permutation"),
            std::string::npos)
      << k.status().message();
}

TEST(LoweringErrors, PadWithUnknownMode) {
  auto k = lowerUnchecked(
      "pad", {f32({3})},
      {{"pads", std::vector<int64_t>{1, 1}}, {"mode", std::string("wrap")}},
      f32({5}));
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.status().message(),
            "'pad' mode is \"wrap\"; expected \"constant\", \"reflect\" or "
            "\"edge\"");
}

TEST(LoweringErrors, ReflectPadAsLargeAsTheAxis) {
  auto k = lowerUnchecked(
      "pad", {f32({3})},
      {{"pads", std::vector<int64_t>{3, 0}}, {"mode", std::string("reflect")}},
      f32({6}));
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.status().message().find("expected pads < 3"), std::string::npos)
      << k.status().message();
}

TEST(LoweringErrors, GatherWithFloatIndices) {
  auto k = lowerUnchecked("gather", {f32({5}), f32({2})}, {}, f32({2}));
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.status().message(),
            "'gather' indices are f32[2]; expected i32 or i64");
}

TEST(LoweringErrors, ConvGroupsNotDividingChannels) {
  auto k = lowerUnchecked("conv2d", {f32({1, 3, 4, 4}), f32({2, 1, 1, 1})},
                          {{"groups", int64_t{2}}}, f32({1, 2, 4, 4}));
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.status().message().find("expected groups dividing C and M"),
            std::string::npos)
      << k.status().message();
}

TEST(LoweringErrors, PoolKernelOfWrongLength) {
  auto k =
      lowerUnchecked("max_pool2d", {f32({1, 1, 4, 4})},
                     {{"kernel", std::vector<int64_t>{2}}}, f32({1, 1, 2, 2}));
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.status().message(),
            "'max_pool2d' attribute 'kernel' has 1 entries; expected 2");
}

TEST(IndexMath, RavelFoldsConstants) {
  Builder b;
  Var i = b.newVar(DType::I64, "i");
  std::vector<ExprRef> idx = {Builder::i64(0), Builder::ref(i),
                              Builder::i64(2)};
  Kernel k{"k",
           {{"x", DType::F32, 24, true}},
           Builder::store(0, ravel(idx, {2, 3, 4}),
                          Builder::constant(DType::F32, 1))};
  EXPECT_EQ(print(k), "kernel k(out x: f32[24]) {\n  x[((i.0 * 4) + 2)] = "
                      "1.0:f32\n}\n");
}

TEST(IndexMath, BroadcastRavelAlignsTrailingAxes) {
  Builder b;
  Var i = b.newVar(DType::I64, "i"), j = b.newVar(DType::I64, "j"),
      l = b.newVar(DType::I64, "l");
  std::vector<ExprRef> idx = {Builder::ref(i), Builder::ref(j),
                              Builder::ref(l)};
  Kernel k{"k",
           {{"x", DType::F32, 5, true}},
           Builder::store(0, broadcastRavel(idx, {1, 5}),
                          Builder::constant(DType::F32, 0))};
  EXPECT_EQ(print(k), "kernel k(out x: f32[5]) {\n  x[l.2] = 0.0:f32\n}\n");
}

TEST(IndexMath, NormalizeAxisCountsFromTheEnd) {
  ir::Module m;
  ir::Function *f = m.addFunction("main");
  ir::Value *x = f->addParam("x", f32({2, 3}));
  ir::Op *op = f->appendOp(ir::lookupOp("softmax"), {x}, {}, {f32({2, 3})});
  EXPECT_EQ(*normalizeAxis(*op, "axis", -1, 3), 2);
  EXPECT_EQ(*normalizeAxis(*op, "axis", 0, 3), 0);
  EXPECT_FALSE(normalizeAxis(*op, "axis", -4, 3).ok());
  EXPECT_FALSE(normalizeAxis(*op, "axis", 3, 3).ok());
}

} // namespace
} // namespace nyx::kernel
