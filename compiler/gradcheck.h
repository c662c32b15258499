// Gradient checking (nyxc --gradcheck, and the gradient-rule tests): the
// gradient reverse mode builds against central finite differences, with
// the model promoted to f64 so the differences are accurate.
//
// The entry's first result is reduced to the scalar sum(result * r) with a
// fixed random r in [0.5, 1.5] (so every result element's gradient is
// exercised), and d/d(element) is compared, for every float input and
// param, with (L(x + h) - L(x - h)) / 2h.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/module.h"
#include "ir/op_registry.h"

namespace nyx::compiler {

struct GradCheckOptions {
  // Random float inputs and params come from [lo, hi] unless `ranges`
  // names them (input or param name); integer inputs from [lo, hi) when
  // named there, else [0, 2).
  double lo = -1, hi = 1;
  std::map<std::string, std::pair<double, double>, std::less<>> ranges;
  double step = 1e-6;
  double rtol = 1e-5, atol = 1e-8;
  uint64_t seed = 1;
  // Elements checked per tensor (spread evenly); 0 checks every element.
  int64_t maxElements = 0;
  // Params with these values instead of random ones (promoted to f64).
  const ir::WeightMap *weights = nullptr;
};

struct GradCheckResult {
  struct Tensor {
    std::string name; // "%x" or "@fc1.weight"
    int64_t checked = 0;
    double maxAbsError = 0;
    int64_t worst = 0;                // the element with the largest error
    double analytic = 0, numeric = 0; // at `worst`
    bool ok = true;
  };
  std::vector<Tensor> tensors;
  bool ok() const;
};

// Checks `entry` of `module` (neither is changed: the check runs on an f64
// copy). Errors: the module cannot be promoted or differentiated, or the
// interpreter fails.
absl::StatusOr<GradCheckResult> gradCheck(const ir::Module &module,
                                          const ir::Function &entry,
                                          const GradCheckOptions &options);

// The result as a table, one row per tensor, and a verdict line.
std::string formatGradCheck(const GradCheckResult &result);

} // namespace nyx::compiler
