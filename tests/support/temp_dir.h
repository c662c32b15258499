// A gtest fixture with a fresh temporary directory per test.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "gtest/gtest.h"

namespace nyx::test {

class TempDirTest : public testing::Test {
protected:
  void SetUp() override {
    std::string pattern = testing::TempDir() + "/nyx_test_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    EXPECT_FALSE(ec) << ec.message();
  }
  std::string path(const std::string &name) const { return dir_ + "/" + name; }

  std::string dir_;
};

} // namespace nyx::test
