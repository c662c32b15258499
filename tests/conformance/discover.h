// Finds the test cases of the ONNX backend test data: every directory
// <dataDir>/<suite>/<case>, and in each the test_data_set_N directories with
// their input_K.pb / output_K.pb files.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/conformance/case_result.h"

namespace nyx::conformance {

struct Selection {
  std::vector<std::string> suites; // empty: every suite
  std::string filter;              // substring of "suite/case"; "" = all
  bool selects(const std::string &suite, const std::string &name) const;
};

// The selected cases, sorted by suite and name. An error when `dataDir` is
// not a directory or a named suite is not in it.
absl::StatusOr<std::vector<TestCase>> findCases(const std::string &dataDir,
                                                const Selection &selection);

struct DataSet {
  std::string dir;
  std::vector<std::string> inputs, outputs; // .pb paths, by their number
};

// The case's data sets in the order of their numbers.
std::vector<DataSet> findDataSets(const std::string &caseDir);

} // namespace nyx::conformance
