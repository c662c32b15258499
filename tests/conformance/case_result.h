// One conformance case (a directory of the ONNX backend test data) and what
// running it found.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nyx::conformance {

// A test directory: <dataDir>/<suite>/<name>/{model.onnx, test_data_set_N}.
struct TestCase {
  std::string suite; // "node", "pytorch-converted", ...
  std::string name;  // "test_abs"
  std::string dir;   // the directory's path
  std::string id() const { return suite + "/" + name; }
};

// What the compiled model did (the case's status).
enum class Status {
  Pass,        // every output of every data set within tolerance
  Fail,        // an output differs, or the model returned an error code
  Unsupported, // the importer answered kUnimplemented
  Error,       // any other import, compile or harness error, or a crash
  NoModel,     // the directory has no model.onnx (Debian's `real` suite)
};
inline constexpr Status kAllStatuses[] = {Status::Pass, Status::Fail,
                                          Status::Unsupported, Status::Error,
                                          Status::NoModel};

// What the reference interpreter did on the imported module.
enum class InterpreterStatus {
  NotRun, // the model was not imported
  Pass,
  Fail,  // an output differs from the expected one
  Error, // the interpreter returned an error, or crashed
};

std::string_view statusName(Status s);
std::optional<Status> parseStatus(std::string_view name);
std::string_view interpreterStatusName(InterpreterStatus s);
std::optional<InterpreterStatus> parseInterpreterStatus(std::string_view name);

struct CaseResult {
  TestCase testCase;
  // The distinct op types of the model's graph, sorted; "domain:Op" outside
  // the default domain.
  std::vector<std::string> opTypes;
  Status status = Status::Error;
  std::string message; // why it is not Pass: the mismatch, the error
  InterpreterStatus interpreter = InterpreterStatus::NotRun;
  std::string interpreterMessage;
  // Integer graph inputs (shapes, axes, repeats) whose values were fixed
  // when the model was compiled, because a static shape depends on them.
  std::vector<std::string> boundInputs;
  // Seconds spent in each stage ("import", "codegen", ...).
  std::map<std::string, double> stageSeconds;
  double seconds = 0; // wall time of the whole case

  // The case counts as passing (for the expected-passes list) when the
  // compiled model and the interpreter both match the expected outputs.
  bool passes() const {
    return status == Status::Pass && interpreter == InterpreterStatus::Pass;
  }
};

} // namespace nyx::conformance
