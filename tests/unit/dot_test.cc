// The Graphviz printer: label escaping, and whether Graphviz's `dot` accepts
// the drawings (skipped where it is not installed).
#include <cstdlib>
#include <fstream>

#include "compiler/dot.h"
#include "ir/parser.h"
#include "tests/support/temp_dir.h"
#include "gtest/gtest.h"

namespace nyx::compiler {
namespace {

TEST(EscapeDotLabel, EscapesQuotesBackslashesAndLineBreaks) {
  EXPECT_EQ(escapeDotLabel("matmul"), "matmul");
  EXPECT_EQ(escapeDotLabel("a\"b"), "a\\\"b");
  EXPECT_EQ(escapeDotLabel("a\\nb"), "a\\\\nb"); // a backslash, not a break
  EXPECT_EQ(escapeDotLabel("a\nb"), "a\\nb");
  EXPECT_EQ(escapeDotLabel(std::string("a\0b\tc\x7f", 6)), "a?b?c?");
  // Graphviz reads labels as UTF-8: valid sequences stay, other bytes go.
  EXPECT_EQ(escapeDotLabel("\xce\xbb-\xe2\x82\xac-\xf0\x9f\x98\x80"),
            "\xce\xbb-\xe2\x82\xac-\xf0\x9f\x98\x80");
  EXPECT_EQ(escapeDotLabel("\xff\xce"), "??");
  EXPECT_EQ(escapeDotLabel("\xc0\xaf"), "??");           // overlong '/'
  EXPECT_EQ(escapeDotLabel("\xed\xa0\x80"), "???");      // a surrogate
  EXPECT_EQ(escapeDotLabel("\xf4\x90\x80\x80"), "????"); // above U+10FFFF
  // Record-shape and HTML characters need nothing in a quoted label.
  EXPECT_EQ(escapeDotLabel("{a|<b>}"), "{a|<b>}");
}

constexpr const char *kModule = R"(
module @drawn

param @"w/0" : f32[3,2]

func @main(%x: f32[4,3], %"a \"b\" \\ c": f32[4,2]) -> (f32[4,2], f32[4,2]) {
  %w = param() {name = @"w/0"} : f32[3,2]
  %xw = matmul(%x, %w) : f32[4,2]
  %y, %z = fusion(%xw, %"a \"b\" \\ c") {callee = @fused_0} : f32[4,2], f32[4,2]
  %s = softmax(%z) {axis = -1} : f32[4,2]
  return %y, %s
}

kernel @fused_0(%p: f32[4,2], %q: f32[4,2]) -> (f32[4,2], f32[4,2]) {
  %two = constant() {value = dense<2.0>} : f32[]
  %t = add(%p, %q) : f32[4,2]
  %u = mul(%t, %two) : f32[4,2]
  return %t, %u
}
)";

std::unique_ptr<ir::Module> parse() {
  auto m = ir::parseModule(kModule, "drawn.nyx");
  EXPECT_TRUE(m.ok()) << m.status().message();
  return m.ok() ? std::move(*m) : nullptr;
}

size_t count(const std::string &text, const std::string &what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + 1))
    ++n;
  return n;
}

TEST(PrintDot, OneNodePerOpAndOneEdgePerOperand) {
  auto m = parse();
  ASSERT_TRUE(m);
  std::string dot = printDot(*m, *m->lookupFunction("main"));
  // 2 inputs, 4 ops, the return.
  EXPECT_EQ(count(dot, "[shape="), 7u) << dot;
  // matmul 2, fusion 2, softmax 1, return 2.
  EXPECT_EQ(count(dot, " -> "), 7u) << dot;
  EXPECT_NE(dot.find("label=\"fusion @fused_0\\n%y : f32[4,2]\\n%z : "
                     "f32[4,2]\""),
            std::string::npos)
      << dot;
  EXPECT_EQ(dot.find("subgraph"), std::string::npos);
}

TEST(PrintKernelsDot, AFusionIsAClusterOfItsKernelsOps) {
  auto m = parse();
  ASSERT_TRUE(m);
  std::string dot = printKernelsDot(*m, *m->lookupFunction("main"));
  // The fusion, matmul and softmax are kernels; the param is not.
  EXPECT_EQ(count(dot, "subgraph cluster_"), 3u) << dot;
  EXPECT_NE(dot.find("label=\"kernel @fused_0\""), std::string::npos) << dot;
  // The kernel's params stand for the fusion's operands and its returns for
  // the fusion's results: edges cross the cluster under the caller's names.
  EXPECT_NE(dot.find("op1 -> op2_1 [label=\"%xw\"]"), std::string::npos) << dot;
  EXPECT_NE(dot.find("in1 -> op2_1 [label=\"%a \\\"b\\\" \\\\ c\"]"),
            std::string::npos)
      << dot;
  EXPECT_NE(dot.find("op2_2 -> op3 [label=\"%z\"]"), std::string::npos) << dot;
  EXPECT_NE(dot.find("op2_1 -> ret [label=\"%y\"]"), std::string::npos) << dot;
}

class DotAcceptsTest : public test::TempDirTest {
protected:
  // Runs `dot -Tsvg` on `graph`; the SVG it wrote, or "" when it failed.
  std::string render(const std::string &name, const std::string &graph) {
    std::ofstream(path(name + ".dot")) << graph;
    std::string command = "dot -Tsvg '" + path(name + ".dot") + "' -o '" +
                          path(name + ".svg") + "' 2>'" + path(name + ".err") +
                          "'";
    if (std::system(command.c_str()) != 0)
      return "";
    std::ifstream in(path(name + ".svg"));
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
};

TEST_F(DotAcceptsTest, GraphvizRendersBothDrawings) {
  if (std::system("command -v dot >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "Graphviz's dot is not installed";
  auto m = parse();
  ASSERT_TRUE(m);
  ir::Function &main = *m->lookupFunction("main");
  // Names no text syntax needs to allow, straight into the IR.
  main.ops[1]->result()->name = "line\nbreak\ttab \xff bad \xce\xbb";
  for (bool kernels : {false, true}) {
    std::string name = kernels ? "kernels" : "graph";
    std::string svg =
        render(name, kernels ? printKernelsDot(*m, main) : printDot(*m, main));
    EXPECT_NE(svg.find("<svg"), std::string::npos) << name;
    std::ifstream err(path(name + ".err"));
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(err), {}), "") << name;
  }
}

} // namespace
} // namespace nyx::compiler
