// The verifier on modules built by hand (as passes build them), one test
// per rule it enforces.
#include "ir/verifier.h"

#include "ir/op_registry.h"
#include "ir/parser.h"
#include "gtest/gtest.h"

namespace nyx::ir {
namespace {

const TensorType kVec{DType::F32, {4}};
const TensorType kMat{DType::F32, {2, 3}};

struct Builder {
  Module m;
  Builder() {
    m.name = "v";
    m.filename = "v.nyx";
  }
  Function *func(std::string name, std::vector<TensorType> params,
                 std::vector<TensorType> results, int line = 1) {
    Function *f = m.addFunction(std::move(name));
    f->loc = {line, 1};
    for (size_t i = 0; i < params.size(); ++i)
      f->addParam("x" + std::to_string(i), params[i]);
    f->resultTypes = std::move(results);
    return f;
  }
  Op *op(Function *f, std::string_view name, std::vector<Value *> operands,
         std::vector<TensorType> types, Loc loc, Attributes attrs = {}) {
    const OpDef *def = lookupOp(name);
    EXPECT_NE(def, nullptr) << name;
    return f->appendOp(def, std::move(operands), std::move(attrs),
                       std::move(types), loc);
  }
  void ret(Function *f, std::vector<Value *> values, Loc loc) {
    f->returns = std::move(values);
    f->returnLoc = loc;
  }
  std::string error() {
    absl::Status s = verifyModule(m);
    EXPECT_FALSE(s.ok());
    return std::string(s.message());
  }
};

TEST(Verifier, AcceptsAValidModule) {
  Builder b;
  b.m.params.push_back({"w", kVec, {1, 1}});
  Function *g = b.func("g", {kVec, kVec}, {kVec}, 2);
  Op *s = b.op(g, "add", {g->params[0], g->params[1]}, {kVec}, {3, 3});
  b.ret(g, {s->result()}, {4, 3});
  Function *f = b.func("main", {kVec}, {kVec}, 6);
  Op *w = b.op(f, "param", {}, {kVec}, {7, 3}, {{"name", SymbolRef{"w"}}});
  Op *c = b.op(f, "call", {f->params[0], w->result()}, {kVec}, {8, 3},
               {{"callee", SymbolRef{"g"}}});
  b.ret(f, {c->result()}, {9, 3});
  EXPECT_TRUE(verifyModule(b.m).ok()) << verifyModule(b.m).message();
}

TEST(Verifier, DuplicateParamAndFunctionNames) {
  Builder b;
  b.m.params.push_back({"w", kVec, {1, 1}});
  b.m.params.push_back({"w", kMat, {2, 1}});
  EXPECT_EQ(b.error(), "v.nyx:2:1: error: param @w is already declared at 1:1");
  Builder c;
  Function *f1 = c.func("f", {kVec}, {kVec}, 1);
  c.ret(f1, {f1->params[0]}, {2, 3});
  Function *f2 = c.func("f", {kVec}, {kVec}, 4);
  c.ret(f2, {f2->params[0]}, {5, 3});
  EXPECT_EQ(c.error(),
            "v.nyx:4:1: error: function @f is already defined at 1:1");
}

TEST(Verifier, DuplicateValueNames) {
  Builder b;
  Function *f = b.func("f", {kVec}, {kVec});
  Op *n = b.op(f, "neg", {f->params[0]}, {kVec}, {2, 3});
  n->result()->name = "x0"; // a pass renaming carelessly
  b.ret(f, {n->result()}, {3, 3});
  EXPECT_EQ(b.error(), "v.nyx:2:3: error: value %x0 is already defined at 1:1 "
                       "in @f; expected unique names");
}

TEST(Verifier, UseBeforeDefinition) {
  Builder b;
  Function *f = b.func("f", {kVec}, {kVec});
  Op *a = b.op(f, "neg", {f->params[0]}, {kVec}, {2, 3});
  Op *c = b.op(f, "relu", {a->result()}, {kVec}, {3, 3});
  std::swap(f->ops[0], f->ops[1]); // a pass that reordered wrongly
  b.ret(f, {c->result()}, {4, 3});
  EXPECT_EQ(b.error(), "v.nyx:3:3: error: operand 0 of 'relu' (%0) is used "
                       "before its definition at 2:3; expected it defined "
                       "earlier in @f");
}

TEST(Verifier, OperandFromAnotherFunctionOrMissing) {
  Builder b;
  Function *g = b.func("g", {kVec}, {kVec}, 1);
  b.ret(g, {g->params[0]}, {2, 3});
  Function *f = b.func("f", {kVec}, {kVec}, 3);
  Op *n = b.op(f, "neg", {g->params[0]}, {kVec}, {4, 3});
  b.ret(f, {n->result()}, {5, 3});
  EXPECT_EQ(b.error(), "v.nyx:4:3: error: operand 0 of 'neg' (%x0) is not "
                       "defined in @f");
  n->operands[0] = nullptr;
  EXPECT_EQ(b.error(),
            "v.nyx:4:3: error: operand 0 of 'neg' is missing (null)");
}

TEST(Verifier, OpWithoutDefinitionAndWrongOperandCount) {
  Builder b;
  Function *f = b.func("f", {kVec}, {kVec});
  Op *n = b.op(f, "add", {f->params[0]}, {kVec}, {2, 3});
  b.ret(f, {n->result()}, {3, 3});
  EXPECT_EQ(b.error(), "v.nyx:2:3: error: 'add' has 1 operand; expected 2");
  n->def = nullptr;
  EXPECT_EQ(b.error(),
            "v.nyx:2:3: error: op has no definition; expected a registered op");
}

TEST(Verifier, ShapeRuleErrorsAndResultTypeMismatch) {
  Builder b;
  Function *f = b.func("f", {kVec, kMat}, {kVec});
  Op *a = b.op(f, "add", {f->params[0], f->params[1]}, {kVec}, {2, 3});
  b.ret(f, {a->result()}, {3, 3});
  std::string msg = b.error();
  EXPECT_EQ(msg.rfind("v.nyx:2:3: error: 'add' ", 0), 0u) << msg;
  a->operands[1] = f->params[0];
  a->results[0]->type = {DType::F32, {8}};
  f->resultTypes = {a->results[0]->type};
  EXPECT_EQ(b.error(), "v.nyx:2:3: error: declared result type f32[8] but "
                       "'add' produces f32[4]");
}

TEST(Verifier, ParamOpsNameDeclaredParamsOfTheirType) {
  Builder b;
  b.m.params.push_back({"w", kVec, {1, 1}});
  Function *f = b.func("f", {}, {kVec}, 2);
  Op *w = b.op(f, "param", {}, {kVec}, {3, 3}, {{"name", SymbolRef{"v"}}});
  b.ret(f, {w->result()}, {4, 3});
  std::string msg = b.error();
  EXPECT_EQ(msg.rfind("v.nyx:3:3: error: 'param' ", 0), 0u) << msg;
  EXPECT_NE(msg.find("@v"), std::string::npos) << msg;
  w->attrs["name"] = SymbolRef{"w"};
  EXPECT_TRUE(verifyModule(b.m).ok());
  b.m.params[0].type = kMat;
  EXPECT_EQ(b.error(), "v.nyx:3:3: error: declared result type f32[4] but "
                       "'param' produces f32[2,3]");
}

TEST(Verifier, CallsNameFunctionsWithMatchingArityAndTypes) {
  Builder b;
  Function *g = b.func("g", {kVec, kMat}, {kVec}, 1);
  b.ret(g, {g->params[0]}, {2, 3});
  Function *f = b.func("f", {kVec, kMat}, {kVec}, 3);
  Op *c = b.op(f, "call", {f->params[0], f->params[1]}, {kVec}, {4, 3},
               {{"callee", SymbolRef{"h"}}});
  b.ret(f, {c->result()}, {5, 3});
  std::string unknown = b.error();
  EXPECT_EQ(unknown.rfind("v.nyx:4:3: error: 'call' ", 0), 0u) << unknown;
  EXPECT_NE(unknown.find("@h"), std::string::npos) << unknown;
  c->attrs["callee"] = SymbolRef{"g"};
  EXPECT_TRUE(verifyModule(b.m).ok()) << verifyModule(b.m).message();
  c->operands.pop_back();
  std::string arity = b.error();
  EXPECT_EQ(arity.rfind("v.nyx:4:3: error: 'call' ", 0), 0u) << arity;
  c->operands = {f->params[1], f->params[0]};
  std::string types = b.error();
  EXPECT_EQ(types.rfind("v.nyx:4:3: error: 'call' ", 0), 0u) << types;
  EXPECT_NE(types.find("f32[2,3]"), std::string::npos) << types;
}

TEST(Verifier, RecursionIsRejected) {
  Builder b;
  Function *f = b.func("f", {kVec}, {kVec}, 1);
  Op *c = b.op(f, "call", {f->params[0]}, {kVec}, {2, 3},
               {{"callee", SymbolRef{"f"}}});
  b.ret(f, {c->result()}, {3, 3});
  EXPECT_EQ(b.error(), "v.nyx:2:3: error: recursive call: @f -> @f; expected "
                       "an acyclic call graph");

  Builder d;
  Function *top = d.func("top", {kVec}, {kVec}, 1);
  Function *a = d.func("a", {kVec}, {kVec}, 5);
  Function *bb = d.func("b", {kVec}, {kVec}, 9);
  Op *t = d.op(top, "call", {top->params[0]}, {kVec}, {2, 3},
               {{"callee", SymbolRef{"a"}}});
  d.ret(top, {t->result()}, {3, 3});
  Op *ca = d.op(a, "call", {a->params[0]}, {kVec}, {6, 3},
                {{"callee", SymbolRef{"b"}}});
  d.ret(a, {ca->result()}, {7, 3});
  Op *cb = d.op(bb, "call", {bb->params[0]}, {kVec}, {10, 3},
                {{"callee", SymbolRef{"a"}}});
  d.ret(bb, {cb->result()}, {11, 3});
  EXPECT_EQ(d.error(), "v.nyx:10:3: error: recursive call: @a -> @b -> @a; "
                       "expected an acyclic call graph");
}

TEST(Verifier, ReturnsMatchTheSignature) {
  Builder b;
  Function *f = b.func("f", {kVec, kMat}, {kVec, kMat});
  b.ret(f, {f->params[0]}, {2, 3});
  EXPECT_EQ(b.error(), "v.nyx:2:3: error: return has 1 value; expected 2 "
                       "(the results of @f)");
  b.ret(f, {f->params[0], f->params[0]}, {2, 3});
  EXPECT_EQ(b.error(), "v.nyx:2:3: error: returned value %x0 has type f32[4]; "
                       "expected f32[2,3] (result 1 of @f)");
  Function *g = b.func("g", {kVec}, {kVec}, 4);
  b.ret(g, {g->params[0]}, {5, 3});
  b.ret(f, {f->params[0], g->params[0]}, {2, 3});
  EXPECT_EQ(b.error(),
            "v.nyx:2:3: error: returned value 1 (%x0) is not defined "
            "in @f");
}

TEST(Verifier, ParsedModulesAreVerified) {
  auto m = parseModule("func @f(%x: f32[4]) -> (f32[4]) {\n"
                       "  %y = relu(%x)\n"
                       "  return %y\n"
                       "}\n",
                       "p.nyx");
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(verifyModule(**m).ok());
  // Breaking the module after parsing is caught with the parsed location.
  (*m)->functions[0]->ops[0]->results[0]->type = kMat;
  EXPECT_EQ(std::string(verifyModule(**m).message()),
            "p.nyx:2:3: error: declared result type f32[2,3] but 'relu' "
            "produces f32[4]");
}

} // namespace
} // namespace nyx::ir
