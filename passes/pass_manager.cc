#include "passes/pass_manager.h"

#include <iomanip>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "ir/printer.h"
#include "ir/strings.h"
#include "ir/verifier.h"

namespace nyx::passes {

static std::string knownPasses() {
  std::vector<std::string_view> names;
  for (const PassInfo &p : allPasses())
    names.push_back(p.name);
  return strJoin(names, ", ");
}

absl::StatusOr<PassManager> PassManager::parse(std::string_view pipeline) {
  PassManager pm;
  for (absl::string_view piece :
       absl::StrSplit(absl::string_view(pipeline.data(), pipeline.size()), ',',
                      absl::SkipWhitespace())) {
    std::string name(absl::StripAsciiWhitespace(piece));
    const PassInfo *pass = lookupPass(name);
    if (!pass)
      return absl::InvalidArgumentError(
          strCat("unknown pass '", name,
                 "' in the pipeline; known passes: ", knownPasses()));
    pm.add(pass);
  }
  return pm;
}

absl::Status checkPassNames(const std::set<std::string, std::less<>> &names) {
  for (const std::string &name : names)
    if (!lookupPass(name))
      return absl::InvalidArgumentError(
          strCat("unknown pass '", name, "'; known passes: ", knownPasses()));
  return absl::OkStatus();
}

static void printModuleAround(std::ostream &out, std::string_view when,
                              std::string_view pass, const ir::Module &m) {
  out << "// ----- IR Dump " << when << " " << pass << " -----\n"
      << ir::printModule(m) << "\n";
}

absl::Status PassManager::run(ir::Module &m, const Options &options,
                              const Instrumentation &inst) const {
  std::ostream &out = inst.out ? *inst.out : std::cerr;
  using Clock = std::chrono::steady_clock;
  std::vector<std::pair<std::string_view, double>> times;
  for (const PassInfo *pass : passes_) {
    if (inst.printBeforeAll || inst.printBefore.count(pass->name))
      printModuleAround(out, "Before", pass->name, m);
    auto start = Clock::now();
    absl::Status status = pass->run(m, options);
    times.emplace_back(
        pass->name,
        std::chrono::duration<double>(Clock::now() - start).count());
    if (!status.ok())
      return status;
    if (inst.verifyEach) {
      if (absl::Status v = ir::verifyModule(m); !v.ok())
        return absl::InternalError(strCat("the module is invalid after pass '",
                                          pass->name, "': ", v.message()));
    }
    if (inst.printAfterAll || inst.printAfter.count(pass->name))
      printModuleAround(out, "After", pass->name, m);
  }
  if (inst.timePasses) {
    double total = 0;
    for (auto &[name, secs] : times)
      total += secs;
    out << "===" << std::string(60, '-') << "===\n"
        << "  Pass execution timing report\n"
        << "===" << std::string(60, '-') << "===\n"
        << "  Total: " << std::fixed << std::setprecision(4) << total
        << " s\n\n   Wall time  Pct    Name\n";
    for (auto &[name, secs] : times)
      out << "  " << std::setw(9) << secs << " s " << std::setw(5)
          << std::setprecision(1) << (total > 0 ? 100 * secs / total : 0)
          << "%  " << name << std::setprecision(4) << "\n";
  }
  return absl::OkStatus();
}

} // namespace nyx::passes
