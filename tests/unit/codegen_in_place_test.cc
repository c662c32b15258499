// Outputs written over their inputs (codegen::Options::outputAliases): in
// place when the kernel computing one allows it, else computed in the
// arena and copied over the input after the last kernel.
#include "codegen/emit/header.h"
#include "codegen/emit/model_plan.h"
#include "ir/parser.h"
#include "gtest/gtest.h"

namespace nyx::codegen {
namespace {

struct Planned {
  std::unique_ptr<ir::Module> module;
  ModelPlan plan;
};

Planned plan(const std::string &text, std::vector<int> aliases) {
  Planned p;
  auto m = ir::parseModule(text, "t.nyx");
  EXPECT_TRUE(m.ok()) << m.status().message();
  p.module = std::move(*m);
  Options o;
  o.modelName = "step";
  o.outputAliases = std::move(aliases);
  auto planned = planModel(*p.module, *p.module->functions[0], {}, o);
  EXPECT_TRUE(planned.ok()) << planned.status().message();
  if (planned.ok())
    p.plan = std::move(*planned);
  return p;
}

bool copied(const ModelPlan &plan, int output) {
  for (const OutputCopy &c : plan.copies)
    if (c.output == output)
      return true;
  return false;
}

// w' = w - lr * g is elementwise over w: written in place. m' = softmax(m)
// is not (a normalization reads the whole row): computed in the arena and
// copied. v is read after v' = v * 2 is written: copied too.
constexpr const char *kStep = R"(
func @main(%w: f32[4, 8], %m: f32[4, 8], %v: f32[4, 8], %g: f32[4, 8], %lr: f32[]) -> (f32[4, 8], f32[4, 8], f32[4, 8], f32[4, 8]) {
  %s = mul(%g, %lr) : f32[4, 8]
  %w2 = sub(%w, %s) : f32[4, 8]
  %m2 = softmax(%m) : f32[4, 8]
  %two = constant() {value = dense<2.0>} : f32[]
  %v2 = mul(%v, %two) : f32[4, 8]
  %late = add(%v, %g) : f32[4, 8]
  return %w2, %m2, %v2, %late
}
)";

TEST(CodegenInPlace, WhereTheKernelAllowsIt) {
  Planned p = plan(kStep, {0, 1, 2, -1});
  const ModelPlan &plan = p.plan;
  ASSERT_EQ(plan.outputs.size(), 4u);
  EXPECT_EQ(plan.outputs[0].inputAlias, 0);
  EXPECT_TRUE(plan.inputs[0].updated);
  EXPECT_FALSE(plan.inputs[3].updated);
  EXPECT_FALSE(copied(plan, 0)); // in place
  EXPECT_TRUE(copied(plan, 1));  // softmax
  EXPECT_TRUE(copied(plan, 2));  // read later
  EXPECT_FALSE(copied(plan, 3)); // an output of its own
}

TEST(CodegenInPlace, PrototypeHasNoArgumentForAliasedOutputs) {
  Planned p = plan(kStep, {0, 1, 2, -1});
  EXPECT_EQ(runPrototype(p.plan),
            "int step_run(float *w, float *m, float *v, const float *g, "
            "const float *lr, float *late, void *arena)");
}

TEST(CodegenInPlace, ReturningTheInputItselfNeedsNoCopy) {
  Planned p = plan(R"(
func @main(%w: f32[3], %x: f32[3]) -> (f32[3], f32[3]) {
  %y = neg(%x) : f32[3]
  return %w, %y
}
)",
                   {0, -1});
  EXPECT_TRUE(p.plan.copies.empty());
}

TEST(CodegenInPlace, MismatchedAliasIsAnInternalError) {
  auto m = ir::parseModule(R"(
func @main(%w: f32[3], %x: f32[2]) -> (f32[2]) {
  %y = neg(%x) : f32[2]
  return %y
}
)",
                           "t.nyx");
  ASSERT_TRUE(m.ok());
  Options o;
  o.modelName = "step";
  o.outputAliases = {0};
  auto planned = planModel(**m, *(*m)->functions[0], {}, o);
  ASSERT_FALSE(planned.ok());
  EXPECT_NE(planned.status().message().find("cannot be written over input 0"),
            std::string::npos);
}

} // namespace
} // namespace nyx::codegen
