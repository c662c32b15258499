// The printer: exact output, and print -> parse -> print identity on modules
// covering every attribute kind and every dtype's constants, special float
// values included.
#include "ir/printer.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "ir/half.h"
#include "ir/op_registry.h"
#include "ir/parser.h"
#include "gtest/gtest.h"

namespace nyx::ir {
namespace {

// Parses `text`, prints it, parses the print and prints again: both prints
// must be equal. Returns the first print.
std::string roundTrip(std::string_view text) {
  auto m = parseModule(text, "in.nyx");
  EXPECT_TRUE(m.ok()) << m.status().message();
  if (!m.ok())
    return "";
  std::string first = printModule(**m);
  auto again = parseModule(first, "printed.nyx");
  EXPECT_TRUE(again.ok()) << again.status().message() << "\n" << first;
  if (!again.ok())
    return first;
  EXPECT_EQ(printModule(**again), first);
  return first;
}

TEST(Printer, ExactFormat) {
  std::string text = "module @mlp\n"
                     "param @fc1.weight : f32[128,784]\n"
                     "param @fc1.bias : f32[128]\n"
                     "func @layer(%x: f32[32,784], %w: f32[128,784]) -> "
                     "(f32[32,128]) {\n"
                     "  %0 = matmul(%x,%w){transpose_b=true}\n"
                     "  return %0\n"
                     "}\n"
                     "func @main(%x: f32[32,784]) -> (f32[32,128]) {\n"
                     "  %w = param() {name = @fc1.weight}\n"
                     "  %h = call(%x, %w) {callee = @layer}\n"
                     "  %b = param() {name = @fc1.bias}\n"
                     "  %y = add(%h, %b)\n"
                     "  return %y\n"
                     "}\n";
  EXPECT_EQ(roundTrip(text),
            "module @mlp\n"
            "\n"
            "param @fc1.weight : f32[128,784]\n"
            "param @fc1.bias : f32[128]\n"
            "\n"
            "func @layer(%x: f32[32,784], %w: f32[128,784]) -> (f32[32,128]) "
            "{\n"
            "  %0 = matmul(%x, %w) {transpose_b = true} : f32[32,128]\n"
            "  return %0\n"
            "}\n"
            "\n"
            "func @main(%x: f32[32,784]) -> (f32[32,128]) {\n"
            "  %w = param() {name = @fc1.weight} : f32[128,784]\n"
            "  %h = call(%x, %w) {callee = @layer} : f32[32,128]\n"
            "  %b = param() {name = @fc1.bias} : f32[128]\n"
            "  %y = add(%h, %b) : f32[32,128]\n"
            "  return %y\n"
            "}\n");
}

TEST(Printer, ParamsComeFirstAndAttributesInNameOrder) {
  std::string printed =
      roundTrip("func @f(%x: f32[2,3]) -> (f32[2]) {\n"
                "  %s = reduce_sum(%x) {keepdims = false, axes = [1]}\n"
                "  return %s\n"
                "}\n"
                "param @late : f32[2]\n");
  EXPECT_EQ(printed, "module @in\n"
                     "\n"
                     "param @late : f32[2]\n"
                     "\n"
                     "func @f(%x: f32[2,3]) -> (f32[2]) {\n"
                     "  %s = reduce_sum(%x) {axes = [1], keepdims = false} : "
                     "f32[2]\n"
                     "  return %s\n"
                     "}\n");
}

TEST(Printer, PrintOpAndPrintFunction) {
  auto m = parseModule("func @two(%x: f32[2]) -> (f32[2], f32[2]) {\n"
                       "  return %x, %x\n"
                       "}\n"
                       "func @f(%x: f32[2]) -> (f32[2]) {\n"
                       "  %a, %b = call(%x) {callee = @two}\n"
                       "  return %b\n"
                       "}\n",
                       "t.nyx");
  ASSERT_TRUE(m.ok()) << m.status().message();
  Function *f = (*m)->lookupFunction("f");
  EXPECT_EQ(printOp(*f->ops[0]),
            "%a, %b = call(%x) {callee = @two} : f32[2], f32[2]");
  EXPECT_EQ(printFunction(*(*m)->lookupFunction("two")),
            "func @two(%x: f32[2]) -> (f32[2], f32[2]) {\n"
            "  return %x, %x\n"
            "}\n");
}

TEST(Printer, QuotesNamesThatAreNotBare) {
  std::string printed =
      roundTrip("param @\"conv/w:0\" : f32[2]\n"
                "func @\"f g\"(%\"a b\": f32[2]) -> (f32[2]) {\n"
                "  %\"w\\n\" = param() {name = @\"conv/w:0\"}\n"
                "  %\"s\" = add(%\"a b\", %\"w\\n\")\n"
                "  return %s\n"
                "}\n");
  EXPECT_NE(printed.find("param @\"conv/w:0\" : f32[2]"), std::string::npos);
  EXPECT_NE(printed.find("func @\"f g\"(%\"a b\": f32[2])"), std::string::npos);
  EXPECT_NE(printed.find("%s = add(%\"a b\", %\"w\\n\")"), std::string::npos)
      << printed;
}

TEST(Printer, EveryOpAttributeKindRoundTrips) {
  roundTrip("func @f(%x: f32[1,2,4,4], %w: f32[3,2,2,2], %i: i64[3]) -> "
            "(f32[1,3,3,3]) {\n"
            "  %c = conv2d(%x, %w) {strides = [1, 1], padding = [0, 0, 0, 0],"
            " dilations = [1, 1], groups = 1}\n"
            "  %g = gelu(%c) {approximate = \"tanh\"}\n"
            "  %h = cast(%g) {to = f16}\n"
            "  %k = cast(%h) {to = f32}\n"
            "  %p = pad(%k) {pads = [0, 0, 0, 0, 0, 0, 0, 0], mode = "
            "\"constant\", value = -1.5e-3}\n"
            "  %n = layer_norm(%p) {axis = -1, epsilon = 1e-5}\n"
            "  %m = reduce_max(%n) {axes = [], keepdims = true}\n"
            "  %s = softmax(%m) {axis = 3}\n"
            "  return %s\n"
            "}\n");
}

TEST(Printer, AttributesPrintAndParseBack) {
  const char *cases[] = {"42",
                         "-3",
                         "-9223372036854775808",
                         "1.5",
                         "0.1",
                         "1e-05",
                         "-0.0",
                         "1e+300",
                         "5e-324",
                         "inf",
                         "-inf",
                         "nan",
                         "-nan",
                         "true",
                         "false",
                         "\"plain\"",
                         "\"q\\\"b\\\\s\\n\\t\\r\\x01\\x7f\"",
                         "[1, -2, 3]",
                         "[]",
                         "[1.5, 2.0, -0.0, inf, nan]",
                         "f32",
                         "f16",
                         "bf16",
                         "f64",
                         "i8",
                         "i32",
                         "i64",
                         "bool",
                         "@fc1.weight",
                         "@\"a/b\"",
                         "dense<[[1, 2], [3, 4]]> : i32[2,2]",
                         "dense<0.5> : f32[3,3]"};
  for (const char *text : cases) {
    auto a = parseAttribute(text);
    ASSERT_TRUE(a.ok()) << text << ": " << a.status().message();
    EXPECT_EQ(printAttribute(*a), text);
  }
  // Spellings the printer normalizes.
  EXPECT_EQ(printAttribute(*parseAttribute("2.")), "2.0");
  EXPECT_EQ(printAttribute(*parseAttribute("1E3")), "1000.0");
  EXPECT_EQ(printAttribute(*parseAttribute("[1, 2.5]")), "[1.0, 2.5]");
  EXPECT_EQ(printAttribute(std::vector<double>{}), "[]");
}

TEST(Printer, FloatsAlwaysReadBackAsFloats) {
  EXPECT_EQ(formatDouble(100.0), "100.0");
  EXPECT_EQ(formatDouble(1e20), "1e+20");
  EXPECT_EQ(formatDouble(-0.0), "-0.0");
  EXPECT_EQ(formatDouble(0.1), "0.1");
  for (double v : {0.1, 1.0 / 3, 2.5e-310, 1.7976931348623157e308, -7.0}) {
    auto a = parseAttribute(formatDouble(v));
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(std::get<double>(*a), v);
  }
}

// A constant of the given type whose elements are written by `fill`, printed
// inside a module, must parse back to the same bytes and print identically.
template <class Fill>
void expectConstantRoundTrips(TensorType type, Fill fill,
                              std::string_view expectDense = {}) {
  auto t = std::make_shared<Tensor>(type);
  for (int64_t i = 0; i < t->numElements(); ++i)
    fill(*t, i);
  Module m;
  m.name = "k";
  Function *f = m.addFunction("main");
  f->resultTypes = {type};
  Op *op = f->appendOp(lookupOp("constant"), {},
                       {{"value", std::shared_ptr<const Tensor>(t)}}, {type},
                       {}, {"c"});
  f->returns = {op->result()};
  std::string printed = printModule(m);
  if (!expectDense.empty()) {
    EXPECT_NE(printed.find(expectDense), std::string::npos) << printed;
  }
  auto back = parseModule(printed, "k.nyx");
  ASSERT_TRUE(back.ok()) << back.status().message() << "\n" << printed;
  const Op &op2 = *(*back)->lookupFunction("main")->ops[0];
  auto t2 = std::get<std::shared_ptr<const Tensor>>(*op2.find("value"));
  EXPECT_EQ(t2->type(), type);
  EXPECT_TRUE(*t2 == *t) << printed;
  EXPECT_EQ(printModule(**back), printed);
}

template <class Bits> void setBits(Tensor &t, int64_t i, Bits b) {
  std::memcpy(t.bytes() + i * sizeof(Bits), &b, sizeof(Bits));
}

TEST(PrinterConstants, F32SpecialValues) {
  std::vector<uint32_t> bits = {
      0x00000000, 0x80000000,              // +-0
      0x00000001, 0x807FFFFF,              // smallest and largest denormals
      0x00800000, 0x7F7FFFFF,              // smallest normal, largest finite
      0x3DCCCCCD, 0xBF800000,              // 0.1f, -1
      0x7F800000, 0xFF800000,              // +-inf
      0x7FC00000, 0xFFC00000,              // canonical +-NaN
      0x7FC00001, 0x7F800001, 0xFFBFFFFF}; // NaNs with payloads
  expectConstantRoundTrips(
      {DType::F32, {static_cast<int64_t>(bits.size())}},
      [&](Tensor &t, int64_t i) { setBits(t, i, bits[i]); },
      "dense<[0.0, -0.0, 1e-45, -1.1754942e-38, 1.1754944e-38, "
      "3.4028235e+38, 0.1, -1.0, inf, -inf, nan, -nan, 0x7FC00001, "
      "0x7F800001, 0xFFBFFFFF]>");
}

TEST(PrinterConstants, F64SpecialValues) {
  std::vector<uint64_t> bits = {0x0000000000000001ull, 0x8000000000000000ull,
                                0x3FB999999999999Aull, 0x7FEFFFFFFFFFFFFFull,
                                0x7FF0000000000000ull, 0x7FF8000000000000ull,
                                0xFFF8000000000000ull, 0x7FF0000000000001ull};
  expectConstantRoundTrips(
      {DType::F64, {2, 4}},
      [&](Tensor &t, int64_t i) { setBits(t, i, bits[i]); },
      "dense<[[5e-324, -0.0, 0.1, 1.7976931348623157e+308], [inf, nan, -nan, "
      "0x7FF0000000000001]]>");
}

TEST(PrinterConstants, F16AndBF16EveryBitPattern) {
  // All 65536 patterns of each 16-bit float type.
  for (DType dt : {DType::F16, DType::BF16})
    expectConstantRoundTrips({dt, {256, 256}}, [](Tensor &t, int64_t i) {
      setBits(t, i, static_cast<uint16_t>(i));
    });
  expectConstantRoundTrips(
      {DType::F16, {5}},
      [](Tensor &t, int64_t i) {
        uint16_t b[] = {0x0001, 0x7BFF, 0x3555, 0x7E00, 0xFC00};
        setBits(t, i, b[i]);
      },
      "dense<[5.9604645e-08, 65504.0, 0.33325195, nan, -inf]>");
}

TEST(PrinterConstants, F32RandomBitPatterns) {
  uint32_t state = 12345;
  expectConstantRoundTrips({DType::F32, {1000}}, [&](Tensor &t, int64_t i) {
    state = state * 1664525u + 1013904223u;
    setBits(t, i, state);
  });
}

TEST(PrinterConstants, Integers) {
  expectConstantRoundTrips(
      {DType::I8, {4}},
      [](Tensor &t, int64_t i) {
        t.setInt(i, std::vector{-128, -1, 0, 127}[i]);
      },
      "dense<[-128, -1, 0, 127]>");
  expectConstantRoundTrips(
      {DType::I32, {3}},
      [](Tensor &t, int64_t i) {
        t.setInt(i, std::vector<int64_t>{INT32_MIN, 7, INT32_MAX}[i]);
      },
      "dense<[-2147483648, 7, 2147483647]>");
  expectConstantRoundTrips(
      {DType::I64, {2}},
      [](Tensor &t, int64_t i) { t.setInt(i, i ? INT64_MAX : INT64_MIN); },
      "dense<[-9223372036854775808, 9223372036854775807]>");
}

TEST(PrinterConstants, BoolShapesAndSplats) {
  expectConstantRoundTrips(
      {DType::Bool, {2, 1, 2}},
      [](Tensor &t, int64_t i) { t.setInt(i, i % 3 == 0); },
      "dense<[[[true, false]], [[false, true]]]>");
  expectConstantRoundTrips(
      {DType::F32, {}}, [](Tensor &t, int64_t i) { t.setDouble(i, 2.5); },
      "dense<2.5>} : f32[]");
  expectConstantRoundTrips(
      {DType::F32, {1}}, [](Tensor &t, int64_t i) { t.setDouble(i, 2.5); },
      "dense<[2.5]>} : f32[1]");
  expectConstantRoundTrips(
      {DType::I32, {3, 2}}, [](Tensor &t, int64_t i) { t.setInt(i, 9); },
      "dense<9>} : i32[3,2]");
  expectConstantRoundTrips(
      {DType::F32, {0}}, [](Tensor &, int64_t) {}, "dense<[]>} : f32[0]");
  expectConstantRoundTrips(
      {DType::F32, {2, 0, 3}}, [](Tensor &, int64_t) {},
      "dense<[[], []]>} : f32[2,0,3]");
}

TEST(Printer, DenseTypeIsWrittenWhenItDiffersFromTheResult) {
  Module m;
  m.name = "k";
  Function *f = m.addFunction("main");
  TensorType i32{DType::I32, {2}};
  auto t = std::make_shared<Tensor>(i32);
  t->setInt(0, 1);
  t->setInt(1, 2);
  Attributes attrs = {{"value", std::shared_ptr<const Tensor>(t)}};
  Op *op = f->appendOp(lookupOp("constant"), {}, attrs, {{DType::F32, {2}}});
  EXPECT_EQ(printOp(*op),
            "%0 = constant() {value = dense<[1, 2]> : i32[2]} : f32[2]");
  EXPECT_EQ(printAttribute(attrs["value"]), "dense<[1, 2]> : i32[2]");
}

TEST(Printer, GeneratedNamesForBuiltModules) {
  Module m;
  m.name = "built";
  Function *f = m.addFunction("main");
  TensorType t{DType::F32, {4}};
  Value *x = f->addParam("", t);
  Op *a = f->appendOp(lookupOp("relu"), {x}, {}, {t});
  Op *b = f->appendOp(lookupOp("mul"), {a->result(), x}, {}, {t});
  f->resultTypes = {t};
  f->returns = {b->result()};
  std::string printed = printModule(m);
  EXPECT_EQ(printed, "module @built\n"
                     "\n"
                     "func @main(%0: f32[4]) -> (f32[4]) {\n"
                     "  %1 = relu(%0) : f32[4]\n"
                     "  %2 = mul(%1, %0) : f32[4]\n"
                     "  return %2\n"
                     "}\n");
  roundTrip(printed);
}

} // namespace
} // namespace nyx::ir
