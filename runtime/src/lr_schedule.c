/* Learning-rate schedules in closed form (see nyx/lr_schedule.h). Everything
 * is computed in double and rounded to float once, at the end. */
#include "nyx/lr_schedule.h"

#include "internal.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>

static const double kPi = 3.14159265358979323846;

nyx_lr_schedule nyx_lr_constant(double lr, int64_t warmup_steps) {
  nyx_lr_schedule s = {0};
  s.kind = NYX_LR_CONSTANT;
  s.base_lr = lr;
  s.warmup_steps = warmup_steps;
  return s;
}

nyx_lr_schedule nyx_lr_step(double lr, int64_t step_size, double gamma,
                            int64_t warmup_steps) {
  nyx_lr_schedule s = nyx_lr_constant(lr, warmup_steps);
  s.kind = NYX_LR_STEP;
  s.step_size = step_size;
  s.gamma = gamma;
  return s;
}

nyx_lr_schedule nyx_lr_cosine(double base_lr, double min_lr,
                              int64_t warmup_steps, int64_t total_steps) {
  nyx_lr_schedule s = nyx_lr_constant(base_lr, warmup_steps);
  s.kind = NYX_LR_COSINE;
  s.min_lr = min_lr;
  s.total_steps = total_steps;
  return s;
}

nyx_lr_schedule nyx_lr_one_cycle(double max_lr, int64_t total_steps) {
  nyx_lr_schedule s = {0};
  s.kind = NYX_LR_ONE_CYCLE;
  s.base_lr = max_lr;
  s.total_steps = total_steps;
  s.pct_start = 0.3;
  s.div_factor = 25.0;
  s.final_div_factor = 1e4;
  return s;
}

const char *nyx_lr_kind_name(nyx_lr_kind kind) {
  switch (kind) {
  case NYX_LR_CONSTANT:
    return "constant";
  case NYX_LR_STEP:
    return "step";
  case NYX_LR_COSINE:
    return "cosine";
  case NYX_LR_ONE_CYCLE:
    return "one-cycle";
  }
  return "unknown";
}

static bool isRate(double v) { return isfinite(v) && v >= 0; }
static bool isPositive(double v) { return isfinite(v) && v > 0; }

/* Writes what is wrong with `s` into buf and returns false, or returns true.
 * Kept apart from nyx_lr_check so nyx_lr_at can validate without touching
 * nyx_last_error. */
static bool validate(const nyx_lr_schedule *s, char *buf, size_t size) {
  if (!s) {
    snprintf(buf, size, "the schedule is NULL");
    return false;
  }
  const char *kind = nyx_lr_kind_name(s->kind);
  if (s->kind != NYX_LR_CONSTANT && s->kind != NYX_LR_STEP &&
      s->kind != NYX_LR_COSINE && s->kind != NYX_LR_ONE_CYCLE) {
    snprintf(buf, size,
             "schedule kind is %d; expected NYX_LR_CONSTANT, NYX_LR_STEP, "
             "NYX_LR_COSINE or NYX_LR_ONE_CYCLE",
             (int)s->kind);
    return false;
  }
  if (!isRate(s->base_lr)) {
    snprintf(buf, size,
             "%s schedule: base_lr is %g; expected a finite rate >= 0", kind,
             s->base_lr);
    return false;
  }
  if (s->kind == NYX_LR_ONE_CYCLE) {
    if (s->total_steps < 1) {
      snprintf(buf, size,
               "one-cycle schedule: total_steps is %lld; expected "
               "at least 1",
               (long long)s->total_steps);
      return false;
    }
    if (!(s->pct_start >= 0 && s->pct_start <= 1)) {
      snprintf(buf, size,
               "one-cycle schedule: pct_start is %g; expected it in [0, 1]",
               s->pct_start);
      return false;
    }
    if (!isPositive(s->div_factor) || !isPositive(s->final_div_factor)) {
      snprintf(buf, size,
               "one-cycle schedule: div_factor is %g and final_div_factor "
               "%g; expected both finite and > 0",
               s->div_factor, s->final_div_factor);
      return false;
    }
    return true;
  }
  if (s->warmup_steps < 0) {
    snprintf(buf, size, "%s schedule: warmup_steps is %lld; expected >= 0",
             kind, (long long)s->warmup_steps);
    return false;
  }
  if (s->kind == NYX_LR_STEP) {
    if (s->step_size < 1) {
      snprintf(buf, size, "step schedule: step_size is %lld; expected >= 1",
               (long long)s->step_size);
      return false;
    }
    if (!isRate(s->gamma)) {
      snprintf(buf, size,
               "step schedule: gamma is %g; expected a finite value >= 0",
               s->gamma);
      return false;
    }
  }
  if (s->kind == NYX_LR_COSINE) {
    if (!isRate(s->min_lr)) {
      snprintf(buf, size,
               "cosine schedule: min_lr is %g; expected a finite rate >= 0",
               s->min_lr);
      return false;
    }
    if (s->total_steps <= s->warmup_steps) {
      snprintf(buf, size,
               "cosine schedule: total_steps is %lld and warmup_steps %lld; "
               "expected total_steps > warmup_steps",
               (long long)s->total_steps, (long long)s->warmup_steps);
      return false;
    }
  }
  return true;
}

int nyx_lr_check(const nyx_lr_schedule *s) {
  char message[256];
  if (!validate(s, message, sizeof message))
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT, "%s", message);
  return NYX_OK;
}

/* Half a cosine from `from` (pct 0) to `to` (pct 1), OneCycleLR's
 * _annealing_cos. */
static double cosineBetween(double from, double to, double pct) {
  return to + (from - to) / 2.0 * (cos(kPi * pct) + 1.0);
}

/* OneCycleLR.get_lr for two phases. The phase boundary
 * pct_start * total_steps - 1 is fractional in general, exactly as there. */
static double oneCycleAt(const nyx_lr_schedule *s, int64_t step) {
  double initial = s->base_lr / s->div_factor;
  double final = initial / s->final_div_factor;
  int64_t last = s->total_steps - 1;
  double t = (double)(step < last ? step : last);
  double peak = s->pct_start * (double)s->total_steps - 1.0;
  /* A phase of no length has ended by the time it is reached (OneCycleLR
   * divides by zero there). */
  if (t <= peak)
    return peak > 0 ? cosineBetween(initial, s->base_lr, t / peak) : s->base_lr;
  double length = (double)last - peak;
  return length > 0 ? cosineBetween(s->base_lr, final, (t - peak) / length)
                    : final;
}

float nyx_lr_at(const nyx_lr_schedule *s, int64_t step) {
  char unused[256];
  if (!validate(s, unused, sizeof unused))
    return NAN;
  if (step < 0)
    step = 0;
  if (s->kind == NYX_LR_ONE_CYCLE)
    return (float)oneCycleAt(s, step);
  if (step < s->warmup_steps)
    return (float)(s->base_lr * (double)(step + 1) /
                   (double)(s->warmup_steps + 1));
  int64_t since = step - s->warmup_steps;
  switch (s->kind) {
  case NYX_LR_STEP:
    return (float)(s->base_lr * pow(s->gamma, (double)(since / s->step_size)));
  case NYX_LR_COSINE: {
    int64_t length = s->total_steps - s->warmup_steps;
    if (since >= length)
      return (float)s->min_lr;
    double decay = (1.0 + cos(kPi * (double)since / (double)length)) / 2.0;
    return (float)(s->min_lr + (s->base_lr - s->min_lr) * decay);
  }
  default:
    return (float)s->base_lr;
  }
}
