// The records a case's child process sends its parent through a pipe, one
// line each: "<key> <value>", the value with backslash, newline and tab
// escaped. They are written as the case goes, so a child that crashes has
// already told which ops its model has and which stage it was in.
#pragma once

#include <string>
#include <string_view>

#include "tests/conformance/case_result.h"

namespace nyx::conformance {

std::string escapeRecordValue(std::string_view text);
std::string unescapeRecordValue(std::string_view text);

// Writes records to a file descriptor, unbuffered.
class RecordWriter {
public:
  explicit RecordWriter(int fd) : fd_(fd) {}
  void opType(std::string_view op) { write("op", op); }
  void boundInput(std::string_view name) { write("bound", name); }
  void stage(std::string_view name) { write("stage", name); }
  void stageTime(std::string_view name, double seconds);
  void result(Status status, std::string_view message);
  void interpreterResult(InterpreterStatus status, std::string_view message);
  void done() { write("done", ""); }

private:
  void write(std::string_view key, std::string_view value);
  int fd_;
};

// Rebuilds a CaseResult from the records, fed as bytes arrive.
class RecordReader {
public:
  explicit RecordReader(CaseResult &result) : result_(result) {}
  void feed(std::string_view bytes);
  // The stage the child last started ("" before the first).
  const std::string &stage() const { return stage_; }
  bool sawResult() const { return sawResult_; }
  bool sawInterpreterResult() const { return sawInterpreter_; }
  bool done() const { return done_; }

private:
  void apply(std::string_view line);
  CaseResult &result_;
  std::string pending_, stage_;
  bool sawResult_ = false, sawInterpreter_ = false, done_ = false;
};

} // namespace nyx::conformance
