// The `.nyx` text parser: every syntax element, and every error with its
// location.
#include "ir/parser.h"

#include <cmath>
#include <cstdio>
#include <fstream>

#include "ir/op_registry.h"
#include "ir/printer.h"
#include "gtest/gtest.h"

namespace nyx::ir {
namespace {

std::unique_ptr<Module> parseOk(std::string_view text,
                                std::string_view file = "t.nyx") {
  auto m = parseModule(text, file);
  EXPECT_TRUE(m.ok()) << m.status().message();
  return m.ok() ? std::move(*m) : nullptr;
}

std::string errorOf(std::string_view text, std::string_view file = "t.nyx") {
  auto m = parseModule(text, file);
  EXPECT_FALSE(m.ok()) << "parsed:\n" << (m.ok() ? printModule(**m) : "");
  return m.ok() ? std::string() : std::string(m.status().message());
}

TensorType type(DType d, Shape s) { return {d, std::move(s)}; }

// ---- Syntax -----------------------------------------------------------------

TEST(Parser, ModuleHeaderNamesTheModule) {
  auto m = parseOk("module @mlp\n", "dir/x.nyx");
  EXPECT_EQ(m->name, "mlp");
  EXPECT_EQ(m->filename, "dir/x.nyx");
  EXPECT_TRUE(m->functions.empty());
}

TEST(Parser, ModuleNameDefaultsToTheFileStem) {
  EXPECT_EQ(parseOk("", "models/my-net.v2.nyx")->name, "my_net");
  EXPECT_EQ(parseOk("", "3d.nyx")->name, "_3d");
  EXPECT_EQ(parseOk("", "<stdin>")->name, "model");
  EXPECT_EQ(parseOk("", "")->name, "model");
  EXPECT_EQ(defaultModuleName("a/b/c.nyx"), "c");
  EXPECT_EQ(defaultModuleName("-"), "model");
}

TEST(Parser, ParamDeclarations) {
  auto m = parseOk("param @fc1.weight : f32[128,784]\n"
                   "param @fc1.bias : f32[128]\n"
                   "param @step : i64[]\n");
  ASSERT_EQ(m->params.size(), 3u);
  EXPECT_EQ(m->params[0].name, "fc1.weight");
  EXPECT_EQ(m->params[0].type, type(DType::F32, {128, 784}));
  EXPECT_EQ(m->params[0].loc.line, 1);
  EXPECT_EQ(m->params[0].loc.col, 1);
  EXPECT_EQ(m->params[2].type, type(DType::I64, {}));
  EXPECT_EQ(m->params[2].loc.line, 3);
}

TEST(Parser, FunctionSignatureAndLocations) {
  auto m =
      parseOk("module @m\n"
              "\n"
              "  func @f(%x: f32[2,3], %y.1: i32[]) -> (f32[2,3], i32[]) {\n"
              "    return %x, %y.1\n"
              "  }\n");
  Function *f = m->lookupFunction("f");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->loc.line, 3);
  EXPECT_EQ(f->loc.col, 3);
  ASSERT_EQ(f->params.size(), 2u);
  EXPECT_EQ(f->params[1]->name, "y.1");
  EXPECT_EQ(f->params[1]->type, type(DType::I32, {}));
  ASSERT_EQ(f->resultTypes.size(), 2u);
  EXPECT_EQ(f->resultTypes[0], type(DType::F32, {2, 3}));
  ASSERT_EQ(f->returns.size(), 2u);
  EXPECT_EQ(f->returns[0], f->params[0]);
  EXPECT_EQ(f->returnLoc.line, 4);
  EXPECT_EQ(f->returnLoc.col, 5);
}

TEST(Parser, GenericOpFormWithAttributesAndTypes) {
  auto m = parseOk(
      "func @layer(%x: f32[32,784], %w: f32[128,784]) -> (f32[32,128]) {\n"
      "  %0 = matmul(%x, %w) {transpose_b = true} : f32[32,128]\n"
      "  return %0\n"
      "}\n");
  Function *f = m->lookupFunction("layer");
  ASSERT_EQ(f->ops.size(), 1u);
  const Op &op = *f->ops[0];
  EXPECT_EQ(op.name(), "matmul");
  EXPECT_EQ(op.loc.line, 2);
  EXPECT_EQ(op.loc.col, 3);
  ASSERT_EQ(op.numOperands(), 2);
  EXPECT_EQ(op.operand(0), f->params[0]);
  EXPECT_EQ(op.operand(1), f->params[1]);
  EXPECT_EQ(op.result()->name, "0");
  EXPECT_EQ(op.result()->type, type(DType::F32, {32, 128}));
  EXPECT_EQ(std::get<bool>(*op.find("transpose_b")), true);
  EXPECT_EQ(f->returns[0], op.result());
}

TEST(Parser, ResultTypesAreInferredWhenOmitted) {
  auto m = parseOk("func @f(%a: f32[2,3], %b: f32[3]) -> (f32[2,3]) {\n"
                   "  %s = add(%a, %b)\n"
                   "  %t = relu(%s) {}\n"
                   "  return %t\n"
                   "}\n");
  Function *f = m->lookupFunction("f");
  EXPECT_EQ(f->ops[0]->result()->type, type(DType::F32, {2, 3}));
  EXPECT_EQ(f->ops[1]->result()->type, type(DType::F32, {2, 3}));
  EXPECT_TRUE(f->ops[1]->attrs.empty());
}

TEST(Parser, ParamAndCallOpsAndForwardReferences) {
  auto m = parseOk(
      "module @mlp\n"
      "param @fc1.weight : f32[128,784]\n"
      "func @main(%x: f32[32,784]) -> (f32[32,128]) {\n"
      "  %w = param() {name = @fc1.weight} : f32[128,784]\n"
      "  %h = call(%x, %w) {callee = @layer}\n"
      "  return %h\n"
      "}\n"
      "func @layer(%x: f32[32,784], %w: f32[128,784]) -> (f32[32,128]) {\n"
      "  %0 = matmul(%x, %w) {transpose_b = true}\n"
      "  return %0\n"
      "}\n");
  Function *main = m->lookupFunction("main");
  EXPECT_EQ(std::get<SymbolRef>(*main->ops[0]->find("name")).name,
            "fc1.weight");
  EXPECT_EQ(std::get<SymbolRef>(*main->ops[1]->find("callee")).name, "layer");
  EXPECT_EQ(main->ops[1]->result()->type, type(DType::F32, {32, 128}));
}

TEST(Parser, SeveralResults) {
  auto m = parseOk("func @two(%x: f32[2]) -> (f32[2], f32[2]) {\n"
                   "  %n = neg(%x)\n"
                   "  return %x, %n\n"
                   "}\n"
                   "func @main(%x: f32[2]) -> (f32[2]) {\n"
                   "  %a, %b = call(%x) {callee = @two} : f32[2], f32[2]\n"
                   "  %c, %d = call(%x) {callee = @two}\n"
                   "  %s = add(%b, %d)\n"
                   "  return %s\n"
                   "}\n");
  Function *main = m->lookupFunction("main");
  ASSERT_EQ(main->ops[0]->results.size(), 2u);
  EXPECT_EQ(main->ops[0]->results[1]->name, "b");
  EXPECT_EQ(main->ops[0]->results[1]->index, 1);
  EXPECT_EQ(main->ops[2]->operand(0), main->ops[0]->results[1]);
  EXPECT_EQ(main->ops[2]->operand(1), main->ops[1]->results[1]);
}

TEST(Parser, CommentsAndWhitespace) {
  auto m = parseOk("// a model\n"
                   "module @m // trailing\n"
                   "func @f(%x: f32[2]) -> (f32[2]) { // body\n"
                   "  // only a comment\n"
                   "  %y = neg(%x)//no space\n"
                   "\treturn %y\n"
                   "}\n"
                   "// end");
  EXPECT_EQ(m->lookupFunction("f")->ops.size(), 1u);
}

TEST(Parser, QuotedNames) {
  auto m = parseOk("param @\"conv/weight:0\" : f32[2]\n"
                   "func @\"my fn\"(%\"in put\": f32[2]) -> (f32[2]) {\n"
                   "  %\"a\\\"b\" = neg(%\"in put\")\n"
                   "  return %\"a\\\"b\"\n"
                   "}\n");
  EXPECT_NE(m->lookupParam("conv/weight:0"), nullptr);
  Function *f = m->lookupFunction("my fn");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->params[0]->name, "in put");
  EXPECT_EQ(f->ops[0]->result()->name, "a\"b");
}

TEST(Parser, ValueAndSymbolNameCharacters) {
  auto m = parseOk("param @layer-1.w_2 : f32[2]\n"
                   "func @f(%x.1: f32[2]) -> (f32[2]) {\n"
                   "  %0 = param() {name = @layer-1.w_2}\n"
                   "  %h1 = add(%x.1, %0)\n"
                   "  %_a-b.c = neg(%h1)\n"
                   "  return %_a-b.c\n"
                   "}\n");
  EXPECT_EQ(m->lookupFunction("f")->ops[2]->result()->name, "_a-b.c");
}

// ---- Attributes -------------------------------------------------------------

Attribute attrOk(std::string_view text) {
  auto a = parseAttribute(text);
  EXPECT_TRUE(a.ok()) << text << ": " << a.status().message();
  return a.ok() ? *a : Attribute();
}

std::string attrError(std::string_view text) {
  auto a = parseAttribute(text);
  EXPECT_FALSE(a.ok()) << text;
  return a.ok() ? std::string() : std::string(a.status().message());
}

TEST(ParserAttributes, EachKind) {
  EXPECT_EQ(std::get<int64_t>(attrOk("42")), 42);
  EXPECT_EQ(std::get<int64_t>(attrOk("-3")), -3);
  EXPECT_EQ(std::get<int64_t>(attrOk("-9223372036854775808")), INT64_MIN);
  EXPECT_EQ(std::get<double>(attrOk("1.5")), 1.5);
  EXPECT_EQ(std::get<double>(attrOk("1e-5")), 1e-5);
  EXPECT_EQ(std::get<double>(attrOk("2.")), 2.0);
  EXPECT_EQ(std::get<double>(attrOk("-inf")), -INFINITY);
  EXPECT_TRUE(std::isnan(std::get<double>(attrOk("nan"))));
  EXPECT_TRUE(std::signbit(std::get<double>(attrOk("-nan"))));
  EXPECT_TRUE(std::signbit(std::get<double>(attrOk("-0.0"))));
  EXPECT_EQ(std::get<bool>(attrOk("true")), true);
  EXPECT_EQ(std::get<bool>(attrOk("false")), false);
  EXPECT_EQ(std::get<std::string>(attrOk(R"("a\"b\\c\n\t\r\x01")")),
            "a\"b\\c\n\t\r\x01");
  EXPECT_EQ(std::get<std::vector<int64_t>>(attrOk("[1, -2, 3]")),
            (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(std::get<std::vector<int64_t>>(attrOk("[]")),
            std::vector<int64_t>{});
  EXPECT_EQ(std::get<std::vector<double>>(attrOk("[1.5, 2.0]")),
            (std::vector<double>{1.5, 2.0}));
  // One float makes the whole list a float list.
  EXPECT_EQ(std::get<std::vector<double>>(attrOk("[1, 2.5, inf]")),
            (std::vector<double>{1, 2.5, INFINITY}));
  EXPECT_EQ(std::get<DType>(attrOk("bf16")), DType::BF16);
  EXPECT_EQ(std::get<SymbolRef>(attrOk("@fc1.weight")).name, "fc1.weight");
  auto t = std::get<std::shared_ptr<const Tensor>>(
      attrOk("dense<[[1, 2, 3], [4, 5, 6]]> : i32[2,3]"));
  EXPECT_EQ(t->type(), type(DType::I32, {2, 3}));
  EXPECT_EQ(t->getInt(5), 6);
}

TEST(ParserAttributes, DenseLiterals) {
  auto get = [](std::string_view text) {
    return *std::get<std::shared_ptr<const Tensor>>(attrOk(text));
  };
  Tensor splat = get("dense<0.5> : f32[2,2]");
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(splat.getDouble(i), 0.5);
  EXPECT_EQ(get("dense<7> : i64[]").getInt(0), 7);
  EXPECT_EQ(get("dense<[true, false]> : bool[2]").getInt(1), 0);
  EXPECT_EQ(get("dense<[]> : f32[0]").numElements(), 0);
  EXPECT_EQ(get("dense<[[], []]> : f32[2,0]").numElements(), 0);
  EXPECT_EQ(get("dense<[1, 2]> : f64[2]").getDouble(1), 2.0); // ints in floats
  EXPECT_EQ(get("dense<[-128, 127]> : i8[2]").getInt(0), -128);
  EXPECT_EQ(get("dense<65504.0> : f16[]").getDouble(0), 65504.0);
  EXPECT_EQ(get("dense<0x7FC00001> : f32[]").data<uint32_t>()[0], 0x7FC00001u);
  EXPECT_EQ(get("dense<-nan> : f16[]").data<uint16_t>()[0], 0xFE00u);
  EXPECT_EQ(get("dense<nan> : bf16[]").data<uint16_t>()[0], 0x7FC0u);
  // Subnormal f32: from_chars reports these as out of range; they still read.
  EXPECT_EQ(get("dense<1e-45> : f32[]").data<uint32_t>()[0], 1u);
  EXPECT_EQ(get("dense<1e-50> : f32[]").getDouble(0), 0.0);
}

TEST(ParserAttributes, Errors) {
  EXPECT_EQ(attrError("dense<[1, 2]>"),
            "<attribute>:1:1: error: dense literal has no type; expected "
            "dense<...> : TYPE");
  EXPECT_EQ(attrError("dense<[1, 2, 3]> : f32[2]"),
            "<attribute>:1:7: error: dense literal has 3 elements in "
            "dimension 0; expected 2 for f32[2]");
  EXPECT_EQ(attrError("dense<[[1], [2, 3]]> : f32[2,1]"),
            "<attribute>:1:13: error: dense literal has 2 elements in "
            "dimension 1; expected 1 for f32[2,1]");
  EXPECT_EQ(attrError("dense<[1, 2]> : f32[2,1]"),
            "<attribute>:1:8: error: dense literal has an element where "
            "dimension 1 of f32[2,1] needs a list; expected '['");
  EXPECT_EQ(attrError("dense<[[1]]> : f32[1]"),
            "<attribute>:1:8: error: dense literal is nested deeper than the "
            "rank of f32[1] (1); expected an element");
  EXPECT_EQ(attrError("dense<[1.0]> : f32[]"),
            "<attribute>:1:7: error: dense literal is nested deeper than the "
            "rank of f32[] (0); expected an element");
  EXPECT_EQ(attrError("dense<2.5> : i32[]"),
            "<attribute>:1:7: error: expected an integer for an i32 element, "
            "found 2.5");
  EXPECT_EQ(attrError("dense<128> : i8[]"),
            "<attribute>:1:7: error: element 128 is out of range for i8 "
            "(-128 to 127)");
  EXPECT_EQ(attrError("dense<1> : bool[]"),
            "<attribute>:1:7: error: expected true or false for a bool "
            "element, found 1");
  EXPECT_EQ(attrError("dense<true> : f32[]"),
            "<attribute>:1:7: error: expected a number for an f32 element, "
            "found true");
  EXPECT_EQ(attrError("dense<1e39> : f32[]"),
            "<attribute>:1:7: error: number 1e39 is out of range for f32");
  EXPECT_EQ(attrError("dense<70000.0> : f16[]"),
            "<attribute>:1:7: error: number 70000.0 is out of range for f16");
  EXPECT_EQ(attrError("dense<0x10000> : f16[]"),
            "<attribute>:1:7: error: bit pattern 0x10000 does not fit in the "
            "16 bits of an f16 element");
  EXPECT_EQ(attrError("dense<0x1> : i32[]"),
            "<attribute>:1:7: error: expected an integer for an i32 element, "
            "found 0x1");
  EXPECT_EQ(attrError("dense<@f> : f32[]"),
            "<attribute>:1:7: error: expected a number, true, false or '[' "
            "in a dense literal, found @f");
  EXPECT_EQ(attrError("dense<[1, 2] : f32[2]"),
            "<attribute>:1:14: error: expected '>' to close the dense "
            "literal, found ':'");
  EXPECT_EQ(attrError("[1, true]"),
            "<attribute>:1:5: error: expected a number in a list attribute, "
            "found 'true'");
  EXPECT_EQ(attrError("[1, [2]]"),
            "<attribute>:1:5: error: expected a number in a list attribute, "
            "found '['");
  EXPECT_EQ(attrError("9223372036854775808"),
            "<attribute>:1:1: error: integer 9223372036854775808 does not "
            "fit in 64 bits");
  EXPECT_EQ(attrError("1e400"),
            "<attribute>:1:1: error: number 1e400 is out of range for f64");
  EXPECT_EQ(attrError("g32"),
            "<attribute>:1:1: error: unknown dtype 'g32'; expected one of "
            "f32, f16, bf16, f64, i8, i32, i64, bool or another attribute "
            "value (a number, true, false, \"string\", [list], @symbol, "
            "dense<...>)");
  EXPECT_EQ(attrError("\"abc"),
            "<attribute>:1:1: error: unterminated string; expected a closing "
            "'\"'");
  EXPECT_EQ(attrError("\"a\\qb\""),
            "<attribute>:1:3: error: unknown escape '\\q'; expected one of "
            "\\\" \\\\ \\n \\t \\r \\xHH");
  EXPECT_EQ(attrError("1 2"), "<attribute>:1:3: error: expected end of input "
                              "after the attribute, found '2'");
}

// ---- Errors, each with its location -----------------------------------------

TEST(ParserErrors, UnexpectedTokens) {
  EXPECT_EQ(errorOf("func @f(%x: f32[2]) -> (f32[2]) {\n  return %x\n"),
            "t.nyx:3:1: error: expected '}' to close function @f, found end "
            "of input");
  EXPECT_EQ(
      errorOf("funk @f"),
      "t.nyx:1:1: error: expected 'param', 'func' or 'kernel', found 'funk'");
  EXPECT_EQ(errorOf("func f()"), "t.nyx:1:6: error: expected the function "
                                 "name (@name) after 'func', found 'f'");
  EXPECT_EQ(errorOf("func @f(%x f32[2])"),
            "t.nyx:1:12: error: expected ':' and a type after the parameter, "
            "found 'f32'");
  EXPECT_EQ(errorOf("func @f() (f32[2])"),
            "t.nyx:1:11: error: expected '->' and the result types, found "
            "'('");
  EXPECT_EQ(errorOf("func @f(%x: f32[2]) -> (f32[2]) {\n"
                    "  %y = neg(%x\n"
                    "  return %y\n"
                    "}\n"),
            "t.nyx:3:3: error: expected ',' or ')' after an operand, found "
            "'return'");
  EXPECT_EQ(errorOf("func @f(%x: f32[2]) -> (f32[2]) {\n"
                    "  %y neg(%x)\n"
                    "  return %y\n"
                    "}\n"),
            "t.nyx:2:6: error: expected '=' after the result names, found "
            "'neg'");
  EXPECT_EQ(errorOf("func @f(%x: f32[2]) -> (f32[2]) {\n"
                    "  %y = neg(%x) {axis 1}\n"
                    "  return %y\n"
                    "}\n"),
            "t.nyx:2:22: error: expected '=' after attribute name 'axis', "
            "found '1'");
  EXPECT_EQ(errorOf("func @f(%x: f32[2]) -> (f32[2]) {\n"
                    "  return %x %x\n"
                    "}\n"),
            "t.nyx:2:13: error: expected '}' after the return (return ends "
            "the body), found %x");
  EXPECT_EQ(errorOf("param @w : f32[2 3]"),
            "t.nyx:1:18: error: expected ',' or ']' after a dimension, found "
            "'3'");
  EXPECT_EQ(errorOf("param @w : f32[-1]"),
            "t.nyx:1:16: error: dimension -1 is negative; expected a "
            "non-negative integer");
  EXPECT_EQ(errorOf("param @w : f32"),
            "t.nyx:1:15: error: expected '[' and the shape after f32, found "
            "end of input");
  EXPECT_EQ(errorOf("module @m\nmodule @n"),
            "t.nyx:2:1: error: 'module' must come first and only once; "
            "expected 'param', 'func' or 'kernel'");
  EXPECT_EQ(errorOf("module @a.b"),
            "t.nyx:1:8: error: module name @a.b is not a C identifier; "
            "expected letters, digits and '_', not starting with a digit");
}

TEST(ParserErrors, LexicalErrors) {
  EXPECT_EQ(errorOf("param @w : f32[2]\n  # comment"),
            "t.nyx:2:3: error: unexpected character '#'; expected a name, "
            "number, string or punctuation");
  EXPECT_EQ(errorOf("func @f(% : f32[2])"),
            "t.nyx:1:9: error: expected a name after '%' (letters, digits, "
            "'_', '.', '-' or a quoted string)");
  EXPECT_EQ(errorOf("param @w : f32[1e]"),
            "t.nyx:1:16: error: expected digits in the exponent of a number");
  EXPECT_EQ(errorOf("func @f(%x: f32[2]) -> (f32[2]) {\n"
                    "  %c = constant() {value = dense<0x>} : f32[]\n"),
            "t.nyx:2:34: error: expected hexadecimal digits after '0x'");
  EXPECT_EQ(errorOf("param @w : f32[2x]"),
            "t.nyx:1:17: error: unexpected character 'x' after a number; "
            "expected a separator");
}

TEST(ParserErrors, UnknownOp) {
  EXPECT_EQ(errorOf("func @f(%x: f32[2]) -> (f32[2]) {\n"
                    "  %y = foo(%x) : f32[2]\n"
                    "  return %y\n"
                    "}\n"),
            "t.nyx:2:8: error: unknown op 'foo'");
}

TEST(ParserErrors, UndefinedAndRedefinedValues) {
  EXPECT_EQ(errorOf("func @f(%x: f32[2]) -> (f32[2]) {\n"
                    "  %y = add(%x, %z)\n"
                    "  return %y\n"
                    "}\n"),
            "t.nyx:2:16: error: use of undefined value %z");
  EXPECT_EQ(errorOf("func @f(%x: f32[2]) -> (f32[2]) {\n"
                    "  %y = neg(%y)\n"
                    "  return %y\n"
                    "}\n"),
            "t.nyx:2:12: error: use of undefined value %y");
  EXPECT_EQ(errorOf("func @f(%x: f32[2]) -> (f32[2]) {\n"
                    "  return %q\n"
                    "}\n"),
            "t.nyx:2:10: error: use of undefined value %q");
  EXPECT_EQ(errorOf("func @f(%x: f32[2]) -> (f32[2]) {\n"
                    "  %x = neg(%x)\n"
                    "  return %x\n"
                    "}\n"),
            "t.nyx:2:3: error: value %x is already defined at 1:9");
  EXPECT_EQ(errorOf("func @f(%x: f32[2], %x: f32[2]) -> (f32[2]) {\n"
                    "  return %x\n"
                    "}\n"),
            "t.nyx:1:21: error: value %x is already defined at 1:9");
  EXPECT_EQ(errorOf("func @g(%x: f32[2]) -> (f32[2], f32[2]) {\n"
                    "  return %x, %x\n"
                    "}\n"
                    "func @f(%x: f32[2]) -> (f32[2]) {\n"
                    "  %a, %a = call(%x) {callee = @g}\n"
                    "  return %a\n"
                    "}\n"),
            "t.nyx:5:7: error: value %a is already defined at 5:3");
}

TEST(ParserErrors, RedefinedFunctionAndParam) {
  EXPECT_EQ(errorOf("func @f() -> () {\n  return\n}\n"
                    "func @f() -> () {\n  return\n}\n"),
            "t.nyx:4:6: error: function @f is already defined at 1:1");
  EXPECT_EQ(errorOf("param @w : f32[2]\nparam @w : f32[3]\n"),
            "t.nyx:2:7: error: param @w is already declared at 1:1");
}

TEST(ParserErrors, CallErrorsComeFromTheCallShapeRule) {
  const char *callee = "func @g(%a: f32[2], %b: f32[3]) -> (f32[2]) {\n"
                       "  return %a\n"
                       "}\n";
  std::string unknown =
      errorOf(std::string(callee) + "func @f(%x: f32[2]) -> (f32[2]) {\n"
                                    "  %y = call(%x) {callee = @nope}\n"
                                    "  return %y\n"
                                    "}\n");
  EXPECT_EQ(unknown.rfind("t.nyx:5:3: error: ", 0), 0u) << unknown;
  EXPECT_NE(unknown.find("@nope"), std::string::npos) << unknown;
  std::string arity =
      errorOf(std::string(callee) + "func @f(%x: f32[2]) -> (f32[2]) {\n"
                                    "  %y = call(%x) {callee = @g}\n"
                                    "  return %y\n"
                                    "}\n");
  EXPECT_EQ(arity.rfind("t.nyx:5:3: error: ", 0), 0u) << arity;
  EXPECT_NE(arity.find("expected 2"), std::string::npos) << arity;
  std::string types =
      errorOf(std::string(callee) + "func @f(%x: f32[2]) -> (f32[2]) {\n"
                                    "  %y = call(%x, %x) {callee = @g}\n"
                                    "  return %y\n"
                                    "}\n");
  EXPECT_EQ(types.rfind("t.nyx:5:3: error: ", 0), 0u) << types;
  EXPECT_NE(types.find("f32[3]"), std::string::npos) << types;
}

TEST(ParserErrors, ResultCountMismatch) {
  const char *two = "func @two(%x: f32[2]) -> (f32[2], f32[2]) {\n"
                    "  return %x, %x\n"
                    "}\n";
  EXPECT_EQ(errorOf(std::string(two) + "func @f(%x: f32[2]) -> (f32[2]) {\n"
                                       "  %y = call(%x) {callee = @two}\n"
                                       "  return %y\n"
                                       "}\n"),
            "t.nyx:5:3: error: 'call' produces 2 results but 1 name is bound");
  EXPECT_EQ(errorOf(std::string(two) +
                    "func @f(%x: f32[2]) -> (f32[2]) {\n"
                    "  %y = call(%x) {callee = @two} : f32[2]\n"
                    "  return %y\n"
                    "}\n"),
            "t.nyx:5:3: error: 'call' produces 2 results but 1 result type "
            "is declared");
  EXPECT_EQ(errorOf("func @f(%x: f32[2]) -> (f32[2]) {\n"
                    "  %y = neg(%x) : f32[2], f32[2]\n"
                    "  return %y\n"
                    "}\n"),
            "t.nyx:2:3: error: 'neg' binds 1 result name but declares 2 "
            "result types; expected one type per name");
}

TEST(ParserErrors, TypeErrorsFromShapeRules) {
  EXPECT_EQ(errorOf("func @f(%x: f32[2]) -> (f32[3]) {\n"
                    "  %y = neg(%x) : f32[3]\n"
                    "  return %y\n"
                    "}\n"),
            "t.nyx:2:3: error: declared result type f32[3] but 'neg' "
            "produces f32[2]");
  std::string bad = errorOf("func @f(%x: f32[2], %y: f32[3]) -> (f32[2]) {\n"
                            "  %z = add(%x, %y)\n"
                            "  return %z\n"
                            "}\n");
  EXPECT_EQ(bad.rfind("t.nyx:2:3: error: 'add' ", 0), 0u) << bad;
  EXPECT_EQ(errorOf("func @f(%x: f32[2]) -> (f32[2]) {\n"
                    "  %y = add(%x)\n"
                    "  return %y\n"
                    "}\n"),
            "t.nyx:2:8: error: 'add' takes 2 operands; found 1");
  // A dense literal takes the declared result type, so it needs one.
  EXPECT_EQ(errorOf("func @f() -> (f32[2]) {\n"
                    "  %c = constant() {value = dense<[1.0, 2.0]>}\n"
                    "  return %c\n"
                    "}\n"),
            "t.nyx:2:28: error: dense literal of attribute 'value' has no "
            "type; declare the op's result type or write dense<...> : TYPE");
  std::string param = errorOf("func @f() -> (f32[2]) {\n"
                              "  %w = param() {name = @missing}\n"
                              "  return %w\n"
                              "}\n");
  EXPECT_EQ(param.rfind("t.nyx:2:3: error: ", 0), 0u) << param;
  EXPECT_NE(param.find("@missing"), std::string::npos) << param;
}

TEST(ParserErrors, BadAttributes) {
  EXPECT_EQ(errorOf("func @f(%x: f32[2]) -> (f32[2]) {\n"
                    "  %y = softmax(%x) {axis = 0, axis = 0}\n"
                    "  return %y\n"
                    "}\n"),
            "t.nyx:2:31: error: duplicate attribute 'axis' (first given at "
            "2:21); expected each name once");
  EXPECT_EQ(errorOf("func @f(%x: f32[2]) -> (f32[2]) {\n"
                    "  %y = cast(%x) {to = f31}\n"
                    "  return %y\n"
                    "}\n"),
            "t.nyx:2:23: error: unknown dtype 'f31'; expected one of f32, "
            "f16, bf16, f64, i8, i32, i64, bool or another attribute value "
            "(a number, true, false, \"string\", [list], @symbol, "
            "dense<...>)");
  EXPECT_EQ(errorOf("func @f(%x: f32[2]) -> (f32[2]) {\n"
                    "  %y = softmax(%x) {axis = }\n"
                    "  return %y\n"
                    "}\n"),
            "t.nyx:2:28: error: expected an attribute value (a number, true, "
            "false, \"string\", [list], dtype, @symbol, dense<...>), found "
            "'}'");
  std::string kind = errorOf("func @f(%x: f32[2]) -> (f32[2]) {\n"
                             "  %y = softmax(%x) {axis = \"last\"}\n"
                             "  return %y\n"
                             "}\n");
  EXPECT_EQ(kind.rfind("t.nyx:2:3: error: ", 0), 0u) << kind;
  EXPECT_NE(kind.find("axis"), std::string::npos) << kind;
  EXPECT_EQ(errorOf("func @f() -> (f32[2]) {\n"
                    "  %c = constant() {value = dense<[1.0]>} : f32[2]\n"
                    "  return %c\n"
                    "}\n"),
            "t.nyx:2:34: error: dense literal has 1 element in dimension 0; "
            "expected 2 for f32[2]");
}

TEST(ParserErrors, UnknownDType) {
  EXPECT_EQ(errorOf("param @w : g32[2]"),
            "t.nyx:1:12: error: unknown dtype 'g32'; expected one of f32, "
            "f16, bf16, f64, i8, i32, i64, bool");
}

TEST(ParserErrors, ReturnMismatches) {
  EXPECT_EQ(errorOf("func @f(%x: f32[2]) -> (f32[2], f32[2]) {\n"
                    "  return %x\n"
                    "}\n"),
            "t.nyx:2:3: error: return has 1 value; expected 2 (the results "
            "of @f)");
  EXPECT_EQ(errorOf("func @f(%x: f32[2], %y: f32[3]) -> (f32[2], f32[2]) {\n"
                    "  return %x, %y\n"
                    "}\n"),
            "t.nyx:2:14: error: returned value %y has type f32[3]; expected "
            "f32[2] (result 1 of @f)");
  EXPECT_EQ(errorOf("func @f(%x: f32[2]) -> (f32[2]) {\n"
                    "  %y = neg(%x)\n"
                    "}\n"),
            "t.nyx:3:1: error: function @f has no return; expected 'return' "
            "as the last statement of the body");
}

TEST(ParserErrors, RecursionIsRejected) {
  EXPECT_EQ(errorOf("func @f(%x: f32[2]) -> (f32[2]) {\n"
                    "  %y = call(%x) {callee = @g}\n"
                    "  return %y\n"
                    "}\n"
                    "func @g(%x: f32[2]) -> (f32[2]) {\n"
                    "  %y = call(%x) {callee = @f}\n"
                    "  return %y\n"
                    "}\n"),
            "t.nyx:6:3: error: recursive call: @f -> @g -> @f; expected an "
            "acyclic call graph");
}

TEST(ParserFiles, ReadsAFileAndNamesItInDiagnostics) {
  std::string path = ::testing::TempDir() + "/parser_file_test.nyx";
  {
    std::ofstream out(path);
    out << "func @f(%x: f32[2]) -> (f32[2]) {\n  return %q\n}\n";
  }
  auto m = parseModuleFile(path);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(std::string(m.status().message()),
            path + ":2:10: error: use of undefined value %q");
  std::remove(path.c_str());
  auto missing = parseModuleFile(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(std::string(missing.status().message()),
            "cannot read " + path + ": No such file or directory");
}

TEST(ParserFiles, ParsedFileKeepsItsPathAndStem) {
  std::string path = ::testing::TempDir() + "/tiny-net.nyx";
  {
    std::ofstream out(path);
    out << "func @f(%x: f32[2]) -> (f32[2]) {\n  return %x\n}\n";
  }
  auto m = parseModuleFile(path);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ((*m)->filename, path);
  EXPECT_EQ((*m)->name, "tiny_net");
  std::remove(path.c_str());
}

} // namespace
} // namespace nyx::ir
