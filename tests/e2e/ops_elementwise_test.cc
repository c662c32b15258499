// Compiled elementwise ops against the interpreter: every op for every dtype
// it allows, at sizes 1 to 1000, with broadcasting, and the edge cases
// docs/ops.md spells out (NaN, wrapping, integer division, cast saturation).
// Ops of one family share a module (one output per op) so each case costs
// one compile and link.
#include <sys/wait.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "harness.h"
#include "ir/strings.h"
#include "nyx/runtime.h"
#include "nyx/safetensors.h"

namespace nyx {
namespace {

using e2e::typeText;
using ir::DType;

constexpr DType kFloats[] = {DType::F32, DType::F64, DType::F16, DType::BF16};
constexpr DType kInts[] = {DType::I8, DType::I32, DType::I64};
constexpr DType kNumeric[] = {DType::F32, DType::F64, DType::F16, DType::BF16,
                              DType::I8,  DType::I32, DType::I64};
constexpr DType kAll[] = {DType::F32, DType::F64, DType::F16, DType::BF16,
                          DType::I8,  DType::I32, DType::I64, DType::Bool};
constexpr int64_t kSizes[] = {1, 3, 7, 33, 1000};

// One result of a test module: the op call and its result type.
struct Result {
  std::string call; // e.g. "add(%a, %b)"
  std::string type; // e.g. "f32[7,33]"
};

// `func @main(params) -> (types) { %r0 = ... return %r0, ... }`.
std::string moduleText(const std::string &params,
                       const std::vector<Result> &results) {
  std::vector<std::string> types, names;
  std::string body;
  for (size_t i = 0; i < results.size(); ++i) {
    std::string name = strCat("%r", i);
    body += strCat("  ", name, " = ", results[i].call, " : ", results[i].type,
                   "\n");
    types.push_back(results[i].type);
    names.push_back(name);
  }
  return strCat("func @main(", params, ") -> (", strJoin(types, ", "), ") {\n",
                body, "  return ", strJoin(names, ", "), "\n}\n");
}

void check(const std::string &params, const std::vector<Result> &results,
           const e2e::HarnessOptions &opts = {}) {
  std::string text = moduleText(params, results);
  SCOPED_TRACE(text);
  e2e::expectCompiledMatchesInterpreter(text, opts);
}

// A tensor from explicit values (through setDouble, which rounds and
// saturates like the IR).
ir::Tensor tensorOf(DType t, const std::vector<double> &values) {
  ir::Tensor out(ir::TensorType{t, {static_cast<int64_t>(values.size())}});
  for (size_t i = 0; i < values.size(); ++i)
    out.setDouble(i, values[i]);
  return out;
}

ir::Tensor intTensorOf(DType t, const std::vector<int64_t> &values) {
  ir::Tensor out(ir::TensorType{t, {static_cast<int64_t>(values.size())}});
  for (size_t i = 0; i < values.size(); ++i)
    out.setInt(i, values[i]);
  return out;
}

// Values on a coarse grid, so equal operands are common (for eq/ne/le/ge).
ir::Tensor gridTensor(DType t, int64_t n, std::mt19937_64 &rng) {
  ir::Tensor out(ir::TensorType{t, {n}});
  std::uniform_int_distribution<int> dist(-4, 4);
  for (int64_t i = 0; i < n; ++i) {
    if (t == DType::Bool)
      out.setInt(i, dist(rng) > 0);
    else
      out.setDouble(i, ir::isFloat(t) ? dist(rng) * 0.5 : dist(rng));
  }
  return out;
}

int64_t minOf(DType t) {
  return t == DType::I8    ? std::numeric_limits<int8_t>::min()
         : t == DType::I32 ? std::numeric_limits<int32_t>::min()
                           : std::numeric_limits<int64_t>::min();
}

int64_t maxOf(DType t) {
  return t == DType::I8    ? std::numeric_limits<int8_t>::max()
         : t == DType::I32 ? std::numeric_limits<int32_t>::max()
                           : std::numeric_limits<int64_t>::max();
}

// -- Unary ------------------------------------------------------------------

TEST(Elementwise, UnaryFloatOps) {
  for (DType t : kFloats)
    for (int64_t n : kSizes) {
      std::string ty = typeText(t, {n});
      std::vector<Result> results;
      for (const char *op : {"neg", "abs", "relu", "exp", "tanh", "erf",
                             "sigmoid", "silu", "gelu"})
        results.push_back({strCat(op, "(%x)"), ty});
      results.push_back({"gelu(%x) {approximate = \"tanh\"}", ty});
      check(strCat("%x: ", ty), results);
    }
}

TEST(Elementwise, UnaryFloatOpsOnPositiveInputs) {
  e2e::HarnessOptions positive;
  positive.positive = true;
  positive.maxValue = 100;
  for (DType t : kFloats)
    for (int64_t n : kSizes) {
      std::string ty = typeText(t, {n});
      check(strCat("%x: ", ty),
            {{"log(%x)", ty}, {"sqrt(%x)", ty}, {"rsqrt(%x)", ty}}, positive);
    }
}

TEST(Elementwise, UnaryIntegerOps) {
  for (DType t : kInts)
    for (int64_t n : kSizes) {
      std::string ty = typeText(t, {n});
      check(strCat("%x: ", ty),
            {{"neg(%x)", ty}, {"abs(%x)", ty}, {"relu(%x)", ty}});
    }
}

TEST(Elementwise, IntegerNegAndAbsWrapAtTheMinimum) {
  for (DType t : kInts) {
    e2e::HarnessOptions o;
    o.inputs = {intTensorOf(t, {minOf(t), maxOf(t), -1, 0, 1})};
    std::string ty = typeText(t, {5});
    check(strCat("%x: ", ty),
          {{"neg(%x)", ty}, {"abs(%x)", ty}, {"relu(%x)", ty}}, o);
  }
}

TEST(Elementwise, UnaryOpsOnNanAndInfinity) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (DType t : kFloats) {
    e2e::HarnessOptions o;
    o.inputs = {tensorOf(t, {nan, inf, -inf, 0.0, -0.0, 1e-3, -30, 30})};
    std::string ty = typeText(t, {8});
    std::vector<Result> results;
    for (const char *op :
         {"neg", "abs", "relu", "exp", "tanh", "erf", "sigmoid", "sqrt", "log"})
      results.push_back({strCat(op, "(%x)"), ty});
    check(strCat("%x: ", ty), results, o);
  }
}

// -- Binary -----------------------------------------------------------------

std::vector<Result> arithmetic(const std::string &ty) {
  std::vector<Result> results;
  for (const char *op : {"add", "sub", "mul", "div", "max", "min"})
    results.push_back({strCat(op, "(%a, %b)"), ty});
  return results;
}

TEST(Elementwise, BinaryArithmetic) {
  for (DType t : kNumeric)
    for (int64_t n : kSizes) {
      std::string ty = typeText(t, {n});
      check(strCat("%a: ", ty, ", %b: ", ty), arithmetic(ty));
    }
}

TEST(Elementwise, IntegerArithmeticWrapsOverTheFullRange) {
  e2e::HarnessOptions o;
  o.intMin = -128;
  o.intMax = 127;
  check("%a: i8[1000], %b: i8[1000]", arithmetic("i8[1000]"), o);
  o.intMin = int64_t{1} << 30;
  o.intMax = std::numeric_limits<int32_t>::max();
  check("%a: i32[1000], %b: i32[1000]", arithmetic("i32[1000]"), o);
  o.intMin = int64_t{1} << 62;
  o.intMax = std::numeric_limits<int64_t>::max();
  check("%a: i64[1000], %b: i64[1000]", arithmetic("i64[1000]"), o);
}

TEST(Elementwise, IntegerDivisionByZeroAndMinusOne) {
  for (DType t : kInts) {
    e2e::HarnessOptions o;
    o.inputs = {intTensorOf(t, {7, -7, minOf(t), minOf(t), maxOf(t), 0, 5, -5}),
                intTensorOf(t, {0, 0, -1, 0, -1, 0, 2, 2})};
    std::string ty = typeText(t, {8});
    check(strCat("%a: ", ty, ", %b: ", ty), {{"div(%a, %b)", ty}}, o);
  }
}

TEST(Elementwise, FloatMaxMinPropagateNan) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (DType t : kFloats) {
    e2e::HarnessOptions o;
    o.inputs = {tensorOf(t, {nan, 1, nan, -inf, 0.0, 2, 0, 1}),
                tensorOf(t, {1, nan, nan, 3, -0.0, inf, 0, 0})};
    std::string ty = typeText(t, {8});
    check(strCat("%a: ", ty, ", %b: ", ty), arithmetic(ty), o);
  }
}

TEST(Elementwise, Pow) {
  e2e::HarnessOptions o;
  o.positive = true;
  o.maxValue = 3;
  for (DType t : kFloats)
    for (int64_t n : kSizes) {
      std::string ty = typeText(t, {n});
      check(strCat("%a: ", ty, ", %b: ", ty), {{"pow(%a, %b)", ty}}, o);
    }
}

// -- Comparisons and select -------------------------------------------------

std::vector<Result> comparisons(const std::string &boolTy) {
  std::vector<Result> results;
  for (const char *op : {"eq", "ne", "lt", "le", "gt", "ge"})
    results.push_back({strCat(op, "(%a, %b)"), boolTy});
  return results;
}

TEST(Elementwise, ComparisonsOfEveryDType) {
  std::mt19937_64 rng(7);
  for (DType t : kAll)
    for (int64_t n : kSizes) {
      e2e::HarnessOptions o;
      o.inputs = {gridTensor(t, n, rng), gridTensor(t, n, rng)};
      std::string ty = typeText(t, {n});
      check(strCat("%a: ", ty, ", %b: ", ty),
            comparisons(typeText(DType::Bool, {n})), o);
    }
}

TEST(Elementwise, ComparisonsWithNanAreUnordered) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (DType t : kFloats) {
    e2e::HarnessOptions o;
    o.inputs = {tensorOf(t, {nan, 1, nan, 0.0}),
                tensorOf(t, {1, nan, nan, -0.0})};
    std::string ty = typeText(t, {4});
    check(strCat("%a: ", ty, ", %b: ", ty), comparisons("bool[4]"), o);
  }
}

TEST(Elementwise, SelectOfEveryDType) {
  for (DType t : kAll)
    for (int64_t n : kSizes) {
      std::string ty = typeText(t, {n});
      check(strCat("%c: ", typeText(DType::Bool, {n}), ", %a: ", ty,
                   ", %b: ", ty),
            {{"select(%c, %a, %b)", ty}});
    }
}

// -- Broadcasting -----------------------------------------------------------

TEST(Elementwise, BroadcastRowAgainstColumn) {
  for (DType t : {DType::F32, DType::I32, DType::F16}) {
    std::string out = typeText(t, {7, 33});
    std::vector<Result> results = arithmetic(out);
    results.push_back({"lt(%a, %b)", "bool[7,33]"});
    check(strCat("%a: ", typeText(t, {7, 1}), ", %b: ", typeText(t, {1, 33})),
          results);
  }
}

TEST(Elementwise, BroadcastScalarOperands) {
  check("%a: f32[], %b: f32[5,3]",
        {{"add(%a, %b)", "f32[5,3]"}, {"sub(%b, %a)", "f32[5,3]"}});
  check("%a: i64[], %b: i64[]", {{"mul(%a, %b)", "i64[]"}});
  check("%a: f64[1], %b: f64[33]", {{"div(%a, %b)", "f64[33]"}});
}

TEST(Elementwise, BroadcastAcrossRanks) {
  check("%a: f32[3,1,5], %b: f32[4,1]",
        {{"mul(%a, %b)", "f32[3,4,5]"}, {"max(%b, %a)", "f32[3,4,5]"}});
  check("%a: i8[2,1,3,1], %b: i8[5,1,7]",
        {{"add(%a, %b)", "i8[2,5,3,7]"}, {"ge(%a, %b)", "bool[2,5,3,7]"}});
  check("%a: bf16[33], %b: bf16[7,1]", {{"sub(%a, %b)", "bf16[7,33]"}});
}

TEST(Elementwise, SelectBroadcastsAllThreeOperands) {
  check("%c: bool[7,1], %a: f32[1,33], %b: f32[]",
        {{"select(%c, %a, %b)", "f32[7,33]"}});
  check("%c: bool[], %a: i32[4,5], %b: i32[5]",
        {{"select(%c, %a, %b)", "i32[4,5]"}});
  check("%c: bool[3,1,2], %a: bool[1,4,1], %b: bool[2]",
        {{"select(%c, %a, %b)", "bool[3,4,2]"}});
}

// -- Cast ---------------------------------------------------------------------

std::vector<Result> castsTo(const ir::Shape &shape) {
  std::vector<Result> results;
  for (DType to : kAll)
    results.push_back({strCat("cast(%x) {to = ", ir::dtypeName(to), "}"),
                       typeText(to, shape)});
  return results;
}

TEST(Elementwise, CastBetweenEveryPairOfDTypes) {
  for (DType from : kAll)
    for (int64_t n : {int64_t{7}, int64_t{1000}})
      check(strCat("%x: ", typeText(from, {n})), castsTo({n}));
}

TEST(Elementwise, CastSaturatesAndWraps) {
  e2e::HarnessOptions wide;
  wide.minValue = -1e5;
  wide.maxValue = 1e5;
  wide.intMin = -100000;
  wide.intMax = 100000;
  for (DType from : kAll)
    check(strCat("%x: ", typeText(from, {1000})), castsTo({1000}), wide);
}

TEST(Elementwise, CastOfSpecialFloats) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  e2e::HarnessOptions o;
  // Halfway cases for f16 (1 + 2^-11) and bf16 (1 + 2^-8), the largest f16,
  // values past every integer range, NaN, infinities, subnormals.
  o.inputs = {tensorOf(DType::F64, {nan,        inf,
                                    -inf,       1e30,
                                    -1e30,      3e9,
                                    -3e9,       1e19,
                                    -1e19,      65504,
                                    65520,      1 + 0x1p-11,
                                    1 + 0x1p-8, 1 + 3 * 0x1p-11,
                                    0x1p-20,    -0x1p-25,
                                    1e-40,      -0.0,
                                    0.5,        -0.7,
                                    2.5,        127.9,
                                    -128.9,     255})};
  check("%x: f64[24]", castsTo({24}), o);
  o.inputs = {ir::Tensor()};
  // Ten times over, so that vector loops (not only their scalar
  // remainders) meet every special value.
  std::vector<double> specials;
  for (int i = 0; i < 10; ++i)
    specials.insert(specials.end(), {nan, inf, -inf, 65504, 1e-7, -2.5, 3e4,
                                     -129, 127.5, -0.5});
  for (DType from : {DType::F32, DType::F16, DType::BF16}) {
    o.inputs = {tensorOf(from, specials)};
    check(strCat("%x: ", typeText(from, {100})), castsTo({100}), o);
  }
}

// -- Chains and low precision -------------------------------------------------

TEST(Elementwise, ChainOfOpsRoundsAtEveryOp) {
  for (DType t : {DType::F16, DType::BF16, DType::F32})
    check(strCat("%a: ", typeText(t, {1000}), ", %b: ", typeText(t, {1000})),
          {{"add(%a, %b)", typeText(t, {1000})},
           {"gelu(%a)", typeText(t, {1000})}});
}

// Large enough that the kernels are split across the runtime's threads.
TEST(Elementwise, LargeTensorsAcrossThreads) {
  check("%a: f32[300,1000], %b: f32[1000], %c: f16[300,1]",
        {{"mul(%a, %b)", "f32[300,1000]"},
         {"add(%c, %c)", "f16[300,1]"},
         {"gt(%a, %b)", "bool[300,1000]"}});
  check("%a: i32[70000], %b: i32[70000]",
        {{"div(%a, %b)", "i32[70000]"}, {"sub(%a, %b)", "i32[70000]"}});
}

// Intermediates feed later ops through the arena; outputs that are inputs or
// repeated values are copied.
TEST(Elementwise, IntermediatesAndCopiedOutputs) {
  std::string text = R"(
func @main(%a: f32[33], %b: f32[33]) -> (f32[33], f32[33], f32[33], f32[33], bool[33]) {
  %s = add(%a, %b) : f32[33]
  %e = exp(%s) : f32[33]
  %m = mul(%e, %s) : f32[33]
  %c = gt(%m, %a) : bool[33]
  return %m, %a, %m, %s, %c
}
)";
  e2e::expectCompiledMatchesInterpreter(text);
}

TEST(Elementwise, ConstantsAndWeights) {
  std::string text = R"(
param @w : f32[2,3]
func @main(%x: f32[2,3]) -> (f32[2,3], f32[2,3], i32[3]) {
  %w = param() {name = @w} : f32[2,3]
  %k = constant() {value = dense<[1.5, -2.0, 4.0]> : f32[3]} : f32[3]
  %y = mul(%x, %w) : f32[2,3]
  %z = add(%y, %k) : f32[2,3]
  %i = constant() {value = dense<[1, 2, 3]> : i32[3]} : i32[3]
  return %z, %w, %i
}
)";
  e2e::expectCompiledMatchesInterpreter(text);
}

TEST(Elementwise, EveryOptLevelAndTarget) {
  std::string text =
      moduleText("%a: f32[1000], %b: f32[7,1]", {{"add(%a, %b)", "f32[7,1000]"},
                                                 {"tanh(%a)", "f32[1000]"},
                                                 {"div(%b, %b)", "f32[7,1]"}});
  for (int level : {0, 1, 2, 3}) {
    e2e::HarnessOptions o;
    o.optLevel = level;
    e2e::expectCompiledMatchesInterpreter(text, o);
  }
  e2e::HarnessOptions avx2;
  avx2.target = "x86-64-avx2";
  e2e::expectCompiledMatchesInterpreter(text, avx2);
}

// -- The generated C interface ------------------------------------------------

// A C program that includes only the generated header and nyx/runtime.h,
// sizes its buffers with the header's macros, and checks the statuses of
// bad calls.
TEST(GeneratedAbi, CProgramBuildsAgainstTheHeader) {
  auto parsed = ir::parseModule(R"(
func @main(%x: f32[2,3], %0: i32[3]) -> (f32[2,3], i32[3]) {
  %y = relu(%x) : f32[2,3]
  %e = exp(%y) : f32[2,3]
  %n = neg(%0) : i32[3]
  return %e, %n
}
)",
                                "test.nyx");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  codegen::Options opts;
  opts.modelName = "tiny";
  auto compiled =
      codegen::compileModel(**parsed, *(*parsed)->functions[0], {}, opts);
  ASSERT_TRUE(compiled.ok()) << compiled.status().message();
  auto object = (*compiled)->object();
  ASSERT_TRUE(object.ok());

  std::string dir =
      (std::filesystem::temp_directory_path() / strCat("nyx-abi-", getpid()))
          .string();
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/tiny.o", std::ios::binary) << *object;
  std::ofstream(dir + "/tiny.h") << (*compiled)->header();
  std::ofstream(dir + "/main.c") << R"(
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "tiny.h"

static _Alignas(64) unsigned char arena[TINY_ARENA_BYTES + 64];
static const int64_t xshape[] = TINY_INPUT_X_SHAPE;

int main(void) {
  float x[TINY_INPUT_X_ELEMENTS] = {-1, 0, 1, 2, -3, 0.5f};
  int32_t i[TINY_INPUT_1_ELEMENTS] = {1, -2, 2147483647};
  float e[TINY_OUTPUT_E_ELEMENTS];
  int32_t n[TINY_OUTPUT_N_ELEMENTS];
  if (TINY_NUM_INPUTS != 2 || TINY_NUM_OUTPUTS != 2 ||
      TINY_INPUT_X_RANK != 2 || xshape[0] != 2 || xshape[1] != 3 ||
      TINY_INPUT_X_DTYPE != NYX_F32 || TINY_INPUT_1_DTYPE != NYX_I32 ||
      TINY_OUTPUT_E_BYTES != 24 || TINY_ALIGN != 64)
    return 10;
  if (tiny_run(x, i, e, n, arena) != NYX_OK) return 11;
  for (int k = 0; k < 6; ++k)
    if (fabsf(e[k] - expf(x[k] > 0 ? x[k] : 0)) > 1e-6f * e[k]) return 12;
  if (n[0] != -1 || n[1] != 2 || n[2] != -2147483647) return 13;
  if (tiny_run(NULL, i, e, n, arena) != NYX_ERR_INVALID_ARGUMENT) return 14;
  if (tiny_run(x, i, e, NULL, arena) != NYX_ERR_INVALID_ARGUMENT) return 15;
  if (TINY_ARENA_BYTES > 0) {
    if (tiny_run(x, i, e, n, NULL) != NYX_ERR_INVALID_ARGUMENT) return 16;
    if (tiny_run(x, i, e, n, arena + 8) != NYX_ERR_MISALIGNED) return 17;
  }
  if (tiny_arena_bytes != TINY_ARENA_BYTES) return 18;
  puts(nyx_status_string(NYX_ERR_MISALIGNED));
  return 0;
}
)";
  std::string cmd =
      strCat("cc -std=c11 -Wall -Werror " NYX_TEST_CFLAGS " -I",
             NYX_RUNTIME_INCLUDE, " -o '", dir, "/main' '", dir, "/main.c' '",
             dir, "/tiny.o' '", NYX_RUNTIME_LIB, "' -lm -lpthread 2>&1");
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd << "\n"
                                         << (*compiled)->header();
  int rc = std::system(strCat("'", dir, "/main' > /dev/null").c_str());
  EXPECT_TRUE(WIFEXITED(rc)) << rc;
  EXPECT_EQ(WEXITSTATUS(rc), 0) << (*compiled)->header();
  std::filesystem::remove_all(dir);
}

// With external weights the model refuses to run until its weights are
// loaded from a safetensors file, then matches the interpreter.
TEST(GeneratedAbi, ExternalWeightsLoadAtRunTime) {
  auto parsed = ir::parseModule(R"(
param @w : f32[2,3]
param @b : i32[3]
func @main(%x: f32[2,3], %i: i32[2,3]) -> (f32[2,3], i32[2,3]) {
  %w = param() {name = @w} : f32[2,3]
  %b = param() {name = @b} : i32[3]
  %y = mul(%x, %w) : f32[2,3]
  %j = add(%i, %b) : i32[2,3]
  return %y, %j
}
)",
                                "test.nyx");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const ir::Module &module = **parsed;
  const ir::Function &fn = *module.functions[0];
  std::mt19937_64 rng(3);
  e2e::HarnessOptions gen;
  ir::WeightMap weights;
  for (const ir::Param &p : module.params)
    weights.emplace(p.name, e2e::randomTensor(p.type, rng, gen));
  std::vector<ir::Tensor> inputs;
  for (const ir::Value *p : fn.params)
    inputs.push_back(e2e::randomTensor(p->type, rng, gen));
  ir::Interpreter interpreter(module, &weights);
  auto expected = interpreter.run(fn, inputs);
  ASSERT_TRUE(expected.ok()) << expected.status().message();

  codegen::Options opts;
  opts.modelName = "ext";
  opts.externalWeights = true;
  auto model = e2e::LoadedModel::build(module, fn, {}, opts);
  ASSERT_TRUE(model);
  using LoadFn = int (*)(const char *);
  using UnloadFn = void (*)();
  auto load = reinterpret_cast<LoadFn>(model->symbol("ext_load_weights"));
  auto unload = reinterpret_cast<UnloadFn>(model->symbol("ext_unload_weights"));
  ASSERT_TRUE(load && unload);

  std::vector<ir::Tensor> outputs;
  for (const ir::TensorType &t : fn.resultTypes)
    outputs.emplace_back(t);
  EXPECT_EQ(model->run(inputs, outputs), NYX_ERR_WEIGHTS_NOT_LOADED);
  EXPECT_EQ(load("/nonexistent/weights.safetensors"), NYX_ERR_IO);

  std::string path = (std::filesystem::temp_directory_path() /
                      strCat("nyx-ext-", getpid(), ".safetensors"))
                         .string();
  std::vector<nyx_tensor_view> views;
  for (const auto &[name, t] : weights)
    views.push_back({name.c_str(), static_cast<nyx_dtype>(t.dtype()),
                     static_cast<int>(t.shape().size()), t.shape().data(),
                     t.bytes(), t.byteSize()});
  ASSERT_EQ(nyx_safetensors_write(path.c_str(), views.data(), views.size()),
            NYX_OK);
  ASSERT_EQ(load(path.c_str()), NYX_OK);
  ASSERT_EQ(load(path.c_str()), NYX_OK); // reloading replaces the buffer
  ASSERT_EQ(model->run(inputs, outputs), NYX_OK);
  for (size_t i = 0; i < outputs.size(); ++i)
    EXPECT_TRUE(e2e::tensorsMatch(outputs[i], (*expected)[i])) << i;
  unload();
  EXPECT_EQ(model->run(inputs, outputs), NYX_ERR_WEIGHTS_NOT_LOADED);
  std::filesystem::remove(path);
}

// The harness's comparison is what every e2e test relies on: it must reject
// wrong values, accept NaN only against NaN, and compare integers exactly.
TEST(GeneratedAbi, HarnessComparisonRejectsMismatches) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(e2e::tensorsMatch(tensorOf(DType::F32, {1, nan}),
                                tensorOf(DType::F32, {1, nan})));
  EXPECT_FALSE(e2e::tensorsMatch(tensorOf(DType::F32, {1, 2}),
                                 tensorOf(DType::F32, {1, nan})));
  EXPECT_FALSE(e2e::tensorsMatch(tensorOf(DType::F32, {1, 2.001}),
                                 tensorOf(DType::F32, {1, 2})));
  EXPECT_TRUE(e2e::tensorsMatch(tensorOf(DType::F16, {1, 2.001}),
                                tensorOf(DType::F16, {1, 2})));
  EXPECT_FALSE(e2e::tensorsMatch(intTensorOf(DType::I64, {1, 3}),
                                 intTensorOf(DType::I64, {1, 2})));
  EXPECT_FALSE(e2e::tensorsMatch(intTensorOf(DType::I32, {1}),
                                 intTensorOf(DType::I64, {1})));
}

} // namespace
} // namespace nyx
