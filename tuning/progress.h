// The autotuner's progress line on a terminal: redrawn in place with '\r'
// and erased when done, so logs and pipes never see it.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

namespace nyx::tuning {

class ProgressBar {
public:
  // Draws on `out` only when `enabled` (stderr is a terminal).
  ProgressBar(std::ostream &out, bool enabled) : out_(out), enabled_(enabled) {}
  ~ProgressBar() { clear(); }

  // "autotune  matmul 64x96x80  [#######.........]  12/40"
  void show(std::string_view label, int64_t done, int64_t total);
  void clear();

  // The line show() draws, for a terminal `width` columns wide.
  static std::string line(std::string_view label, int64_t done, int64_t total,
                          int width);

private:
  std::ostream &out_;
  bool enabled_;
  bool drawn_ = false;
};

// True when file descriptor 2 is a terminal.
bool stderrIsTerminal();

} // namespace nyx::tuning
