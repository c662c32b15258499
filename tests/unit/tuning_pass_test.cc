// The autotune pass on its own, with a tuner that answers from a table:
// which ops it asks about, what it records, what it keeps and refuses.
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "passes/pass.h"
#include "gtest/gtest.h"

namespace nyx::passes {
namespace {

// Tiles every matmul; a written schedule is valid when it starts with "ok".
// Chooses "db" for ops whose result has 4 rows, "measured" for 8 rows, and
// "default" otherwise.
class TableTuner : public ScheduleTuner {
public:
  bool tiles(const ir::Op &op) const override { return op.name() == "matmul"; }
  absl::Status check(const ir::Op &op) const override {
    auto s = op.getString("schedule");
    if (s.ok() && s->starts_with("ok"))
      return absl::OkStatus();
    return absl::InvalidArgumentError("schedule is not ok");
  }
  absl::StatusOr<std::vector<Choice>>
  choose(const std::vector<const ir::Op *> &ops) override {
    std::vector<Choice> out;
    for (const ir::Op *op : ops) {
      int64_t rows = op->result()->type.shape[0];
      asked.push_back(rows);
      out.push_back(rows == 4   ? Choice{"db", Source::Database}
                    : rows == 8 ? Choice{"measured", Source::Measured}
                                : Choice{"default", Source::Default});
    }
    return out;
  }
  std::vector<int64_t> asked; // the result rows of each op asked about
};

struct PassRun {
  absl::Status status;
  std::string printed;
  Statistics stats;
  std::vector<int64_t> asked; // the result rows of each op asked about
};

PassRun run(const std::string &text, bool withTuner = true) {
  PassRun r;
  auto m = ir::parseModule(text, "t.nyx");
  EXPECT_TRUE(m.ok()) << m.status().message();
  if (!m.ok())
    return r;
  TableTuner tuner;
  Options o;
  o.stats = &r.stats;
  o.tuner = withTuner ? &tuner : nullptr;
  r.status = runAutotune(**m, o);
  r.asked = tuner.asked;
  if (r.status.ok()) {
    EXPECT_TRUE(ir::verifyModule(**m).ok());
  }
  r.printed = ir::printModule(**m);
  return r;
}

const char *kModel = R"(
func @main(%a: f32[4,8], %b: f32[8,8], %c: f32[16,8]) -> (f32[4,8], f32[8,8], f32[16,8]) {
  %x = matmul(%a, %b) : f32[4,8]
  %r = relu(%x) : f32[4,8]
  %y = matmul(%b, %b) : f32[8,8]
  %z = matmul(%c, %b) : f32[16,8]
  return %r, %y, %z
}
)";

TEST(AutotunePass, RecordsAScheduleOnEveryTiledOp) {
  PassRun r = run(kModel);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.asked.size(), 3u);
  EXPECT_NE(r.printed.find("%x = matmul(%a, %b) {schedule = \"db\"}"),
            std::string::npos)
      << r.printed;
  EXPECT_NE(r.printed.find("%y = matmul(%b, %b) {schedule = \"measured\"}"),
            std::string::npos);
  EXPECT_NE(r.printed.find("%z = matmul(%c, %b) {schedule = \"default\"}"),
            std::string::npos);
  EXPECT_NE(r.printed.find("%r = relu(%x) : f32[4,8]"), std::string::npos);
  const auto &v = r.stats.values();
  EXPECT_EQ(v.at("autotune.db-hits"), 1);
  EXPECT_EQ(v.at("autotune.measured"), 1);
  EXPECT_EQ(v.at("autotune.defaults"), 1);
}

TEST(AutotunePass, KeepsAValidScheduleFromTheSource) {
  PassRun r = run(R"(
func @main(%a: f32[4,8], %b: f32[8,8]) -> (f32[4,8]) {
  %x = matmul(%a, %b) {schedule = "ok mine"} : f32[4,8]
  return %x
}
)");
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_TRUE(r.asked.empty());
  EXPECT_NE(r.printed.find("{schedule = \"ok mine\"}"), std::string::npos);
  EXPECT_EQ(r.stats.values().at("autotune.user-schedules"), 1);
}

TEST(AutotunePass, RefusesAnInvalidScheduleAtItsOp) {
  PassRun r = run(R"(
func @main(%a: f32[4,8], %b: f32[8,8]) -> (f32[4,8]) {
  %x = matmul(%a, %b) {schedule = "mr=99"} : f32[4,8]
  return %x
}
)");
  EXPECT_EQ(r.status.message(),
            "t.nyx:3:3: error: 'matmul' schedule is not ok");
}

TEST(AutotunePass, TunesKernelFunctionsAndTheEntryOnly) {
  PassRun r = run(R"(
kernel @k(%a: f32[4,8], %b: f32[8,8]) -> (f32[4,8]) {
  %x = matmul(%a, %b) : f32[4,8]
  %r = relu(%x) : f32[4,8]
  return %r
}
func @helper(%a: f32[16,8], %b: f32[8,8]) -> (f32[16,8]) {
  %x = matmul(%a, %b) : f32[16,8]
  return %x
}
func @main(%a: f32[4,8], %b: f32[8,8]) -> (f32[4,8]) {
  %y = fusion(%a, %b) {callee = @k} : f32[4,8]
  return %y
}
)");
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  ASSERT_EQ(r.asked.size(), 1u);
  EXPECT_EQ(r.asked[0], 4);
  EXPECT_EQ(r.printed.find("{schedule = \"default\"}"), std::string::npos);
}

TEST(AutotunePass, DoesNothingWithoutATuner) {
  PassRun r = run(kModel, /*withTuner=*/false);
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.printed.find("schedule"), std::string::npos);
  EXPECT_TRUE(r.stats.values().empty());
}

TEST(AutotunePass, ScheduleAttributeIsAStringOnMatmulAndConv2dOnly) {
  auto bad = ir::parseModule(R"(
func @main(%a: f32[4,8], %b: f32[8,8]) -> (f32[4,8]) {
  %x = matmul(%a, %b) {schedule = 3} : f32[4,8]
  return %x
}
)",
                             "t.nyx");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(
                "'matmul' attribute 'schedule' is 3; expected a string"),
            std::string_view::npos)
      << bad.status().message();
  auto relu = ir::parseModule(R"(
func @main(%a: f32[4,8]) -> (f32[4,8]) {
  %x = relu(%a) {schedule = "mr=1"} : f32[4,8]
  return %x
}
)",
                              "t.nyx");
  ASSERT_FALSE(relu.ok());
  EXPECT_NE(relu.status().message().find("'relu' has no attribute 'schedule'"),
            std::string_view::npos);
  auto conv = ir::parseModule(R"(
func @main(%x: f32[1,3,8,8], %w: f32[4,3,3,3]) -> (f32[1,4,6,6]) {
  %y = conv2d(%x, %w) {schedule = "mr=1,nr=16,mc=1,nc=16,pack_a=1"} : f32[1,4,6,6]
  return %y
}
)",
                              "t.nyx");
  EXPECT_TRUE(conv.ok()) << conv.status().message();
}

} // namespace
} // namespace nyx::passes
