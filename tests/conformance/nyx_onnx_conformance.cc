// nyx-onnx-conformance: runs the ONNX backend test data through the ONNX
// importer, the standard pipeline, the code generator and the ORC JIT (and
// the reference interpreter), prints a table per op type and the totals,
// and checks the result against the list of cases that passed before.
//
//   nyx-onnx-conformance [--suite node,simple] [--filter relu] [--jobs 2]
//       [--expected tests/conformance/expected_passes.txt [--update-expected]]
//       [--report docs/onnx-conformance.md]
//
// Exit status: 0, or 1 when a listed case no longer passes, 2 for a usage
// error, 77 when the test data is not installed (ctest counts it skipped).

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "ir/strings.h"
#include "tests/conformance/case_runner.h"
#include "tests/conformance/discover.h"
#include "tests/conformance/expected.h"
#include "tests/conformance/summary.h"

namespace nyx::conformance {
namespace {

constexpr int kExitRegression = 1, kExitUsage = 2, kExitNoData = 77;

struct Flags {
  std::string dataDir = "/usr/share/libonnx-testdata/data";
  Selection selection;
  RunnerSettings runner;
  RunSettings run;
  std::string reportPath, expectedPath;
  bool updateExpected = false;
  bool verbose = false;
};

constexpr const char *kUsage = R"(usage: nyx-onnx-conformance [options]

Runs the ONNX backend test data: imports each case's model.onnx, compiles it
with the standard -O2 pipeline, runs it through the ORC JIT and compares the
outputs with the expected ones (rtol 1e-3, atol 1e-7); the interpreter runs
the imported module too. Each case runs in a child process of its own.

  --data-dir DIR        the test data (default /usr/share/libonnx-testdata/data)
  --suite A[,B]         only these suites (node, pytorch-converted,
                        pytorch-operator, simple, real); repeatable
  --filter TEXT         only cases whose "suite/name" contains TEXT
  --jobs N              cases run at a time (default: the number of CPUs)
  --timeout SECONDS     per case (default 120); a case past it is an error
  --codegen-opt N       the code generator's -O level (default 2)
  --no-interpreter      skip the reference interpreter
  --no-fork             run the cases in this process (for a debugger)
  --expected FILE       cases that passed before; a listed case that does not
                        pass now is a regression (exit status 1)
  --update-expected     rewrite FILE with the cases that pass now
  --report FILE.md      write the Markdown report (docs/onnx-conformance.md)
  --verbose             print every case, not only failures and errors
)";

bool parseInt(const char *text, int &value) {
  char *end = nullptr;
  long v = std::strtol(text, &end, 10);
  if (!*text || *end)
    return false;
  value = static_cast<int>(v);
  return true;
}

// Returns false (after printing why) for a bad command line.
bool parseFlags(int argc, char **argv, Flags &f) {
  unsigned cpus = std::thread::hardware_concurrency();
  f.runner.jobs = cpus ? static_cast<int>(cpus) : 1;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> const char * {
      if (i + 1 >= argc) {
        std::cerr << "error: " << arg << " needs a value\n";
        return nullptr;
      }
      return argv[++i];
    };
    const char *v = nullptr;
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (arg == "--data-dir") {
      if (!(v = value()))
        return false;
      f.dataDir = v;
    } else if (arg == "--suite") {
      if (!(v = value()))
        return false;
      std::string list = v;
      for (size_t start = 0; start <= list.size();) {
        size_t comma = std::min(list.find(',', start), list.size());
        if (comma > start)
          f.selection.suites.push_back(list.substr(start, comma - start));
        start = comma + 1;
      }
    } else if (arg == "--filter") {
      if (!(v = value()))
        return false;
      f.selection.filter = v;
    } else if (arg == "--jobs" || arg == "--timeout" ||
               arg == "--codegen-opt") {
      if (!(v = value()))
        return false;
      int n = 0;
      bool ok = parseInt(v, n);
      if (arg == "--jobs" && ok && n >= 1)
        f.runner.jobs = n;
      else if (arg == "--timeout" && ok && n >= 1)
        f.runner.timeoutSeconds = n;
      else if (arg == "--codegen-opt" && ok && n >= 0 && n <= 3)
        f.run.codegenOptLevel = n;
      else {
        std::cerr << "error: " << arg << " " << v << ": expected "
                  << (arg == "--codegen-opt" ? "0 to 3" : "a positive integer")
                  << "\n";
        return false;
      }
    } else if (arg == "--no-interpreter") {
      f.run.interpreter = false;
    } else if (arg == "--no-fork") {
      f.runner.inProcess = true;
    } else if (arg == "--expected") {
      if (!(v = value()))
        return false;
      f.expectedPath = v;
    } else if (arg == "--update-expected") {
      f.updateExpected = true;
    } else if (arg == "--report") {
      if (!(v = value()))
        return false;
      f.reportPath = v;
    } else if (arg == "--verbose") {
      f.verbose = true;
    } else {
      std::cerr << "error: unknown option '" << arg << "'\n" << kUsage;
      return false;
    }
  }
  if (!f.run.interpreter && !f.expectedPath.empty()) {
    // The list holds the cases where the interpreter passes too.
    std::cerr << "error: --expected needs the interpreter; drop "
                 "--no-interpreter\n";
    return false;
  }
  if (f.updateExpected && f.expectedPath.empty()) {
    std::cerr << "error: --update-expected needs --expected FILE\n";
    return false;
  }
  return true;
}

// One line per case that did not pass (every case with --verbose), as the
// cases finish.
void printCase(const CaseResult &r, bool verbose) {
  bool interesting = r.status == Status::Fail || r.status == Status::Error ||
                     r.interpreter == InterpreterStatus::Fail ||
                     r.interpreter == InterpreterStatus::Error;
  if (!verbose && !interesting)
    return;
  std::cout << statusName(r.status) << " " << r.testCase.id();
  if (!r.message.empty())
    std::cout << ": " << r.message;
  if (r.interpreter == InterpreterStatus::Fail ||
      r.interpreter == InterpreterStatus::Error)
    std::cout << "\n  interpreter " << interpreterStatusName(r.interpreter)
              << ": " << r.interpreterMessage;
  std::cout << std::endl;
}

std::string commandLine(int argc, char **argv) {
  std::vector<std::string> words = {"nyx-onnx-conformance"};
  for (int i = 1; i < argc; ++i)
    words.push_back(argv[i]);
  return strJoin(words, " ");
}

int run(int argc, char **argv) {
  Flags f;
  if (!parseFlags(argc, argv, f))
    return kExitUsage;
  auto cases = findCases(f.dataDir, f.selection);
  if (!cases.ok()) {
    std::cerr << "error: " << cases.status().message() << "\n";
    return cases.status().code() == absl::StatusCode::kNotFound &&
                   f.selection.suites.empty()
               ? kExitNoData
               : kExitUsage;
  }
  CaseIds listed;
  if (!f.expectedPath.empty()) {
    auto read = readExpected(f.expectedPath);
    if (!read.ok() && !f.updateExpected) {
      std::cerr << "error: " << read.status().message() << "\n";
      return kExitUsage;
    }
    if (read.ok())
      listed = std::move(*read);
  }
  // A case's kernels run on threads of its own; with several cases at a
  // time, share the CPUs rather than oversubscribe them.
  if (!std::getenv("NYX_NUM_THREADS")) {
    unsigned cpus = std::thread::hardware_concurrency();
    int threads = std::max(1, static_cast<int>(cpus) / f.runner.jobs);
    setenv("NYX_NUM_THREADS", std::to_string(threads).c_str(), 1);
  }

  std::cout << "running " << cases->size() << " cases from " << f.dataDir
            << " (" << f.runner.jobs << " at a time)" << std::endl;
  std::vector<CaseResult> results =
      runCases(*cases, f.run, f.runner,
               [&](const CaseResult &r) { printCase(r, f.verbose); });
  Summary summary = summarize(results);
  std::cout << "\n";
  printSummary(summary, std::cout);

  int exitCode = 0;
  if (!f.expectedPath.empty()) {
    ExpectedCheck check = checkExpected(listed, results, f.selection);
    if (!check.newPasses.empty()) {
      std::cout << "\n"
                << check.newPasses.size() << " cases pass that "
                << f.expectedPath << " does not list"
                << (f.updateExpected ? ""
                                     : " (add them with --update-expected)")
                << ":\n";
      for (const std::string &id : check.newPasses)
        std::cout << "  " << id << "\n";
    }
    if (f.updateExpected) {
      CaseIds updated = updatedExpected(listed, results, f.selection);
      if (absl::Status s = writeExpected(f.expectedPath, updated); !s.ok()) {
        std::cerr << "error: " << s.message() << "\n";
        return kExitUsage;
      }
      std::cout << "\nwrote " << updated.size() << " cases to "
                << f.expectedPath << "\n";
    } else if (!check.regressions.empty()) {
      std::cout << "\n"
                << check.regressions.size() << " regressions (listed in "
                << f.expectedPath << " but not passing):\n";
      for (const std::string &line : check.regressions)
        std::cout << "  " << line << "\n";
      exitCode = kExitRegression;
    } else {
      std::cout << "\nno regressions against " << f.expectedPath << "\n";
    }
  }
  if (!f.reportPath.empty()) {
    std::ofstream out(f.reportPath);
    out << markdownReport(results, summary, commandLine(argc, argv));
    out.close();
    if (!out) {
      std::cerr << "error: " << f.reportPath << ": cannot write the file\n";
      return kExitUsage;
    }
    std::cout << "wrote " << f.reportPath << "\n";
  }
  std::cout << summary.all.count(Status::Pass) << " passed, "
            << summary.all.count(Status::Fail) +
                   summary.all.count(Status::Error)
            << " failed" << std::endl;
  return exitCode;
}

} // namespace
} // namespace nyx::conformance

int main(int argc, char **argv) { return nyx::conformance::run(argc, argv); }
