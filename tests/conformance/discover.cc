#include "tests/conformance/discover.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <optional>

#include "ir/strings.h"

namespace nyx::conformance {

namespace fs = std::filesystem;

bool Selection::selects(const std::string &suite,
                        const std::string &name) const {
  if (!suites.empty() &&
      std::find(suites.begin(), suites.end(), suite) == suites.end())
    return false;
  return filter.empty() ||
         (suite + "/" + name).find(filter) != std::string::npos;
}

absl::StatusOr<std::vector<TestCase>> findCases(const std::string &dataDir,
                                                const Selection &selection) {
  std::error_code ec;
  if (!fs::is_directory(dataDir, ec))
    return absl::NotFoundError(
        strCat(dataDir, " is not a directory; expected the ONNX backend test "
                        "data (Debian's libonnx-testdata)"));
  for (const std::string &suite : selection.suites)
    if (!fs::is_directory(fs::path(dataDir) / suite, ec))
      return absl::NotFoundError(strCat("no suite '", suite, "' in ", dataDir));
  std::vector<TestCase> cases;
  for (const fs::directory_entry &suite : fs::directory_iterator(dataDir, ec)) {
    if (!suite.is_directory())
      continue;
    std::string suiteName = suite.path().filename().string();
    for (const fs::directory_entry &dir :
         fs::directory_iterator(suite.path(), ec)) {
      std::string name = dir.path().filename().string();
      if (dir.is_directory() && selection.selects(suiteName, name))
        cases.push_back({suiteName, name, dir.path().string()});
    }
  }
  std::sort(
      cases.begin(), cases.end(),
      [](const TestCase &a, const TestCase &b) { return a.id() < b.id(); });
  return cases;
}

namespace {

// N of "<prefix>N<suffix>", or nullopt for another name.
std::optional<int64_t> numbered(const std::string &name,
                                std::string_view prefix,
                                std::string_view suffix) {
  if (name.size() <= prefix.size() + suffix.size() ||
      name.compare(0, prefix.size(), prefix) != 0 ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
    return std::nullopt;
  const char *begin = name.data() + prefix.size();
  const char *end = name.data() + name.size() - suffix.size();
  int64_t n = 0;
  auto [ptr, err] = std::from_chars(begin, end, n);
  if (err != std::errc() || ptr != end)
    return std::nullopt;
  return n;
}

// The paths in `dir` named "<prefix>N<suffix>", ordered by N.
std::vector<std::string> numberedEntries(const fs::path &dir,
                                         std::string_view prefix,
                                         std::string_view suffix) {
  std::vector<std::pair<int64_t, std::string>> found;
  std::error_code ec;
  for (const fs::directory_entry &e : fs::directory_iterator(dir, ec))
    if (auto n = numbered(e.path().filename().string(), prefix, suffix))
      found.emplace_back(*n, e.path().string());
  std::sort(found.begin(), found.end());
  std::vector<std::string> paths;
  for (auto &[n, path] : found)
    paths.push_back(std::move(path));
  return paths;
}

} // namespace

std::vector<DataSet> findDataSets(const std::string &caseDir) {
  std::vector<DataSet> sets;
  for (std::string &dir : numberedEntries(caseDir, "test_data_set_", "")) {
    DataSet set;
    set.inputs = numberedEntries(dir, "input_", ".pb");
    set.outputs = numberedEntries(dir, "output_", ".pb");
    set.dir = std::move(dir);
    sets.push_back(std::move(set));
  }
  return sets;
}

} // namespace nyx::conformance
