// A pass is one function `absl::Status runX(ir::Module&, const Options&)`
// in passes/x.cc, registered by name in passes/registry.cc.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "ir/module.h"

namespace nyx::passes {

// Settings a pass may consult; grows as passes need knobs.
struct Options {
  std::string entry; // the function compiled as the model ("" = default)
};

using PassFn = absl::Status (*)(ir::Module &, const Options &);

struct PassInfo {
  std::string_view name;
  std::string_view summary; // one line, for --help and --list-passes
  PassFn run;
};

const PassInfo *lookupPass(std::string_view name);
const std::vector<PassInfo> &allPasses();

absl::Status runVerify(ir::Module &m, const Options &o);
absl::Status runShapeInfer(ir::Module &m, const Options &o);
absl::Status runInline(ir::Module &m, const Options &o);

} // namespace nyx::passes
