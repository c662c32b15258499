// Activation ranges for static int8 quantization: measured by calibration
// or read from a JSON profile a user may edit (docs/quantization.md,
// "Profiles").
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace nyx::passes {

// The range [min, max] that a value's quantization covers, and the value's
// shape, which a profile is checked against.
struct ActivationRange {
  std::vector<int64_t> shape;
  double min = 0;
  double max = 0;
};

struct QuantProfile {
  std::string observer; // how the ranges were measured ("minmax", ...)
  // By value name (without the '%'), in name order.
  std::map<std::string, ActivationRange, std::less<>> ranges;
};

// The profile's JSON form:
//   {"nyx_quant_profile": 1, "observer": "entropy",
//    "activations": {"x": {"shape": [32, 784], "min": -1.5, "max": 2.25}}}
nlohmann::json profileToJson(const QuantProfile &profile);
// Errors name `filename` and the offending entry.
absl::StatusOr<QuantProfile> profileFromJson(const nlohmann::json &json,
                                             std::string_view filename);

} // namespace nyx::passes
