// Gradient checking in tests: `gradCheck(source)` parses a module whose
// @main returns a float tensor and compares the gradient of
// sum(main(...) * r) with central finite differences in f64, for every
// float input and param element (compiler/gradcheck.h). OkStatus, or a
// message naming the tensor, the element and both values.
#pragma once

#include "compiler/gradcheck.h"
#include "ir/builder.h"
#include "ir/interpreter.h"
#include "ir/parser.h"
#include "ir/strings.h"
#include "ir/verifier.h"
#include "passes/autodiff.h"

namespace nyx::test {

using GradCheckOptions = compiler::GradCheckOptions;

inline absl::Status gradCheck(std::string_view source,
                              const GradCheckOptions &o = {}) {
  auto parsed = ir::parseModule(source, "gradcheck.nyx");
  if (!parsed.ok())
    return parsed.status();
  auto entry = (*parsed)->entry();
  if (!entry.ok())
    return entry.status();
  auto result = compiler::gradCheck(**parsed, **entry, o);
  if (!result.ok())
    return result.status();
  for (const auto &t : result->tensors)
    if (!t.ok)
      return absl::InternalError(
          strCat("d/d", t.name, "[", t.worst, "]: the gradient is ", t.analytic,
                 ", finite differences give ", t.numeric));
  return absl::OkStatus();
}

} // namespace nyx::test
