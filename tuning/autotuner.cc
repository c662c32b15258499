#include "tuning/autotuner.h"

#include <algorithm>
#include <iomanip>
#include <map>
#include <sstream>

#include "codegen/cpu/target.h"
#include "codegen/kernel/gemm.h"
#include "ir/strings.h"
#include "nyx/runtime.h"
#include "tuning/op_bench.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/TargetParser/Host.h"

namespace nyx::tuning {

namespace {

using Clock = std::chrono::steady_clock;

// A candidate's output may differ from the default schedule's by this much
// (relative, see closeOutputs): tiles change no summation order, so any
// real difference is a wrong kernel.
constexpr double kOutputTolerance = 1e-4;
// Timings per candidate, each of runs lasting at least kSampleSeconds.
constexpr int kSamples = 5;
constexpr double kSampleSeconds = 2e-3;
// The most candidates measured per op, the most promising first.
constexpr size_t kSpaceLimit = 128;
// The fastest candidates timed again, with the default, at the end: in
// kConfirmRounds turns, each the median of kSamples.
constexpr size_t kFinalists = 3;
constexpr int kConfirmRounds = 5;
// The least speedup over the default that counts as one.
constexpr double kMinGain = 0.03;

// A feature that `features` turns on and this host lacks (so the code
// cannot run here), or nullopt.
std::optional<std::string> missingHostFeature(std::string_view features) {
  llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
  size_t start = 0;
  while (start < features.size()) {
    size_t end = std::min(features.find(',', start), features.size());
    std::string_view f = features.substr(start, end - start);
    start = end + 1;
    if (f.size() < 2 || f[0] != '+')
      continue;
    auto it = host.find(llvm::StringRef(f.data() + 1, f.size() - 1));
    if (it == host.end() || !it->second)
      return std::string(f.substr(1));
  }
  return std::nullopt;
}

// The first line of a message, so that one failing candidate (whose
// message may quote pages of LLVM IR) takes one line of the log.
std::string firstLine(std::string_view message) {
  size_t end = message.find('\n');
  if (end == std::string_view::npos)
    return std::string(message);
  return strCat(message.substr(0, end), " ...");
}

std::string shapeLabel(const ir::Op &op, const kernel::GemmShape &s) {
  return strCat(op.name(), " ", s.batch > 1 ? strCat(s.batch, "x") : "", s.m,
                "x", s.n, "x", s.k);
}

} // namespace

struct Autotuner::Problem {
  const ir::Op *op;
  kernel::GemmShape shape;
  TuningKey key;
  kernel::GemmSchedule fallback; // the heuristic default
};

std::string TuningSummary::line() const {
  auto fixed = [](double v, int digits) {
    std::ostringstream os;
    os << std::fixed << std::setprecision(digits) << v;
    return os.str();
  };
  std::string text =
      strCat("autotune: ", ops, " op", ops == 1 ? "" : "s", " (", measured,
             " measured, ", fromDatabase, " from the tuning database, ",
             defaults, " default)");
  if (candidates > 0)
    text += strCat("; ", candidates, " candidate", candidates == 1 ? "" : "s",
                   " timed in ", fixed(seconds, 1), " s, ", wrong, " wrong");
  if (tunedSeconds > 0)
    text += strCat("; measured ops ", fixed(defaultSeconds / tunedSeconds, 2),
                   "x the speed of their defaults");
  return text;
}

Autotuner::Autotuner(TunerSettings settings, std::ostream &log,
                     std::string compiler)
    : settings_(std::move(settings)), log_(log),
      db_(settings_.databasePath, std::move(compiler)),
      progress_(log, settings_.progress) {}

Autotuner::~Autotuner() = default;

absl::StatusOr<std::unique_ptr<Autotuner>>
Autotuner::create(TunerSettings settings, std::ostream &log) {
  auto target = codegen::cpu::resolveTarget(settings.target);
  if (!target.ok())
    return target.status();
  auto tuner = std::unique_ptr<Autotuner>(
      new Autotuner(std::move(settings), log, compilerVersion()));
  tuner->targetKey_ = {target->cpu, target->features};
  tuner->lanes_ = target->vectorLanes();
  // The kernels measured run on the runtime's threads, so that is the
  // count the schedules are for.
  tuner->threads_ = nyx_get_num_threads();
  if (absl::Status s = tuner->db_.load(); !s.ok())
    tuner->warn(strCat(s.message(), "; ignoring it"));
  tuner->canMeasure_ =
      tuner->settings_.measure && tuner->settings_.budgetSeconds > 0;
  if (tuner->canMeasure_)
    if (auto missing = missingHostFeature(target->features)) {
      tuner->warn(strCat("cannot measure schedules for target '", target->name,
                         "': this host lacks '", *missing,
                         "'; using the tuning database and defaults"));
      tuner->canMeasure_ = false;
    }
  return tuner;
}

void Autotuner::warn(std::string_view message) {
  progress_.clear();
  log_ << "warning: " << message << "\n";
}

bool Autotuner::tiles(const ir::Op &op) const {
  return kernel::gemmFormOf(op).has_value();
}

absl::Status Autotuner::check(const ir::Op &op) const {
  auto form = kernel::gemmFormOf(op);
  if (!form)
    return absl::InvalidArgumentError("is not lowered as a GEMM");
  auto text = op.getString(ir::kScheduleAttr);
  if (!text.ok())
    return text.status();
  auto s = kernel::GemmSchedule::parse(*text);
  if (!s.ok())
    return absl::InvalidArgumentError(
        strCat("attribute 'schedule': ", s.status().message()));
  if (absl::Status v = kernel::validateSchedule(*s, form->shape, lanes_);
      !v.ok())
    return absl::InvalidArgumentError(
        strCat("attribute 'schedule': ", v.message()));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<passes::ScheduleTuner::Choice>>
Autotuner::choose(const std::vector<const ir::Op *> &ops) {
  // One problem per distinct key: ops alike are tuned once.
  std::vector<Problem> problems;
  std::vector<size_t> problemOf;
  std::map<TuningKey, size_t> byKey;
  for (const ir::Op *op : ops) {
    auto form = kernel::gemmFormOf(*op);
    if (!form)
      return absl::InvalidArgumentError(
          strCat("'", op->name(), "' is not lowered as a GEMM"));
    TuningKey key = tuningKey(*op, targetKey_, threads_);
    auto [it, added] = byKey.emplace(key, problems.size());
    if (added)
      problems.push_back(
          {op, form->shape, std::move(key),
           kernel::defaultSchedule(form->shape, lanes_, threads_)});
    problemOf.push_back(it->second);
  }

  std::vector<Choice> chosen(problems.size());
  std::vector<size_t> toMeasure;
  for (size_t i = 0; i < problems.size(); ++i) {
    const Problem &p = problems[i];
    chosen[i] = {p.fallback.str(), Source::Default};
    const TuningEntry *entry = db_.find(p.key);
    if (entry) {
      auto s = kernel::GemmSchedule::parse(entry->schedule);
      absl::Status valid =
          s.ok() ? kernel::validateSchedule(*s, p.shape, lanes_) : s.status();
      if (!valid.ok()) {
        warn(strCat("tuning database '", settings_.databasePath,
                    "' has schedule \"", entry->schedule, "\" for ", p.key.op,
                    ": ", valid.message(), "; ignoring the entry"));
        entry = nullptr;
      }
    }
    // An entry is used as it is, even one whose tuning ran out of budget,
    // so that compiling again gives the same code without measuring.
    if (entry) {
      chosen[i] = {entry->schedule, Source::Database};
      continue;
    }
    if (canMeasure_)
      toMeasure.push_back(i);
  }

  // The budget is shared out evenly; what one op leaves over goes to the
  // ones after it.
  const auto budget = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(settings_.budgetSeconds));
  for (size_t n = 0; n < toMeasure.size(); ++n) {
    Clock::duration left = budget - spent_;
    if (left <= Clock::duration::zero())
      break;
    Clock::time_point start = Clock::now();
    Clock::time_point deadline =
        start + left / static_cast<int64_t>(toMeasure.size() - n);
    const Problem &p = problems[toMeasure[n]];
    if (!canMeasure_)
      break; // the JIT could not start
    std::optional<TuningEntry> entry = measure(p, deadline);
    spent_ += Clock::now() - start;
    if (!entry)
      continue;
    chosen[toMeasure[n]] = {entry->schedule, Source::Measured};
    summary_.defaultSeconds += entry->defaultSeconds;
    summary_.tunedSeconds += entry->seconds;
    db_.put(std::move(*entry));
  }
  progress_.clear();
  summary_.seconds = std::chrono::duration<double>(spent_).count();

  std::vector<Choice> out;
  for (size_t i : problemOf) {
    out.push_back(chosen[i]);
    ++summary_.ops;
    switch (chosen[i].source) {
    case Source::Database:
      ++summary_.fromDatabase;
      break;
    case Source::Measured:
      ++summary_.measured;
      break;
    case Source::Default:
      ++summary_.defaults;
      break;
    }
  }
  return out;
}

std::optional<TuningEntry> Autotuner::measure(const Problem &p,
                                              Clock::time_point deadline) {
  std::vector<kernel::GemmSchedule> space =
      kernel::scheduleSpace(p.shape, lanes_, threads_, kSpaceLimit);
  // The default goes first: it is the reference every other output is
  // checked against, and the time to beat.
  std::erase(space, p.fallback);
  space.insert(space.begin(), p.fallback);
  if (!jit_) {
    auto jit = ObjectJit::create();
    if (!jit.ok()) {
      warn(strCat("cannot measure schedules: ", jit.status().message()));
      canMeasure_ = false;
      return std::nullopt;
    }
    jit_ = std::move(*jit);
  }
  auto bench =
      OpBench::create(*p.op, settings_.target, settings_.optLevel, *jit_);
  if (!bench.ok()) {
    warn(strCat("cannot measure ", p.key.op, ": ", bench.status().message()));
    return std::nullopt;
  }
  const std::string label = shapeLabel(*p.op, p.shape);
  const int64_t total = static_cast<int64_t>(space.size());
  auto fail = [&](const std::string &schedule, const absl::Status &s) {
    warn(strCat("schedule \"", schedule, "\" for ", p.key.op, " failed: ",
                firstLine(std::string(s.message())), "; skipping it"));
  };

  // The default and the fastest candidates so far stay compiled, to be
  // timed again side by side at the end.
  struct Finalist {
    std::string schedule;
    std::unique_ptr<JitModel> model;
    double seconds = 0;
  };
  std::vector<Finalist> finalists; // [0] is the default
  std::vector<float> reference;
  int64_t measured = 0;
  Clock::duration slowest{}, slowestTiming{};
  for (const kernel::GemmSchedule &candidate : space) {
    Clock::time_point start = Clock::now();
    // Stop before a candidate that would likely end past the deadline,
    // keeping time to confirm the finalists.
    const Clock::duration confirming =
        slowestTiming * (kFinalists + 1) * kConfirmRounds;
    if (start + slowest + confirming > deadline)
      break;
    progress_.show(label, measured, total);
    const std::string schedule = candidate.str();
    ++measured;
    ++summary_.candidates;
    auto model = (*bench)->compile(schedule);
    Clock::time_point timed = Clock::now();
    auto result = model.ok() ? (*bench)->time(**model, kSamples, kSampleSeconds)
                             : absl::StatusOr<BenchResult>(model.status());
    slowest = std::max(slowest, Clock::now() - start);
    slowestTiming = std::max(slowestTiming, Clock::now() - timed);
    if (!result.ok()) {
      fail(schedule, result.status());
      if (finalists.empty())
        return std::nullopt; // without the default nothing can be checked
      continue;
    }
    if (finalists.empty()) {
      reference = std::move(result->output);
      finalists.push_back({schedule, std::move(*model), result->seconds});
      continue;
    }
    size_t where = 0;
    if (!closeOutputs(result->output, reference, kOutputTolerance, &where)) {
      ++summary_.wrong;
      warn(strCat("schedule \"", schedule, "\" for ", p.key.op,
                  " computed a wrong result (element ", where, " is ",
                  where < result->output.size() ? result->output[where] : 0.f,
                  " where the default schedule gives ",
                  where < reference.size() ? reference[where] : 0.f,
                  "); discarding it"));
      continue;
    }
    finalists.push_back({schedule, std::move(*model), result->seconds});
    // Keep the default and the kFinalists fastest others.
    std::sort(finalists.begin() + 1, finalists.end(),
              [](const Finalist &a, const Finalist &b) {
                return a.seconds < b.seconds;
              });
    if (finalists.size() > kFinalists + 1)
      finalists.pop_back();
  }
  progress_.show(label, measured, total);
  if (finalists.empty())
    return std::nullopt; // not even the default was timed before the deadline

  // One pass over the candidates times each once, in whatever the machine
  // was doing then; the finalists are timed again in turns, so that a
  // candidate that had the machine to itself does not win on that alone.
  if (finalists.size() > 1) {
    std::vector<std::vector<double>> rounds(finalists.size());
    for (int r = 0; r < kConfirmRounds; ++r)
      for (size_t f = 0; f < finalists.size(); ++f) {
        auto again =
            (*bench)->time(*finalists[f].model, kSamples, kSampleSeconds);
        if (again.ok())
          rounds[f].push_back(again->seconds);
      }
    for (size_t f = 0; f < finalists.size(); ++f)
      if (!rounds[f].empty()) {
        std::sort(rounds[f].begin(), rounds[f].end());
        finalists[f].seconds = rounds[f][rounds[f].size() / 2];
      }
  }
  TuningEntry entry;
  entry.key = p.key;
  entry.candidates = total;
  entry.measured = measured;
  entry.defaultSchedule = finalists[0].schedule;
  entry.defaultSeconds = finalists[0].seconds;
  const Finalist &best =
      *std::min_element(finalists.begin(), finalists.end(),
                        [](const Finalist &a, const Finalist &b) {
                          return a.seconds < b.seconds;
                        });
  // A schedule replaces the default only when it is clearly faster, not
  // by the noise of a shared machine.
  const bool gains = best.seconds < finalists[0].seconds * (1 - kMinGain);
  entry.schedule = gains ? best.schedule : finalists[0].schedule;
  entry.seconds = gains ? best.seconds : finalists[0].seconds;
  return entry;
}

} // namespace nyx::tuning
