// Runs a pipeline of registered passes, with the inspection hooks the tools
// expose: print before/after a pass, timing, verification between passes.
#pragma once

#include <chrono>
#include <map>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "passes/pass.h"

namespace nyx::passes {

struct Instrumentation {
  std::set<std::string, std::less<>> printBefore, printAfter;
  bool printBeforeAll = false;
  bool printAfterAll = false;
  bool timePasses = false;
  bool verifyEach = true;      // verify after every pass
  std::ostream *out = nullptr; // where printing and timing go (stderr)
  // When set, the module is written to DIR/00-input.nyx before the pipeline
  // and to DIR/NN-<pass>.nyx after every pass (created if missing).
  std::string dumpDir;
};

class PassManager {
public:
  // One pass of the pipeline and the options written after its name.
  struct Step {
    const PassInfo *pass;
    std::map<std::string, std::string, std::less<>> args;
  };

  // Parses "a,b{key=value,key2=value2},c"; an unknown pass is an error
  // listing the known passes, an unknown option one listing the pass's.
  static absl::StatusOr<PassManager> parse(std::string_view pipeline);
  void add(const PassInfo *pass) { steps_.push_back({pass, {}}); }
  const std::vector<Step> &steps() const { return steps_; }
  // The pipeline as parse() accepts it, options in name order.
  std::string str() const;

  absl::Status run(ir::Module &m, const Options &options,
                   const Instrumentation &inst) const;

private:
  std::vector<Step> steps_;
};

// Checks that every name in a --print-before/--print-after list is a pass.
absl::Status checkPassNames(const std::set<std::string, std::less<>> &names);

// Creates `dir` (and its parents) if needed and checks that a file can be
// written in it, so a bad --dump-dir fails before any pass runs.
absl::Status prepareDumpDir(const std::string &dir);

} // namespace nyx::passes
