// Gradient rules of the shape and data-movement ops (ir/grad/shape_grad.cc)
// against finite differences, over many shapes and attribute combinations,
// and second derivatives through them (Hessian-vector products).
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "ir/printer.h"
#include "tests/support/gradcheck.h"
#include "gtest/gtest.h"

namespace nyx {
namespace {

using ir::Builder;
using ir::DType;
using ir::Shape;
using ir::Value;
using Ints = std::vector<int64_t>;
using test::BuildFn;
using test::hvpCheck;

absl::Status check(const BuildFn &build,
                   const test::GradCheckOptions &options = {}) {
  return test::gradCheck(build, options);
}

Value *input(Builder &b, const Shape &shape, std::string name = "x") {
  return b.input(std::move(name), {DType::F64, shape});
}

// An integer constant (indices) of `dtype` and `shape` holding `values`.
Value *ints(Builder &b, const Shape &shape, const Ints &values,
            DType dtype = DType::I64) {
  ir::Tensor t(ir::TensorType{dtype, shape});
  for (int64_t i = 0; i < t.numElements(); ++i)
    t.setInt(i, values[i]);
  return b.constant(std::move(t));
}

std::string str(const Ints &v) { return strCat("[", strJoin(v, ","), "]"); }

TEST(GradShape, Reshape) {
  struct Case {
    Shape in, shape;
  };
  const Case cases[] = {{{2, 3, 4}, {6, 4}}, {{2, 3, 4}, {4, -1}},
                        {{2, 6}, {3, 2, 2}}, {{1}, {}},
                        {{}, {1, 1}},        {{5}, {5, 1}}};
  for (const Case &c : cases)
    EXPECT_EQ(check([&](Builder &b) {
                return b.op("reshape", {input(b, c.in)}, {{"shape", c.shape}});
              }),
              absl::OkStatus())
        << str(c.in) << " -> " << str(c.shape);
}

TEST(GradShape, Transpose) {
  struct Case {
    Shape in;
    std::optional<Ints> perm;
  };
  const Case cases[] = {{{2, 3}, std::nullopt},
                        {{2, 3, 4}, std::nullopt},
                        {{2, 3, 4}, Ints{1, 0, 2}},
                        {{2, 3, 4}, Ints{2, 0, 1}},
                        {{2, 3, 4}, Ints{-1, 0, 1}},
                        {{2, 1, 3, 2}, Ints{0, 3, 1, 2}},
                        {{4}, Ints{0}}};
  for (const Case &c : cases)
    EXPECT_EQ(check([&](Builder &b) {
                ir::Attrs attrs;
                if (c.perm)
                  attrs = ir::Attrs{{"perm", *c.perm}};
                return b.op("transpose", {input(b, c.in)}, attrs);
              }),
              absl::OkStatus())
        << str(c.in) << " perm " << (c.perm ? str(*c.perm) : "default");
}

TEST(GradShape, BroadcastTo) {
  struct Case {
    Shape in, shape;
  };
  const Case cases[] = {{{3}, {2, 3}},       {{2, 1, 3}, {2, 4, 3}},
                        {{1, 1}, {3, 2, 2}}, {{}, {2, 2}},
                        {{2, 3}, {2, 3}},    {{3, 1}, {2, 3, 4}}};
  for (const Case &c : cases)
    EXPECT_EQ(
        check([&](Builder &b) {
          return b.op("broadcast_to", {input(b, c.in)}, {{"shape", c.shape}});
        }),
        absl::OkStatus())
        << str(c.in) << " -> " << str(c.shape);
}

TEST(GradShape, Slice) {
  constexpr int64_t kBig = int64_t{1} << 40;
  struct Case {
    Shape in;
    Ints starts, ends, axes, steps;
  };
  const Case cases[] = {
      {{6}, {1}, {4}, {0}, {1}},
      {{6}, {-4}, {-1}, {0}, {1}},
      {{6}, {-100}, {100}, {0}, {2}},
      {{7}, {1}, {7}, {0}, {3}},
      {{6}, {5}, {-100}, {0}, {-1}},
      {{7}, {-1}, {0}, {0}, {-2}},
      {{7}, {100}, {1}, {0}, {-3}},
      {{6}, {4}, {2}, {0}, {1}}, // empty
      {{6}, {2}, {3}, {0}, {kBig}},
      {{6}, {3}, {-kBig}, {0}, {-kBig}},
      {{4, 5}, {1, -1}, {3, 0}, {0, 1}, {1, -2}},
      {{4, 5}, {0}, {5}, {-1}, {2}},
      {{3, 4, 5}, {2, 0, 4}, {-10, 4, 0}, {0, 1, 2}, {-1, 3, -2}},
      {{3, 4, 5}, {1, 1}, {3, 5}, {2, 0}, {2, 1}},
  };
  for (const Case &c : cases)
    EXPECT_EQ(check([&](Builder &b) {
                return b.op("slice", {input(b, c.in)},
                            {{"starts", c.starts},
                             {"ends", c.ends},
                             {"axes", c.axes},
                             {"steps", c.steps}});
              }),
              absl::OkStatus())
        << str(c.in) << " starts " << str(c.starts) << " ends " << str(c.ends)
        << " axes " << str(c.axes) << " steps " << str(c.steps);
}

TEST(GradShape, SliceDefaultAxesAndSteps) {
  EXPECT_EQ(check([](Builder &b) {
              return b.op("slice", {input(b, {4, 5})},
                          {{"starts", Ints{1, -3}}, {"ends", Ints{3, 5}}});
            }),
            absl::OkStatus());
}

TEST(GradShape, Concat) {
  struct Case {
    std::vector<Shape> ins;
    int64_t axis;
  };
  const Case cases[] = {{{{2, 3}}, 0},
                        {{{2, 3}, {4, 3}}, 0},
                        {{{2, 3}, {2, 1}, {2, 2}}, 1},
                        {{{2, 3}, {2, 1}, {2, 2}}, -1},
                        {{{2, 0, 2}, {2, 3, 2}, {2, 1, 2}}, 1},
                        {{{1, 2, 3}, {2, 2, 3}}, -3}};
  for (const Case &c : cases)
    EXPECT_EQ(check([&](Builder &b) {
                std::vector<Value *> xs;
                for (size_t i = 0; i < c.ins.size(); ++i)
                  xs.push_back(input(b, c.ins[i], strCat("x", i)));
                return b.op("concat", xs, {{"axis", c.axis}});
              }),
              absl::OkStatus())
        << c.ins.size() << " operands, axis " << c.axis;
}

TEST(GradShape, Pad) {
  struct Case {
    Shape in;
    Ints pads;
    std::string mode;
  };
  const Case cases[] = {
      {{4}, {1, 2}, "constant"},
      {{3, 4}, {0, 2, 1, 0}, "constant"},
      {{2, 3, 2}, {1, 0, 2, 0, 3, 1}, "constant"},
      {{5}, {2, 3}, "reflect"},
      {{5}, {4, 4}, "reflect"},
      {{2}, {1, 1}, "reflect"},
      {{3, 4}, {2, 1, 1, 3}, "reflect"},
      {{2, 3, 4}, {1, 0, 3, 0, 2, 2}, "reflect"},
      {{4}, {3, 2}, "edge"},
      {{1, 3}, {2, 0, 1, 2}, "edge"},
      {{2, 3, 2}, {1, 2, 0, 0, 1, 3}, "edge"},
  };
  for (const Case &c : cases)
    EXPECT_EQ(check([&](Builder &b) {
                return b.op("pad", {input(b, c.in)},
                            {{"pads", c.pads},
                             {"mode", c.mode},
                             {"value", c.mode == "constant" ? 1.5 : 0.0}});
              }),
              absl::OkStatus())
        << str(c.in) << " pads " << str(c.pads) << " " << c.mode;
}

TEST(GradShape, Gather) {
  struct Case {
    Shape data;
    int64_t axis;
    Shape indexShape;
    Ints indices; // with duplicates, negatives and out-of-range ones
  };
  const Case cases[] = {
      {{5}, 0, {4}, {1, 3, 1, -1}},
      {{5, 3}, 0, {2, 3}, {0, 4, -2, 2, 2, 7}},
      {{3, 4}, 1, {5}, {0, 3, -4, 3, -9}},
      {{2, 3, 4}, -1, {2, 2}, {1, 1, 0, -1}},
      {{2, 4, 3}, 1, {}, {-3}},
      {{2, 4, 3}, 1, {3, 1}, {2, 2, 5}},
  };
  for (const Case &c : cases)
    for (DType indexType : {DType::I64, DType::I32})
      EXPECT_EQ(check([&](Builder &b) {
                  return b.op("gather",
                              {input(b, c.data),
                               ints(b, c.indexShape, c.indices, indexType)},
                              {{"axis", c.axis}});
                }),
                absl::OkStatus())
          << str(c.data) << " axis " << c.axis << " indices " << str(c.indices);
}

TEST(GradShape, GatherIndicesFromInput) {
  // Indices that are a function input, drawn at random (some negative,
  // some out of range), get no gradient.
  test::GradCheckOptions o;
  o.ranges["i"] = {-6, 6};
  EXPECT_EQ(check(
                [](Builder &b) {
                  Value *x = input(b, {4, 3});
                  Value *i = b.input("i", {DType::I32, {5}});
                  return b.op("gather", {x, i}, {{"axis", 0}});
                },
                o),
            absl::OkStatus());
}

TEST(GradShape, GatherElements) {
  struct Case {
    Shape data;
    int64_t axis;
    Shape indexShape;
    Ints indices;
  };
  const Case cases[] = {
      {{4}, 0, {6}, {0, 3, 3, -1, 4, 1}},
      {{3, 4}, 0, {2, 4}, {0, 2, -1, 1, 2, 2, 0, 5}},
      {{3, 4}, 1, {3, 2}, {3, 3, 0, -2, 1, -7}},
      {{3, 4}, -1, {2, 5}, {0, 1, 2, 3, 0, 3, 3, -4, 1, 1}},
      {{2, 3, 2}, 1, {2, 4, 1}, {0, 1, 2, -1, 2, 2, 0, 0}},
  };
  for (const Case &c : cases)
    EXPECT_EQ(check([&](Builder &b) {
                return b.op(
                    "gather_elements",
                    {input(b, c.data), ints(b, c.indexShape, c.indices)},
                    {{"axis", c.axis}});
              }),
              absl::OkStatus())
        << str(c.data) << " axis " << c.axis << " indices " << str(c.indices);
}

TEST(GradShape, GatherNd) {
  struct Case {
    Shape data;
    int64_t batchDims;
    Shape indexShape;
    Ints indices;
  };
  const Case cases[] = {
      {{4, 3}, 0, {5, 1}, {0, 3, 3, -1, 9}},
      {{4, 3}, 0, {3, 2}, {0, 2, 3, -1, 0, 2}},
      {{3, 2, 4}, 0, {2, 2, 2}, {2, 1, -1, 0, 2, 1, 5, 0}},
      {{2, 3, 4}, 1, {2, 3, 1}, {0, 2, 2, -1, 1, 7}},
      {{2, 3, 4}, 1, {2, 2, 2}, {0, 3, 2, -1, 1, 1, 1, 1}},
      {{2, 3, 4}, 2, {2, 3, 1}, {0, 3, 2, -1, 1, 1}},
  };
  for (const Case &c : cases)
    for (DType indexType : {DType::I64, DType::I32})
      EXPECT_EQ(check([&](Builder &b) {
                  return b.op("gather_nd",
                              {input(b, c.data),
                               ints(b, c.indexShape, c.indices, indexType)},
                              {{"batch_dims", c.batchDims}});
                }),
                absl::OkStatus())
          << str(c.data) << " batch_dims " << c.batchDims << " indices "
          << str(c.indices);
}

TEST(GradShape, ScatterElements) {
  struct Case {
    Shape data;
    int64_t axis;
    Shape indexShape;
    Ints indices; // duplicates: the last update wins with "none"
  };
  const Case cases[] = {
      {{5}, 0, {4}, {1, 3, 1, -1}},
      {{5}, 0, {3}, {7, -2, 3}},
      {{3, 4}, 0, {2, 4}, {0, 2, -1, 1, 2, 2, 0, 5}},
      {{3, 4}, 1, {3, 2}, {3, 3, 0, -2, 1, -7}},
      {{2, 3, 2}, -2, {2, 4, 1}, {0, 1, 2, -1, 2, 2, 0, 0}},
  };
  for (const Case &c : cases)
    for (const char *reduction : {"none", "add"})
      EXPECT_EQ(check([&](Builder &b) {
                  Value *data = input(b, c.data, "data");
                  Value *updates = input(b, c.indexShape, "updates");
                  return b.op("scatter_elements",
                              {data, ints(b, c.indexShape, c.indices), updates},
                              {{"axis", c.axis}, {"reduction", reduction}});
                }),
                absl::OkStatus())
          << str(c.data) << " axis " << c.axis << " indices " << str(c.indices)
          << " " << reduction;
}

TEST(GradShape, ScatterNd) {
  struct Case {
    Shape data;
    Shape indexShape;
    Ints indices;
  };
  const Case cases[] = {
      {{5}, {4, 1}, {1, 3, 1, -1}},
      {{4, 3}, {3, 1}, {2, -2, 9}},
      {{4, 3}, {4, 2}, {0, 1, 3, 2, 0, 1, -1, -1}},
      {{2, 3, 2}, {2, 2, 1}, {1, 0, 1, -2}},
      {{2, 3, 2}, {3, 3}, {0, 1, 1, 1, 2, 0, 0, 1, 1}},
  };
  for (const Case &c : cases)
    for (const char *reduction : {"none", "add"})
      EXPECT_EQ(check([&](Builder &b) {
                  Value *data = input(b, c.data, "data");
                  const int64_t k = c.indexShape.back();
                  Shape updateShape(c.indexShape.begin(),
                                    c.indexShape.end() - 1);
                  updateShape.insert(updateShape.end(), c.data.begin() + k,
                                     c.data.end());
                  Value *updates = input(b, updateShape, "updates");
                  return b.op("scatter_nd",
                              {data, ints(b, c.indexShape, c.indices), updates},
                              {{"reduction", reduction}});
                }),
                absl::OkStatus())
          << str(c.data) << " indices " << str(c.indices) << " " << reduction;
}

TEST(GradShape, ScatterWithCombiningReductionHasNoRule) {
  absl::Status s = check([](Builder &b) {
    return b.op(
        "scatter_elements",
        {input(b, {4}, "data"), ints(b, {2}, {0, 2}), input(b, {2}, "updates")},
        {{"reduction", "mul"}});
  });
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("reduction \"mul\" has no gradient rule"),
            std::string::npos)
      << s.message();
}

// The gradients have the operands' types in every float dtype (the
// autodiff rejects a rule that gives another type), and run.
TEST(GradShape, StorageDTypes) {
  for (DType t : {DType::F32, DType::F16, DType::BF16}) {
    Builder b("m");
    Value *x = b.input("x", {t, {3, 4}});
    Value *u = b.input("u", {t, {2, 4}});
    std::vector<Value *> parts = {
        b.op("reshape", {x}, {{"shape", Shape{4, 3}}}),
        b.op("transpose", {x}),
        b.op("broadcast_to", {x}, {{"shape", Shape{2, 3, 4}}}),
        b.op("slice", {x},
             {{"starts", Ints{-1}}, {"ends", Ints{0}}, {"steps", Ints{-2}}}),
        b.op("concat", {x, u}, {{"axis", 0}}),
        b.op("pad", {x}, {{"pads", Ints{1, 2, 0, 1}}, {"mode", "reflect"}}),
        b.op("pad", {x}, {{"pads", Ints{1, 2, 0, 1}}, {"mode", "edge"}}),
        b.op("gather", {x, ints(b, {2}, {2, -1})}, {{"axis", 1}}),
        b.op("gather_elements", {x, ints(b, {1, 4}, {0, 2, 2, 1})}),
        b.op("gather_nd", {x, ints(b, {2, 1}, {1, 1})}),
        b.op("scatter_elements",
             {x, ints(b, {2, 4}, {0, 2, 2, 1, 1, 1, 0, 0}), u}),
        b.op("scatter_nd", {x, ints(b, {2, 1}, {1, 1}), u},
             {{"reduction", "add"}}),
    };
    Value *sum = nullptr;
    for (Value *p : parts) {
      Value *s = b.op("reduce_sum", {p});
      sum = sum ? b.op("add", {sum, s}) : s;
    }
    b.ret({sum});
    auto built = b.finish();
    ASSERT_TRUE(built.ok()) << built.status();
    ir::Module &m = **built;
    auto grad = passes::addGradFunction(m, **m.entry(), {}, "main_grad");
    ASSERT_TRUE(grad.ok()) << ir::dtypeName(t) << ": " << grad.status();
    ASSERT_EQ(ir::verifyModule(m), absl::OkStatus());
    std::vector<ir::Tensor> args;
    for (const Value *p : (*grad)->params) {
      ir::Tensor a(p->type);
      for (int64_t i = 0; i < a.numElements(); ++i)
        a.setDouble(i, 0.25 * static_cast<double>(i % 5));
      args.push_back(std::move(a));
    }
    ir::Interpreter interp(m, nullptr);
    auto out = interp.run(**grad, args);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ((*out)[1].type(), x->type);
    EXPECT_EQ((*out)[2].type(), u->type);
  }
}

// Second derivatives: the ops the rules emit are differentiable in turn.
TEST(GradShape, SecondOrder) {
  const std::pair<const char *, BuildFn> cases[] = {
      {"transpose",
       [](Builder &b) {
         return b.op("transpose", {input(b, {2, 3, 2})},
                     {{"perm", Ints{2, 0, 1}}});
       }},
      {"broadcast_to",
       [](Builder &b) {
         return b.op("broadcast_to", {input(b, {3, 1})},
                     {{"shape", Shape{2, 3, 2}}});
       }},
      {"slice",
       [](Builder &b) {
         return b.op("slice", {input(b, {5, 4})},
                     {{"starts", Ints{4, 0}},
                      {"ends", Ints{-100, 4}},
                      {"axes", Ints{0, 1}},
                      {"steps", Ints{-2, 3}}});
       }},
      {"concat",
       [](Builder &b) {
         Value *x = input(b, {2, 3});
         return b.op("concat", {x, b.op("neg", {x})}, {{"axis", 1}});
       }},
      {"pad reflect",
       [](Builder &b) {
         return b.op("pad", {input(b, {3, 4})},
                     {{"pads", Ints{2, 1, 1, 3}}, {"mode", "reflect"}});
       }},
      {"pad edge",
       [](Builder &b) {
         return b.op("pad", {input(b, {3, 4})},
                     {{"pads", Ints{2, 1, 1, 3}}, {"mode", "edge"}});
       }},
      {"gather",
       [](Builder &b) {
         return b.op("gather", {input(b, {3, 4}), ints(b, {3}, {1, -1, 1})},
                     {{"axis", 1}});
       }},
      {"gather_elements",
       [](Builder &b) {
         return b.op("gather_elements",
                     {input(b, {3, 2}), ints(b, {2, 2}, {0, 2, 2, -3})});
       }},
      {"gather_nd",
       [](Builder &b) {
         return b.op("gather_nd",
                     {input(b, {2, 3, 2}), ints(b, {2, 2, 1}, {0, 2, 2, 1})},
                     {{"batch_dims", 1}});
       }},
      {"scatter_elements",
       [](Builder &b) {
         Value *x = input(b, {4});
         return b.op(
             "scatter_elements",
             {x, ints(b, {3}, {1, 3, 1}),
              b.op("mul", {
                              b.op("slice", {x},
                                   {{"starts", Ints{0}}, {"ends", Ints{3}}}),
                              b.op("slice", {x},
                                   {{"starts", Ints{1}}, {"ends", Ints{4}}}),
                          })});
       }},
      {"scatter_nd",
       [](Builder &b) {
         Value *x = input(b, {3, 2});
         Value *rows =
             b.op("slice", {x}, {{"starts", Ints{1}}, {"ends", Ints{3}}});
         return b.op("scatter_nd",
                     {x, ints(b, {2, 1}, {2, 2}), b.op("mul", {rows, rows})},
                     {{"reduction", "add"}});
       }},
  };
  for (const auto &[name, build] : cases)
    EXPECT_EQ(hvpCheck(build), absl::OkStatus()) << name;
}

} // namespace
} // namespace nyx
