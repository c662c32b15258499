// The range-aware index simplifier (codegen/kernel/simplify.h): what it
// cancels given the loop extents, what it must leave alone, and that the
// expressions it returns keep their value.
#include <random>
#include <string>

#include "codegen/kernel/index_math.h"
#include "codegen/kernel/simplify.h"
#include "gtest/gtest.h"

namespace nyx::kernel {
namespace {

using B = Builder;

// The printed form of an i64 expression (as a store index).
std::string text(const ExprRef &e) {
  Kernel k{"k",
           {{"x", DType::F32, 1, true}},
           B::store(0, e, B::constant(DType::F32, 0))};
  std::string s = print(k);
  size_t begin = s.find("x[") + 2, end = s.rfind("] = ");
  return s.substr(begin, end - begin);
}

ExprRef div(ExprRef a, int64_t k) {
  return B::binary(BinaryFn::Div, std::move(a), B::i64(k));
}
ExprRef rem(ExprRef a, int64_t k) {
  return B::binary(BinaryFn::Rem, std::move(a), B::i64(k));
}
ExprRef c(int64_t v) { return B::i64(v); }

// Loop indices i, j, k with the given extents.
struct Loops {
  explicit Loops(std::vector<int64_t> extents) {
    const char *names[] = {"i", "j", "k", "l"};
    for (size_t d = 0; d < extents.size(); ++d) {
      Var v = b.newVar(DType::I64, names[d]);
      this->extents[v.id] = extents[d];
      vars.push_back(B::ref(v));
    }
  }
  ExprRef operator[](size_t d) const { return vars[d]; }
  std::string simplified(const ExprRef &e) const {
    return text(simplify(e, extents));
  }
  Builder b;
  VarExtents extents;
  std::vector<ExprRef> vars;
};

TEST(IndexSimplify, QuotientAndRemainderOfAnAffineSplit) {
  Loops l({5, 7});
  ExprRef e = l[0] * c(7) + l[1]; // j < 7
  EXPECT_EQ(l.simplified(div(e, 7)), "i.0");
  EXPECT_EQ(l.simplified(rem(e, 7)), "j.1");
  // The constant part splits too: (7i + j + 14) / 7 = i + 2.
  EXPECT_EQ(l.simplified(div(e + c(14), 7)), "(i.0 + 2)");
  EXPECT_EQ(l.simplified(rem(e + c(14), 7)), "j.1");
  // j + 1 reaches 7, so it stays a remainder (of the smaller sum).
  EXPECT_EQ(l.simplified(rem(e + c(15), 7)), "((j.1 + 1) % 7)");
  EXPECT_EQ(l.simplified(div(e + c(15), 7)), "((i.0 + 2) + ((j.1 + 1) / 7))");
}

TEST(IndexSimplify, RemainderThatMayReachTheDivisorStays) {
  Loops l({5, 9});
  ExprRef e = l[0] * c(7) + l[1]; // j may be 7 or 8
  EXPECT_EQ(l.simplified(div(e, 7)), "(i.0 + (j.1 / 7))");
  EXPECT_EQ(l.simplified(rem(e, 7)), "(j.1 % 7)");
}

TEST(IndexSimplify, UnknownOrNegativeRangesKeepTheDivision) {
  Loops l({5});
  Builder b;
  Var free = b.newVar(DType::I64, "n");
  free.id = 99; // not a loop index: no known range
  ExprRef n = B::ref(free);
  EXPECT_EQ(l.simplified(div(n * c(4) + l[0], 4)), "(((n.99 * 4) + i.0) / 4)");
  // i - 3 may be negative, where truncation is not floor division.
  EXPECT_EQ(l.simplified(div(l[0] - c(3), 2)), "((i.0 + -3) / 2)");
  EXPECT_EQ(l.simplified(rem(l[0] - c(3), 2)), "((i.0 + -3) % 2)");
}

TEST(IndexSimplify, WholeRangeBelowTheDivisor) {
  Loops l({6});
  EXPECT_EQ(l.simplified(div(l[0], 6)), "0");
  EXPECT_EQ(l.simplified(rem(l[0], 6)), "i.0");
  EXPECT_EQ(l.simplified(div(l[0], 1)), "i.0");
  EXPECT_EQ(l.simplified(rem(l[0], 1)), "0");
}

TEST(IndexSimplify, RavelOfUnravelIsTheFlatIndex) {
  // Any flat index, not only a loop index: the identity
  // (x / k)*k + x % k == x holds for truncating division.
  Loops l({60, 3});
  Shape shape = {3, 4, 5};
  for (ExprRef flat : {l[0], l[0] * l[1]}) {
    std::vector<ExprRef> coords = unravel(flat, shape);
    EXPECT_EQ(l.simplified(ravel(coords, shape)), text(flat));
  }
}

TEST(IndexSimplify, UnravelOfRavelIsTheCoordinates) {
  Loops l({3, 4, 5});
  Shape shape = {3, 4, 5};
  std::vector<ExprRef> idx = {l[0], l[1], l[2]};
  std::vector<ExprRef> coords = unravel(ravel(idx, shape), shape);
  ASSERT_EQ(coords.size(), 3u);
  for (size_t d = 0; d < 3; ++d)
    EXPECT_EQ(l.simplified(coords[d]), text(idx[d])) << d;
}

TEST(IndexSimplify, ReshapeThroughATransposeCancels) {
  // [6,4] <- [2,3,4] read at (j*2 + k, i): the flat index 8j + 4k + i
  // divided by 12 splits through 4 first.
  Loops l({4, 3, 2});
  ExprRef flat = l[1] * c(8) + l[2] * c(4) + l[0];
  EXPECT_EQ(l.simplified(div(flat, 12)), "(((j.1 * 2) + k.2) / 3)");
  std::vector<ExprRef> coords = unravel(flat, {2, 3, 4});
  EXPECT_EQ(l.simplified(ravel(coords, {2, 3, 4})),
            "(((j.1 * 8) + (k.2 * 4)) + i.0)");
  // [6,4] -> [2,12]: (4i + j) % 12 = ((i % 3) * 4) + j.
  Loops m({6, 4});
  EXPECT_EQ(m.simplified(rem(m[0] * c(4) + m[1], 12)),
            "(((i.0 % 3) * 4) + j.1)");
  coords = unravel(m[0] * c(4) + m[1], {2, 12});
  EXPECT_EQ(m.simplified(ravel(coords, {2, 12})), "((i.0 * 4) + j.1)");
}

TEST(IndexSimplify, NestedDivisionsAndRemaindersCombine) {
  Loops l({1000});
  EXPECT_EQ(l.simplified(div(div(l[0], 4), 3)), "(i.0 / 12)");
  EXPECT_EQ(l.simplified(rem(rem(l[0], 12), 4)), "(i.0 % 4)");
  EXPECT_EQ(l.simplified(rem(rem(l[0], 12), 5)), "((i.0 % 12) % 5)");
}

TEST(IndexSimplify, FoldsConstantsAndIdentities) {
  Loops l({8, 8});
  EXPECT_EQ(l.simplified((c(3) + c(4)) * c(2)), "14");
  EXPECT_EQ(l.simplified(B::binary(BinaryFn::Add, l[0], c(0))), "i.0");
  EXPECT_EQ(l.simplified(B::binary(BinaryFn::Mul, l[0], c(1))), "i.0");
  EXPECT_EQ(l.simplified(B::binary(BinaryFn::Mul, l[0], c(0))), "0");
  EXPECT_EQ(l.simplified((l[0] * c(2)) * c(3)), "(i.0 * 6)");
  EXPECT_EQ(l.simplified(l[0] - l[0] + l[1]), "j.1");
  EXPECT_EQ(l.simplified(l[0] * c(2) + l[0]), "(i.0 * 3)");
}

TEST(IndexSimplify, KeepsTheWrittenOrderOfTerms) {
  Loops l({4, 4, 4});
  EXPECT_EQ(l.simplified(c(9) + l[0] * c(-2)), "(9 + (i.0 * -2))");
  ExprRef e = l[1] * c(12) + l[2] * c(4) + l[0];
  EXPECT_EQ(l.simplified(e), text(e));
}

TEST(IndexSimplify, SimplifiesIndicesInsideElementExpressions) {
  Loops l({5, 7});
  ExprRef at = l[0] * c(7) + l[1];
  ExprRef x = B::load(0, DType::F16, div(at, 7));
  ExprRef y = B::load(1, DType::F16, rem(at, 7));
  ExprRef sum = B::binary(BinaryFn::Add, x, B::binary(BinaryFn::Mul, x, y));
  ExprRef s = simplify(sum, l.extents);
  EXPECT_EQ(countIndexDivRem(*s), 0);
  ASSERT_EQ(s->kind, Expr::Kind::Binary);
  // The shared load stays one node.
  EXPECT_EQ(s->args[0], s->args[1]->args[0]);
  EXPECT_TRUE(sameExpr(*s->args[0], *B::load(0, DType::F16, l[0])));
  EXPECT_EQ(s->args[0]->type, DType::F32);
  // An expression with nothing to simplify comes back as it was.
  ExprRef plain = B::load(0, DType::F32, l[0]);
  EXPECT_EQ(simplify(plain, l.extents), plain);
}

TEST(IndexSimplify, DivisionByANonConstantIsKept) {
  Loops l({5, 3});
  ExprRef e = B::binary(BinaryFn::Div, l[0] + c(0), l[1] + c(1));
  EXPECT_EQ(l.simplified(e), "(i.0 / (j.1 + 1))");
  EXPECT_EQ(l.simplified(div(l[0], -2)), "(i.0 / -2)");
}

TEST(IndexSimplify, CoefficientOverflowLeavesTheExpressionAlone) {
  Loops l({5});
  ExprRef huge = (l[0] * c(int64_t{1} << 62)) * c(8);
  ExprRef s = simplify(huge, l.extents);
  EXPECT_TRUE(sameExpr(*s, *huge)) << text(s);
  EXPECT_FALSE(indexRange(huge, l.extents).has_value());
}

TEST(IndexSimplify, RangesOfIndexExpressions) {
  Loops l({5, 7});
  auto r = indexRange(l[0] * c(7) + l[1] + c(3), l.extents);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->lo, 3);
  EXPECT_EQ(r->hi, 37);
  r = indexRange(c(9) + l[0] * c(-2), l.extents);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->lo, 1);
  EXPECT_EQ(r->hi, 9);
  r = indexRange(rem(l[1], 4), l.extents);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->hi, 3);
  EXPECT_FALSE(indexRange(B::load(0, DType::I64, l[0]), l.extents));
}

TEST(IndexSimplify, KeysAndEqualityAreStructural) {
  Loops l({5, 7});
  ExprRef a = l[0] * c(7) + l[1], b = l[0] * c(7) + l[1];
  EXPECT_NE(a, b);
  EXPECT_TRUE(sameExpr(*a, *b));
  EXPECT_EQ(exprKey(*a), exprKey(*b));
  ExprRef other = l[1] * c(7) + l[0];
  EXPECT_FALSE(sameExpr(*a, *other));
  EXPECT_NE(exprKey(*a), exprKey(*other));
  EXPECT_NE(exprKey(*B::constant(DType::F32, 0.0)),
            exprKey(*B::constant(DType::F32, -0.0)));
}

TEST(IndexSimplify, CountsIndexDivisionsOnly) {
  Loops l({5});
  ExprRef f = B::binary(BinaryFn::Div, B::constant(DType::F32, 1),
                        B::load(0, DType::F32, div(l[0], 2)));
  EXPECT_EQ(countIndexDivRem(*f), 1);
  EXPECT_EQ(countIndexDivRem(*rem(div(l[0], 2), 3)), 2);
}

// Random affine expressions under random divisions: the simplified form
// has the value of the original at every point of the iteration space.
TEST(IndexSimplify, KeepsTheValueOfRandomIndexExpressions) {
  std::mt19937_64 rng(7);
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  for (int trial = 0; trial < 300; ++trial) {
    Loops l({pick(1, 6), pick(1, 6), pick(1, 6)});
    ExprRef e = c(pick(0, 5));
    for (int t = 0; t < 3; ++t)
      e = e + l[t] * c(pick(0, 12));
    for (int depth = pick(1, 3); depth > 0; --depth)
      e = pick(0, 1) ? div(e, pick(1, 13)) : rem(e, pick(1, 13));
    if (pick(0, 1))
      e = e * c(pick(1, 5)) + rem(e, pick(2, 7));
    ExprRef s = simplify(e, l.extents);
    std::function<int64_t(const Expr &, const std::vector<int64_t> &)> eval =
        [&](const Expr &x, const std::vector<int64_t> &at) -> int64_t {
      switch (x.kind) {
      case Expr::Kind::IntConst:
        return x.intValue;
      case Expr::Kind::VarRef:
        return at[x.var.id];
      default: {
        int64_t a = eval(*x.args[0], at), b = eval(*x.args[1], at);
        switch (x.binary) {
        case BinaryFn::Add:
          return a + b;
        case BinaryFn::Sub:
          return a - b;
        case BinaryFn::Mul:
          return a * b;
        case BinaryFn::Div:
          return a / b;
        default:
          return a % b;
        }
      }
      }
    };
    for (int64_t i = 0; i < l.extents[0]; ++i)
      for (int64_t j = 0; j < l.extents[1]; ++j)
        for (int64_t k = 0; k < l.extents[2]; ++k)
          ASSERT_EQ(eval(*s, {i, j, k}), eval(*e, {i, j, k}))
              << text(e) << " became " << text(s);
  }
}

} // namespace
} // namespace nyx::kernel
