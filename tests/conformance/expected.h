// The list of cases that passed before (tests/conformance/expected_passes.txt:
// one "suite/case" per line, sorted). A listed case that no longer passes
// is a regression; a case that passes and is not listed is new.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/conformance/case_result.h"
#include "tests/conformance/discover.h"

namespace nyx::conformance {

using CaseIds = std::set<std::string>;

// The ids listed in `path`; blank lines are skipped.
absl::StatusOr<CaseIds> readExpected(const std::string &path);
absl::Status writeExpected(const std::string &path, const CaseIds &ids);

struct ExpectedCheck {
  // "suite/case: why", for each listed case in the selection that did not
  // pass (or was not found).
  std::vector<std::string> regressions;
  std::vector<std::string> newPasses; // ids
};

// Only cases `selection` selects are judged: a run with --filter says
// nothing about the others.
ExpectedCheck checkExpected(const CaseIds &listed,
                            const std::vector<CaseResult> &results,
                            const Selection &selection);

// `listed` with the selected cases replaced by those that passed now.
CaseIds updatedExpected(const CaseIds &listed,
                        const std::vector<CaseResult> &results,
                        const Selection &selection);

} // namespace nyx::conformance
