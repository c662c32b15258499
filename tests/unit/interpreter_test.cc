// Hand-computed interpreter cases for the corners NumPy data does not pin
// down well: integer division and wrapping, cast saturation and rounding,
// f16 ties, NaN propagation, argmax ties, keepdims, calls and params.
#include "ir/interpreter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "ir/half.h"

namespace nyx::ir {
namespace {

Tensor floats(DType t, Shape shape, std::vector<double> values) {
  Tensor out(TensorType{t, std::move(shape)});
  for (size_t i = 0; i < values.size(); ++i)
    out.setDouble(static_cast<int64_t>(i), values[i]);
  return out;
}

Tensor ints(DType t, Shape shape, std::vector<int64_t> values) {
  Tensor out(TensorType{t, std::move(shape)});
  for (size_t i = 0; i < values.size(); ++i)
    out.setInt(static_cast<int64_t>(i), values[i]);
  return out;
}

std::vector<double> doublesOf(const Tensor &t) {
  std::vector<double> v;
  for (int64_t i = 0; i < t.numElements(); ++i)
    v.push_back(t.getDouble(i));
  return v;
}

std::vector<int64_t> intsOf(const Tensor &t) {
  std::vector<int64_t> v;
  for (int64_t i = 0; i < t.numElements(); ++i)
    v.push_back(t.getInt(i));
  return v;
}

// Builds @main applying one op to parameters of the inputs' types (result
// types from the op's shape rule), runs it, and returns the first result.
absl::StatusOr<Tensor> runOp(std::string_view name, std::vector<Tensor> inputs,
                             Attributes attrs = {}) {
  Module m;
  Function *f = m.addFunction("main");
  std::vector<Value *> params;
  for (const Tensor &t : inputs)
    params.push_back(f->addParam("", t.type()));
  const OpDef *def = lookupOp(name);
  if (!def)
    return absl::NotFoundError(std::string(name));
  Op probe;
  probe.def = def;
  probe.operands = params;
  probe.attrs = attrs;
  auto types = def->inferTypes(probe, m);
  if (!types.ok())
    return types.status();
  Op *op = f->appendOp(def, params, std::move(attrs), *types);
  f->resultTypes = *types;
  f->returns = op->results;
  Interpreter interp(m, nullptr);
  auto out = interp.run(*f, std::move(inputs));
  if (!out.ok())
    return out.status();
  return std::move(out->front());
}

Tensor mustRun(std::string_view name, std::vector<Tensor> inputs,
               Attributes attrs = {}) {
  auto t = runOp(name, std::move(inputs), std::move(attrs));
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : Tensor();
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(Interpreter, IntegerDivisionTruncatesAndDefinesCorners) {
  const int64_t min32 = std::numeric_limits<int32_t>::min();
  Tensor a = ints(DType::I32, {7}, {7, -7, 7, -7, 5, min32, 0});
  Tensor b = ints(DType::I32, {7}, {2, 2, -2, -2, 0, -1, 0});
  EXPECT_EQ(intsOf(mustRun("div", {a, b})),
            (std::vector<int64_t>{3, -3, -3, 3, 0, min32, 0}));

  const int64_t min64 = std::numeric_limits<int64_t>::min();
  EXPECT_EQ(intsOf(mustRun("div", {ints(DType::I64, {2}, {min64, min64}),
                                   ints(DType::I64, {2}, {-1, 0})})),
            (std::vector<int64_t>{min64, 0}));
  EXPECT_EQ(intsOf(mustRun("div", {ints(DType::I8, {1}, {-128}),
                                   ints(DType::I8, {1}, {-1})})),
            (std::vector<int64_t>{-128}));
}

TEST(Interpreter, IntegerArithmeticWraps) {
  EXPECT_EQ(intsOf(mustRun("add", {ints(DType::I8, {2}, {127, -128}),
                                   ints(DType::I8, {2}, {1, -1})})),
            (std::vector<int64_t>{-128, 127}));
  EXPECT_EQ(intsOf(mustRun("mul", {ints(DType::I32, {1}, {65536}),
                                   ints(DType::I32, {1}, {65537})})),
            (std::vector<int64_t>{65536}));
  const int64_t max64 = std::numeric_limits<int64_t>::max();
  const int64_t min64 = std::numeric_limits<int64_t>::min();
  EXPECT_EQ(intsOf(mustRun("sub", {ints(DType::I64, {1}, {min64}),
                                   ints(DType::I64, {1}, {1})})),
            (std::vector<int64_t>{max64}));
  EXPECT_EQ(intsOf(mustRun("neg", {ints(DType::I8, {3}, {-128, 5, 0})})),
            (std::vector<int64_t>{-128, -5, 0}));
  EXPECT_EQ(intsOf(mustRun("abs", {ints(DType::I64, {2}, {min64, -3})})),
            (std::vector<int64_t>{min64, 3}));
  EXPECT_EQ(
      intsOf(mustRun("reduce_sum", {ints(DType::I8, {3}, {100, 100, 1})})),
      (std::vector<int64_t>{-55}));
}

TEST(Interpreter, CastFloatToIntTruncatesSaturatesAndMapsNaNToZero) {
  Tensor x = floats(DType::F32, {8},
                    {300.0, -300.0, 2.9, -2.9, kNaN, kInf, -kInf, -0.5});
  EXPECT_EQ(intsOf(mustRun("cast", {x}, {{"to", DType::I8}})),
            (std::vector<int64_t>{127, -128, 2, -2, 0, 127, -128, 0}));
  EXPECT_EQ(intsOf(mustRun("cast", {floats(DType::F64, {2}, {1e30, kNaN})},
                           {{"to", DType::I64}})),
            (std::vector<int64_t>{std::numeric_limits<int64_t>::max(), 0}));
  EXPECT_EQ(
      intsOf(mustRun("cast", {floats(DType::F32, {4}, {0.0, -0.0, kNaN, 0.25})},
                     {{"to", DType::Bool}})),
      (std::vector<int64_t>{0, 0, 1, 1}));
}

TEST(Interpreter, CastBetweenIntegersWrapsAndBoolIsZeroOrOne) {
  EXPECT_EQ(intsOf(mustRun("cast", {ints(DType::I32, {3}, {300, -129, 127})},
                           {{"to", DType::I8}})),
            (std::vector<int64_t>{44, 127, 127}));
  EXPECT_EQ(doublesOf(mustRun("cast", {ints(DType::Bool, {2}, {1, 0})},
                              {{"to", DType::F32}})),
            (std::vector<double>{1.0, 0.0}));
}

TEST(Interpreter, CastRoundsOnceToNarrowFloats) {
  // 1 + 2^-11 + 2^-40 lies just above the f16 midpoint between 1 and
  // 1 + 2^-10; rounding through f32 would land on the midpoint and tie down.
  Tensor x = floats(DType::F64, {1},
                    {1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40)});
  EXPECT_EQ(doublesOf(mustRun("cast", {x}, {{"to", DType::F16}})),
            (std::vector<double>{1.0 + std::ldexp(1.0, -10)}));
  // The same trap for int64 -> f32 through f64.
  const int64_t big = (int64_t(1) << 60) + (int64_t(1) << 36) + 1;
  EXPECT_EQ(doublesOf(mustRun("cast", {ints(DType::I64, {1}, {big})},
                              {{"to", DType::F32}})),
            (std::vector<double>{std::ldexp(1.0, 60) + std::ldexp(1.0, 37)}));
  // And int32 -> bf16 through f32.
  const int64_t mid = (1 << 24) + (1 << 16) + 1;
  EXPECT_EQ(doublesOf(mustRun("cast", {ints(DType::I32, {1}, {mid})},
                              {{"to", DType::BF16}})),
            (std::vector<double>{std::ldexp(1.0, 24) + std::ldexp(1.0, 17)}));
}

TEST(Interpreter, F16ResultsRoundToNearestEven) {
  // Near 2048 the f16 spacing is 2: 2049 and 2051 are ties.
  Tensor a = floats(DType::F16, {3}, {2048.0, 2050.0, 65504.0});
  Tensor b = floats(DType::F16, {3}, {1.0, 1.0, 16.0});
  EXPECT_EQ(doublesOf(mustRun("add", {a, b})),
            (std::vector<double>{2048.0, 2052.0, kInf}));
}

TEST(Interpreter, MaxMinPropagateNaN) {
  Tensor a = floats(DType::F32, {3}, {kNaN, 1.0, 2.0});
  Tensor b = floats(DType::F32, {3}, {1.0, kNaN, -1.0});
  for (const char *op : {"max", "min"}) {
    std::vector<double> r = doublesOf(mustRun(op, {a, b}));
    EXPECT_TRUE(std::isnan(r[0])) << op;
    EXPECT_TRUE(std::isnan(r[1])) << op;
  }
  EXPECT_EQ(doublesOf(mustRun("max", {a, b}))[2], 2.0);
  EXPECT_EQ(doublesOf(mustRun("min", {a, b}))[2], -1.0);
  EXPECT_TRUE(std::isnan(
      doublesOf(mustRun("relu", {floats(DType::F32, {1}, {kNaN})}))[0]));

  Tensor x = floats(DType::F64, {2, 3}, {1.0, kNaN, 3.0, -1.0, -2.0, -3.0});
  Attributes lastAxis = {{"axes", std::vector<int64_t>{1}}};
  std::vector<double> mx = doublesOf(mustRun("reduce_max", {x}, lastAxis));
  std::vector<double> mn = doublesOf(mustRun("reduce_min", {x}, lastAxis));
  EXPECT_TRUE(std::isnan(mx[0]));
  EXPECT_TRUE(std::isnan(mn[0]));
  EXPECT_EQ(mx[1], -1.0);
  EXPECT_EQ(mn[1], -3.0);
}

TEST(Interpreter, ComparisonsWithNaNAreUnordered) {
  Tensor a = floats(DType::F32, {1}, {kNaN});
  Tensor b = floats(DType::F32, {1}, {kNaN});
  EXPECT_EQ(intsOf(mustRun("eq", {a, b})), (std::vector<int64_t>{0}));
  EXPECT_EQ(intsOf(mustRun("ne", {a, b})), (std::vector<int64_t>{1}));
  EXPECT_EQ(intsOf(mustRun("lt", {a, b})), (std::vector<int64_t>{0}));
  EXPECT_EQ(intsOf(mustRun("ge", {a, b})), (std::vector<int64_t>{0}));
}

TEST(Interpreter, ArgmaxTakesTheFirstMaximumAndNaNWins) {
  Tensor x = floats(DType::F32, {2, 4}, {3, 7, 7, 1, 1, kNaN, 9, kNaN});
  EXPECT_EQ(intsOf(mustRun("argmax", {x}, {{"axis", int64_t(1)}})),
            (std::vector<int64_t>{1, 1}));
  Tensor i = ints(DType::I32, {3, 2}, {5, 0, 5, 2, 4, 2});
  Tensor r = mustRun("argmax", {i}, {{"keepdims", true}});
  EXPECT_EQ(r.shape(), (Shape{1, 2}));
  EXPECT_EQ(intsOf(r), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(r.dtype(), DType::I64);
}

TEST(Interpreter, ReductionKeepdimsAndAxes) {
  Tensor x = floats(DType::F32, {2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor rows =
      mustRun("reduce_sum", {x},
              {{"axes", std::vector<int64_t>{-1}}, {"keepdims", true}});
  EXPECT_EQ(rows.shape(), (Shape{2, 1}));
  EXPECT_EQ(doublesOf(rows), (std::vector<double>{6, 15}));
  Tensor all = mustRun("reduce_mean", {x});
  EXPECT_EQ(all.shape(), Shape{});
  EXPECT_EQ(doublesOf(all), (std::vector<double>{3.5}));
  Tensor cols = mustRun("reduce_max", {x}, {{"axes", std::vector<int64_t>{0}}});
  EXPECT_EQ(cols.shape(), (Shape{3}));
  EXPECT_EQ(doublesOf(cols), (std::vector<double>{4, 5, 6}));
  Tensor none = mustRun("reduce_sum", {x}, {{"axes", std::vector<int64_t>{}}});
  EXPECT_EQ(none, x);
}

TEST(Interpreter, F16MeanAccumulatesWiderThanF16) {
  // The sum 120000 is beyond f16's range; the mean is not.
  Tensor x = floats(DType::F16, {2}, {60000.0, 60000.0});
  EXPECT_EQ(doublesOf(mustRun("reduce_mean", {x})),
            (std::vector<double>{60000.0}));
}

TEST(Interpreter, SoftmaxIsStableForLargeInputs) {
  Tensor x = floats(DType::F32, {2}, {1000.0, 1000.0});
  EXPECT_EQ(doublesOf(mustRun("softmax", {x})),
            (std::vector<double>{0.5, 0.5}));
  std::vector<double> l = doublesOf(mustRun("log_softmax", {x}));
  EXPECT_FLOAT_EQ(l[0], -std::log(2.0));
  EXPECT_FLOAT_EQ(l[1], -std::log(2.0));
}

TEST(Interpreter, LayerNormAndRmsNormByHand) {
  Tensor x = floats(DType::F64, {1, 3}, {1.0, 2.0, 3.0});
  Tensor scale = floats(DType::F64, {3}, {1.0, 2.0, 3.0});
  Tensor bias = floats(DType::F64, {3}, {0.5, 0.5, 0.5});
  // mean 2, biased variance 2/3.
  const double inv = 1.0 / std::sqrt(2.0 / 3.0 + 1e-5);
  std::vector<double> y = doublesOf(mustRun("layer_norm", {x, scale, bias}));
  EXPECT_DOUBLE_EQ(y[0], -inv * 1.0 + 0.5);
  EXPECT_DOUBLE_EQ(y[1], 0.5);
  EXPECT_DOUBLE_EQ(y[2], inv * 3.0 + 0.5);
  // mean of squares 14/3.
  const double rinv = 1.0 / std::sqrt(14.0 / 3.0 + 0.25);
  std::vector<double> r =
      doublesOf(mustRun("rms_norm", {x, scale}, {{"epsilon", 0.25}}));
  EXPECT_DOUBLE_EQ(r[0], 1.0 * rinv);
  EXPECT_DOUBLE_EQ(r[1], 4.0 * rinv);
  EXPECT_DOUBLE_EQ(r[2], 9.0 * rinv);
}

TEST(Interpreter, SelectBroadcastsAllThreeOperands) {
  Tensor c = ints(DType::Bool, {2, 1}, {1, 0});
  Tensor a = ints(DType::I32, {3}, {1, 2, 3});
  Tensor b = ints(DType::I32, {}, {-1});
  Tensor r = mustRun("select", {c, a, b});
  EXPECT_EQ(r.shape(), (Shape{2, 3}));
  EXPECT_EQ(intsOf(r), (std::vector<int64_t>{1, 2, 3, -1, -1, -1}));
}

TEST(Interpreter, GeluVariantsDiffer) {
  Tensor x = floats(DType::F64, {1}, {1.0});
  double exact = doublesOf(mustRun("gelu", {x}))[0];
  double approx = doublesOf(
      mustRun("gelu", {x}, {{"approximate", std::string("tanh")}}))[0];
  EXPECT_DOUBLE_EQ(exact, 0.5 * (1.0 + std::erf(1.0 / std::sqrt(2.0))));
  EXPECT_DOUBLE_EQ(approx,
                   0.5 * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * 1.044715)));
  EXPECT_NE(exact, approx);
}

// A module with a weight and two functions: @main(x) = @twice(x + w).
struct CallModule {
  Module m;
  Function *twice;
  Function *main;
  CallModule() {
    const TensorType t{DType::F32, {2}};
    m.params.push_back(Param{"fc.w", t, {}});
    twice = m.addFunction("twice");
    Value *y = twice->addParam("y", t);
    Op *add = twice->appendOp(lookupOp("add"), {y, y}, {}, {t});
    twice->resultTypes = {t};
    twice->returns = {add->result()};

    main = m.addFunction("main");
    Value *x = main->addParam("x", t);
    Op *w = main->appendOp(lookupOp("param"), {}, {{"name", SymbolRef{"fc.w"}}},
                           {t});
    Op *s = main->appendOp(lookupOp("add"), {x, w->result()}, {}, {t});
    Op *c = main->appendOp(lookupOp("call"), {s->result()},
                           {{"callee", SymbolRef{"twice"}}}, {t});
    main->resultTypes = {t};
    main->returns = {c->result(), w->result()};
    main->resultTypes.push_back(t);
  }
};

TEST(Interpreter, CallAndParam) {
  CallModule cm;
  for (const auto &f : cm.m.functions)
    for (const auto &op : f->ops) {
      auto types = op->def->inferTypes(*op, cm.m);
      ASSERT_TRUE(types.ok()) << types.status();
      EXPECT_EQ((*types)[0], op->result()->type);
    }
  WeightMap weights;
  weights["fc.w"] = floats(DType::F32, {2}, {10.0, 20.0});
  Interpreter interp(cm.m, &weights);
  int observed = 0, nested = 0;
  interp.setObserver([&](const Op &, std::span<const Tensor>, int depth) {
    ++observed;
    nested += depth > 0;
  });
  auto out = interp.run(*cm.main, {floats(DType::F32, {2}, {1.0, 2.0})});
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ(doublesOf((*out)[0]), (std::vector<double>{22.0, 44.0}));
  EXPECT_EQ(doublesOf((*out)[1]), (std::vector<double>{10.0, 20.0}));
  EXPECT_EQ(observed, 4); // param, add, call, and the add inside @twice
  EXPECT_EQ(nested, 1);
}

TEST(Interpreter, MissingOrMistypedWeightIsAnError) {
  CallModule cm;
  Tensor x = floats(DType::F32, {2}, {1.0, 2.0});
  Interpreter none(cm.m, nullptr);
  auto r = none.run(*cm.main, {x});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no weight was given for parameter "
                                      "@fc.w"),
            std::string::npos)
      << r.status();

  WeightMap wrong;
  wrong["fc.w"] = floats(DType::F32, {3}, {1, 2, 3});
  Interpreter interp(cm.m, &wrong);
  r = interp.run(*cm.main, {x});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(
                "weight @fc.w has type f32[3]; expected f32[2]"),
            std::string::npos)
      << r.status();
}

TEST(Interpreter, ArgumentsAreChecked) {
  CallModule cm;
  Interpreter interp(cm.m, nullptr);
  auto r = interp.run(*cm.main, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "@main takes 1 argument; got 0");
  r = interp.run(*cm.main, {floats(DType::F64, {2}, {1, 2})});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "argument 0 (%x) of @main is f64[2]; expected f32[2]");
}

TEST(Interpreter, KernelErrorsCarryTheOpLocation) {
  CallModule cm;
  cm.m.filename = "m.nyx";
  cm.main->ops[0]->loc = Loc{7, 3};
  Interpreter interp(cm.m, nullptr);
  auto r = interp.run(*cm.main, {floats(DType::F32, {2}, {1, 2})});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().substr(0, 24), "m.nyx:7:3: error: while ");
}

} // namespace
} // namespace nyx::ir
