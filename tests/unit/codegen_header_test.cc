// The C header and the names and layouts it reports.
#include "codegen/emit/header.h"

#include "codegen/emit/arena_layout.h"
#include "codegen/emit/c_names.h"
#include "ir/parser.h"
#include "gtest/gtest.h"

namespace nyx::codegen {
namespace {

using Names = std::vector<std::string>;

TEST(CodegenHeader, MacroNamesFromIrNames) {
  EXPECT_EQ(macroNames({"x", "hidden.1", "0", "Y", "y", "x"}),
            (Names{"X", "HIDDEN_1", "2", "Y", "Y_4", "X_5"}));
  // A suffixed name may itself be taken.
  EXPECT_EQ(macroNames({"b_2", "b", "B"}), (Names{"B_2", "B", "B_2_"}));
}

TEST(CodegenHeader, ParameterNamesAvoidKeywordsAndClashes) {
  Names used;
  Names in = parameterNames({"x", "int", "0", "arena"}, "in", used);
  EXPECT_EQ(in, (Names{"x", "int_1", "in2", "arena_3"}));
  Names out = parameterNames({"x", "y", "1"}, "out", used);
  EXPECT_EQ(out, (Names{"x_0", "y", "out2"}));
  // A parameter named like a type the prototype spells would shadow it.
  Names typed = parameterNames({"int8_t", "uint16_t"}, "in", used);
  EXPECT_EQ(typed, (Names{"int8_t_0", "uint16_t_1"}));
}

TEST(CodegenHeader, CIdentifiers) {
  EXPECT_TRUE(isCIdentifier("mlp_2"));
  EXPECT_TRUE(isCIdentifier("_m"));
  EXPECT_FALSE(isCIdentifier("2mlp"));
  EXPECT_FALSE(isCIdentifier("my-model"));
  EXPECT_FALSE(isCIdentifier("float"));
  EXPECT_FALSE(isCIdentifier(""));
}

TEST(CodegenHeader, ArenaSlotsAreAlignedAndDisjoint) {
  ArenaLayout l = layoutArena({4, 64, 65, 0, 1});
  EXPECT_EQ(l.offsets, (std::vector<uint64_t>{0, 64, 128, 256, 256}));
  EXPECT_EQ(l.totalBytes, 320u);
  EXPECT_EQ(layoutArena({}).totalBytes, 0u);
}

ModelPlan planOf(const std::string &text, bool external,
                 const ir::WeightMap &weights = {}) {
  auto m = ir::parseModule(text, "t.nyx");
  EXPECT_TRUE(m.ok()) << m.status().message();
  Options o;
  o.modelName = "net";
  o.externalWeights = external;
  auto plan = planModel(**m, *(*m)->functions[0], weights, o);
  EXPECT_TRUE(plan.ok()) << plan.status().message();
  // The plan points at IR values; keep the module alive for the test.
  static std::vector<std::unique_ptr<ir::Module>> keep;
  keep.push_back(std::move(*m));
  return std::move(*plan);
}

constexpr const char *kNet = R"(
param @w : f32[4,3]
func @main(%x: f32[4,3], %flag: bool[]) -> (f32[4,3], f32[4,3], f32[4,3]) {
  %w = param() {name = @w} : f32[4,3]
  %h = add(%x, %w) : f32[4,3]
  %y = exp(%h) : f32[4,3]
  return %y, %x, %y
}
)";

TEST(CodegenHeader, PlanPlacesValues) {
  ModelPlan p = planOf(kNet, true);
  EXPECT_EQ(p.weights.size(), 1u);
  EXPECT_EQ(p.weightsBytes, 64u); // 48 bytes, padded to the alignment
  EXPECT_EQ(p.arenaBytes, 64u);   // %h only; %y is written into output 0
  EXPECT_EQ(p.calls.size(), 2u);
  ASSERT_EQ(p.copies.size(), 2u); // output 1 is an input, output 2 repeats
  EXPECT_EQ(p.copies[0].output, 1);
  EXPECT_EQ(p.copies[1].output, 2);
}

TEST(CodegenHeader, HeaderDescribesTheModel) {
  std::string h = emitHeader(planOf(kNet, true));
  for (const char *line : {
           "#ifndef NYX_MODEL_NET_H",
           "#include <nyx/runtime.h>",
           " *     x: f32[4,3]",
           " *     flag: bool[]",
           "#define NET_NUM_INPUTS 2",
           "#define NET_NUM_OUTPUTS 3",
           "#define NET_INPUT_X_SHAPE {4, 3}",
           "#define NET_INPUT_FLAG_RANK 0",
           "#define NET_INPUT_FLAG_SHAPE {1}",
           "#define NET_INPUT_FLAG_DTYPE NYX_BOOL",
           "#define NET_INPUT_FLAG_BYTES 1",
           "#define NET_OUTPUT_Y_ELEMENTS 12",
           "#define NET_OUTPUT_X_BYTES 48",
           "#define NET_OUTPUT_Y_2_DTYPE NYX_F32",
           "#define NET_WEIGHTS_BYTES 64",
           "#define NET_ARENA_BYTES 64",
           "#define NET_ALIGN 64",
           "int net_run(const float *x, const uint8_t *flag, float *y, "
           "float *x_1, float *y_2, void *arena);",
           "int net_load_weights(const char *path);",
           "void net_unload_weights(void);",
           "#endif /* NYX_MODEL_NET_H */",
       })
    EXPECT_NE(h.find(line), std::string::npos) << line << "\n" << h;
}

TEST(CodegenHeader, EmbeddedWeightsHaveNoLoader) {
  ir::WeightMap w;
  w.emplace("w", ir::Tensor(ir::TensorType{ir::DType::F32, {4, 3}}));
  std::string h = emitHeader(planOf(kNet, false, w));
  EXPECT_EQ(h.find("load_weights"), std::string::npos);
  EXPECT_NE(h.find("embedded in the object"), std::string::npos);
}

TEST(CodegenHeader, ElementTypes) {
  EXPECT_EQ(cElementType(ir::DType::BF16), "uint16_t");
  EXPECT_EQ(cElementType(ir::DType::I8), "int8_t");
  EXPECT_EQ(cElementType(ir::DType::F64), "double");
  EXPECT_EQ(cDTypeEnum(ir::DType::I64), "NYX_I64");
}

} // namespace
} // namespace nyx::codegen
