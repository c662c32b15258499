#include "tests/conformance/case_result.h"

namespace nyx::conformance {

std::string_view statusName(Status s) {
  switch (s) {
  case Status::Pass:
    return "pass";
  case Status::Fail:
    return "fail";
  case Status::Unsupported:
    return "unsupported";
  case Status::Error:
    return "error";
  case Status::NoModel:
    return "no-model";
  }
  return "?";
}

std::optional<Status> parseStatus(std::string_view name) {
  for (Status s : kAllStatuses)
    if (statusName(s) == name)
      return s;
  return std::nullopt;
}

std::string_view interpreterStatusName(InterpreterStatus s) {
  switch (s) {
  case InterpreterStatus::NotRun:
    return "not-run";
  case InterpreterStatus::Pass:
    return "pass";
  case InterpreterStatus::Fail:
    return "fail";
  case InterpreterStatus::Error:
    return "error";
  }
  return "?";
}

std::optional<InterpreterStatus> parseInterpreterStatus(std::string_view name) {
  for (InterpreterStatus s :
       {InterpreterStatus::NotRun, InterpreterStatus::Pass,
        InterpreterStatus::Fail, InterpreterStatus::Error})
    if (interpreterStatusName(s) == name)
      return s;
  return std::nullopt;
}

} // namespace nyx::conformance
