#include "tuning/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>

#include "ir/strings.h"

namespace nyx::tuning {
namespace {

int terminalWidth() {
  winsize size{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
    return size.ws_col;
  return 80;
}

} // namespace

std::string ProgressBar::line(std::string_view label, int64_t done,
                              int64_t total, int width) {
  total = std::max<int64_t>(total, 1);
  done = std::clamp<int64_t>(done, 0, total);
  std::string count = strCat(done, "/", total);
  std::string head = strCat("autotune  ", label, "  ");
  // The bar takes what is left of the line (one column spare, so the
  // cursor never wraps), between 10 and 40 columns.
  int room = width - 1 - static_cast<int>(head.size() + count.size()) - 4;
  int bar = std::clamp(room, 10, 40);
  int filled = static_cast<int>(bar * done / total);
  std::string text = strCat(head, "[", std::string(filled, '#'),
                            std::string(bar - filled, '.'), "]  ", count);
  if (static_cast<int>(text.size()) >= width)
    text.resize(std::max(width - 1, 0));
  return text;
}

void ProgressBar::show(std::string_view label, int64_t done, int64_t total) {
  if (!enabled_)
    return;
  out_ << "\r\033[K" << line(label, done, total, terminalWidth()) << std::flush;
  drawn_ = true;
}

void ProgressBar::clear() {
  if (!drawn_)
    return;
  out_ << "\r\033[K" << std::flush;
  drawn_ = false;
}

bool stderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

} // namespace nyx::tuning
