// The schedule tuner the compiler gives the autotune pass: for each
// GEMM-shaped op (codegen/kernel/gemm.h) a schedule from the tuning
// database when it has one for this op, target, thread count and compiler;
// else, when measuring is on and budget is left, the fastest of the
// schedule space (kernel::scheduleSpace) timed in this process, checked
// against the default schedule's output; else the heuristic default.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "codegen/kernel/gemm_schedule.h"
#include "passes/pass.h"
#include "tuning/object_jit.h"
#include "tuning/op_key.h"
#include "tuning/progress.h"
#include "tuning/tuning_db.h"

namespace nyx::tuning {

struct TunerSettings {
  std::string target = "host"; // a codegen target name
  int optLevel = 2;            // the code generator's
  bool measure = false;        // time candidates (nyxc --autotune)
  double budgetSeconds = 60;   // for all measuring in one compile
  std::string databasePath;    // "" = no database
  bool progress = false;       // draw a progress bar on `log`
};

// What one compile's tuning did, for --stats.
struct TuningSummary {
  int64_t ops = 0, fromDatabase = 0, measured = 0, defaults = 0;
  int64_t candidates = 0; // candidate kernels timed
  int64_t wrong = 0;      // discarded: output differed from the default's
  double seconds = 0;     // spent measuring
  // Over the ops measured: the defaults' and the chosen schedules' times.
  double defaultSeconds = 0, tunedSeconds = 0;
  std::string line() const; // one line, "autotune: ..."
};

class Autotuner : public passes::ScheduleTuner {
public:
  // Resolves the target and reads the database. Problems that only cost
  // tuning (an unusable database, a target this host cannot run for
  // measuring) are warnings on `log`, which also gets the progress bar.
  static absl::StatusOr<std::unique_ptr<Autotuner>>
  create(TunerSettings settings, std::ostream &log);
  ~Autotuner() override;

  bool tiles(const ir::Op &op) const override;
  absl::Status check(const ir::Op &op) const override;
  absl::StatusOr<std::vector<Choice>>
  choose(const std::vector<const ir::Op *> &ops) override;

  // Writes what was measured back to the database file (nothing when
  // nothing was measured).
  absl::Status saveDatabase() const { return db_.save(); }
  const TuningSummary &summary() const { return summary_; }
  int lanes() const { return lanes_; }
  int threads() const { return threads_; }

private:
  struct Problem;
  Autotuner(TunerSettings settings, std::ostream &log, std::string compiler);
  // The measured choice for `p`, or nullopt when the default schedule could
  // not be timed before `deadline`.
  std::optional<TuningEntry>
  measure(const Problem &p, std::chrono::steady_clock::time_point deadline);
  void warn(std::string_view message);

  TunerSettings settings_;
  std::ostream &log_;
  TargetKey targetKey_;
  int lanes_ = 8, threads_ = 1;
  bool canMeasure_ = false;
  TuningDb db_;
  std::unique_ptr<ObjectJit> jit_; // started at the first measurement
  ProgressBar progress_;
  TuningSummary summary_;
  std::chrono::steady_clock::duration spent_{}; // of the budget
};

} // namespace nyx::tuning
