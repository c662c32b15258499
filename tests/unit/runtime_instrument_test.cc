// The runtime side of instrumented models: nyx_instrument with a hook, with
// a dump directory, and with neither.
#include "nyx/instrument.h"
#include "nyx/npy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;

struct Seen {
  void *user;
  std::string kernel, value;
  const void *data;
  nyx_dtype dtype;
  int rank;
  const int64_t *shape;
};

int remember(void *user, const char *kernel, const char *value,
             const void *data, nyx_dtype dtype, int rank,
             const int64_t *shape) {
  static_cast<std::vector<Seen> *>(user)->push_back(
      {user, kernel, value, data, dtype, rank, shape});
  return NYX_OK;
}

int refuse(void *, const char *, const char *, const void *, nyx_dtype, int,
           const int64_t *) {
  return NYX_ERR_UNSUPPORTED;
}

class InstrumentRuntimeTest : public nyx::test::TempDirTest {
protected:
  void SetUp() override {
    TempDirTest::SetUp();
    unsetenv("NYX_DUMP_DIR");
    nyx_set_instrument_hook(nullptr, nullptr);
    ASSERT_EQ(nyx_instrument_dump_to(nullptr), NYX_OK);
  }
  void TearDown() override {
    unsetenv("NYX_DUMP_DIR");
    nyx_set_instrument_hook(nullptr, nullptr);
    nyx_instrument_dump_to(nullptr);
    TempDirTest::TearDown();
  }

  std::vector<std::string> files(const std::string &dir) {
    std::vector<std::string> names;
    for (const auto &e : fs::directory_iterator(dir))
      names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  // Reads a dumped file; its data as bytes.
  std::string readNpy(const std::string &file, nyx_dtype &dtype,
                      std::vector<int64_t> &shape) {
    int rank = 0;
    int64_t dims[NYX_NPY_MAX_RANK];
    void *data = nullptr;
    size_t bytes = 0;
    EXPECT_EQ(nyx_npy_read(file.c_str(), &dtype, &rank, dims, &data, &bytes),
              NYX_OK)
        << nyx_last_error();
    shape.assign(dims, dims + rank);
    std::string out(static_cast<char *>(data), bytes);
    nyx_free(data);
    return out;
  }
};

TEST_F(InstrumentRuntimeTest, DoesNothingWithoutHookOrDirectory) {
  float x[2] = {1, 2};
  int64_t shape[1] = {2};
  EXPECT_EQ(nyx_instrument("k", "v", x, NYX_F32, 1, shape), NYX_OK);
  EXPECT_TRUE(files(dir_).empty());
}

TEST_F(InstrumentRuntimeTest, HookGetsTheArgumentsAsGiven) {
  std::vector<Seen> seen;
  nyx_set_instrument_hook(remember, &seen);
  int32_t x[6] = {};
  int64_t shape[2] = {2, 3};
  ASSERT_EQ(nyx_instrument("matmul_0", "h", x, NYX_I32, 2, shape), NYX_OK);
  ASSERT_EQ(nyx_instrument("sum_1", "s", x, NYX_I32, 0, nullptr), NYX_OK);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].user, &seen);
  EXPECT_EQ(seen[0].kernel, "matmul_0");
  EXPECT_EQ(seen[0].value, "h");
  EXPECT_EQ(seen[0].data, x);
  EXPECT_EQ(seen[0].dtype, NYX_I32);
  EXPECT_EQ(seen[0].rank, 2);
  EXPECT_EQ(seen[0].shape, shape);
  EXPECT_EQ(seen[1].rank, 0);
  EXPECT_EQ(seen[1].shape, nullptr);
}

TEST_F(InstrumentRuntimeTest, HookStatusIsReturned) {
  nyx_set_instrument_hook(refuse, nullptr);
  float x = 0;
  EXPECT_EQ(nyx_instrument("k", "v", &x, NYX_F32, 0, nullptr),
            NYX_ERR_UNSUPPORTED);
}

TEST_F(InstrumentRuntimeTest, HookWinsOverTheDumpDirectory) {
  std::vector<Seen> seen;
  nyx_set_instrument_hook(remember, &seen);
  ASSERT_EQ(nyx_instrument_dump_to(path("dumps").c_str()), NYX_OK);
  float x = 0;
  ASSERT_EQ(nyx_instrument("k", "v", &x, NYX_F32, 0, nullptr), NYX_OK);
  EXPECT_EQ(seen.size(), 1u);
  EXPECT_TRUE(files(path("dumps")).empty());
}

TEST_F(InstrumentRuntimeTest, RejectsBadArguments) {
  float x[4] = {};
  int64_t shape[1] = {4};
  EXPECT_EQ(nyx_instrument(nullptr, "v", x, NYX_F32, 1, shape),
            NYX_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(nyx_instrument("k", nullptr, x, NYX_F32, 1, shape),
            NYX_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(nyx_instrument("k", "v", x, 99, 1, shape),
            NYX_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(nyx_instrument("k", "v", x, NYX_F32, -1, shape),
            NYX_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(nyx_instrument("k", "v", x, NYX_F32, 1, nullptr),
            NYX_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(nyx_instrument("k", "v", nullptr, NYX_F32, 1, shape),
            NYX_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(nyx_last_error()).find("nyx_instrument"),
            std::string::npos);
  // An empty tensor needs no data.
  int64_t empty[1] = {0};
  EXPECT_EQ(nyx_instrument("k", "v", nullptr, NYX_F32, 1, empty), NYX_OK);
}

TEST_F(InstrumentRuntimeTest, DumpsNumberedFilesWithSafeNames) {
  setenv("NYX_DUMP_DIR", path("a/b").c_str(), 1);
  float x[3] = {1.5f, -2, 3};
  int64_t shape[1] = {3};
  ASSERT_EQ(nyx_instrument("add_0", "x", x, NYX_F32, 1, shape), NYX_OK);
  ASSERT_EQ(nyx_instrument("k/1", "a b\"c", x, NYX_F32, 1, shape), NYX_OK);
  ASSERT_EQ(nyx_instrument("k", "..", x, NYX_F32, 1, shape), NYX_OK);
  ASSERT_EQ(nyx_instrument("k", "", x, NYX_F32, 1, shape), NYX_OK);
  std::string longName(300, 'n');
  ASSERT_EQ(nyx_instrument("k", longName.c_str(), x, NYX_F32, 1, shape),
            NYX_OK);
  EXPECT_EQ(
      files(path("a/b")),
      (std::vector<std::string>{"000000-add_0-x.npy", "000001-k_1-a_b_c.npy",
                                "000002-k-.._.npy", "000003-k-_.npy",
                                "000004-k-" + std::string(80, 'n') + ".npy"}));
  nyx_dtype dtype;
  std::vector<int64_t> dims;
  std::string bytes = readNpy(path("a/b/000000-add_0-x.npy"), dtype, dims);
  EXPECT_EQ(dtype, NYX_F32);
  EXPECT_EQ(dims, std::vector<int64_t>{3});
  EXPECT_EQ(bytes, std::string(reinterpret_cast<char *>(x), sizeof x));
}

TEST_F(InstrumentRuntimeTest, Bf16IsWidenedToF32) {
  ASSERT_EQ(nyx_instrument_dump_to(dir_.c_str()), NYX_OK);
  uint16_t bits[2] = {0x3F80, 0xC000}; // 1.0, -2.0
  int64_t shape[1] = {2};
  ASSERT_EQ(nyx_instrument("cast_0", "b", bits, NYX_BF16, 1, shape), NYX_OK);
  nyx_dtype dtype;
  std::vector<int64_t> dims;
  std::string bytes = readNpy(path("000000-cast_0-b.npy"), dtype, dims);
  EXPECT_EQ(dtype, NYX_F32);
  float want[2] = {1.0f, -2.0f};
  EXPECT_EQ(bytes, std::string(reinterpret_cast<char *>(want), sizeof want));
}

TEST_F(InstrumentRuntimeTest, HighRanksMergeLeadingDimensions) {
  ASSERT_EQ(nyx_instrument_dump_to(dir_.c_str()), NYX_OK);
  int64_t shape[10] = {1, 2, 3, 1, 1, 1, 1, 1, 1, 2};
  std::vector<int8_t> data(12);
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<int8_t>(i);
  ASSERT_EQ(nyx_instrument("k", "v", data.data(), NYX_I8, 10, shape), NYX_OK);
  nyx_dtype dtype;
  std::vector<int64_t> dims;
  std::string bytes = readNpy(path("000000-k-v.npy"), dtype, dims);
  EXPECT_EQ(dims, (std::vector<int64_t>{6, 1, 1, 1, 1, 1, 1, 2}));
  EXPECT_EQ(bytes, std::string(data.begin(), data.end()));
}

TEST_F(InstrumentRuntimeTest, ScalarsAndEmptyTensors) {
  ASSERT_EQ(nyx_instrument_dump_to(dir_.c_str()), NYX_OK);
  double x = 2.5;
  ASSERT_EQ(nyx_instrument("k", "s", &x, NYX_F64, 0, nullptr), NYX_OK);
  int64_t empty[2] = {3, 0};
  ASSERT_EQ(nyx_instrument("k", "e", nullptr, NYX_BOOL, 2, empty), NYX_OK);
  nyx_dtype dtype;
  std::vector<int64_t> dims;
  EXPECT_EQ(readNpy(path("000000-k-s.npy"), dtype, dims),
            std::string(reinterpret_cast<char *>(&x), sizeof x));
  EXPECT_TRUE(dims.empty());
  EXPECT_EQ(readNpy(path("000001-k-e.npy"), dtype, dims), "");
  EXPECT_EQ(dtype, NYX_BOOL);
  EXPECT_EQ(dims, (std::vector<int64_t>{3, 0}));
}

TEST_F(InstrumentRuntimeTest, ConcurrentCallsGetDistinctNumbers) {
  ASSERT_EQ(nyx_instrument_dump_to(dir_.c_str()), NYX_OK);
  constexpr int kThreads = 4, kCalls = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([t] {
      int32_t v = t;
      std::string name = "t" + std::to_string(t);
      for (int i = 0; i < kCalls; ++i)
        EXPECT_EQ(nyx_instrument("k", name.c_str(), &v, NYX_I32, 0, nullptr),
                  NYX_OK);
    });
  for (std::thread &t : threads)
    t.join();
  std::vector<std::string> names = files(dir_);
  ASSERT_EQ(names.size(), size_t(kThreads * kCalls));
  for (size_t i = 0; i < names.size(); ++i) {
    char expected[24];
    std::snprintf(expected, sizeof expected, "%06zu", i);
    EXPECT_EQ(names[i].substr(0, 6), expected);
  }
}

TEST_F(InstrumentRuntimeTest, DirectoryThatCannotBeMadeIsAnIoError) {
  std::ofstream(path("file")) << "x";
  EXPECT_EQ(nyx_instrument_dump_to(path("file/sub").c_str()), NYX_ERR_IO);
  EXPECT_NE(std::string(nyx_last_error()).find("file/sub"), std::string::npos);
  setenv("NYX_DUMP_DIR", path("file").c_str(), 1);
  float x = 0;
  EXPECT_EQ(nyx_instrument("k", "v", &x, NYX_F32, 0, nullptr), NYX_ERR_IO);
  EXPECT_NE(std::string(nyx_last_error()).find("not a directory"),
            std::string::npos)
      << nyx_last_error();
}

} // namespace
