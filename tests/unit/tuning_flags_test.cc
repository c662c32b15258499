// nyxc's autotuning flags: values that are taken and values that are
// refused with a clear message.
#include "compiler/tuning_flags.h"
#include "tests/support/temp_dir.h"
#include "gtest/gtest.h"

namespace nyx::compiler {
namespace {

struct Parsed {
  absl::Status status;
  CompileOptions options;
};

Parsed parse(std::vector<std::string> args) {
  Parsed p;
  CommandLine cl;
  addTuningFlags(cl, p.options);
  std::vector<char *> argv = {const_cast<char *>("nyxc")};
  for (std::string &a : args)
    argv.push_back(a.data());
  std::vector<std::string> positional;
  p.status = cl.parse(static_cast<int>(argv.size()), argv.data(), positional);
  return p;
}

TEST(TuningFlags, DefaultsMeasureNothing) {
  Parsed p = parse({});
  ASSERT_TRUE(p.status.ok());
  EXPECT_FALSE(p.options.autotune);
  EXPECT_EQ(p.options.autotuneBudget, 60);
  EXPECT_EQ(p.options.tuningDb, "");
}

TEST(TuningFlags, TakesTheirValues) {
  Parsed p =
      parse({"--autotune", "--autotune-budget=2.5", "--tuning-db=t.json"});
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  EXPECT_TRUE(p.options.autotune);
  EXPECT_EQ(p.options.autotuneBudget, 2.5);
  EXPECT_EQ(p.options.tuningDb, "t.json");
  EXPECT_EQ(parse({"--autotune-budget", "0"}).options.autotuneBudget, 0);
  EXPECT_EQ(parse({"--autotune-budget=1e2"}).options.autotuneBudget, 100);
}

TEST(TuningFlags, RefusesBadBudgets) {
  EXPECT_EQ(parse({"--autotune-budget=soon"}).status.message(),
            "bad value for '-autotune-budget': 'soon' is not a number of "
            "seconds; expected e.g. 60 or 0.5");
  EXPECT_EQ(parse({"--autotune-budget=-1"}).status.message(),
            "bad value for '-autotune-budget': -1 seconds; expected 0 to "
            "1000000 (0 measures nothing)");
  for (const char *bad : {"", "nan", "inf", "60s", "1e7", " 5"})
    EXPECT_FALSE(parseBudgetSeconds(bad).ok()) << "'" << bad << "'";
}

class TuningDbFlag : public test::TempDirTest {};

TEST_F(TuningDbFlag, RefusesWhatCannotBeADatabase) {
  EXPECT_EQ(parse({"--tuning-db="}).status.message(),
            "bad value for '-tuning-db': empty file name; expected a tuning "
            "database file");
  EXPECT_EQ(parse({"--tuning-db=" + dir_}).status.message(),
            "bad value for '-tuning-db': '" + dir_ +
                "' is a directory; expected a tuning database file");
}

} // namespace
} // namespace nyx::compiler
