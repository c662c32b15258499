// The JSON form: its fields, and text -> module -> JSON (as text) -> module
// -> text giving back the original print.
#include "ir/json.h"

#include <cstring>

#include "ir/op_registry.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "gtest/gtest.h"

namespace nyx::ir {
namespace {

using nlohmann::json;

const char *kMlp = R"(module @mlp
param @fc1.weight : f32[4,8]
param @fc1.bias : f32[4]
func @layer(%x: f32[2,8], %w: f32[4,8]) -> (f32[2,4]) {
  %0 = matmul(%x, %w) {transpose_b = true}
  return %0
}
func @main(%x: f32[2,8]) -> (f32[4]) {
  %w = param() {name = @fc1.weight}
  %h = call(%x, %w) {callee = @layer}
  %b = param() {name = @fc1.bias}
  %y = add(%h, %b)
  %s = softmax(%y) {axis = -1}
  %g = gelu(%s) {approximate = "tanh"}
  %p = pad(%g) {pads = [0, 1, 0, 1], mode = "constant", value = -inf}
  %c = cast(%p) {to = bf16}
  %r = reduce_sum(%c) {axes = [0], keepdims = false}
  %f = cast(%r) {to = f32}
  %k = constant() {value = dense<[1.5, -0.0, inf, nan, 0x7FC00001, 1e-45]>} : f32[6]
  %z = add(%f, %k)
  %q = slice(%z) {starts = [0], ends = [4]}
  return %q
}
)";

const char *kConstants = R"(module @consts
func @main() -> (f64[3], f16[4], bf16[2,2], i8[3], i32[2], i64[2], bool[3]) {
  %a = constant() {value = dense<[5e-324, -nan, 0x7FF0000000000001]>} : f64[3]
  %b = constant() {value = dense<[5.9604645e-08, 65504.0, -inf, 0x7E01]>} : f16[4]
  %c = constant() {value = dense<[[1.0, -2.0], [nan, 3.0e38]]>} : bf16[2,2]
  %d = constant() {value = dense<[-128, 0, 127]>} : i8[3]
  %e = constant() {value = dense<7>} : i32[2]
  %f = constant() {value = dense<[-9223372036854775808, 9223372036854775807]>} : i64[2]
  %g = constant() {value = dense<[true, false, true]>} : bool[3]
  return %a, %b, %c, %d, %e, %f, %g
}
)";

std::unique_ptr<Module> parseOk(std::string_view text) {
  auto m = parseModule(text, "src.nyx");
  EXPECT_TRUE(m.ok()) << m.status().message();
  return m.ok() ? std::move(*m) : nullptr;
}

void expectRoundTrip(const char *text) {
  auto m = parseOk(text);
  ASSERT_NE(m, nullptr);
  std::string dumped = moduleToJson(*m).dump(1);
  auto back = moduleFromJson(json::parse(dumped), "src.json");
  ASSERT_TRUE(back.ok()) << back.status().message() << "\n" << dumped;
  EXPECT_EQ(printModule(**back), printModule(*m));
  EXPECT_EQ((*back)->filename, "src.json");
  // Locations survive too.
  const Function &f0 = *m->functions.back();
  const Function &f1 = *(*back)->functions.back();
  EXPECT_EQ(f1.loc.line, f0.loc.line);
  EXPECT_EQ(f1.returnLoc.line, f0.returnLoc.line);
  for (size_t i = 0; i < f0.ops.size(); ++i) {
    EXPECT_EQ(f1.ops[i]->loc.line, f0.ops[i]->loc.line);
    EXPECT_EQ(f1.ops[i]->loc.col, f0.ops[i]->loc.col);
  }
}

TEST(Json, RoundTripsAModelWithEveryAttributeKind) { expectRoundTrip(kMlp); }

TEST(Json, RoundTripsConstantsOfEveryDType) { expectRoundTrip(kConstants); }

TEST(Json, Fields) {
  auto m = parseOk(kMlp);
  json j = moduleToJson(*m);
  EXPECT_EQ(j["format"], "nyx-ir");
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["name"], "mlp");
  EXPECT_EQ(j["params"][0], json::parse(R"({"name": "fc1.weight", "loc": [2, 1],
                            "type": {"dtype": "f32", "shape": [4, 8]}})"));
  const json &layer = j["functions"][0];
  EXPECT_EQ(layer["name"], "layer");
  EXPECT_EQ(layer["loc"], json::parse("[4, 1]"));
  EXPECT_EQ(layer["params"][1], json::parse(R"({"name": "w",
                            "type": {"dtype": "f32", "shape": [4, 8]}})"));
  EXPECT_EQ(layer["results"],
            json::parse(R"([{"dtype": "f32", "shape": [2, 4]}])"));
  EXPECT_EQ(layer["ops"][0], json::parse(R"({
      "op": "matmul", "operands": ["x", "w"], "loc": [5, 3],
      "results": [{"name": "0", "type": {"dtype": "f32", "shape": [2, 4]}}],
      "attrs": {"transpose_b": {"kind": "bool", "value": true}}})"));
  EXPECT_EQ(layer["return"], json::parse(R"(["0"])"));
  EXPECT_EQ(layer["return_loc"], json::parse("[6, 3]"));

  const json &ops = j["functions"][1]["ops"];
  auto attr = [&](int op, const char *name) { return ops[op]["attrs"][name]; };
  EXPECT_EQ(attr(0, "name"),
            json::parse(R"({"kind": "symbol", "value": "fc1.weight"})"));
  EXPECT_EQ(attr(4, "axis"), json::parse(R"({"kind": "int", "value": -1})"));
  EXPECT_EQ(attr(5, "approximate"),
            json::parse(R"({"kind": "string", "value": "tanh"})"));
  EXPECT_EQ(attr(6, "pads"),
            json::parse(R"({"kind": "ints", "value": [0, 1, 0, 1]})"));
  EXPECT_EQ(attr(6, "value"),
            json::parse(R"({"kind": "float", "value": "-inf"})"));
  EXPECT_EQ(attr(7, "to"),
            json::parse(R"({"kind": "dtype", "value": "bf16"})"));
  json k = attr(10, "value");
  EXPECT_EQ(k["kind"], "tensor");
  EXPECT_EQ(k["dtype"], "f32");
  EXPECT_EQ(k["shape"], json::parse("[6]"));
  EXPECT_EQ(k["data"][0], 1.5);
  EXPECT_EQ(k["data"][2], "inf");
  EXPECT_EQ(k["data"][3], "nan");
  EXPECT_EQ(k["data"][4], "0x7FC00001");
  EXPECT_EQ(k["data"][5].get<double>(), 1.401298464324817e-45);
}

TEST(Json, FloatListAttribute) {
  Attributes attrs = {{"xs", std::vector<double>{0.5, -INFINITY}}};
  Module m;
  m.name = "m";
  Function *f = m.addFunction("main");
  // A float list round trips through JSON even though no op takes one yet;
  // moduleFromJson rejects the op afterwards, which is what we check here.
  TensorType t{DType::F32, {2}};
  Value *x = f->addParam("x", t);
  Op *op = f->appendOp(lookupOp("relu"), {x}, attrs, {t});
  f->resultTypes = {t};
  f->returns = {op->result()};
  json j = moduleToJson(m);
  EXPECT_EQ(j["functions"][0]["ops"][0]["attrs"]["xs"],
            json::parse(R"({"kind": "floats", "value": [0.5, "-inf"]})"));
  auto back = moduleFromJson(j, "m.json");
  ASSERT_FALSE(back.ok());
  EXPECT_NE(std::string(back.status().message()).find("xs"), std::string::npos);
}

std::string errorOf(const json &j) {
  auto m = moduleFromJson(j, "m.json");
  EXPECT_FALSE(m.ok());
  return m.ok() ? std::string() : std::string(m.status().message());
}

json validModule() { return moduleToJson(*parseOk(kMlp)); }

TEST(Json, Errors) {
  EXPECT_EQ(errorOf(json::array()),
            "m.json: error: expected a JSON object, found array");
  EXPECT_EQ(errorOf({{"format", "onnx"}}),
            "m.json: error: JSON field format: expected \"nyx-ir\", found "
            "\"onnx\"");
  json j = validModule();
  j["functions"][0]["ops"][0]["op"] = "matmull";
  EXPECT_EQ(errorOf(j), "m.json:5:3: error: JSON field functions[0].ops[0].op: "
                        "unknown op 'matmull'");
  j = validModule();
  j["functions"][0]["ops"][0].erase("results");
  EXPECT_EQ(errorOf(j), "m.json:5:3: error: JSON field functions[0].ops[0]: "
                        "missing field \"results\"");
  j = validModule();
  j["functions"][0]["ops"][0]["operands"][1] = "v";
  EXPECT_EQ(errorOf(j), "m.json:5:3: error: JSON field "
                        "functions[0].ops[0].operands[1]: use of undefined "
                        "value %v");
  j = validModule();
  j["params"][0]["type"]["dtype"] = "f31";
  EXPECT_EQ(errorOf(j), "m.json:2:1: error: JSON field params[0].type.dtype: "
                        "unknown dtype \"f31\"; expected one of f32, f16, "
                        "bf16, f64, i8, i32, i64, bool");
  j = validModule();
  j["functions"][0]["ops"][0]["attrs"]["transpose_b"]["kind"] = "boolean";
  EXPECT_EQ(errorOf(j),
            "m.json:5:3: error: JSON field "
            "functions[0].ops[0].attrs.transpose_b.kind: unknown attribute "
            "kind \"boolean\"; expected one of int, float, bool, string, "
            "ints, floats, dtype, symbol, tensor");
  j = validModule();
  j["functions"][1]["ops"][10]["attrs"]["value"]["data"].erase(0);
  EXPECT_EQ(errorOf(j), "m.json:19:3: error: JSON field "
                        "functions[1].ops[10].attrs.value.data: has 5 "
                        "elements; expected 6 for f32[6]");
  j = validModule();
  j["functions"][1]["ops"][10]["attrs"]["value"]["data"][0] = true;
  EXPECT_EQ(errorOf(j), "m.json:19:3: error: JSON field "
                        "functions[1].ops[10].attrs.value.data[0]: expected a "
                        "number for an f32 element, found true");
  // Checks beyond the JSON structure come from the verifier.
  j = validModule();
  j["functions"][0]["ops"][0]["results"][0]["type"]["shape"] = {2, 5};
  EXPECT_EQ(errorOf(j), "m.json:5:3: error: declared result type f32[2,5] but "
                        "'matmul' produces f32[2,4]");
}

} // namespace
} // namespace nyx::ir
