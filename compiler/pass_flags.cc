#include "compiler/pass_flags.h"

namespace nyx::compiler {

void addPassInstrumentationFlags(CommandLine &cl,
                                 passes::Instrumentation &inst) {
  cl.option("print-before", "<pass,...>", "print the IR before these passes",
            [&inst](std::string_view v) {
              splitList(v, inst.printBefore);
              return passes::checkPassNames(inst.printBefore);
            });
  cl.option("print-after", "<pass,...>", "print the IR after these passes",
            [&inst](std::string_view v) {
              splitList(v, inst.printAfter);
              return passes::checkPassNames(inst.printAfter);
            });
  cl.flag("print-before-all", "print the IR before every pass",
          [&inst] { inst.printBeforeAll = true; });
  cl.flag("print-after-all", "print the IR after every pass",
          [&inst] { inst.printAfterAll = true; });
  cl.flag("time-passes", "report the time each pass takes",
          [&inst] { inst.timePasses = true; });
  // The directory is checked while the command line is read, so a bad one
  // fails before any input is loaded.
  cl.option("dump-dir", "<dir>",
            "write the IR before the pipeline and after every pass to "
            "<dir>/NN-<pass>.nyx",
            [&inst](std::string_view v) {
              inst.dumpDir = v;
              return passes::prepareDumpDir(inst.dumpDir);
            });
}

} // namespace nyx::compiler
