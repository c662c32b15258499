// The tuning database: schedules that autotuning measured, kept in a JSON
// file (nyxc --tuning-db=FILE) so that later compiles reuse them without
// measuring. docs/autotuning.md describes the format.
//
// An entry holds for one key: the op's signature, the target CPU and its
// features, the thread count measured with and the compiler version. A
// lookup matches all of them exactly, so an entry of another compiler
// version (stale) is never reused; writing the file drops such entries.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace nyx::tuning {

struct TuningKey {
  std::string op;       // opSignature(): "matmul(f32[64,80], f32[80,96])"
  std::string cpu;      // LLVM CPU name of the target ("znver4")
  std::string features; // the target's feature string ("+avx,+avx2,...")
  int64_t threads = 1;  // threads the kernels ran with
  std::string compiler; // compilerVersion() of the compiler that measured
  bool operator==(const TuningKey &) const = default;
  auto operator<=>(const TuningKey &) const = default;
};

struct TuningEntry {
  TuningKey key;
  std::string schedule; // the fastest schedule measured
  double seconds = 0;   // its median time per run
  std::string defaultSchedule;
  double defaultSeconds = 0; // the default schedule's median time
  int64_t candidates = 0;    // schedules in the space
  int64_t measured = 0;      // of them measured (fewer: the budget ran out)
  bool operator==(const TuningEntry &) const = default;
};

// The file's form: {"format": "nyx-tuning-db", "version": 1, "entries":
// [...]}.
inline constexpr std::string_view kTuningDbFormat = "nyx-tuning-db";
inline constexpr int kTuningDbVersion = 1;

nlohmann::ordered_json toJson(const std::vector<TuningEntry> &entries);
// Errors say what is wrong, as the rest of a sentence about the file: "has
// entry 2 without a string 'schedule'".
absl::StatusOr<std::vector<TuningEntry>>
entriesFromJson(const nlohmann::ordered_json &j);

// The entries in `path`; none when the file does not exist or is empty. An
// error means the file is no database this compiler can use (unreadable,
// not JSON, not a tuning database, another format version, malformed): the
// message names the file and says why ("tuning database 'db.json' is not
// valid JSON").
absl::StatusOr<std::vector<TuningEntry>>
readTuningFile(const std::string &path);

// Replaces `path` by `entries` atomically: written to a temporary file in the
// same directory, then renamed over it, so a reader sees the old file or the
// new one, never a part.
absl::Status writeTuningFile(const std::string &path,
                             const std::vector<TuningEntry> &entries);

// The entries of one file, by key, for one compiler version.
class TuningDb {
public:
  // An empty database that save() writes to `path` ("" = none).
  TuningDb(std::string path, std::string compiler);

  // Reads the file. An error (see readTuningFile) leaves the database empty
  // and keeps save() from writing over a file it could not read.
  absl::Status load();

  const TuningEntry *find(const TuningKey &key) const;
  void put(TuningEntry entry);
  size_t size() const { return entries_.size(); }
  bool changed() const { return changed_; }

  // Writes the database back when put() changed it: the entries the file
  // holds now (another compile may have added some since load()) merged
  // with this database's, which win for the same key; entries of other
  // compiler versions are dropped.
  absl::Status save() const;

private:
  std::string path_, compiler_;
  std::map<TuningKey, TuningEntry> entries_;
  bool changed_ = false;
  bool writable_ = true;
};

} // namespace nyx::tuning
