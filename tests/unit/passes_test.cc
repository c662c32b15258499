// The pass manager and the passes on modules built in C++.
#include <sstream>

#include "ir/parser.h"
#include "passes/pass_manager.h"
#include "gtest/gtest.h"

namespace nyx::passes {
namespace {

std::unique_ptr<ir::Module> parse(const char *text) {
  auto m = ir::parseModule(text, "t.nyx");
  EXPECT_TRUE(m.ok()) << m.status().message();
  return m.ok() ? std::move(*m) : nullptr;
}

constexpr const char *kTwoLevels = R"(
func @sq(%a: f32[2]) -> (f32[2]) {
  %p = mul(%a, %a) : f32[2]
  return %p
}
func @main(%x: f32[2]) -> (f32[2]) {
  %y = call(%x) {callee = @sq} : f32[2]
  %z = call(%y) {callee = @sq} : f32[2]
  return %z
}
)";

TEST(PassManager, ParsesAPipelineAndRejectsUnknownNames) {
  auto pm = PassManager::parse("verify, inline,shape-infer");
  ASSERT_TRUE(pm.ok());
  ASSERT_EQ(pm->steps().size(), 3u);
  EXPECT_EQ(pm->steps()[1].pass->name, "inline");
  auto bad = PassManager::parse("inline,fold-everything");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message())
                .find("unknown pass 'fold-everything' in the pipeline"),
            std::string::npos);
}

TEST(PassManager, PrintsAroundTheChosenPassesAndTimesThem) {
  auto m = parse(kTwoLevels);
  auto pm = PassManager::parse("shape-infer,inline");
  ASSERT_TRUE(pm.ok());
  std::ostringstream out;
  Instrumentation inst;
  inst.printAfter = {"inline"};
  inst.timePasses = true;
  inst.out = &out;
  ASSERT_TRUE(pm->run(*m, {}, inst).ok());
  std::string text = out.str();
  EXPECT_EQ(text.find("IR Dump After shape-infer"), std::string::npos);
  EXPECT_NE(text.find("IR Dump After inline"), std::string::npos);
  EXPECT_NE(text.find("Pass execution timing report"), std::string::npos);
}

TEST(Inline, LeavesNoCallsAndWiresResults) {
  auto m = parse(kTwoLevels);
  ASSERT_TRUE(runInline(*m, {}).ok());
  ir::Function &main = *m->lookupFunction("main");
  ASSERT_EQ(main.ops.size(), 2u);
  EXPECT_EQ(main.ops[0]->name(), "mul");
  EXPECT_EQ(main.ops[0]->operand(0), main.params[0]);
  EXPECT_EQ(main.ops[1]->operand(0), main.ops[0]->result());
  EXPECT_EQ(main.returns[0], main.ops[1]->result());
  // Inlined ops point at the callee's source line.
  EXPECT_EQ(main.ops[0]->loc.line, 3);
}

TEST(ShapeInfer, RederivesTypesAfterAParameterChanges) {
  auto m = parse(R"(
func @main(%x: f32[2,3]) -> (f32[3,2]) {
  %t = transpose(%x) {perm = [1, 0]} : f32[3,2]
  return %t
}
)");
  ir::Function &main = *m->lookupFunction("main");
  main.params[0]->type.shape = {4, 5};
  ASSERT_TRUE(runShapeInfer(*m, {}).ok());
  EXPECT_EQ(main.ops[0]->result()->type.str(), "f32[5,4]");
  EXPECT_EQ(main.resultTypes[0].str(), "f32[5,4]");
}

TEST(ShapeInfer, ReportsTheOpThatNoLongerChecks) {
  auto m = parse(R"(
func @main(%x: f32[2,3], %y: f32[3]) -> (f32[2,3]) {
  %s = add(%x, %y) : f32[2,3]
  return %s
}
)");
  m->lookupFunction("main")->params[1]->type.shape = {4};
  absl::Status s = runShapeInfer(*m, {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("t.nyx:3:3: error:"),
            std::string::npos)
      << s.message();
}

} // namespace
} // namespace nyx::passes
