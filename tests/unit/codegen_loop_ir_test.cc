// The loop-nest IR: builder types, the folding index sugar, and the printer.
#include "codegen/kernel/loop_ir.h"

#include "gtest/gtest.h"

namespace nyx::kernel {
namespace {

using B = Builder;

TEST(LoopIr, ComputeTypeWidensOnlyHalfTypes) {
  EXPECT_EQ(computeType(DType::F16), DType::F32);
  EXPECT_EQ(computeType(DType::BF16), DType::F32);
  for (DType t :
       {DType::F32, DType::F64, DType::I8, DType::I32, DType::I64, DType::Bool})
    EXPECT_EQ(computeType(t), t);
}

TEST(LoopIr, ExpressionTypes) {
  Builder b;
  Var i = b.newVar(DType::I64, "i");
  Var j = b.newVar(DType::I64, "j");
  EXPECT_NE(i.id, j.id);
  ExprRef x = B::load(0, DType::F16, B::ref(i));
  EXPECT_EQ(x->kind, Expr::Kind::Load);
  EXPECT_EQ(x->type, DType::F32); // f16 loads compute in f32
  EXPECT_EQ(B::compare(CmpFn::Lt, x, x)->type, DType::Bool);
  EXPECT_EQ(B::constant(DType::BF16, 0.5)->type, DType::F32);
  EXPECT_EQ(B::constant(DType::I8, 3)->kind, Expr::Kind::IntConst);
  EXPECT_EQ(B::constant(DType::Bool, 2)->intValue, 1);
  // A cast to a half type yields that storage type.
  EXPECT_EQ(B::cast(DType::F16, x)->type, DType::F16);
  // A cast to the same type is the operand itself.
  EXPECT_EQ(B::cast(DType::F32, x), x);
  ExprRef s = B::select(B::boolean(true), x, B::constant(DType::F32, 1));
  EXPECT_EQ(s->type, DType::F32);
  EXPECT_EQ(s->args.size(), 3u);
}

TEST(LoopIr, IndexSugarFoldsConstantsAndIdentities) {
  Builder b;
  ExprRef i = B::ref(b.newVar(DType::I64, "i"));
  ExprRef folded = B::i64(6) * B::i64(7) + B::i64(0);
  ASSERT_EQ(folded->kind, Expr::Kind::IntConst);
  EXPECT_EQ(folded->intValue, 42);
  EXPECT_EQ(i + B::i64(0), i);
  EXPECT_EQ(B::i64(0) + i, i);
  EXPECT_EQ(i - B::i64(0), i);
  EXPECT_EQ(i * B::i64(1), i);
  EXPECT_EQ(B::i64(1) * i, i);
  ExprRef zero = i * B::i64(0);
  ASSERT_EQ(zero->kind, Expr::Kind::IntConst);
  EXPECT_EQ(zero->intValue, 0);
  ExprRef sum = i + B::i64(2);
  ASSERT_EQ(sum->kind, Expr::Kind::Binary);
  EXPECT_EQ(sum->binary, BinaryFn::Add);
}

TEST(LoopIr, PrintsAReductionKernel) {
  Builder b;
  Kernel k;
  k.name = "row_sum";
  k.buffers = {{"x", DType::F16, 12, false}, {"y", DType::F32, 3, true}};
  Var r = b.newVar(DType::I64, "r");
  Var c = b.newVar(DType::I64, "c");
  Var acc = b.newVar(DType::F32, "acc");
  ExprRef x = B::load(0, DType::F16, B::ref(r) * B::i64(4) + B::ref(c));
  k.body = B::loop(
      r, B::i64(3),
      {B::declare(acc, B::constant(DType::F32, 0)),
       B::loop(c, B::i64(4),
               {B::ifThen(
                   B::compare(CmpFn::Gt, x, B::constant(DType::F32, 0)),
                   {B::assign(acc, B::binary(BinaryFn::Add, B::ref(acc), x))},
                   {B::assign(acc, B::binary(BinaryFn::Max, B::ref(acc),
                                             B::unary(UnaryFn::Neg, x)))})}),
       B::store(1, B::ref(r), B::ref(acc))},
      LoopKind::Parallel);
  EXPECT_EQ(print(k), R"(kernel row_sum(x: f16[12], out y: f32[3]) {
  parallel for r.0 in 0..3 {
    var acc.2: f32 = 0.0:f32
    for c.1 in 0..4 {
      if (x[((r.0 * 4) + c.1)] > 0.0:f32) {
        acc.2 = (acc.2 + x[((r.0 * 4) + c.1)])
      } else {
        acc.2 = max(acc.2, neg(x[((r.0 * 4) + c.1)]))
      }
    }
    y[r.0] = acc.2
  }
}
)");
}

TEST(LoopIr, PrintsConstantsAndCasts) {
  Builder b;
  Kernel k;
  k.name = "k";
  k.buffers = {{"out", DType::I8, 1, true}};
  ExprRef v = B::cast(DType::I8, B::select(B::boolean(false),
                                           B::constant(DType::F64, 1e300),
                                           B::constant(DType::F64, -2.5)));
  k.body = B::block({B::store(0, B::i64(0), v)});
  EXPECT_EQ(print(k), R"(kernel k(out out: i8[1]) {
  out[0] = i8(select(false, 1.0000000000000001e+300:f64, -2.5:f64))
}
)");
}

} // namespace
} // namespace nyx::kernel
