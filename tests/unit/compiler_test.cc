// The driver's pieces: command-line parsing and all-or-nothing output.
#include <filesystem>
#include <fstream>

#include "compiler/command_line.h"
#include "compiler/output_files.h"
#include "gtest/gtest.h"

namespace nyx::compiler {
namespace {

namespace fs = std::filesystem;

struct Parsed {
  absl::Status status;
  std::string value;
  bool flag = false;
  std::vector<std::string> positional;
};

Parsed parse(std::vector<std::string> args) {
  Parsed p;
  CommandLine cl;
  cl.option("emit", "<kind>", "what to write", [&](std::string_view v) {
    if (v == "bad")
      return absl::InvalidArgumentError("no such kind");
    p.value = v;
    return absl::OkStatus();
  });
  cl.flag("O2", "optimize", [&] { p.flag = true; });
  std::vector<char *> argv = {const_cast<char *>("tool")};
  for (std::string &a : args)
    argv.push_back(a.data());
  p.status = cl.parse(static_cast<int>(argv.size()), argv.data(), p.positional);
  return p;
}

TEST(CommandLine, AcceptsTheSpellingsLLVMToolsAccept) {
  EXPECT_EQ(parse({"--emit=asm"}).value, "asm");
  EXPECT_EQ(parse({"-emit=asm"}).value, "asm");
  EXPECT_EQ(parse({"--emit", "llvm"}).value, "llvm");
  EXPECT_TRUE(parse({"-O2"}).flag);
  Parsed p = parse({"a.nyx", "--emit=ir", "b.nyx"});
  EXPECT_TRUE(p.status.ok());
  EXPECT_EQ(p.positional, (std::vector<std::string>{"a.nyx", "b.nyx"}));
  // A lone "-" is a positional argument (stdin), not a flag.
  EXPECT_EQ(parse({"-"}).positional, std::vector<std::string>{"-"});
}

TEST(CommandLine, RejectsWhatItCannotUnderstand) {
  EXPECT_EQ(parse({"--nope"}).status.message(),
            "unknown argument '--nope'; see --help");
  EXPECT_EQ(parse({"--emit"}).status.message(),
            "'--emit' needs a value: --emit <kind>");
  EXPECT_EQ(parse({"-O2=3"}).status.message(), "'-O2' does not take a value");
  EXPECT_EQ(parse({"--emit=bad"}).status.message(),
            "bad value for '-emit': no such kind");
}

TEST(CommandLine, HelpListsEveryOption) {
  CommandLine cl;
  cl.option("o", "<file>", "output",
            [](std::string_view) { return absl::OkStatus(); });
  cl.flag("time-passes", "timing", [] {});
  std::string help = cl.help("tool [options] <input>", "a tool");
  EXPECT_NE(help.find("USAGE: tool [options] <input>"), std::string::npos);
  EXPECT_NE(help.find("-o <file>"), std::string::npos);
  EXPECT_NE(help.find("--time-passes"), std::string::npos);
}

std::string readFile(const fs::path &p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(OutputFiles, WritesEveryFile) {
  fs::path dir = fs::path(NYX_BINARY_DIR) / "compiler_test_out";
  fs::remove_all(dir);
  fs::create_directories(dir);
  OutputFiles out;
  out.add((dir / "a.o").string(), "object");
  out.add((dir / "a.h").string(), "header");
  ASSERT_TRUE(out.commit().ok());
  EXPECT_EQ(readFile(dir / "a.o"), "object");
  EXPECT_EQ(readFile(dir / "a.h"), "header");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), {}), 2); // no temps
}

TEST(OutputFiles, WritesNothingWhenOneFileFails) {
  fs::path dir = fs::path(NYX_BINARY_DIR) / "compiler_test_fail";
  fs::remove_all(dir);
  fs::create_directories(dir);
  OutputFiles out;
  out.add((dir / "a.o").string(), "object");
  out.add((dir / "missing" / "a.h").string(), "header");
  absl::Status s = out.commit();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("cannot write '"), std::string::npos);
  EXPECT_TRUE(fs::is_empty(dir)) << "a partial output or a temporary was left";
}

TEST(OutputFiles, RefusesTwoOutputsAtOnePath) {
  fs::path dir = fs::path(NYX_BINARY_DIR) / "compiler_test_same";
  fs::remove_all(dir);
  fs::create_directories(dir);
  OutputFiles out;
  out.add((dir / "m.h").string(), "object");
  out.add((dir / "." / "m.h").string(), "header");
  absl::Status s = out.commit();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("is named for two outputs"),
            std::string::npos)
      << s.message();
  EXPECT_TRUE(fs::is_empty(dir));
}

} // namespace
} // namespace nyx::compiler
