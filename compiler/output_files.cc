#include "compiler/output_files.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <unistd.h>

#include "ir/strings.h"

namespace nyx::compiler {

void OutputFiles::add(std::string path, std::string contents) {
  files_.emplace_back(std::move(path), std::move(contents));
}

static absl::Status writeWhole(const std::string &path,
                               const std::string &contents) {
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    return absl::PermissionDeniedError(std::strerror(errno));
  size_t written = std::fwrite(contents.data(), 1, contents.size(), f);
  int err = written == contents.size() ? 0 : errno;
  if (std::fclose(f) != 0 && !err)
    err = errno;
  if (err)
    return absl::DataLossError(std::strerror(err));
  return absl::OkStatus();
}

// Two outputs with one destination would leave only one of them behind.
static absl::Status
checkDistinct(const std::vector<std::pair<std::string, std::string>> &files) {
  std::vector<std::filesystem::path> seen;
  for (const auto &[path, contents] : files) {
    if (path == "-")
      continue;
    std::error_code ec;
    std::filesystem::path p = std::filesystem::weakly_canonical(path, ec);
    if (ec)
      p = path;
    if (std::find(seen.begin(), seen.end(), p) != seen.end())
      return absl::InvalidArgumentError(
          strCat("'", path,
                 "' is named for two outputs; give each its own "
                 "file (-o, --header, --weights-out)"));
    seen.push_back(p);
  }
  return absl::OkStatus();
}

absl::Status OutputFiles::commit() {
  if (absl::Status s = checkDistinct(files_); !s.ok())
    return s;
  std::vector<std::string> temps;
  auto removeTemps = [&] {
    for (const std::string &t : temps)
      std::remove(t.c_str());
  };
  for (const auto &[path, contents] : files_) {
    if (path == "-")
      continue;
    std::string temp = strCat(path, ".tmp", ::getpid(), ".", temps.size());
    if (absl::Status s = writeWhole(temp, contents); !s.ok()) {
      removeTemps();
      std::remove(temp.c_str());
      return absl::PermissionDeniedError(
          strCat("cannot write '", path, "': ", s.message()));
    }
    temps.push_back(temp);
  }
  size_t next = 0;
  for (const auto &[path, contents] : files_) {
    if (path == "-")
      continue;
    if (std::rename(temps[next].c_str(), path.c_str()) != 0) {
      std::string reason = std::strerror(errno);
      removeTemps();
      return absl::PermissionDeniedError(
          strCat("cannot write '", path, "': ", reason));
    }
    temps[next++].clear();
  }
  for (const auto &[path, contents] : files_)
    if (path == "-")
      std::cout << contents << std::flush;
  return absl::OkStatus();
}

} // namespace nyx::compiler
