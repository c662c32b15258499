/* Learning-rate schedules for training loops that call a compiled
 * <name>_train_step: the learning rate of any step, in closed form, so a loop
 * can ask for steps in any order and resume anywhere.
 *
 *   nyx_lr_schedule s = nyx_lr_cosine(1e-3, 1e-5, 100, 5000);
 *   if (nyx_lr_check(&s) != NYX_OK) ... nyx_last_error() says why ...
 *   for (int64_t step = 0; step < 5000; ++step) {
 *     lr = nyx_lr_at(&s, step);
 *     ...
 *   }
 *
 * Steps count from 0. Each schedule gives the learning rate PyTorch's
 * torch.optim.lr_scheduler gives after `step` calls of scheduler.step(), as
 * named below, up to rounding to float.
 *
 * Warm-up (constant, step decay and cosine): for step < warmup_steps the rate
 * rises linearly, base_lr * (step + 1) / (warmup_steps + 1), so step 0 already
 * trains and step warmup_steps is the first at base_lr; the main schedule
 * then runs with its step count starting from 0 there. In PyTorch terms:
 * SequentialLR([LinearLR(start_factor = 1 / (warmup_steps + 1),
 * total_iters = warmup_steps), main], milestones = [warmup_steps]). */
#ifndef NYX_LR_SCHEDULE_H
#define NYX_LR_SCHEDULE_H

#include "nyx/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nyx_lr_kind {
  NYX_LR_CONSTANT = 0,
  NYX_LR_STEP,
  NYX_LR_COSINE,
  NYX_LR_ONE_CYCLE
} nyx_lr_kind;

/* A schedule. The constructors below fill every field; a caller may change
 * fields afterwards (say one-cycle's pct_start) and should then call
 * nyx_lr_check. Fields a kind does not use are ignored. */
typedef struct nyx_lr_schedule {
  nyx_lr_kind kind;
  /* The rate after warm-up (constant, step, cosine); the peak max_lr
   * (one-cycle). */
  double base_lr;
  /* cosine: the rate at step total_steps and after (CosineAnnealingLR's
   * eta_min). */
  double min_lr;
  /* constant, step, cosine: steps of linear warm-up before the main
   * schedule; 0 for none. */
  int64_t warmup_steps;
  /* cosine: the step at which the rate reaches min_lr, warm-up included
   * (CosineAnnealingLR's T_max is total_steps - warmup_steps).
   * one-cycle: OneCycleLR's total_steps. */
  int64_t total_steps;
  /* step: the rate is multiplied by gamma every step_size steps (StepLR). */
  int64_t step_size;
  double gamma;
  /* one-cycle (OneCycleLR with anneal_strategy 'cos', three_phase False):
   * the rate rises from base_lr / div_factor to base_lr over the first
   * pct_start of the steps, then falls to base_lr / (div_factor *
   * final_div_factor) at step total_steps - 1, both halves of a cosine.
   * OneCycleLR also cycles the optimizer's momentum; a compiled training
   * step has its momentum fixed, so only the rate is scheduled here. */
  double pct_start;
  double div_factor;
  double final_div_factor;
} nyx_lr_schedule;

/* lr throughout, after `warmup_steps` of warm-up (LinearLR alone). */
nyx_lr_schedule nyx_lr_constant(double lr, int64_t warmup_steps);

/* lr * gamma^floor(s / step_size), s counting from the end of warm-up
 * (StepLR). */
nyx_lr_schedule nyx_lr_step(double lr, int64_t step_size, double gamma,
                            int64_t warmup_steps);

/* Warm-up, then min_lr + (base_lr - min_lr) * (1 + cos(pi * s / T)) / 2 with
 * s = step - warmup_steps and T = total_steps - warmup_steps
 * (CosineAnnealingLR). Steps at and after total_steps give min_lr, where
 * CosineAnnealingLR would start to rise again. */
nyx_lr_schedule nyx_lr_cosine(double base_lr, double min_lr,
                              int64_t warmup_steps, int64_t total_steps);

/* OneCycleLR's defaults: pct_start 0.3, div_factor 25, final_div_factor 1e4.
 * Steps after total_steps - 1 give the rate of step total_steps - 1 (where
 * OneCycleLR raises an error). */
nyx_lr_schedule nyx_lr_one_cycle(double max_lr, int64_t total_steps);

/* NYX_OK, or NYX_ERR_INVALID_ARGUMENT with a message for nyx_last_error
 * naming the field that is out of range: s is NULL; an unknown kind; a rate
 * that is negative or not finite; warmup_steps < 0; step: step_size < 1 or
 * gamma negative or not finite; cosine: total_steps <= warmup_steps;
 * one-cycle: total_steps < 1, pct_start outside [0, 1], div_factor or
 * final_div_factor not positive and finite. */
int nyx_lr_check(const nyx_lr_schedule *s);

/* The learning rate for `step` (a negative step counts as 0), rounded once
 * to float. NaN when nyx_lr_check rejects the schedule. */
float nyx_lr_at(const nyx_lr_schedule *s, int64_t step);

/* "constant", "step", "cosine", "one-cycle"; "unknown" for other values. */
const char *nyx_lr_kind_name(nyx_lr_kind kind);

#ifdef __cplusplus
}
#endif

#endif /* NYX_LR_SCHEDULE_H */
