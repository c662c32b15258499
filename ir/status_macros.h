// Early return on error, for functions that return absl::Status or
// absl::StatusOr<T>.
#pragma once

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define NYX_RETURN_IF_ERROR(expr)                                              \
  do {                                                                         \
    absl::Status nyx_status_ = (expr);                                         \
    if (!nyx_status_.ok())                                                     \
      return nyx_status_;                                                      \
  } while (0)

#define NYX_CONCAT_INNER_(a, b) a##b
#define NYX_CONCAT_(a, b) NYX_CONCAT_INNER_(a, b)
// `NYX_ASSIGN_OR_RETURN(auto x, f());` declares x from the value of f(), or
// returns f()'s error.
#define NYX_ASSIGN_OR_RETURN(lhs, expr)                                        \
  NYX_ASSIGN_OR_RETURN_IMPL_(NYX_CONCAT_(nyx_statusor_, __LINE__), lhs, expr)
#define NYX_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr)                             \
  auto tmp = (expr);                                                           \
  if (!tmp.ok())                                                               \
    return tmp.status();                                                       \
  lhs = std::move(*tmp)
