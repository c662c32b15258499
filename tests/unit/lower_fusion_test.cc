// lowerFusion on hand-written kernel functions: the loop nest each group
// form becomes (printed), the element functions behind it, and the errors
// for bodies in neither form or anchor kernels that break the contract.
// Numerics are covered by tests/e2e/fusion_test.cc.
#include <string>

#include "codegen/kernel/anchor_rewrite.h"
#include "codegen/kernel/element_fn.h"
#include "codegen/kernel/lower_fusion.h"
#include "codegen/kernel/lowering.h"
#include "ir/op_registry.h"
#include "ir/parser.h"
#include "ir/strings.h"
#include "tests/support/lowered.h"
#include "gtest/gtest.h"

namespace nyx::kernel {
namespace {

using B = Builder;

// Parses `text` and lowers its kernel function @k.
using test::Lowered;

Lowered lowerKernel(const std::string &text) {
  return test::lowerKernelFunction(text);
}

TEST(ElementFns, ExactlyTheElementwiseAndInjectiveOpsHaveOne) {
  for (const ir::OpDef *def : ir::allOps()) {
    bool wanted = def->fusion == ir::FusionKind::Elementwise ||
                  def->fusion == ir::FusionKind::Injective;
    EXPECT_EQ(lookupElementFn(def->name) != nullptr, wanted) << def->name;
  }
}

TEST(ElementFns, ValueFormsConvertOnlyHalfTypes) {
  ExprRef bits = B::loadStored(0, DType::F16, B::i64(3));
  ExprRef wide = computeValue(bits);
  EXPECT_EQ(wide->kind, Expr::Kind::Load);
  EXPECT_EQ(wide->type, DType::F32);
  EXPECT_EQ(storedValue(wide, DType::F16)->kind, Expr::Kind::Cast);
  EXPECT_EQ(storedValue(bits, DType::F16), bits);
  ExprRef f = B::load(0, DType::F32, B::i64(0));
  EXPECT_EQ(computeValue(f), f);
  EXPECT_EQ(storedValue(f, DType::F32), f);
  ExprRef sum = B::binary(BinaryFn::Add, wide, wide);
  EXPECT_EQ(computeValue(storedValue(sum, DType::BF16))->kind,
            Expr::Kind::Cast);
}

// -- Loop groups -------------------------------------------------------------

TEST(LowerFusion, LoopGroupReadsABiasAtTheColumnIndex) {
  Lowered l = lowerKernel(R"(
kernel @k(%x: f32[4,8], %b: f32[8]) -> (f32[4,8]) {
  %a = add(%x, %b) : f32[4,8]
  %r = relu(%a) : f32[4,8]
  return %r
})");
  ASSERT_TRUE(l.kernel.ok()) << l.error();
  EXPECT_EQ(l.printed, R"(kernel fused(x: f32[32], b: f32[8], out r: f32[32]) {
  parallel for i0.0 in 0..4 {
    parallel for i1.1 in 0..8 {
      r[((i0.0 * 8) + i1.1)] = max((x[((i0.0 * 8) + i1.1)] + b[i1.1]), 0.0:f32)
    }
  }
}
)");
}

TEST(LowerFusion, SameShapeOperandsMergeIntoOneLoop) {
  Lowered l = lowerKernel(R"(
kernel @k(%x: f32[4,8,2], %y: f32[4,8,2], %s: f32[]) -> (f32[4,8,2]) {
  %m = mul(%x, %y) : f32[4,8,2]
  %a = add(%m, %s) : f32[4,8,2]
  return %a
})");
  ASSERT_TRUE(l.kernel.ok()) << l.error();
  EXPECT_EQ(l.printed,
            R"(kernel fused(x: f32[64], y: f32[64], s: f32[1], out a: f32[64]) {
  parallel for i0.0 in 0..64 {
    a[i0.0] = ((x[i0.0] * y[i0.0]) + s[0])
  }
}
)");
}

TEST(LowerFusion, OnlyTheDimensionsABroadcastNeedsStaySeparate) {
  // [N, C, H, W] with a per-channel operand: H and W share a loop.
  Lowered l = lowerKernel(R"(
kernel @k(%x: f32[2,3,4,5], %c: f32[3,1,1]) -> (f32[2,3,4,5]) {
  %y = mul(%x, %c) : f32[2,3,4,5]
  return %y
})");
  ASSERT_TRUE(l.kernel.ok()) << l.error();
  EXPECT_NE(l.printed.find("for i1.1 in 0..3 {"), std::string::npos)
      << l.printed;
  EXPECT_NE(l.printed.find("for i2.2 in 0..20 {"), std::string::npos)
      << l.printed;
  EXPECT_NE(l.printed.find("c[i1.1]"), std::string::npos) << l.printed;
  EXPECT_EQ(l.printed.find(" / "), std::string::npos) << l.printed;
  EXPECT_EQ(l.printed.find(" % "), std::string::npos) << l.printed;
}

TEST(LowerFusion, TransposeAndReshapeIndexAffinely) {
  Lowered l = lowerKernel(R"(
kernel @k(%x: f32[6,4], %z: f32[24]) -> (f32[4,6]) {
  %t = transpose(%x) : f32[4,6]
  %r = reshape(%z) {shape = [4, 6]} : f32[4,6]
  %y = sub(%t, %r) : f32[4,6]
  return %y
})");
  ASSERT_TRUE(l.kernel.ok()) << l.error();
  EXPECT_NE(l.printed.find("(x[((i1.1 * 4) + i0.0)] - z[((i0.0 * 6) + i1.1)])"),
            std::string::npos)
      << l.printed;
}

TEST(LowerFusion, ValuesUsedTwiceAreComputedOnceIntoLocals) {
  Lowered l = lowerKernel(R"(
kernel @k(%x: f32[16]) -> (f32[16], f32[16]) {
  %e = exp(%x) : f32[16]
  %s = mul(%e, %e) : f32[16]
  %t = add(%s, %e) : f32[16]
  return %s, %t
})");
  ASSERT_TRUE(l.kernel.ok()) << l.error();
  EXPECT_EQ(l.printed,
            R"(kernel fused(x: f32[16], out s: f32[16], out t: f32[16]) {
  parallel for i0.0 in 0..16 {
    var e.1: f32 = exp(x[i0.0])
    var s.2: f32 = (e.1 * e.1)
    s[i0.0] = s.2
    t[i0.0] = (s.2 + e.1)
  }
}
)");
}

TEST(LowerFusion, HalfValuesRoundBetweenOpsAndCopiesKeepBits) {
  Lowered l = lowerKernel(R"(
kernel @k(%x: f16[8], %c: f16[8]) -> (f16[8], f16[8]) {
  %h = constant() {value = dense<0x7e01>} : f16[8]
  %a = add(%x, %h) : f16[8]
  %m = mul(%a, %x) : f16[8]
  %r = reshape(%c) {shape = [8]} : f16[8]
  return %m, %r
})");
  ASSERT_TRUE(l.kernel.ok()) << l.error();
  // %a is rounded to f16 before mul reads it; the constant is its bits; the
  // reshape copies bits (a stored load, no conversion).
  EXPECT_NE(l.printed.find("m[i0.0] = f16((f32(f16((x[i0.0] + "
                           "f32(0x7e01:f16)))) * x[i0.0]))"),
            std::string::npos)
      << l.printed;
  EXPECT_NE(l.printed.find("r[i0.0] = c[i0.0]"), std::string::npos)
      << l.printed;
  const Stmt *loop = l.kernel->body.get();
  ASSERT_EQ(loop->kind, Stmt::Kind::For);
  ASSERT_EQ(loop->body.size(), 1u);
  const Stmt &copy = *loop->body[0]->body.back();
  ASSERT_EQ(copy.kind, Stmt::Kind::Store);
  EXPECT_EQ(copy.value->type, DType::F16);
}

TEST(LowerFusion, ZeroSizedLoopGroup) {
  Lowered l = lowerKernel(R"(
kernel @k(%x: f32[0,3], %b: f32[3]) -> (f32[0,3]) {
  %a = add(%x, %b) : f32[0,3]
  return %a
})");
  ASSERT_TRUE(l.kernel.ok()) << l.error();
  EXPECT_NE(l.printed.find("in 0..0"), std::string::npos) << l.printed;
}

// -- Anchor groups -----------------------------------------------------------

TEST(LowerFusion, ReductionWithPrologueAndEpilogue) {
  Lowered l = lowerKernel(R"(
kernel @k(%x: f32[4,6]) -> (f32[4], f32[4]) {
  %q = mul(%x, %x) : f32[4,6]
  %s = reduce_sum(%q) {axes = [1]} : f32[4]
  %r = sqrt(%s) : f32[4]
  return %s, %r
})");
  ASSERT_TRUE(l.kernel.ok()) << l.error();
  EXPECT_EQ(l.printed,
            R"(kernel fused(x: f32[24], out s: f32[4], out r: f32[4]) {
  parallel for o0.0 in 0..4 {
    var acc.2: f32 = 0.0:f32
    for r0.1 in 0..6 {
      acc.2 = (acc.2 + (x[((o0.0 * 6) + r0.1)] * x[((o0.0 * 6) + r0.1)]))
    }
    s[o0.0] = acc.2
    r[o0.0] = sqrt(acc.2)
  }
}
)");
}

TEST(LowerFusion, AnchorThatAccumulatesInItsResultGetsAnEpilogueLoop) {
  // Matmul in i-k-j order accumulates into row i of its result; the
  // epilogue runs over that row once the row is done.
  Lowered l = lowerKernel(R"(
kernel @k(%a: f64[3,4], %w: f64[4,5], %bias: f64[5]) -> (f64[3,5]) {
  %m = matmul(%a, %w) : f64[3,5]
  %b = add(%m, %bias) : f64[3,5]
  %r = relu(%b) : f64[3,5]
  return %r
})");
  ASSERT_TRUE(l.kernel.ok()) << l.error();
  EXPECT_EQ(
      l.printed,
      R"(kernel fused(a: f64[12], w: f64[20], bias: f64[5], out r: f64[15]) {
  parallel for i.0 in 0..3 {
    for j.3 in 0..5 {
      r[((i.0 * 5) + j.3)] = 0.0:f64
    }
    for k.2 in 0..4 {
      for j.1 in 0..5 {
        r[((i.0 * 5) + j.1)] = (r[((i.0 * 5) + j.1)] + (a[((i.0 * 4) + k.2)] * w[((k.2 * 5) + j.1)]))
      }
    }
    for j.4 in 0..5 {
      var m.5: f64 = r[((i.0 * 5) + j.4)]
      r[((i.0 * 5) + j.4)] = max((m.5 + bias[j.4]), 0.0:f64)
    }
  }
}
)");
}

TEST(LowerFusion, SerialAccumulationGetsItsEpilogueAtTheEnd) {
  Lowered l = lowerKernel(R"(
kernel @k(%x: f32[8,3]) -> (f32[3], f32[3]) {
  %m = reduce_mean(%x) {axes = [0]} : f32[3]
  %n = neg(%m) : f32[3]
  return %m, %n
})");
  ASSERT_TRUE(l.kernel.ok()) << l.error();
  // The anchor's own buffer holds it; the epilogue writes only %n.
  EXPECT_NE(l.printed.find(R"(  for m0.4 in 0..3 {
    var m.5: f32 = m[m0.4]
    n[m0.4] = neg(m.5)
  }
}
)"),
            std::string::npos)
      << l.printed;
}

TEST(LowerFusion, PrologueRunsInsideEveryPassOfTheAnchor) {
  Lowered l = lowerKernel(R"(
kernel @k(%x: f32[2,5], %r: f32[5,2]) -> (f32[2,5]) {
  %t = transpose(%r) : f32[2,5]
  %a = add(%x, %t) : f32[2,5]
  %p = softmax(%a) : f32[2,5]
  return %p
})");
  ASSERT_TRUE(l.kernel.ok()) << l.error();
  // Each of the three passes over a row reads x and the transposed r at
  // its own loop index, with no index division.
  for (const char *r : {"r.1", "r.4", "r.5"}) {
    EXPECT_NE(l.printed.find(strCat("(x[((o0.0 * 5) + ", r, ")] + r[((", r,
                                    " * 2) + o0.0)])")),
              std::string::npos)
        << r << "\n"
        << l.printed;
  }
  EXPECT_EQ(l.printed.find(" / 5"), std::string::npos) << l.printed;
  EXPECT_EQ(l.printed.find(" % "), std::string::npos) << l.printed;
}

TEST(LowerFusion, AnchorOperandsThatAreParamsAreRenumbered) {
  Lowered l = lowerKernel(R"(
kernel @k(%g: f32[4], %x: f32[3,4], %b: f32[4]) -> (f32[3,4]) {
  %n = layer_norm(%x, %g, %b) : f32[3,4]
  return %n
})");
  ASSERT_TRUE(l.kernel.ok()) << l.error();
  EXPECT_NE(l.printed.find("* g[j."), std::string::npos) << l.printed;
  EXPECT_NE(l.printed.find("+ b[j."), std::string::npos) << l.printed;
  EXPECT_NE(l.printed.find("n[((row0.0 * 4) + j."), std::string::npos)
      << l.printed;
}

// -- Errors ------------------------------------------------------------------

TEST(LowerFusionErrors, TwoAnchors) {
  Lowered l = lowerKernel(R"(
kernel @k(%x: f32[4,4]) -> (f32[4,4]) {
  %a = softmax(%x) : f32[4,4]
  %b = matmul(%a, %a) : f32[4,4]
  return %b
})");
  ASSERT_FALSE(l.kernel.ok());
  EXPECT_EQ(l.error(),
            "kernel @k: 'softmax' (%a) and 'matmul' (%b) are both anchors; "
            "expected at most one reduction, normalization, contraction or "
            "other op");
}

TEST(LowerFusionErrors, ConstantThatIsNotASplat) {
  Lowered l = lowerKernel(R"(
kernel @k(%x: f32[2]) -> (f32[2]) {
  %c = constant() {value = dense<[1.0, 2.0]>} : f32[2]
  %y = add(%x, %c) : f32[2]
  return %y
})");
  ASSERT_FALSE(l.kernel.ok());
  EXPECT_EQ(l.error(), "kernel @k: 'constant' (%c): 'constant' of f32[2] has "
                       "different elements; expected a splat (every element "
                       "equal) in a kernel body");
}

TEST(LowerFusionErrors, OpaqueOpsInTheBody) {
  // Built directly: the verifier keeps params out of kernel functions.
  ir::Module m;
  m.params.push_back({"w", {ir::DType::F32, {2}}, {}});
  ir::Function *f = m.addFunction("k");
  ir::Op *w =
      f->appendOp(ir::lookupOp("param"), {}, {{"name", ir::SymbolRef{"w"}}},
                  {{ir::DType::F32, {2}}}, {}, {"w"});
  f->returns = {w->result()};
  f->resultTypes = {w->result()->type};
  auto k = lowerFusion(*f, "fused");
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.status().message(),
            "kernel @k: 'param' (%w) cannot be part of a fused kernel; "
            "expected ops that compute and splat constants");
}

TEST(LowerFusionErrors, LoopGroupOfSeveralShapes) {
  Lowered l = lowerKernel(R"(
kernel @k(%x: f32[2,3]) -> (f32[2,3], f32[3,2]) {
  %e = exp(%x) : f32[2,3]
  %t = transpose(%e) : f32[3,2]
  return %e, %t
})");
  ASSERT_FALSE(l.kernel.ok());
  EXPECT_EQ(l.error(), "kernel @k: returns %e : f32[2,3] and %t : f32[3,2]; "
                       "expected every value of a loop group to have one "
                       "shape");
}

TEST(LowerFusionErrors, EpilogueThatBroadcastsTheAnchor) {
  Lowered l = lowerKernel(R"(
kernel @k(%x: f32[3,4], %y: f32[3,4]) -> (f32[3,4]) {
  %s = reduce_sum(%x) {axes = [0]} : f32[4]
  %a = add(%s, %y) : f32[3,4]
  return %a
})");
  ASSERT_FALSE(l.kernel.ok());
  EXPECT_EQ(l.error(), "kernel @k: 'add' (%a) reads the result of "
                       "'reduce_sum' (%s); expected only elementwise ops of "
                       "its shape f32[4] after the anchor");
}

TEST(LowerFusionErrors, InjectiveOpAfterTheAnchor) {
  Lowered l = lowerKernel(R"(
kernel @k(%x: f32[3,4]) -> (f32[4,3]) {
  %s = softmax(%x) : f32[3,4]
  %t = transpose(%s) : f32[4,3]
  return %t
})");
  ASSERT_FALSE(l.kernel.ok());
  EXPECT_NE(l.error().find("'transpose' (%t) reads the result of 'softmax'"),
            std::string::npos)
      << l.error();
}

TEST(LowerFusionErrors, ReturnedPrologueValue) {
  Lowered l = lowerKernel(R"(
kernel @k(%x: f32[3,4]) -> (f32[3,4], f32[3]) {
  %e = exp(%x) : f32[3,4]
  %s = reduce_sum(%e) {axes = [1]} : f32[3]
  return %e, %s
})");
  ASSERT_FALSE(l.kernel.ok());
  EXPECT_EQ(l.error(), "kernel @k: returns %e, which does not depend on "
                       "'reduce_sum' (%s); expected only the anchor's result "
                       "and values computed from it");
}

TEST(LowerFusionErrors, AccumulatingAnchorWithNowhereToAccumulate) {
  Lowered l = lowerKernel(R"(
kernel @k(%a: f64[3,4], %b: f64[4,5]) -> (f16[3,5]) {
  %m = matmul(%a, %b) : f64[3,5]
  %h = cast(%m) {to = f16} : f16[3,5]
  return %h
})");
  ASSERT_FALSE(l.kernel.ok());
  EXPECT_EQ(l.error(),
            "kernel @k: the lowering of 'matmul' accumulates in its result, "
            "and no returned value has its type f64[3,5]; expected the "
            "anchor's result, or an epilogue value of its type, among the "
            "returns");
}

// Anchor kernels that break the contract, built by hand around the op
// `%y = neg(%x)` of a one-op body (the rewrite does not look at which op
// made the kernel).
struct Contract {
  Contract() {
    auto parsed = ir::parseModule(R"(
func @k(%x: f64[4]) -> (f64[4]) {
  %y = neg(%x) : f64[4]
  return %y
})",
                                  "test.nyx");
    EXPECT_TRUE(parsed.ok());
    module = std::move(*parsed);
  }
  std::string rewrite(StmtRef body) {
    const ir::Function &f = *module->functions[0];
    Kernel k{"k",
             {{"x", DType::F32, 4, false}, {"y", DType::F32, 4, true}},
             std::move(body)};
    auto r = rewriteAnchorKernel(f, *f.ops[0], k);
    return r.ok() ? "ok" : std::string(r.status().message());
  }
  std::unique_ptr<ir::Module> module;
};

TEST(AnchorContract, WritesOnlyItsResult) {
  Contract c;
  Builder b;
  Var i = b.newVar(DType::I64, "i");
  ExprRef x = B::load(0, DType::F32, B::ref(i));
  EXPECT_EQ(c.rewrite(B::loop(i, B::i64(4), {B::store(1, B::ref(i), x)})),
            "ok");
  EXPECT_EQ(c.rewrite(B::loop(i, B::i64(4), {B::store(0, B::ref(i), x)})),
            "the lowering of 'neg' stores to buffer 0; expected stores to its "
            "result, buffer 1, only, which breaks the anchor contract "
            "(codegen/kernel/lowering.h)");
  EXPECT_EQ(c.rewrite(B::loop(
                i, B::i64(4),
                {B::store(1, B::ref(i), B::load(2, DType::F32, B::ref(i)))})),
            "the lowering of 'neg' loads buffer 2; expected loads of buffers "
            "0 to 1, which breaks the anchor contract "
            "(codegen/kernel/lowering.h)");
}

TEST(AnchorContract, AccumulationOwnsFixedElementsPerParallelIteration) {
  Contract c;
  Builder b;
  Var i = b.newVar(DType::I64, "i"), j = b.newVar(DType::I64, "j");
  ExprRef zero = B::constant(DType::F32, 0);
  auto yAt = [](ExprRef e) { return B::load(1, DType::F32, std::move(e)); };
  // y[i] = 0, then y[i] += x[i] three times: iteration i owns y[i].
  StmtRef owned = B::loop(
      i, B::i64(4),
      {B::store(1, B::ref(i), zero),
       B::loop(j, B::i64(3),
               {B::store(1, B::ref(i),
                         B::binary(BinaryFn::Add, yAt(B::ref(i)),
                                   B::load(0, DType::F32, B::ref(i))))})},
      LoopKind::Parallel);
  EXPECT_EQ(c.rewrite(owned), "ok");
  // Without a parallel loop the whole kernel owns every element.
  StmtRef serial = B::block(
      {B::loop(i, B::i64(4), {B::store(1, B::ref(i), zero)}),
       B::loop(j, B::i64(4), {B::store(1, B::ref(j), yAt(B::ref(j)))})});
  EXPECT_EQ(c.rewrite(serial), "ok");
  StmtRef shifted = B::loop(
      i, B::i64(4),
      {B::store(1, B::ref(i), zero), B::store(1, B::i64(0), yAt(B::ref(i)))},
      LoopKind::Parallel);
  EXPECT_EQ(c.rewrite(shifted),
            "the lowering of 'neg' accumulates in its result at elements "
            "that differ between its accesses, which breaks the anchor "
            "contract (codegen/kernel/lowering.h)");
}

} // namespace
} // namespace nyx::kernel
