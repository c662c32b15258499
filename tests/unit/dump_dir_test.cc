// The pass manager's --dump-dir: one file before the pipeline and one after
// each pass, numbered so they sort in pipeline order.
#include <algorithm>
#include <filesystem>
#include <fstream>

#include "ir/parser.h"
#include "ir/printer.h"
#include "passes/pass_manager.h"
#include "tests/support/temp_dir.h"
#include "gtest/gtest.h"

namespace nyx::passes {
namespace {

namespace fs = std::filesystem;

constexpr const char *kModule = R"(
func @main(%x: f32[4]) -> (f32[4]) {
  %y = neg(%x) : f32[4]
  return %y
}
)";

class DumpDirTest : public test::TempDirTest {
protected:
  std::vector<std::string> files(const std::string &dir) {
    std::vector<std::string> names;
    for (const auto &e : fs::directory_iterator(dir))
      names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
  std::string read(const std::string &file) {
    std::ifstream in(file);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::unique_ptr<ir::Module> parse() {
    auto m = ir::parseModule(kModule, "m.nyx");
    EXPECT_TRUE(m.ok()) << m.status().message();
    return m.ok() ? std::move(*m) : nullptr;
  }
};

TEST_F(DumpDirTest, NumbersWidenPastNinetyNinePasses) {
  std::string pipeline = "verify";
  for (int i = 1; i < 100; ++i)
    pipeline += ",verify";
  auto pm = PassManager::parse(pipeline);
  ASSERT_TRUE(pm.ok());
  auto m = parse();
  Instrumentation inst;
  inst.dumpDir = path("many");
  ASSERT_TRUE(pm->run(*m, {}, inst).ok());
  std::vector<std::string> names = files(path("many"));
  ASSERT_EQ(names.size(), 101u);
  EXPECT_EQ(names.front(), "000-input.nyx");
  EXPECT_EQ(names[1], "001-verify.nyx");
  EXPECT_EQ(names.back(), "100-verify.nyx");
  EXPECT_EQ(read(path("many/100-verify.nyx")), ir::printModule(*m));
}

// A pass that leaves the module invalid: the result type no longer matches
// the op's shape rule.
absl::Status breakTypes(ir::Module &m, const Options &) {
  m.functions[0]->ops[0]->result()->type.shape = {5};
  return absl::OkStatus();
}

TEST_F(DumpDirTest, TheModuleAPassBrokeIsDumpedBeforeVerification) {
  PassInfo breaker{"break-types", "makes the module invalid", breakTypes};
  PassManager pm;
  pm.add(lookupPass("verify"));
  pm.add(&breaker);
  auto m = parse();
  Instrumentation inst;
  inst.dumpDir = path("broken");
  absl::Status s = pm.run(*m, {}, inst);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("after pass 'break-types'"),
            std::string::npos)
      << s.message();
  EXPECT_EQ(files(path("broken")),
            (std::vector<std::string>{"00-input.nyx", "01-verify.nyx",
                                      "02-break-types.nyx"}));
  EXPECT_NE(read(path("broken/02-break-types.nyx")).find("neg(%x) : f32[5]"),
            std::string::npos);
}

TEST_F(DumpDirTest, AFailingPassWritesNothingAfterIt) {
  PassInfo failing{"fail", "fails", [](ir::Module &, const Options &) {
                     return absl::InternalError("no");
                   }};
  PassManager pm;
  pm.add(&failing);
  pm.add(lookupPass("verify"));
  auto m = parse();
  Instrumentation inst;
  inst.dumpDir = path("failed");
  EXPECT_FALSE(pm.run(*m, {}, inst).ok());
  EXPECT_EQ(files(path("failed")), std::vector<std::string>{"00-input.nyx"});
}

TEST_F(DumpDirTest, PrepareCreatesParentsAndLeavesNoProbeBehind) {
  ASSERT_TRUE(prepareDumpDir(path("a/b/c")).ok());
  EXPECT_TRUE(fs::is_directory(path("a/b/c")));
  EXPECT_TRUE(files(path("a/b/c")).empty());
}

TEST_F(DumpDirTest, PrepareRefusesWhatIsNotAWritableDirectory) {
  std::ofstream(path("file")) << "x";
  absl::Status s = prepareDumpDir(path("file"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(
      std::string(s.message())
          .find("cannot create the dump directory '" + path("file") + "'"),
      std::string::npos)
      << s.message();
  EXPECT_FALSE(prepareDumpDir("").ok());
  // The pass manager checks too, before the first pass runs.
  auto pm = PassManager::parse("verify");
  auto m = parse();
  Instrumentation inst;
  inst.dumpDir = path("file/sub");
  EXPECT_FALSE(pm->run(*m, {}, inst).ok());
}

} // namespace
} // namespace nyx::passes
