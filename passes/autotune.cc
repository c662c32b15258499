// Autotuning: gives every GEMM-shaped matmul and conv2d of the entry
// function and of the kernel functions a `schedule` attribute, the tiling
// the code generator uses. The choice itself (tuning database, measuring,
// heuristic default) is the ScheduleTuner's, which knows the code
// generator; this pass finds the ops, keeps the schedules written in the
// source (after checking them), and records and counts the choices.
#include "ir/diagnostic.h"
#include "ir/strings.h"
#include "passes/pass.h"

namespace nyx::passes {
namespace {

// The entry function and every kernel; every function when the entry
// cannot be told (the compiler reports that on its own).
std::vector<ir::Function *> tunedFunctions(const ir::Module &m,
                                           const Options &o) {
  const ir::Function *entry = nullptr;
  if (!o.entry.empty())
    entry = m.lookupFunction(o.entry);
  else if (auto found = m.entry(); found.ok())
    entry = *found;
  std::vector<ir::Function *> out;
  for (const auto &fn : m.functions)
    if (fn->isKernel || !entry || fn.get() == entry)
      out.push_back(fn.get());
  return out;
}

std::string_view counterName(ScheduleTuner::Source source) {
  switch (source) {
  case ScheduleTuner::Source::Database:
    return "autotune.db-hits";
  case ScheduleTuner::Source::Measured:
    return "autotune.measured";
  case ScheduleTuner::Source::Default:
    return "autotune.defaults";
  }
  return "autotune.defaults";
}

} // namespace

absl::Status runAutotune(ir::Module &m, const Options &o) {
  if (!o.tuner)
    return absl::OkStatus();
  std::vector<ir::Op *> open;
  for (ir::Function *fn : tunedFunctions(m, o))
    for (const auto &op : fn->ops) {
      if (!o.tuner->tiles(*op))
        continue;
      if (!op->has(ir::kScheduleAttr)) {
        open.push_back(op.get());
        continue;
      }
      // A schedule written in the source is the user's choice; it only has
      // to be one the code generator can use.
      if (absl::Status s = o.tuner->check(*op); !s.ok())
        return ir::errorAt(m.filename, op->loc,
                           strCat("'", op->name(), "' ", s.message()));
      o.count("autotune.user-schedules", 1);
    }
  if (open.empty())
    return absl::OkStatus();
  auto choices =
      o.tuner->choose(std::vector<const ir::Op *>(open.begin(), open.end()));
  if (!choices.ok())
    return choices.status();
  if (choices->size() != open.size())
    return absl::InternalError(strCat("the schedule tuner gave ",
                                      choices->size(), " schedules for ",
                                      open.size(), " ops"));
  for (size_t i = 0; i < open.size(); ++i) {
    open[i]->attrs[std::string(ir::kScheduleAttr)] = (*choices)[i].schedule;
    o.count(counterName((*choices)[i].source), 1);
  }
  return absl::OkStatus();
}

} // namespace nyx::passes
