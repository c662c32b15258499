// Learning-rate schedules of the C runtime against the rates PyTorch's
// torch.optim.lr_scheduler gives (lr_schedule_expected.h, written by
// lr_schedule_expected.py), and their argument checks.
#include "nyx/lr_schedule.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>

#include "lr_schedule_expected.h"

namespace {

nyx_lr_schedule scheduleFor(const TorchLrCase &c) {
  switch (c.kind) {
  case NYX_LR_CONSTANT:
    return nyx_lr_constant(c.baseLr, c.warmupSteps);
  case NYX_LR_STEP:
    return nyx_lr_step(c.baseLr, c.stepSize, c.gamma, c.warmupSteps);
  case NYX_LR_COSINE:
    return nyx_lr_cosine(c.baseLr, c.minLr, c.warmupSteps, c.totalSteps);
  case NYX_LR_ONE_CYCLE: {
    nyx_lr_schedule s = nyx_lr_one_cycle(c.baseLr, c.totalSteps);
    s.pct_start = c.pctStart;
    s.div_factor = c.divFactor;
    s.final_div_factor = c.finalDivFactor;
    return s;
  }
  }
  ADD_FAILURE() << "unknown kind in " << c.name;
  return nyx_lr_constant(0, 0);
}

// The rates are computed in double and rounded once to float, so they may
// differ from PyTorch's double by the rounding and a few double ulps.
void expectRate(float got, double want, const std::string &where) {
  EXPECT_NEAR(got, want, 2e-7 * std::fabs(want) + 1e-30) << where;
}

TEST(LrSchedule, MatchesTorchSchedulers) {
  for (const TorchLrCase &c : kTorchLrCases) {
    nyx_lr_schedule s = scheduleFor(c);
    ASSERT_EQ(nyx_lr_check(&s), NYX_OK) << c.name << ": " << nyx_last_error();
    for (size_t step = 0; step < c.lrs.size(); ++step)
      expectRate(nyx_lr_at(&s, static_cast<int64_t>(step)), c.lrs[step],
                 std::string(c.name) + ", step " + std::to_string(step));
  }
}

TEST(LrSchedule, OneCycleDefaultsAreTorchs) {
  nyx_lr_schedule s = nyx_lr_one_cycle(0.1, 100);
  EXPECT_EQ(s.kind, NYX_LR_ONE_CYCLE);
  EXPECT_EQ(s.base_lr, 0.1);
  EXPECT_EQ(s.total_steps, 100);
  EXPECT_EQ(s.pct_start, 0.3);
  EXPECT_EQ(s.div_factor, 25.0);
  EXPECT_EQ(s.final_div_factor, 1e4);
  // Starts at max_lr / div_factor, peaks at step pct_start * total - 1 and
  // ends at that over final_div_factor.
  EXPECT_FLOAT_EQ(nyx_lr_at(&s, 0), 0.1f / 25);
  EXPECT_FLOAT_EQ(nyx_lr_at(&s, 29), 0.1f);
  EXPECT_FLOAT_EQ(nyx_lr_at(&s, 99), 0.1f / 25 / 1e4f);
}

TEST(LrSchedule, NegativeStepsCountAsStepZero) {
  const nyx_lr_schedule schedules[] = {
      nyx_lr_constant(0.1, 3), nyx_lr_step(0.1, 2, 0.5, 0),
      nyx_lr_cosine(0.1, 0.001, 4, 20), nyx_lr_one_cycle(0.1, 10)};
  for (const nyx_lr_schedule &s : schedules) {
    EXPECT_EQ(nyx_lr_at(&s, -1), nyx_lr_at(&s, 0)) << nyx_lr_kind_name(s.kind);
    EXPECT_EQ(nyx_lr_at(&s, INT64_MIN), nyx_lr_at(&s, 0))
        << nyx_lr_kind_name(s.kind);
  }
}

TEST(LrSchedule, CosineStaysAtMinLrAfterTotalSteps) {
  nyx_lr_schedule s = nyx_lr_cosine(0.1, 0.002, 5, 30);
  for (int64_t step : {30, 31, 45, 1000000})
    EXPECT_EQ(nyx_lr_at(&s, step), 0.002f) << step;
  EXPECT_GT(nyx_lr_at(&s, 29), 0.002f);
}

TEST(LrSchedule, OneCycleKeepsItsLastRateAfterTotalSteps) {
  nyx_lr_schedule s = nyx_lr_one_cycle(0.1, 50);
  float last = nyx_lr_at(&s, 49);
  for (int64_t step : {50, 51, 1000000})
    EXPECT_EQ(nyx_lr_at(&s, step), last) << step;
}

TEST(LrSchedule, OneCycleWithAPhaseOfNoLengthTakesThePhaseEnd) {
  // pct_start * total_steps - 1 == 0: the rise ends at step 0 (OneCycleLR
  // divides by zero there).
  nyx_lr_schedule s = nyx_lr_one_cycle(0.4, 10);
  s.pct_start = 0.1;
  ASSERT_EQ(nyx_lr_check(&s), NYX_OK);
  EXPECT_FLOAT_EQ(nyx_lr_at(&s, 0), 0.4f);
  EXPECT_FLOAT_EQ(nyx_lr_at(&s, 9), 0.4f / 25 / 1e4f);
  // A single step: it is both the peak and the end.
  s = nyx_lr_one_cycle(0.4, 1);
  s.pct_start = 1.0;
  EXPECT_FLOAT_EQ(nyx_lr_at(&s, 0), 0.4f);
}

TEST(LrSchedule, StepDecayToZeroGammaStopsAfterTheFirstPeriod) {
  nyx_lr_schedule s = nyx_lr_step(0.1, 3, 0.0, 2);
  ASSERT_EQ(nyx_lr_check(&s), NYX_OK);
  EXPECT_FLOAT_EQ(nyx_lr_at(&s, 4), 0.1f);
  EXPECT_EQ(nyx_lr_at(&s, 5), 0.0f);
}

struct InvalidCase {
  const char *what;
  std::function<void(nyx_lr_schedule &)> change;
  nyx_lr_schedule start;
  const char *message;
};

TEST(LrSchedule, CheckRejectsOutOfRangeFieldsAndAtGivesNaN) {
  const nyx_lr_schedule cosine = nyx_lr_cosine(0.1, 0.001, 5, 50);
  const nyx_lr_schedule step = nyx_lr_step(0.1, 10, 0.5, 0);
  const nyx_lr_schedule cycle = nyx_lr_one_cycle(0.1, 50);
  const InvalidCase cases[] = {
      {"unknown kind",
       [](nyx_lr_schedule &s) { s.kind = static_cast<nyx_lr_kind>(9); }, cosine,
       "schedule kind is 9; expected NYX_LR_CONSTANT"},
      {"negative rate", [](nyx_lr_schedule &s) { s.base_lr = -0.1; }, cosine,
       "cosine schedule: base_lr is -0.1; expected a finite rate >= 0"},
      {"NaN rate", [](nyx_lr_schedule &s) { s.base_lr = NAN; }, step,
       "step schedule: base_lr is nan"},
      {"infinite rate", [](nyx_lr_schedule &s) { s.base_lr = INFINITY; }, cycle,
       "one-cycle schedule: base_lr is inf"},
      {"negative min_lr", [](nyx_lr_schedule &s) { s.min_lr = -1; }, cosine,
       "cosine schedule: min_lr is -1; expected a finite rate >= 0"},
      {"negative warm-up", [](nyx_lr_schedule &s) { s.warmup_steps = -2; },
       step, "step schedule: warmup_steps is -2; expected >= 0"},
      {"warm-up as long as the schedule",
       [](nyx_lr_schedule &s) { s.warmup_steps = 50; }, cosine,
       "cosine schedule: total_steps is 50 and warmup_steps 50; expected "
       "total_steps > warmup_steps"},
      {"step size 0", [](nyx_lr_schedule &s) { s.step_size = 0; }, step,
       "step schedule: step_size is 0; expected >= 1"},
      {"negative gamma", [](nyx_lr_schedule &s) { s.gamma = -0.5; }, step,
       "step schedule: gamma is -0.5; expected a finite value >= 0"},
      {"no one-cycle steps", [](nyx_lr_schedule &s) { s.total_steps = 0; },
       cycle, "one-cycle schedule: total_steps is 0; expected at least 1"},
      {"pct_start above 1", [](nyx_lr_schedule &s) { s.pct_start = 1.5; },
       cycle, "one-cycle schedule: pct_start is 1.5; expected it in [0, 1]"},
      {"pct_start NaN", [](nyx_lr_schedule &s) { s.pct_start = NAN; }, cycle,
       "one-cycle schedule: pct_start is nan"},
      {"zero div_factor", [](nyx_lr_schedule &s) { s.div_factor = 0; }, cycle,
       "one-cycle schedule: div_factor is 0 and final_div_factor 10000; "
       "expected both finite and > 0"},
      {"negative final_div_factor",
       [](nyx_lr_schedule &s) { s.final_div_factor = -1; }, cycle,
       "final_div_factor -1"},
  };
  for (const InvalidCase &c : cases) {
    nyx_lr_schedule s = c.start;
    c.change(s);
    EXPECT_EQ(nyx_lr_check(&s), NYX_ERR_INVALID_ARGUMENT) << c.what;
    EXPECT_NE(std::string(nyx_last_error()).find(c.message), std::string::npos)
        << c.what << ": " << nyx_last_error();
    EXPECT_TRUE(std::isnan(nyx_lr_at(&s, 3))) << c.what;
  }
  EXPECT_EQ(nyx_lr_check(nullptr), NYX_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(nyx_last_error(), "the schedule is NULL");
  EXPECT_TRUE(std::isnan(nyx_lr_at(nullptr, 0)));
}

TEST(LrSchedule, AtLeavesTheLastErrorAlone) {
  nyx_lr_schedule bad = nyx_lr_step(0.1, 0, 0.5, 0);
  ASSERT_EQ(nyx_lr_check(&bad), NYX_ERR_INVALID_ARGUMENT);
  std::string before = nyx_last_error();
  nyx_lr_schedule worse = nyx_lr_cosine(0.1, 0, 9, 3);
  EXPECT_TRUE(std::isnan(nyx_lr_at(&worse, 0)));
  EXPECT_EQ(nyx_last_error(), before);
}

TEST(LrSchedule, KindNames) {
  EXPECT_STREQ(nyx_lr_kind_name(NYX_LR_CONSTANT), "constant");
  EXPECT_STREQ(nyx_lr_kind_name(NYX_LR_STEP), "step");
  EXPECT_STREQ(nyx_lr_kind_name(NYX_LR_COSINE), "cosine");
  EXPECT_STREQ(nyx_lr_kind_name(NYX_LR_ONE_CYCLE), "one-cycle");
  EXPECT_STREQ(nyx_lr_kind_name(static_cast<nyx_lr_kind>(-1)), "unknown");
}

} // namespace
