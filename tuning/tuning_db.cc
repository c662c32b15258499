#include "tuning/tuning_db.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "ir/status_macros.h"
#include "ir/strings.h"

namespace nyx::tuning {
namespace {

namespace fs = std::filesystem;
// Ordered, so that a written file keeps its fields in the order below: what
// it is, then for each entry its key and its result.
using json = nlohmann::ordered_json;

// Every field of an entry with its JSON kind; reading checks them all so a
// file edited by hand fails as a whole instead of being half used.
absl::Status needString(const json &e, std::string_view field, size_t index,
                        std::string &out) {
  auto it = e.find(field);
  if (it == e.end() || !it->is_string())
    return absl::InvalidArgumentError(
        strCat("has entry ", index, " without a string '", field, "'"));
  out = it->get<std::string>();
  return absl::OkStatus();
}

absl::Status needCount(const json &e, std::string_view field, size_t index,
                       int64_t &out) {
  auto it = e.find(field);
  if (it == e.end() || !it->is_number_integer() || it->get<int64_t>() < 0)
    return absl::InvalidArgumentError(
        strCat("has entry ", index, " without an integer '", field, "' >= 0"));
  out = it->get<int64_t>();
  return absl::OkStatus();
}

absl::Status needSeconds(const json &e, std::string_view field, size_t index,
                         double &out) {
  auto it = e.find(field);
  if (it == e.end() || !it->is_number() || !std::isfinite(it->get<double>()) ||
      it->get<double>() < 0)
    return absl::InvalidArgumentError(strCat("has entry ", index,
                                             " without a number of seconds '",
                                             field, "' >= 0"));
  out = it->get<double>();
  return absl::OkStatus();
}

absl::StatusOr<TuningEntry> entryFromJson(const json &e, size_t index) {
  if (!e.is_object())
    return absl::InvalidArgumentError(
        strCat("has entry ", index, ", which is not an object"));
  TuningEntry t;
  NYX_RETURN_IF_ERROR(needString(e, "op", index, t.key.op));
  NYX_RETURN_IF_ERROR(needString(e, "cpu", index, t.key.cpu));
  NYX_RETURN_IF_ERROR(needString(e, "features", index, t.key.features));
  NYX_RETURN_IF_ERROR(needCount(e, "threads", index, t.key.threads));
  NYX_RETURN_IF_ERROR(needString(e, "compiler", index, t.key.compiler));
  NYX_RETURN_IF_ERROR(needString(e, "schedule", index, t.schedule));
  NYX_RETURN_IF_ERROR(needSeconds(e, "seconds", index, t.seconds));
  NYX_RETURN_IF_ERROR(
      needString(e, "default_schedule", index, t.defaultSchedule));
  NYX_RETURN_IF_ERROR(
      needSeconds(e, "default_seconds", index, t.defaultSeconds));
  NYX_RETURN_IF_ERROR(needCount(e, "candidates", index, t.candidates));
  NYX_RETURN_IF_ERROR(needCount(e, "measured", index, t.measured));
  return t;
}

std::string errnoText() { return std::strerror(errno); }

} // namespace

json toJson(const std::vector<TuningEntry> &entries) {
  json list = json::array();
  for (const TuningEntry &t : entries)
    list.push_back({{"op", t.key.op},
                    {"cpu", t.key.cpu},
                    {"features", t.key.features},
                    {"threads", t.key.threads},
                    {"compiler", t.key.compiler},
                    {"schedule", t.schedule},
                    {"seconds", t.seconds},
                    {"default_schedule", t.defaultSchedule},
                    {"default_seconds", t.defaultSeconds},
                    {"candidates", t.candidates},
                    {"measured", t.measured}});
  return {{"format", kTuningDbFormat},
          {"version", kTuningDbVersion},
          {"entries", std::move(list)}};
}

absl::StatusOr<std::vector<TuningEntry>> entriesFromJson(const json &j) {
  if (!j.is_object() || !j.contains("format") || j["format"] != kTuningDbFormat)
    return absl::InvalidArgumentError(
        strCat("is not a tuning database (expected a JSON object with "
               "\"format\": \"",
               kTuningDbFormat, "\")"));
  if (!j.contains("version") || j["version"] != kTuningDbVersion)
    return absl::InvalidArgumentError(
        strCat("has format version ",
               j.contains("version") ? j["version"].dump() : "(none)",
               "; expected ", kTuningDbVersion));
  if (!j.contains("entries") || !j["entries"].is_array())
    return absl::InvalidArgumentError("has no \"entries\" array");
  std::vector<TuningEntry> out;
  for (size_t i = 0; i < j["entries"].size(); ++i) {
    auto entry = entryFromJson(j["entries"][i], i);
    if (!entry.ok())
      return entry.status();
    out.push_back(std::move(*entry));
  }
  return out;
}

absl::StatusOr<std::vector<TuningEntry>>
readTuningFile(const std::string &path) {
  auto fail = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        strCat("tuning database '", path, "' ", why));
  };
  std::error_code ec;
  if (!fs::exists(path, ec))
    return std::vector<TuningEntry>{};
  if (fs::is_directory(path, ec))
    return fail("is a directory; expected a file");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return fail(strCat("cannot be read: ", errnoText()));
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  if (in.bad())
    return fail(strCat("cannot be read: ", errnoText()));
  // An empty file (made with `touch`) is an empty database.
  if (text.empty())
    return std::vector<TuningEntry>{};
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    return fail("is not valid JSON");
  auto entries = entriesFromJson(j);
  if (!entries.ok())
    return fail(std::string(entries.status().message()));
  return entries;
}

absl::Status writeTuningFile(const std::string &path,
                             const std::vector<TuningEntry> &entries) {
  const std::string text = toJson(entries).dump(2) + "\n";
  fs::path target(path);
  fs::path dir = target.parent_path();
  std::string temp =
      (dir / strCat(".", target.filename().string(), ".XXXXXX")).string();
  int fd = ::mkstemp(temp.data());
  if (fd < 0)
    return absl::PermissionDeniedError(
        strCat("cannot write the tuning database '", path, "': ", errnoText()));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    done += static_cast<size_t>(n);
  }
  // The data reaches the disk before the rename makes it the database, so
  // a crash leaves the old file or the whole new one.
  bool ok = done == text.size() && ::fsync(fd) == 0;
  std::string reason = ok ? "" : errnoText();
  // mkstemp creates the file 0600; a database is shared like a source file.
  ::fchmod(fd, 0644);
  if (::close(fd) != 0 && ok) {
    ok = false;
    reason = errnoText();
  }
  if (ok && std::rename(temp.c_str(), path.c_str()) != 0) {
    ok = false;
    reason = errnoText();
  }
  if (!ok) {
    std::remove(temp.c_str());
    return absl::PermissionDeniedError(
        strCat("cannot write the tuning database '", path, "': ", reason));
  }
  return absl::OkStatus();
}

TuningDb::TuningDb(std::string path, std::string compiler)
    : path_(std::move(path)), compiler_(std::move(compiler)) {}

absl::Status TuningDb::load() {
  entries_.clear();
  if (path_.empty())
    return absl::OkStatus();
  auto read = readTuningFile(path_);
  if (!read.ok()) {
    writable_ = false;
    return read.status();
  }
  for (TuningEntry &e : *read)
    entries_[e.key] = std::move(e);
  return absl::OkStatus();
}

const TuningEntry *TuningDb::find(const TuningKey &key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

void TuningDb::put(TuningEntry entry) {
  TuningKey key = entry.key;
  entries_[key] = std::move(entry);
  changed_ = true;
}

absl::Status TuningDb::save() const {
  if (path_.empty() || !changed_)
    return absl::OkStatus();
  if (!writable_)
    return absl::FailedPreconditionError(
        strCat("not writing the tuning results over '", path_,
               "', which is not a usable tuning database"));
  auto current = readTuningFile(path_);
  if (!current.ok())
    return absl::FailedPreconditionError(
        strCat(current.status().message(),
               "; not writing the tuning results over it"));
  std::map<TuningKey, TuningEntry> merged;
  for (TuningEntry &e : *current)
    merged[e.key] = std::move(e);
  for (const auto &[key, e] : entries_)
    merged[key] = e;
  std::vector<TuningEntry> out;
  for (auto &[key, e] : merged)
    if (key.compiler == compiler_)
      out.push_back(std::move(e));
  return writeTuningFile(path_, out);
}

} // namespace nyx::tuning
