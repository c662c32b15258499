// Runs a pipeline of registered passes, with the inspection hooks the tools
// expose: print before/after a pass, timing, verification between passes.
#pragma once

#include <chrono>
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
};

class PassManager {
public:
  // Parses "a,b,c"; an unknown name is an error listing the known passes.
  static absl::StatusOr<PassManager> parse(std::string_view pipeline);
  void add(const PassInfo *pass) { passes_.push_back(pass); }
  const std::vector<const PassInfo *> &passes() const { return passes_; }

  absl::Status run(ir::Module &m, const Options &options,
                   const Instrumentation &inst) const;

private:
  std::vector<const PassInfo *> passes_;
};

// Checks that every name in a --print-before/--print-after list is a pass.
absl::Status checkPassNames(const std::set<std::string, std::less<>> &names);

} // namespace nyx::passes
