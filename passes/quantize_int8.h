// What the quantize-int8 pass needs beyond the module: activation ranges,
// measured or given (docs/quantization.md).
#pragma once

#include <set>
#include <string>

#include "passes/calibration.h"
#include "passes/quant_profile.h"

namespace nyx::passes {

struct Int8QuantizeSettings {
  // The ranges come from calibration on these inputs...
  const CalibrationSettings *calibration = nullptr;
  // ...or from this profile, read from `profilePath`.
  const QuantProfile *profile = nullptr;
  std::string profilePath;
  // Matmuls left in f32, by the names of their results.
  std::set<std::string, std::less<>> exclude;
  // Filled by the pass: the ranges it used (`nyxc --emit=quant-profile`).
  QuantProfile used;
};

} // namespace nyx::passes
