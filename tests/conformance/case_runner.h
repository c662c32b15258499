// Runs cases each in a forked child process of its own, several at a time,
// so that a case that crashes, hangs or leaks costs that case only: the
// parent reads the child's records (records.h) and its stderr, and turns a
// crash or a timeout into an `error` naming the stage it happened in.
#pragma once

#include <functional>
#include <vector>

#include "tests/conformance/case_result.h"
#include "tests/conformance/run_case.h"

namespace nyx::conformance {

struct RunnerSettings {
  int jobs = 1;
  double timeoutSeconds = 120; // per case
  // Runs the cases one after another in this process (for a debugger); a
  // crash then ends the run.
  bool inProcess = false;
};

// The results in the order of `cases`; `onDone` sees each as it finishes.
std::vector<CaseResult>
runCases(const std::vector<TestCase> &cases, const RunSettings &run,
         const RunnerSettings &runner,
         const std::function<void(const CaseResult &)> &onDone);

} // namespace nyx::conformance
