// The interpreter against NumPy: tests/golden/make_golden.py writes one
// directory per case (case.nyx, inN.npy, outN.npy, tol.txt); each case is
// parsed, run and compared here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "ir/interpreter.h"
#include "ir/parser.h"
#include "tests/support/tensor_match.h"
#include "tests/unit/npy_util.h"

namespace nyx::ir {
namespace {

namespace fs = std::filesystem;

void runCase(const fs::path &dir) {
  auto module = parseModuleFile((dir / "case.nyx").string());
  ASSERT_TRUE(module.ok()) << module.status();
  auto fn = (*module)->entry();
  ASSERT_TRUE(fn.ok()) << fn.status();

  std::vector<Tensor> args;
  for (size_t i = 0; i < (*fn)->params.size(); ++i) {
    auto t = test::readNpyTensor((dir / strCat("in", i, ".npy")).string(),
                                 (*fn)->params[i]->type);
    ASSERT_TRUE(t.ok()) << t.status();
    args.push_back(std::move(*t));
  }
  double rtol = 0, atol = 0;
  std::ifstream(dir / "tol.txt") >> rtol >> atol;

  Interpreter interp(**module, nullptr);
  auto results = interp.run(**fn, std::move(args));
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), (*fn)->resultTypes.size());
  for (size_t i = 0; i < results->size(); ++i) {
    SCOPED_TRACE(strCat("result ", i));
    auto want = test::readNpyTensor((dir / strCat("out", i, ".npy")).string(),
                                    (*fn)->resultTypes[i]);
    ASSERT_TRUE(want.ok()) << want.status();
    EXPECT_TRUE(test::tensorsMatch((*results)[i], *want, rtol, atol));
  }
}

TEST(Golden, InterpreterMatchesNumPy) {
  if (!fs::exists("/usr/bin/python3"))
    GTEST_SKIP() << "/usr/bin/python3 is not installed";
  if (std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "NumPy is not available to /usr/bin/python3";

  const fs::path out = fs::path(NYX_BINARY_DIR) / "golden_data";
  fs::remove_all(out);
  fs::create_directories(out);
  const std::string cmd =
      strCat("/usr/bin/python3 ", NYX_SOURCE_DIR,
             "/tests/golden/make_golden.py ", out.string(), " >/dev/null");
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "failed: " << cmd;

  std::vector<fs::path> cases;
  for (const auto &entry : fs::directory_iterator(out))
    if (entry.is_directory())
      cases.push_back(entry.path());
  std::sort(cases.begin(), cases.end());
  ASSERT_GT(cases.size(), 0u);
  for (const fs::path &dir : cases) {
    SCOPED_TRACE(dir.filename().string());
    runCase(dir);
  }
}

} // namespace
} // namespace nyx::ir
