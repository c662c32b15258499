// Tallies of a conformance run: per suite, per ONNX op type and per stage,
// printed as plain tables and as the Markdown report
// (docs/onnx-conformance.md).
//
// A case counts under every distinct op type of its model's graph, so a
// multi-node case (a pytorch-converted model, an *_expanded node test)
// appears in the row of each op it uses.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "tests/conformance/case_result.h"

namespace nyx::conformance {

struct Tally {
  std::array<int64_t, std::size(kAllStatuses)> byStatus{};
  // Interpreter: pass, fail, error (NotRun is not counted).
  int64_t interpreterPass = 0, interpreterFail = 0, interpreterError = 0;
  int64_t cases = 0;

  void add(const CaseResult &r);
  int64_t count(Status s) const { return byStatus[static_cast<size_t>(s)]; }
};

// The cases whose every op type has a converter (whatever their dtypes,
// attributes or shapes), and how many of them pass: the measure of how
// well the supported ops are covered.
struct SupportedOps {
  int64_t cases = 0, pass = 0;
};

struct Summary {
  std::map<std::string, Tally> bySuite;
  std::map<std::string, SupportedOps> supportedBySuite;
  Tally all;
  std::map<std::string, Tally> byOp;
  std::map<std::string, double> stageSeconds; // summed over cases
  double caseSeconds = 0;                     // summed over cases
};

Summary summarize(const std::vector<CaseResult> &results);

// "Loop: op type 'Loop' is not supported" from the importer's "node 'n'
// (Loop, opset 16): op type 'Loop' is not supported", so that the cases of
// one reason group together; value names are dropped too ("graph input 'x'
// has ..." -> "a graph input has ...", "input 'n1' (axes)" -> "input
// 'axes'").
std::string unsupportedReason(const std::string &message);

// The per-op table, the per-suite totals and the time per stage.
void printSummary(const Summary &summary, std::ostream &out);

// docs/onnx-conformance.md; `command` is how the run was started.
std::string markdownReport(const std::vector<CaseResult> &results,
                           const Summary &summary, const std::string &command);

} // namespace nyx::conformance
