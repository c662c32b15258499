// Verifier messages of the elementwise, reduction, normalization and
// structural ops: wrong dtypes, shapes, axes and attributes are reported with
// what was found and what was expected.
#include <gtest/gtest.h>

#include "ir/op_registry.h"
#include "ir/strings.h"

namespace nyx::ir {
namespace {

TensorType ty(DType d, Shape s) { return TensorType{d, std::move(s)}; }

class OpsVerify : public ::testing::Test {
protected:
  // Runs the op's shape rule on operands of the given types.
  absl::StatusOr<std::vector<TensorType>>
  infer(std::string_view name, std::vector<TensorType> operands,
        Attributes attrs = {}) {
    Function *f = m.addFunction(strCat("f", m.functions.size()));
    Op op;
    op.def = lookupOp(name);
    EXPECT_NE(op.def, nullptr) << name;
    for (TensorType &t : operands)
      op.operands.push_back(f->addParam("", std::move(t)));
    op.attrs = std::move(attrs);
    return op.def->inferTypes(op, m);
  }

  // The error message of an op that must fail verification.
  std::string error(std::string_view name, std::vector<TensorType> operands,
                    Attributes attrs = {}) {
    auto r = infer(name, std::move(operands), std::move(attrs));
    EXPECT_FALSE(r.ok()) << name << " unexpectedly verified";
    return r.ok() ? std::string() : std::string(r.status().message());
  }

  TensorType one(std::string_view name, std::vector<TensorType> operands,
                 Attributes attrs = {}) {
    auto r = infer(name, std::move(operands), std::move(attrs));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() && !r->empty() ? r->front() : TensorType{};
  }

  Module m;
};

const TensorType f32x23 = ty(DType::F32, {2, 3});
const TensorType i32x23 = ty(DType::I32, {2, 3});

TEST_F(OpsVerify, EveryOpRejectsUnknownAttributes) {
  const char *ops[] = {"neg",   "abs",  "relu", "exp",     "log",  "sqrt",
                       "rsqrt", "tanh", "erf",  "sigmoid", "silu", "gelu"};
  for (const char *op : ops) {
    std::string takes =
        std::string_view(op) == "gelu" ? ": approximate" : " no attributes";
    EXPECT_EQ(error(op, {f32x23}, {{"foo", int64_t(1)}}),
              strCat("'", op, "' has no attribute 'foo'; it takes", takes));
  }
  for (const char *op : {"add", "sub", "mul", "div", "pow", "max", "min", "eq",
                         "ne", "lt", "le", "gt", "ge"})
    EXPECT_EQ(error(op, {f32x23, f32x23}, {{"foo", int64_t(1)}}),
              strCat("'", op,
                     "' has no attribute 'foo'; it takes no "
                     "attributes"));
  EXPECT_EQ(error("reduce_sum", {f32x23}, {{"axis", int64_t(1)}}),
            "'reduce_sum' has no attribute 'axis'; it takes: axes, keepdims");
  EXPECT_EQ(error("softmax", {f32x23}, {{"axes", int64_t(1)}}),
            "'softmax' has no attribute 'axes'; it takes: axis");
  EXPECT_EQ(error("layer_norm", {f32x23}, {{"eps", 0.1}}),
            "'layer_norm' has no attribute 'eps'; it takes: axis, epsilon");
  EXPECT_EQ(error("cast", {f32x23}, {{"to", DType::I8}, {"saturate", true}}),
            "'cast' has no attribute 'saturate'; it takes: to");
}

TEST_F(OpsVerify, UnaryDTypes) {
  EXPECT_EQ(error("exp", {i32x23}),
            "'exp' operand has dtype i32; expected a float dtype (f32, f16, "
            "bf16, f64)");
  EXPECT_EQ(error("neg", {ty(DType::Bool, {2})}),
            "'neg' operand has dtype bool; expected a numeric dtype (f32, "
            "f16, bf16, f64, i8, i32, i64)");
  EXPECT_EQ(one("abs", {i32x23}), i32x23);
  EXPECT_EQ(one("gelu", {ty(DType::BF16, {4})}), ty(DType::BF16, {4}));
  EXPECT_EQ(error("gelu", {f32x23}, {{"approximate", std::string("fast")}}),
            "'gelu' attribute 'approximate' is \"fast\"; expected one of "
            "\"none\", \"tanh\"");
  EXPECT_EQ(error("relu", {f32x23, f32x23}),
            "'relu' has 2 operands; expected 1");
}

TEST_F(OpsVerify, BinaryDTypesAndBroadcasting) {
  EXPECT_EQ(error("add", {f32x23, i32x23}),
            "'add' operands have dtypes f32 and i32; expected the same dtype");
  EXPECT_EQ(error("pow", {i32x23, i32x23}),
            "'pow' operand 0 has dtype i32; expected a float dtype (f32, f16, "
            "bf16, f64)");
  EXPECT_EQ(error("mul", {ty(DType::Bool, {2}), ty(DType::Bool, {2})}),
            "'mul' operand 0 has dtype bool; expected a numeric dtype (f32, "
            "f16, bf16, f64, i8, i32, i64)");
  EXPECT_EQ(error("sub", {f32x23, ty(DType::F32, {4})}),
            "'sub' operand shapes [2,3] and [4] do not broadcast");
  EXPECT_EQ(one("max", {ty(DType::I8, {3, 1, 5}), ty(DType::I8, {4, 1})}),
            ty(DType::I8, {3, 4, 5}));
  EXPECT_EQ(one("div", {f32x23, ty(DType::F32, {})}), f32x23);
}

TEST_F(OpsVerify, Comparisons) {
  EXPECT_EQ(one("lt", {ty(DType::Bool, {3, 1}), ty(DType::Bool, {2})}),
            ty(DType::Bool, {3, 2}));
  EXPECT_EQ(error("eq", {f32x23, ty(DType::F16, {2, 3})}),
            "'eq' operands have dtypes f32 and f16; expected the same dtype");
  EXPECT_EQ(error("ge", {f32x23, ty(DType::F32, {3, 2})}),
            "'ge' operand shapes [2,3] and [3,2] do not broadcast");
}

TEST_F(OpsVerify, Select) {
  const TensorType cond = ty(DType::Bool, {2, 1});
  EXPECT_EQ(one("select", {cond, ty(DType::I64, {3}), ty(DType::I64, {})}),
            ty(DType::I64, {2, 3}));
  EXPECT_EQ(error("select", {ty(DType::F32, {2, 1}), f32x23, f32x23}),
            "'select' operand 0 has dtype f32; expected bool");
  EXPECT_EQ(error("select", {cond, f32x23, i32x23}),
            "'select' operands have dtypes f32 and i32; expected the same "
            "dtype");
  EXPECT_EQ(error("select", {ty(DType::Bool, {4}), f32x23, f32x23}),
            "'select' operand shapes [4] and [2,3] and [2,3] do not broadcast");
  EXPECT_EQ(error("select", {cond, f32x23}),
            "'select' has 2 operands; expected 3");
}

TEST_F(OpsVerify, Cast) {
  EXPECT_EQ(one("cast", {f32x23}, {{"to", DType::BF16}}),
            ty(DType::BF16, {2, 3}));
  EXPECT_EQ(error("cast", {f32x23}), "'cast' needs attribute 'to' (an element "
                                     "type)");
  EXPECT_EQ(error("cast", {f32x23}, {{"to", std::string("f16")}}),
            "attribute 'to' of 'cast' must be an element type");
}

TEST_F(OpsVerify, Reductions) {
  const TensorType x = ty(DType::F32, {2, 3, 4});
  EXPECT_EQ(one("reduce_sum", {x}), ty(DType::F32, {}));
  EXPECT_EQ(one("reduce_max", {x}, {{"axes", std::vector<int64_t>{-1, 0}}}),
            ty(DType::F32, {3}));
  EXPECT_EQ(one("reduce_min", {x},
                {{"axes", std::vector<int64_t>{1}}, {"keepdims", true}}),
            ty(DType::F32, {2, 1, 4}));
  EXPECT_EQ(error("reduce_sum", {f32x23}, {{"axes", std::vector<int64_t>{3}}}),
            "'reduce_sum' axis 3 is out of range for rank 2");
  EXPECT_EQ(error("reduce_max", {f32x23}, {{"axes", std::vector<int64_t>{-3}}}),
            "'reduce_max' axis -3 is out of range for rank 2");
  EXPECT_EQ(
      error("reduce_min", {f32x23}, {{"axes", std::vector<int64_t>{1, -1}}}),
      "'reduce_min' axis -1 is listed twice");
  EXPECT_EQ(error("reduce_mean", {i32x23}),
            "'reduce_mean' operand has dtype i32; expected a float dtype (f32, "
            "f16, bf16, f64)");
  EXPECT_EQ(error("reduce_sum", {ty(DType::Bool, {2})}),
            "'reduce_sum' operand has dtype bool; expected a numeric dtype "
            "(f32, f16, bf16, f64, i8, i32, i64)");
  EXPECT_EQ(error("reduce_sum", {f32x23}, {{"axes", int64_t(1)}}),
            "attribute 'axes' of 'reduce_sum' must be a list of integers");
  EXPECT_EQ(error("reduce_sum", {f32x23}, {{"keepdims", int64_t(1)}}),
            "attribute 'keepdims' of 'reduce_sum' must be true or false");
}

TEST_F(OpsVerify, Argmax) {
  EXPECT_EQ(one("argmax", {ty(DType::F16, {2, 5})}), ty(DType::I64, {5}));
  EXPECT_EQ(
      one("argmax", {i32x23}, {{"axis", int64_t(-1)}, {"keepdims", true}}),
      ty(DType::I64, {2, 1}));
  EXPECT_EQ(error("argmax", {i32x23}, {{"axis", int64_t(2)}}),
            "'argmax' axis 2 is out of range for rank 2");
  EXPECT_EQ(error("argmax", {ty(DType::Bool, {3})}),
            "'argmax' operand has dtype bool; expected a numeric dtype (f32, "
            "f16, bf16, f64, i8, i32, i64)");
  EXPECT_EQ(error("argmax", {ty(DType::F32, {2, 0})}, {{"axis", int64_t(1)}}),
            "'argmax' axis 1 has size 0; expected at least one element");
}

TEST_F(OpsVerify, SoftmaxFamily) {
  for (const char *op : {"softmax", "log_softmax"}) {
    EXPECT_EQ(one(op, {f32x23}, {{"axis", int64_t(0)}}), f32x23);
    EXPECT_EQ(error(op, {f32x23}, {{"axis", int64_t(2)}}),
              strCat("'", op, "' axis 2 is out of range for rank 2"));
    EXPECT_EQ(error(op, {i32x23}),
              strCat("'", op,
                     "' operand has dtype i32; expected a float "
                     "dtype (f32, f16, bf16, f64)"));
    EXPECT_EQ(error(op, {ty(DType::F32, {})}),
              strCat("'", op, "' operand has rank 0; expected rank >= 1"));
  }
}

TEST_F(OpsVerify, LayerNormAndRmsNorm) {
  const TensorType x = ty(DType::F32, {2, 3, 4});
  EXPECT_EQ(one("layer_norm", {x, ty(DType::F32, {4}), ty(DType::F32, {4})}),
            x);
  EXPECT_EQ(
      one("layer_norm", {x, ty(DType::F32, {3, 4})}, {{"axis", int64_t(1)}}),
      x);
  EXPECT_EQ(one("rms_norm", {x}, {{"epsilon", 1e-3}}), x);
  EXPECT_EQ(error("layer_norm", {x, ty(DType::F32, {3, 4})}),
            "'layer_norm' scale has shape [3,4]; expected [4] (x.shape[2:])");
  EXPECT_EQ(error("layer_norm", {x, ty(DType::F32, {4}), ty(DType::F16, {4})}),
            "'layer_norm' bias has dtype f16; expected f32 (the dtype of x)");
  EXPECT_EQ(error("rms_norm", {x, ty(DType::F32, {4}), ty(DType::F32, {4})}),
            "'rms_norm' has 3 operands; expected at most 2");
  EXPECT_EQ(error("layer_norm", {x}, {{"axis", int64_t(-4)}}),
            "'layer_norm' axis -4 is out of range for rank 3");
  EXPECT_EQ(error("rms_norm", {ty(DType::I64, {4})}),
            "'rms_norm' operand has dtype i64; expected a float dtype (f32, "
            "f16, bf16, f64)");
  EXPECT_EQ(error("layer_norm", {x}, {{"epsilon", std::string("small")}}),
            "attribute 'epsilon' of 'layer_norm' must be a float");
}

TEST_F(OpsVerify, Constant) {
  auto value = std::make_shared<const Tensor>(ty(DType::I8, {3}));
  EXPECT_EQ(one("constant", {}, {{"value", value}}), ty(DType::I8, {3}));
  EXPECT_EQ(error("constant", {}),
            "'constant' needs attribute 'value' (a tensor (dense<...>))");
  EXPECT_EQ(error("constant", {f32x23}, {{"value", value}}),
            "'constant' has 1 operand; expected 0");
}

TEST_F(OpsVerify, Param) {
  m.params.push_back(Param{"fc1.weight", ty(DType::F32, {8, 4}), {}});
  EXPECT_EQ(one("param", {}, {{"name", SymbolRef{"fc1.weight"}}}),
            ty(DType::F32, {8, 4}));
  EXPECT_EQ(error("param", {}, {{"name", SymbolRef{"fc2.weight"}}}),
            "'param' names @fc2.weight, which the module does not declare; "
            "expected a declared `param @fc2.weight : TYPE`");
  EXPECT_EQ(error("param", {}, {{"name", std::string("fc1.weight")}}),
            "attribute 'name' of 'param' must be a symbol (@name)");
}

TEST_F(OpsVerify, Call) {
  Function *g = m.addFunction("g");
  g->addParam("a", f32x23);
  g->addParam("b", i32x23);
  g->resultTypes = {ty(DType::F64, {1}), ty(DType::Bool, {})};
  auto r = infer("call", {f32x23, i32x23}, {{"callee", SymbolRef{"g"}}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, g->resultTypes);
  EXPECT_EQ(error("call", {f32x23}, {{"callee", SymbolRef{"g"}}}),
            "'call' passes 1 arguments to @g; expected 2");
  EXPECT_EQ(error("call", {f32x23, f32x23}, {{"callee", SymbolRef{"g"}}}),
            "'call' argument 1 has type f32[2,3]; @g expects i32[2,3]");
  EXPECT_EQ(error("call", {}, {{"callee", SymbolRef{"nope"}}}),
            "'call' callee @nope is not a function of this module");
}

} // namespace
} // namespace nyx::ir
