// Calibration: the ranges of chosen values, measured by running a function
// in the reference interpreter on sample inputs (docs/quantization.md).
#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/module.h"
#include "ir/op_registry.h"
#include "ir/tensor.h"
#include "passes/quant_profile.h"

namespace nyx::passes {

// How a value's range is chosen from what it held:
// - MinMax: the smallest and largest value seen;
// - Percentile: the `percentile`-th and (100 - `percentile`)-th percentiles,
//   leaving out rare outliers;
// - Entropy: the magnitude whose clipping and rounding to int8 loses the
//   least information (the smallest Kullback-Leibler divergence between the
//   histogram of magnitudes and its quantized form).
enum class RangeObserver { MinMax, Percentile, Entropy };

absl::StatusOr<RangeObserver> parseRangeObserver(std::string_view name);
std::string_view rangeObserverName(RangeObserver observer);

struct CalibrationSettings {
  RangeObserver observer = RangeObserver::MinMax;
  double percentile = 99.99;
  // Each a complete set of arguments of the function calibrated.
  std::vector<std::vector<ir::Tensor>> batches;
};

// Counts of values in `bins` equal bins over [lo, hi].
struct Histogram {
  double lo = 0, hi = 0;
  std::vector<double> counts;
};

// The range between the (100 - p)-th and p-th percentiles, at the bins'
// edges (a bin holding one of them is kept whole).
std::pair<double, double> percentileRange(const Histogram &h, double p);
// For a histogram of magnitudes over [0, hi]: the clipping threshold (a
// bin edge, at least `levels` bins) whose quantization to `levels` steps
// diverges least from the histogram.
double entropyThreshold(const Histogram &magnitudes, int levels);

// Runs `fn` on every batch of `settings` and returns the range of each of
// `values` (params or op results of `fn`, by name). `asymmetric`: the
// ranges will be quantized with a zero point, which gives a range without
// negatives 255 steps rather than 127 (the entropy observer weighs them).
absl::StatusOr<QuantProfile>
calibrate(const ir::Module &m, const ir::Function &fn,
          const ir::WeightMap *weights,
          const std::vector<const ir::Value *> &values,
          const CalibrationSettings &settings, bool asymmetric);

} // namespace nyx::passes
