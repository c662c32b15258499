// Calibration's range observers on hand-made histograms and values, and the
// quantization profile's JSON form and its errors.
#include <cmath>
#include <string>
#include <vector>

#include "ir/parser.h"
#include "passes/calibration.h"
#include "passes/quant_profile.h"
#include "gtest/gtest.h"

namespace nyx::passes {
namespace {

Histogram uniform(int bins, double hi) {
  return Histogram{0, hi, std::vector<double>(bins, 1.0)};
}

TEST(PercentileRange, KeepsTheBinsHoldingThePercentiles) {
  // 100 values, one per bin of width 1: the 1st and 99th percentiles are
  // in the outermost bins, the 2nd and 98th one bin further in.
  Histogram h = uniform(100, 100);
  EXPECT_EQ(percentileRange(h, 99), std::make_pair(0.0, 100.0));
  EXPECT_EQ(percentileRange(h, 98), std::make_pair(1.0, 99.0));
  EXPECT_EQ(percentileRange(h, 100), std::make_pair(0.0, 100.0));
}

TEST(PercentileRange, DropsARareOutlier) {
  Histogram h{-50, 50, std::vector<double>(100, 0.0)};
  for (int b = 40; b < 60; ++b)
    h.counts[b] = 1000; // the bulk, in [-10, 10)
  h.counts[99] = 1;     // one value near 50
  auto [lo, hi] = percentileRange(h, 99.99);
  EXPECT_EQ(lo, -10);
  EXPECT_EQ(hi, 10);
  EXPECT_EQ(percentileRange(h, 100).second, 50);
}

TEST(EntropyThreshold, ClipsAnOutlierAndKeepsTheBulk) {
  // Magnitudes falling off like a Laplace distribution's: round(10000
  // e^(-b/20)) in bin b, which is 0 from bin 199 on; and one far outlier.
  // Merging the bulk's bins 16 to a step (to keep the outlier) costs more
  // than clipping the outlier into the bulk's last bin, so the threshold
  // is that bin's upper edge, with or without the outlier.
  Histogram h{0, 2048, std::vector<double>(2048, 0.0)};
  for (int b = 0; b < 200; ++b)
    h.counts[b] = std::round(10000 * std::exp(-b / 20.0));
  ASSERT_EQ(h.counts[198], 1);
  ASSERT_EQ(h.counts[199], 0);
  h.counts[2047] = 1;
  EXPECT_EQ(entropyThreshold(h, 128), 199);
  h.counts[2047] = 0;
  EXPECT_EQ(entropyThreshold(h, 128), 199);
}

TEST(EntropyThreshold, KeepsAnEvenSpreadWhole) {
  // Clipping anything of a flat histogram folds a lot into the last bin.
  EXPECT_EQ(entropyThreshold(uniform(2048, 4.0), 128), 4.0);
  // Fewer bins than steps: nothing to merge, nothing clipped.
  EXPECT_EQ(entropyThreshold(uniform(100, 3.0), 128), 3.0);
  EXPECT_EQ(entropyThreshold(Histogram{0, 2, {}}, 128), 2.0);
}

class Calibrate : public ::testing::Test {
protected:
  void SetUp() override {
    auto m = ir::parseModule(R"(func @main(%x: f32[2,2]) -> (f32[2,2]) {
  %y = relu(%x) : f32[2,2]
  return %y
}
)",
                             "t.nyx");
    ASSERT_TRUE(m.ok()) << m.status().message();
    module = std::move(*m);
    fn = *module->entry();
    x = fn->params[0];
    y = fn->ops[0]->result();
    for (std::vector<double> v : {std::vector<double>{-1, 2, 3, -4},
                                  std::vector<double>{0.5, 5, -2, 1}}) {
      ir::Tensor t(x->type);
      for (int i = 0; i < 4; ++i)
        t.setDouble(i, v[i]);
      settings.batches.push_back({t});
    }
  }
  std::unique_ptr<ir::Module> module;
  ir::Function *fn = nullptr;
  const ir::Value *x = nullptr, *y = nullptr;
  CalibrationSettings settings;
};

TEST_F(Calibrate, MinMaxOverEveryBatch) {
  auto p = calibrate(*module, *fn, nullptr, {x, y}, settings, true);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->observer, "minmax");
  ASSERT_EQ(p->ranges.size(), 2u);
  EXPECT_EQ(p->ranges.at("x").min, -4);
  EXPECT_EQ(p->ranges.at("x").max, 5);
  EXPECT_EQ(p->ranges.at("x").shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(p->ranges.at("y").min, 0);
  EXPECT_EQ(p->ranges.at("y").max, 5);
}

TEST_F(Calibrate, HistogramObserversStayInsideTheMinMax) {
  for (RangeObserver o : {RangeObserver::Percentile, RangeObserver::Entropy}) {
    settings.observer = o;
    settings.percentile = 100;
    auto p = calibrate(*module, *fn, nullptr, {x}, settings, true);
    ASSERT_TRUE(p.ok()) << p.status().message();
    EXPECT_EQ(p->observer, rangeObserverName(o));
    EXPECT_GE(p->ranges.at("x").min, -4);
    EXPECT_LE(p->ranges.at("x").max, 5);
  }
  // Eight values are too few to leave any out.
  settings.observer = RangeObserver::Percentile;
  auto p = calibrate(*module, *fn, nullptr, {x}, settings, true);
  EXPECT_EQ(p->ranges.at("x").min, -4);
  EXPECT_EQ(p->ranges.at("x").max, 5);
}

TEST_F(Calibrate, InputsOfTheWrongTypeAreAnError) {
  settings.batches[1][0] = ir::Tensor(ir::TensorType{ir::DType::F32, {4}});
  auto p = calibrate(*module, *fn, nullptr, {x}, settings, true);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(),
            "calibration input %x is f32[4]; @main takes f32[2,2]");
  settings.batches.clear();
  EXPECT_FALSE(calibrate(*module, *fn, nullptr, {x}, settings, true).ok());
}

TEST(ParseRangeObserver, NamesAndErrors) {
  EXPECT_EQ(*parseRangeObserver("entropy"), RangeObserver::Entropy);
  auto bad = parseRangeObserver("kl");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "'kl' is not a range observer; expected "
                                    "minmax, percentile or entropy");
}

TEST(QuantProfile, RoundTripsThroughJson) {
  QuantProfile p;
  p.observer = "entropy";
  p.ranges["x"] = {{32, 784}, -1.25, 0.1};
  p.ranges["h"] = {{}, 0, 3e-8};
  auto back = profileFromJson(profileToJson(p), "p.json");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->observer, "entropy");
  ASSERT_EQ(back->ranges.size(), 2u);
  EXPECT_EQ(back->ranges.at("x").shape, (std::vector<int64_t>{32, 784}));
  EXPECT_EQ(back->ranges.at("x").min, -1.25);
  EXPECT_EQ(back->ranges.at("x").max, 0.1);
  EXPECT_EQ(back->ranges.at("h").max, 3e-8);
}

TEST(QuantProfile, ErrorsNameTheFileAndTheEntry) {
  auto error = [](const char *text) {
    auto p = profileFromJson(nlohmann::json::parse(text), "p.json");
    return p.ok() ? std::string("ok") : std::string(p.status().message());
  };
  EXPECT_EQ(error("[]"), "p.json: error: the top level: expected a "
                         "quantization profile, an object with "
                         "\"nyx_quant_profile\"");
  EXPECT_EQ(error(R"({"nyx_quant_profile": 2, "activations": {}})"),
            "p.json: error: \"nyx_quant_profile\": expected version 1");
  EXPECT_EQ(
      error(R"({"nyx_quant_profile": 1, "activations": {}, "extra": 0})"),
      "p.json: error: key \"extra\": expected nyx_quant_profile, observer or "
      "activations");
  EXPECT_EQ(error(R"({"nyx_quant_profile": 1})"),
            "p.json: error: \"activations\": expected an object of value "
            "names");
  EXPECT_EQ(error(R"({"nyx_quant_profile": 1, "activations":
                  {"x": {"shape": [2], "min": 1}}})"),
            "p.json: error: activation \"x\": expected an object with shape, "
            "min and max");
  EXPECT_EQ(error(R"({"nyx_quant_profile": 1, "activations":
                  {"x": {"shape": [-2], "min": 0, "max": 1}}})"),
            "p.json: error: activation \"x\" shape: expected sizes >= 0");
  EXPECT_EQ(error(R"({"nyx_quant_profile": 1, "activations":
                  {"x": {"shape": [2], "min": "a", "max": 1}}})"),
            "p.json: error: activation \"x\" min: expected a finite number");
  EXPECT_EQ(error(R"({"nyx_quant_profile": 1, "activations":
                  {"x": {"shape": [2], "min": 2, "max": 1}}})"),
            "p.json: error: activation \"x\": expected min <= max; it has "
            "min 2 and max 1");
  EXPECT_EQ(error(R"({"nyx_quant_profile": 1, "activations": {}})"), "ok");
}

} // namespace
} // namespace nyx::passes
