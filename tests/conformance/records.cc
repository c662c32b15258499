#include "tests/conformance/records.h"

#include <errno.h>
#include <unistd.h>

#include <cstdlib>

#include "ir/strings.h"

namespace nyx::conformance {

std::string escapeRecordValue(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else
      out += c;
  }
  return out;
}

std::string unescapeRecordValue(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    char c = text[++i];
    out += c == 'n' ? '\n' : c == 't' ? '\t' : c;
  }
  return out;
}

void RecordWriter::write(std::string_view key, std::string_view value) {
  std::string line = strCat(key, " ", escapeRecordValue(value), "\n");
  const char *p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return; // the parent is gone; nothing to report to
    p += n;
    left -= static_cast<size_t>(n);
  }
}

void RecordWriter::stageTime(std::string_view name, double seconds) {
  write("time", strCat(seconds, " ", name));
}

void RecordWriter::result(Status status, std::string_view message) {
  write("status", statusName(status));
  write("message", message);
}

void RecordWriter::interpreterResult(InterpreterStatus status,
                                     std::string_view message) {
  write("interpreter", interpreterStatusName(status));
  write("interpreter-message", message);
}

void RecordReader::feed(std::string_view bytes) {
  pending_.append(bytes);
  size_t start = 0;
  for (size_t nl; (nl = pending_.find('\n', start)) != std::string::npos;
       start = nl + 1)
    apply(std::string_view(pending_).substr(start, nl - start));
  pending_.erase(0, start);
}

void RecordReader::apply(std::string_view line) {
  size_t space = line.find(' ');
  std::string_view key = line.substr(0, space);
  std::string value = unescapeRecordValue(
      space == std::string_view::npos ? "" : line.substr(space + 1));
  if (key == "op") {
    result_.opTypes.push_back(value);
  } else if (key == "bound") {
    result_.boundInputs.push_back(value);
  } else if (key == "stage") {
    stage_ = value;
  } else if (key == "time") {
    size_t sep = value.find(' ');
    if (sep != std::string::npos)
      result_.stageSeconds[value.substr(sep + 1)] +=
          std::strtod(value.c_str(), nullptr);
  } else if (key == "status") {
    if (auto s = parseStatus(value)) {
      result_.status = *s;
      sawResult_ = true;
    }
  } else if (key == "message") {
    result_.message = value;
  } else if (key == "interpreter") {
    if (auto s = parseInterpreterStatus(value)) {
      result_.interpreter = *s;
      sawInterpreter_ = true;
    }
  } else if (key == "interpreter-message") {
    result_.interpreterMessage = value;
  } else if (key == "done") {
    done_ = true;
  }
}

} // namespace nyx::conformance
