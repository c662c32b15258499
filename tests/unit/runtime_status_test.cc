// Status strings, the thread-local error message and dtype helpers of the C
// runtime.
#include "nyx/runtime.h"
#include "nyx/safetensors.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>

#include "ir/types.h"

namespace {

struct StatusName {
  int status;
  const char *name;
};

constexpr StatusName kStatuses[] = {
    {NYX_OK, "NYX_OK"},
    {NYX_ERR_INVALID_ARGUMENT, "NYX_ERR_INVALID_ARGUMENT"},
    {NYX_ERR_MISALIGNED, "NYX_ERR_MISALIGNED"},
    {NYX_ERR_IO, "NYX_ERR_IO"},
    {NYX_ERR_FORMAT, "NYX_ERR_FORMAT"},
    {NYX_ERR_NOT_FOUND, "NYX_ERR_NOT_FOUND"},
    {NYX_ERR_SHAPE_MISMATCH, "NYX_ERR_SHAPE_MISMATCH"},
    {NYX_ERR_DTYPE_MISMATCH, "NYX_ERR_DTYPE_MISMATCH"},
    {NYX_ERR_WEIGHTS_NOT_LOADED, "NYX_ERR_WEIGHTS_NOT_LOADED"},
    {NYX_ERR_OUT_OF_MEMORY, "NYX_ERR_OUT_OF_MEMORY"},
    {NYX_ERR_UNSUPPORTED, "NYX_ERR_UNSUPPORTED"},
    {NYX_ERR_NO_GPU, "NYX_ERR_NO_GPU"},
};

TEST(RuntimeStatus, CodesKeepTheirAbiValues) {
  for (size_t i = 0; i < std::size(kStatuses); ++i)
    EXPECT_EQ(kStatuses[i].status, static_cast<int>(i)) << kStatuses[i].name;
}

TEST(RuntimeStatus, EveryStatusStringStartsWithItsNameAndIsDistinct) {
  std::set<std::string> seen;
  for (const StatusName &s : kStatuses) {
    std::string text = nyx_status_string(s.status);
    EXPECT_EQ(text.rfind(std::string(s.name) + ": ", 0), 0u) << text;
    EXPECT_GT(text.size(), std::string(s.name).size() + 4) << text;
    EXPECT_TRUE(seen.insert(text).second) << "duplicate: " << text;
  }
  EXPECT_STREQ(nyx_status_string(NYX_OK), "NYX_OK: success");
  EXPECT_STREQ(nyx_status_string(NYX_ERR_NO_GPU),
               "NYX_ERR_NO_GPU: GPU not available");
}

TEST(RuntimeStatus, UnknownCodesSayUnknownStatus) {
  EXPECT_STREQ(nyx_status_string(-1), "unknown status");
  EXPECT_STREQ(nyx_status_string(NYX_ERR_NO_GPU + 1), "unknown status");
  EXPECT_STREQ(nyx_status_string(1 << 30), "unknown status");
}

TEST(RuntimeStatus, LastErrorIsEmptyOnAFreshThread) {
  std::string seen = "not run";
  std::thread([&] { seen = nyx_last_error(); }).join();
  EXPECT_EQ(seen, "");
}

TEST(RuntimeStatus, LastErrorDescribesTheFailureAndIsPerThread) {
  std::string path = testing::TempDir() + "/nyx_status_missing.safetensors";
  nyx_safetensors *file = nullptr;
  std::string other_thread = "not run";
  std::thread([&] {
    EXPECT_EQ(nyx_safetensors_open(path.c_str(), &file), NYX_ERR_IO);
    other_thread = nyx_last_error();
  }).join();
  EXPECT_NE(other_thread.find(path), std::string::npos) << other_thread;
  EXPECT_NE(other_thread.find("cannot open"), std::string::npos)
      << other_thread;

  // This thread has its own message, untouched by the other thread.
  std::string before = nyx_last_error();
  EXPECT_EQ(before.find(path), std::string::npos);
  EXPECT_EQ(nyx_safetensors_open(path.c_str(), &file), NYX_ERR_IO);
  EXPECT_EQ(file, nullptr);
  EXPECT_NE(std::string(nyx_last_error()).find(path), std::string::npos);
}

TEST(RuntimeDType, SizesAndNames) {
  struct Expected {
    nyx_dtype dtype;
    size_t size;
    const char *name;
  };
  const Expected expected[] = {
      {NYX_F32, 4, "f32"}, {NYX_F16, 2, "f16"},   {NYX_BF16, 2, "bf16"},
      {NYX_F64, 8, "f64"}, {NYX_I8, 1, "i8"},     {NYX_I32, 4, "i32"},
      {NYX_I64, 8, "i64"}, {NYX_BOOL, 1, "bool"},
  };
  for (const Expected &e : expected) {
    EXPECT_EQ(nyx_dtype_size(e.dtype), e.size) << e.name;
    EXPECT_STREQ(nyx_dtype_name(e.dtype), e.name);
  }
  EXPECT_EQ(nyx_dtype_size(static_cast<nyx_dtype>(99)), 0u);
  EXPECT_STREQ(nyx_dtype_name(static_cast<nyx_dtype>(99)), "unknown");
}

TEST(RuntimeDType, MatchesTheCompilerDTypeOrderSizesAndNames) {
  for (nyx::ir::DType t : nyx::ir::kAllDTypes) {
    auto dtype = static_cast<nyx_dtype>(static_cast<int>(t));
    EXPECT_EQ(nyx_dtype_size(dtype), nyx::ir::dtypeSize(t));
    EXPECT_EQ(std::string(nyx_dtype_name(dtype)),
              std::string(nyx::ir::dtypeName(t)));
  }
}

} // namespace
