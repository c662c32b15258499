#include "passes/calibration.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "ir/interpreter.h"
#include "ir/status_macros.h"
#include "ir/strings.h"

namespace nyx::passes {

namespace {

// Fine enough that the percentile and entropy ranges sit within 1/2048 of
// the full range of the exact ones; TensorRT's entropy calibration uses as
// many.
constexpr int kBins = 2048;

struct Observed {
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  Histogram histogram;
  bool magnitudes = false; // the histogram counts |x|
};

// NaNs and infinities carry no range; they are left out.
void addRange(Observed &o, const ir::Tensor &t) {
  for (int64_t i = 0; i < t.numElements(); ++i) {
    const double v = t.getDouble(i);
    if (std::isfinite(v)) {
      o.min = std::min(o.min, v);
      o.max = std::max(o.max, v);
    }
  }
}

void addToHistogram(Observed &o, const ir::Tensor &t) {
  Histogram &h = o.histogram;
  const double width = (h.hi - h.lo) / static_cast<double>(h.counts.size());
  const int64_t last = static_cast<int64_t>(h.counts.size()) - 1;
  for (int64_t i = 0; i < t.numElements(); ++i) {
    double v = t.getDouble(i);
    if (!std::isfinite(v))
      continue;
    if (o.magnitudes)
      v = std::fabs(v);
    const int64_t bin =
        width > 0 ? static_cast<int64_t>((v - h.lo) / width) : 0;
    h.counts[std::clamp<int64_t>(bin, 0, last)] += 1;
  }
}

// How many steps of int8 cover the magnitudes [0, T] of a value whose
// smallest element is `min`.
int entropyLevels(double min, bool asymmetric) {
  if (!asymmetric)
    return 127;
  return min >= 0 ? 255 : 128;
}

ActivationRange chosenRange(const Observed &o, const ir::Value &v,
                            const CalibrationSettings &s, bool asymmetric) {
  ActivationRange r;
  r.shape = v.type.shape;
  if (o.min > o.max) // nothing finite was seen
    return r;
  r.min = o.min;
  r.max = o.max;
  if (s.observer == RangeObserver::Percentile) {
    auto [lo, hi] = percentileRange(o.histogram, s.percentile);
    r.min = std::max(o.min, lo);
    r.max = std::min(o.max, hi);
  } else if (s.observer == RangeObserver::Entropy) {
    const double t =
        entropyThreshold(o.histogram, entropyLevels(o.min, asymmetric));
    r.min = std::max(o.min, -t);
    r.max = std::min(o.max, t);
  }
  return r;
}

} // namespace

absl::StatusOr<RangeObserver> parseRangeObserver(std::string_view name) {
  for (RangeObserver o : {RangeObserver::MinMax, RangeObserver::Percentile,
                          RangeObserver::Entropy})
    if (name == rangeObserverName(o))
      return o;
  return absl::InvalidArgumentError(
      strCat("'", name,
             "' is not a range observer; expected minmax, percentile or "
             "entropy"));
}

std::string_view rangeObserverName(RangeObserver observer) {
  switch (observer) {
  case RangeObserver::MinMax:
    return "minmax";
  case RangeObserver::Percentile:
    return "percentile";
  case RangeObserver::Entropy:
    return "entropy";
  }
  return "";
}

std::pair<double, double> percentileRange(const Histogram &h, double p) {
  double total = 0;
  for (double c : h.counts)
    total += c;
  const size_t bins = h.counts.size();
  if (total == 0 || bins == 0)
    return {h.lo, h.hi};
  const double tail = total * (100 - p) / 100;
  const double width = (h.hi - h.lo) / static_cast<double>(bins);
  size_t first = 0, last = bins - 1;
  for (double below = h.counts[0]; below < tail && first + 1 < bins;)
    below += h.counts[++first];
  for (double above = h.counts[last]; above < tail && last > 0;)
    above += h.counts[--last];
  return {h.lo + width * static_cast<double>(first),
          h.lo + width * static_cast<double>(last + 1)};
}

double entropyThreshold(const Histogram &magnitudes, int levels) {
  const std::vector<double> &counts = magnitudes.counts;
  const size_t bins = counts.size();
  double total = 0;
  for (double c : counts)
    total += c;
  if (total == 0 || bins <= static_cast<size_t>(levels))
    return magnitudes.hi;
  const double width = (magnitudes.hi - magnitudes.lo) / bins;
  std::vector<double> p(bins), q(bins);
  double outliers = 0; // the counts from `i` up, clipped into bin i - 1
  for (size_t b = static_cast<size_t>(levels); b < bins; ++b)
    outliers += counts[b];
  double bestDivergence = std::numeric_limits<double>::infinity();
  size_t best = bins;
  for (size_t i = static_cast<size_t>(levels); i <= bins; ++i) {
    // The reference: the first i bins with everything above clipped in.
    std::copy(counts.begin(), counts.begin() + i, p.begin());
    p[i - 1] += outliers;
    // Its quantization: i bins merged into `levels` steps, each step's
    // count spread again over the bins of it that held anything.
    for (int j = 0; j < levels; ++j) {
      const size_t begin = j * i / levels, end = (j + 1) * i / levels;
      double sum = 0, nonzero = 0;
      for (size_t b = begin; b < end; ++b) {
        sum += counts[b];
        nonzero += counts[b] > 0;
      }
      for (size_t b = begin; b < end; ++b)
        q[b] = counts[b] > 0 ? sum / nonzero : 0;
    }
    double pSum = 0, qSum = 0;
    for (size_t b = 0; b < i; ++b) {
      pSum += p[b];
      qSum += q[b];
    }
    double divergence = 0;
    for (size_t b = 0; b < i; ++b) {
      if (p[b] == 0)
        continue;
      // A bin the quantized form leaves empty (clipped outliers in an
      // empty last bin) costs as if it held a tiny share.
      const double qb = q[b] > 0 ? q[b] / qSum : 1e-12;
      divergence += p[b] / pSum * std::log(p[b] / pSum / qb);
    }
    if (divergence < bestDivergence) {
      bestDivergence = divergence;
      best = i;
    }
    if (i < bins)
      outliers -= counts[i];
  }
  return magnitudes.lo + width * static_cast<double>(best);
}

absl::StatusOr<QuantProfile>
calibrate(const ir::Module &m, const ir::Function &fn,
          const ir::WeightMap *weights,
          const std::vector<const ir::Value *> &values,
          const CalibrationSettings &settings, bool asymmetric) {
  if (settings.batches.empty())
    return absl::InvalidArgumentError(
        "calibration needs at least one batch of inputs");
  for (const auto &batch : settings.batches) {
    if (batch.size() != fn.params.size())
      return absl::InvalidArgumentError(
          strCat("a calibration batch has ", batch.size(), " inputs; @",
                 fn.name, " takes ", fn.params.size()));
    for (size_t i = 0; i < batch.size(); ++i)
      if (batch[i].type() != fn.params[i]->type)
        return absl::InvalidArgumentError(
            strCat("calibration input %", fn.params[i]->name, " is ",
                   batch[i].type().str(), "; @", fn.name, " takes ",
                   fn.params[i]->type.str()));
  }
  std::map<const ir::Value *, Observed> observed;
  for (const ir::Value *v : values)
    observed[v];

  ir::Interpreter interpreter(m, weights);
  auto runAll = [&](void (*add)(Observed &, const ir::Tensor &)) {
    interpreter.setObserver(
        [&](const ir::Op &op, std::span<const ir::Tensor> results, int depth) {
          if (depth != 0)
            return;
          for (size_t i = 0; i < results.size(); ++i)
            if (auto it = observed.find(op.results[i]); it != observed.end())
              add(it->second, results[i]);
        });
    for (const auto &batch : settings.batches) {
      for (size_t i = 0; i < batch.size(); ++i)
        if (auto it = observed.find(fn.params[i]); it != observed.end())
          add(it->second, batch[i]);
      NYX_RETURN_IF_ERROR(interpreter.run(fn, batch).status());
    }
    return absl::OkStatus();
  };
  NYX_RETURN_IF_ERROR(runAll(addRange));
  if (settings.observer != RangeObserver::MinMax) {
    for (auto &[value, o] : observed) {
      if (o.min > o.max)
        continue;
      o.magnitudes = settings.observer == RangeObserver::Entropy;
      o.histogram.lo = o.magnitudes ? 0 : o.min;
      o.histogram.hi =
          o.magnitudes ? std::max(std::fabs(o.min), std::fabs(o.max)) : o.max;
      o.histogram.counts.assign(kBins, 0);
    }
    NYX_RETURN_IF_ERROR(runAll([](Observed &o, const ir::Tensor &t) {
      if (!o.histogram.counts.empty())
        addToHistogram(o, t);
    }));
  }

  QuantProfile profile;
  profile.observer = rangeObserverName(settings.observer);
  for (const ir::Value *v : values)
    profile.ranges[v->name] =
        chosenRange(observed[v], *v, settings, asymmetric);
  return profile;
}

} // namespace nyx::passes
