// The tuning database: its JSON form, reading files that are not usable
// databases (each refused with a message naming the file, never used), and
// atomic, merging writes that drop stale entries.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/temp_dir.h"
#include "tuning/autotuner.h"
#include "tuning/tuning_db.h"
#include "gtest/gtest.h"

namespace nyx::tuning {
namespace {

namespace fs = std::filesystem;

TuningEntry entry(std::string op, std::string compiler = "nyx test") {
  TuningEntry e;
  e.key = {std::move(op), "znver4", "+avx2,+avx512f,-sse4a", 2,
           std::move(compiler)};
  e.schedule = "mr=6,nr=64,mc=96,nc=256,pack_a=1";
  e.seconds = 1.25e-3;
  e.defaultSchedule = "mr=6,nr=64,mc=48,nc=128,pack_a=0";
  e.defaultSeconds = 2.5e-3;
  e.candidates = 40;
  e.measured = 40;
  return e;
}

void writeText(const std::string &path, const std::string &text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string readText(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class TuningDbTest : public test::TempDirTest {};

TEST(TuningDbJson, WritesTheFormatFirst) {
  std::string text = toJson({entry("matmul(f32[4,8], f32[8,16])")}).dump();
  EXPECT_EQ(
      text.rfind(R"({"format":"nyx-tuning-db","version":1,"entries":[{"op":)",
                 0),
      0u)
      << text;
}

TEST(TuningDbJson, RoundTripsEveryField) {
  std::vector<TuningEntry> entries = {entry("matmul(f32[4,8], f32[8,16])"),
                                      entry("conv2d(f32[1,3,8,8])")};
  entries[1].measured = 7;
  nlohmann::ordered_json j = toJson(entries);
  EXPECT_EQ(j["format"], "nyx-tuning-db");
  EXPECT_EQ(j["version"], kTuningDbVersion);
  auto back = entriesFromJson(j);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, entries);
}

TEST(TuningDbJson, NamesWhatIsWrong) {
  nlohmann::ordered_json good = toJson({entry("matmul(f32[4,8], f32[8,16])")});
  auto message = [](const nlohmann::ordered_json &j) {
    return std::string(entriesFromJson(j).status().message());
  };
  nlohmann::ordered_json j = good;
  j["entries"][0].erase("schedule");
  EXPECT_EQ(message(j), "has entry 0 without a string 'schedule'");
  j = good;
  j["entries"][0]["threads"] = -1;
  EXPECT_EQ(message(j), "has entry 0 without an integer 'threads' >= 0");
  j = good;
  j["entries"][0]["seconds"] = "fast";
  EXPECT_EQ(message(j), "has entry 0 without a number of seconds 'seconds' "
                        ">= 0");
  j = good;
  j["entries"].push_back(3);
  EXPECT_EQ(message(j), "has entry 1, which is not an object");
  j = good;
  j["version"] = 2;
  EXPECT_EQ(message(j), "has format version 2; expected 1");
  j = good;
  j.erase("entries");
  EXPECT_EQ(message(j), "has no \"entries\" array");
  EXPECT_EQ(message(nlohmann::ordered_json::array()),
            "is not a tuning database (expected a JSON object with "
            "\"format\": \"nyx-tuning-db\")");
}

TEST_F(TuningDbTest, FileRoundTrip) {
  std::string path = this->path("db.json");
  std::vector<TuningEntry> entries = {entry("matmul(f32[4,8], f32[8,16])")};
  ASSERT_TRUE(writeTuningFile(path, entries).ok());
  auto back = readTuningFile(path);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, entries);
}

TEST_F(TuningDbTest, MissingOrEmptyFileIsAnEmptyDatabase) {
  auto missing = readTuningFile(path("none.json"));
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing->empty());
  writeText(path("empty.json"), "");
  auto empty = readTuningFile(path("empty.json"));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST_F(TuningDbTest, UnusableFilesAreRefusedWithTheirName) {
  struct Case {
    std::string name, text, message;
  };
  const Case cases[] = {
      {"corrupt.json", "{\"format\": \"nyx-tuning-db\", \"entr",
       "is not valid JSON"},
      {"foreign.json", R"({"format": "nyx-ir", "version": 1})",
       "is not a tuning database"},
      {"newer.json",
       R"({"format": "nyx-tuning-db", "version": 7, "entries": []})",
       "has format version 7; expected 1"},
      {"bad-entry.json",
       R"({"format": "nyx-tuning-db", "version": 1, "entries": [{"op": 1}]})",
       "has entry 0 without a string 'op'"},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.name);
    writeText(path(c.name), c.text);
    auto read = readTuningFile(path(c.name));
    ASSERT_FALSE(read.ok());
    std::string message(read.status().message());
    EXPECT_NE(message.find("tuning database '" + path(c.name) + "'"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find(c.message), std::string::npos) << message;
  }
  auto dir = readTuningFile(dir_);
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.status().message().find("is a directory"),
            std::string_view::npos);
}

TEST_F(TuningDbTest, FindsOnlyTheExactKey) {
  TuningDb db(path("db.json"), "nyx test");
  ASSERT_TRUE(db.load().ok());
  TuningEntry e = entry("matmul(f32[4,8], f32[8,16])");
  db.put(e);
  EXPECT_NE(db.find(e.key), nullptr);
  for (auto change : {+[](TuningKey &k) { k.op += " {transpose_b = true}"; },
                      +[](TuningKey &k) { k.cpu = "skylake-avx512"; },
                      +[](TuningKey &k) { k.features += ",+amx-tile"; },
                      +[](TuningKey &k) { k.threads = 16; },
                      +[](TuningKey &k) { k.compiler = "nyx other"; }}) {
    TuningKey k = e.key;
    change(k);
    EXPECT_EQ(db.find(k), nullptr);
  }
}

TEST_F(TuningDbTest, SaveMergesWithTheFileAndDropsStaleEntries) {
  std::string file = path("db.json");
  TuningEntry stale = entry("matmul(f32[1,1], f32[1,1])", "nyx old");
  TuningEntry other = entry("matmul(f32[2,2], f32[2,2])");
  ASSERT_TRUE(writeTuningFile(file, {stale}).ok());

  TuningDb db(file, "nyx test");
  ASSERT_TRUE(db.load().ok());
  EXPECT_EQ(db.size(), 1u);
  // A stale entry is there but no key of this compiler finds it.
  TuningKey current = stale.key;
  current.compiler = "nyx test";
  EXPECT_EQ(db.find(current), nullptr);

  // Another compile adds an entry after this one read the file.
  ASSERT_TRUE(writeTuningFile(file, {stale, other}).ok());
  TuningEntry mine = entry("matmul(f32[3,3], f32[3,3])");
  db.put(mine);
  ASSERT_TRUE(db.save().ok());
  auto back = readTuningFile(file);
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0], other);
  EXPECT_EQ((*back)[1], mine);
}

TEST_F(TuningDbTest, NothingMeasuredWritesNothing) {
  TuningDb db(path("db.json"), "nyx test");
  ASSERT_TRUE(db.load().ok());
  ASSERT_TRUE(db.save().ok());
  EXPECT_FALSE(fs::exists(path("db.json")));
}

TEST_F(TuningDbTest, NeverWritesOverAFileItCouldNotRead) {
  std::string file = path("model.json");
  const std::string text = R"({"format": "nyx-ir", "version": 1})";
  writeText(file, text);
  TuningDb db(file, "nyx test");
  EXPECT_FALSE(db.load().ok());
  EXPECT_EQ(db.size(), 0u);
  db.put(entry("matmul(f32[4,8], f32[8,16])"));
  absl::Status s = db.save();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("not writing the tuning results over"),
            std::string_view::npos);
  EXPECT_EQ(readText(file), text);
}

TEST_F(TuningDbTest, WriteReplacesTheFileAtomically) {
  std::string file = path("db.json");
  ASSERT_TRUE(writeTuningFile(file, {entry("a")}).ok());
  // A reader that opened the old file keeps reading the old contents: the
  // new file is renamed over the name, not written into it.
  std::ifstream reader(file, std::ios::binary);
  ASSERT_TRUE(writeTuningFile(file, {entry("b")}).ok());
  std::stringstream old;
  old << reader.rdbuf();
  EXPECT_NE(old.str().find("\"op\": \"a\""), std::string::npos);
  EXPECT_NE(readText(file).find("\"op\": \"b\""), std::string::npos);
  // No temporary file is left behind.
  int files = 0;
  for (const auto &e : fs::directory_iterator(dir_)) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);
  EXPECT_EQ(fs::status(file).permissions() & fs::perms::others_read,
            fs::perms::others_read);
}

TEST_F(TuningDbTest, WriteFailureNamesTheFile) {
  std::string file = path("missing-dir/db.json");
  absl::Status s = writeTuningFile(file, {entry("a")});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cannot write the tuning database '" + file),
            std::string_view::npos)
      << s.message();
}

TEST_F(TuningDbTest, TheTunerWarnsAboutAnUnusableDatabaseAndGoesOn) {
  std::string file = path("db.json");
  writeText(file, "not json");
  TunerSettings settings;
  settings.databasePath = file;
  std::ostringstream log;
  auto tuner = Autotuner::create(settings, log);
  ASSERT_TRUE(tuner.ok()) << tuner.status().message();
  EXPECT_EQ(log.str(), "warning: tuning database '" + file +
                           "' is not valid JSON; ignoring it\n");
}

} // namespace
} // namespace nyx::tuning
