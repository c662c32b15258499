// Writes a set of output files all or nothing: every file goes to a
// temporary name beside its destination, and only when all are written are
// they renamed into place. A failed compilation leaves no partial output.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace nyx::compiler {

class OutputFiles {
public:
  // "-" means standard output (written at commit, after the files).
  void add(std::string path, std::string contents);
  absl::Status commit();

private:
  std::vector<std::pair<std::string, std::string>> files_;
};

} // namespace nyx::compiler
