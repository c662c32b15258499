/* Trains a model compiled with `nyxc --train` on the scikit-learn digits and
 * reports the mean loss of every epoch and the final test accuracy. The
 * model comes in through digits_compiled_model (model.c), so this file is
 * built unchanged for every model; see README.md.
 *
 * Exit status: 0 on success; 1 for a bad option, an unreadable data file or
 * a failing model call; 2 when the loss becomes NaN or infinite; 3 when the
 * test accuracy is below --min-accuracy. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nyx/lr_schedule.h>
#include <nyx/runtime.h>
#include <nyx/safetensors.h>

#include "digits_data.h"
#include "digits_model.h"

typedef struct options {
  const char *data;
  int64_t epochs;
  double lr, min_lr, gamma;
  int64_t warmup_epochs, step_epochs;
  const char *schedule;
  uint64_t seed, split_seed;
  double min_accuracy;
  const char *save_weights, *save_calibration;
} options;

static void usage(FILE *to, const char *argv0) {
  fprintf(
      to,
      "usage: %s [options]\n"
      "  --data PATH          digits CSV, gzip'ed or not (default %s)\n"
      "  --epochs N           passes over the training set (default 30)\n"
      "  --lr X               base learning rate; one-cycle's peak (default "
      "2e-2)\n"
      "  --schedule NAME      cosine (default), constant, step or one-cycle\n"
      "  --warmup-epochs N    linear warm-up before cosine, constant and step "
      "(default 1)\n"
      "  --min-lr X           cosine: the rate at the end (default 0)\n"
      "  --step-epochs N      step: epochs between decays (default "
      "epochs / 3)\n"
      "  --gamma X            step: the decay factor (default 0.1)\n"
      "  --seed N             parameter initialization and batch order "
      "(default 1)\n"
      "  --split-seed N       the train/test split (default 0)\n"
      "  --min-accuracy P     exit 3 when the test accuracy is below P, "
      "0..1 (default 0)\n"
      "  --save-weights FILE  write the trained parameters to a safetensors "
      "file\n"
      "                       (for nyxc --weights)\n"
      "  --save-calibration FILE\n"
      "                       write the training rows, a stack of input "
      "batches, to a\n"
      "                       safetensors file (for nyxc --calibrate)\n",
      argv0, DIGITS_DEFAULT_PATH);
}

static int parseNumber(const char *flag, const char *text, double *value) {
  char *end;
  errno = 0;
  *value = strtod(text, &end);
  if (errno || end == text || *end) {
    fprintf(stderr, "error: %s is '%s'; expected a number\n", flag, text);
    return 0;
  }
  return 1;
}

static int parseCount(const char *flag, const char *text, int64_t min,
                      int64_t *value) {
  char *end;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (errno || end == text || *end || v < min) {
    fprintf(stderr, "error: %s is '%s'; expected an integer >= %lld\n", flag,
            text, (long long)min);
    return 0;
  }
  *value = v;
  return 1;
}

/* Returns 1 when the options parsed, 0 on an error, -1 for --help. */
static int parseOptions(int argc, char **argv, options *o) {
  *o = (options){.data = DIGITS_DEFAULT_PATH,
                 .epochs = 30,
                 .lr = 2e-2,
                 .min_lr = 0,
                 .gamma = 0.1,
                 .warmup_epochs = 1,
                 .step_epochs = 0,
                 .schedule = "cosine",
                 .seed = 1,
                 .split_seed = 0,
                 .min_accuracy = 0};
  for (int i = 1; i < argc; ++i) {
    const char *flag = argv[i];
    if (!strcmp(flag, "--help") || !strcmp(flag, "-h")) {
      usage(stdout, argv[0]);
      return -1;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "error: unknown option or missing value: %s\n", flag);
      usage(stderr, argv[0]);
      return 0;
    }
    const char *v = argv[++i];
    int64_t n = 0;
    int ok = 1;
    if (!strcmp(flag, "--data"))
      o->data = v;
    else if (!strcmp(flag, "--schedule"))
      o->schedule = v;
    else if (!strcmp(flag, "--epochs"))
      ok = parseCount(flag, v, 1, &o->epochs);
    else if (!strcmp(flag, "--warmup-epochs"))
      ok = parseCount(flag, v, 0, &o->warmup_epochs);
    else if (!strcmp(flag, "--step-epochs"))
      ok = parseCount(flag, v, 1, &o->step_epochs);
    else if (!strcmp(flag, "--seed")) {
      ok = parseCount(flag, v, 0, &n);
      o->seed = (uint64_t)n;
    } else if (!strcmp(flag, "--split-seed")) {
      ok = parseCount(flag, v, 0, &n);
      o->split_seed = (uint64_t)n;
    } else if (!strcmp(flag, "--lr"))
      ok = parseNumber(flag, v, &o->lr);
    else if (!strcmp(flag, "--min-lr"))
      ok = parseNumber(flag, v, &o->min_lr);
    else if (!strcmp(flag, "--gamma"))
      ok = parseNumber(flag, v, &o->gamma);
    else if (!strcmp(flag, "--min-accuracy"))
      ok = parseNumber(flag, v, &o->min_accuracy);
    else if (!strcmp(flag, "--save-weights"))
      o->save_weights = v;
    else if (!strcmp(flag, "--save-calibration"))
      o->save_calibration = v;
    else {
      fprintf(stderr, "error: unknown option %s\n", flag);
      usage(stderr, argv[0]);
      return 0;
    }
    if (!ok)
      return 0;
  }
  return 1;
}

/* The learning-rate schedule the options name, over `total` steps of
 * `per_epoch` each. */
static int makeSchedule(const options *o, int64_t per_epoch,
                        nyx_lr_schedule *s) {
  int64_t total = o->epochs * per_epoch;
  int64_t warmup = o->warmup_epochs * per_epoch;
  if (!strcmp(o->schedule, "cosine")) {
    *s = nyx_lr_cosine(o->lr, o->min_lr, warmup, total);
  } else if (!strcmp(o->schedule, "constant")) {
    *s = nyx_lr_constant(o->lr, warmup);
  } else if (!strcmp(o->schedule, "step")) {
    int64_t every = o->step_epochs ? o->step_epochs : o->epochs / 3;
    *s = nyx_lr_step(o->lr, (every > 0 ? every : 1) * per_epoch, o->gamma,
                     warmup);
  } else if (!strcmp(o->schedule, "one-cycle")) {
    *s = nyx_lr_one_cycle(o->lr, total);
  } else {
    fprintf(stderr,
            "error: --schedule is '%s'; expected cosine, constant, step or "
            "one-cycle\n",
            o->schedule);
    return 0;
  }
  if (nyx_lr_check(s) != NYX_OK) {
    fprintf(stderr, "error: %s\n", nyx_last_error());
    return 0;
  }
  return 1;
}

/* Zero-filled memory aligned for the model; never NULL for 0 bytes. */
static void *allocateZeroed(size_t bytes, size_t align) {
  size_t rounded = (bytes + align - 1) / align * align;
  void *p = aligned_alloc(align, rounded ? rounded : align);
  if (p)
    memset(p, 0, rounded ? rounded : align);
  return p;
}

/* Where the named arguments of <name>_train_step sit among its buffers:
 * the parameters first, then the optimizer state (with the step counter for
 * the optimizers that keep one), then these four. */
typedef struct layout {
  int x, labels, lr, loss;
  int64_t batch;
} layout;

static int checkLayout(const digits_model *m, layout *l) {
  int k = m->num_params, n = m->train_num_buffers;
  if (n < k + 4) {
    fprintf(stderr,
            "error: %s_train_step takes %d buffers for %d parameters; "
            "expected at least %d (parameters, x, labels, lr, loss)\n",
            m->name, n, k, k + 4);
    return 0;
  }
  for (int i = 0; i < k; ++i)
    if (m->train_buffer_bytes[i] != m->param_bytes[i]) {
      fprintf(stderr,
              "error: %s_train_step's buffer %d has %zu bytes and parameter "
              "%d %zu; expected the parameters first\n",
              m->name, i, m->train_buffer_bytes[i], i, m->param_bytes[i]);
      return 0;
    }
  *l = (layout){n - 4, n - 3, n - 2, n - 1, 0};
  const size_t *bytes = m->train_buffer_bytes;
  l->batch = (int64_t)(bytes[l->labels] / sizeof(int64_t));
  if (bytes[l->lr] != sizeof(float) || bytes[l->loss] != sizeof(float) ||
      l->batch < 1 || bytes[l->labels] % sizeof(int64_t) ||
      bytes[l->x] != (size_t)l->batch * DIGITS_PIXELS * sizeof(float)) {
    fprintf(stderr,
            "error: %s_train_step's x, labels, lr and loss have %zu, %zu, "
            "%zu and %zu bytes; expected a batch of %d floats per row, one "
            "int64 label per row, and one float each\n",
            m->name, bytes[l->x], bytes[l->labels], bytes[l->lr],
            bytes[l->loss], DIGITS_PIXELS);
    return 0;
  }
  const size_t *run = m->run_buffer_bytes;
  size_t logits = (size_t)l->batch * DIGITS_CLASSES * sizeof(float);
  if (m->run_num_buffers != k + 2 || run[k] != bytes[l->x] ||
      run[k + 1] != logits) {
    fprintf(stderr,
            "error: %s_run takes %d buffers, x of %zu bytes and logits of "
            "%zu; expected %d (the parameters, x, logits), x as the training "
            "step's (%zu bytes) and %zu bytes of logits (%d classes)\n",
            m->name, m->run_num_buffers,
            m->run_num_buffers >= 2 ? run[m->run_num_buffers - 2] : 0,
            m->run_num_buffers >= 1 ? run[m->run_num_buffers - 1] : 0, k + 2,
            bytes[l->x], logits, DIGITS_CLASSES);
    return 0;
  }
  return 1;
}

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Everything a run allocates, freed in one place. */
typedef struct state {
  void **buffers;
  void **run_args;
  float *logits;
  void *arena, *train_arena;
  int64_t *order;
  digits_set all, train, test;
} state;

static void freeState(state *s, int buffers) {
  if (s->buffers)
    for (int i = 0; i < buffers; ++i)
      free(s->buffers[i]);
  free(s->buffers);
  free(s->run_args);
  free(s->logits);
  free(s->arena);
  free(s->train_arena);
  free(s->order);
  digits_set_free(&s->all);
  digits_set_free(&s->train);
  digits_set_free(&s->test);
}

/* Writes the parameters as `nyxc --weights` reads them. */
static int saveWeights(const digits_model *m, void **params, const char *path) {
  nyx_tensor_view *views = calloc((size_t)m->num_params, sizeof *views);
  if (!views) {
    fprintf(stderr, "error: out of memory\n");
    return 0;
  }
  for (int i = 0; i < m->num_params; ++i)
    views[i] = (nyx_tensor_view){.name = m->param_names[i],
                                 .dtype = NYX_F32,
                                 .rank = m->param_ranks[i],
                                 .shape = m->param_shapes[i],
                                 .data = params[i],
                                 .nbytes = m->param_bytes[i]};
  int ok = nyx_safetensors_write(path, views, (size_t)m->num_params) == NYX_OK;
  if (!ok)
    fprintf(stderr, "error: %s\n", nyx_last_error());
  free(views);
  return ok;
}

/* Writes the training rows, in their own order, as `x`: a stack of the
 * full batches [n, <x's shape>] that `nyxc --calibrate` reads. */
static int saveCalibration(const digits_model *m, const layout *l,
                           const digits_set *train, const char *path) {
  int64_t batches = digits_train_batches(train->count, l->batch);
  int64_t shape[DIGITS_MAX_RANK + 1] = {batches};
  for (int d = 0; d < m->x_rank; ++d)
    shape[d + 1] = m->x_shape[d];
  size_t batchFloats = (size_t)l->batch * DIGITS_PIXELS;
  float *x = malloc((size_t)batches * batchFloats * sizeof(float));
  int64_t *labels = malloc((size_t)l->batch * sizeof(int64_t));
  int ok = x && labels;
  for (int64_t b = 0; ok && b < batches; ++b)
    digits_gather_batch(train, NULL, b * l->batch, l->batch,
                        x + (size_t)b * batchFloats, labels);
  nyx_tensor_view view = {.name = "x",
                          .dtype = NYX_F32,
                          .rank = m->x_rank + 1,
                          .shape = shape,
                          .data = x,
                          .nbytes =
                              (size_t)batches * batchFloats * sizeof(float)};
  if (!ok)
    fprintf(stderr, "error: out of memory\n");
  else if (nyx_safetensors_write(path, &view, 1) != NYX_OK) {
    fprintf(stderr, "error: %s\n", nyx_last_error());
    ok = 0;
  }
  free(x);
  free(labels);
  return ok;
}

/* Correct predictions of the model with the current parameters on `set`,
 * or -1 when the model fails. Padding rows of the last batch are not
 * counted. */
static int64_t countCorrect(const digits_model *m, state *s, const layout *l,
                            const digits_set *set) {
  float *x = s->buffers[l->x];
  int64_t *labels = s->buffers[l->labels];
  int64_t correct = 0;
  for (int64_t b = 0; b < digits_eval_batches(set->count, l->batch); ++b) {
    int64_t real =
        digits_gather_batch(set, NULL, b * l->batch, l->batch, x, labels);
    int status = m->run_packed(s->run_args, s->arena);
    if (status != NYX_OK) {
      fprintf(stderr, "error: %s_run: %s\n", m->name,
              nyx_status_string(status));
      return -1;
    }
    correct += digits_count_correct(s->logits, labels, real, DIGITS_CLASSES);
  }
  return correct;
}

static int run(const options *o, state *s) {
  const digits_model *m = &digits_compiled_model;
  layout l;
  if (!checkLayout(m, &l))
    return 1;

  char error[512];
  if (!digits_load(o->data, &s->all, error, sizeof error)) {
    fprintf(stderr, "error: %s\n", error);
    return 1;
  }
  if (!digits_split(&s->all, 0.2, o->split_seed, &s->train, &s->test)) {
    fprintf(stderr, "error: cannot split %lld rows 80/20\n",
            (long long)s->all.count);
    return 1;
  }
  int64_t per_epoch = digits_train_batches(s->train.count, l.batch);
  if (per_epoch < 1) {
    fprintf(stderr, "error: %lld training rows make no batch of %lld\n",
            (long long)s->train.count, (long long)l.batch);
    return 1;
  }
  nyx_lr_schedule schedule;
  if (!makeSchedule(o, per_epoch, &schedule))
    return 1;

  int n = m->train_num_buffers, k = m->num_params;
  s->buffers = calloc((size_t)n, sizeof(void *));
  s->run_args = calloc((size_t)k + 2, sizeof(void *));
  s->logits = allocateZeroed((size_t)l.batch * DIGITS_CLASSES * sizeof(float),
                             m->align);
  s->arena = allocateZeroed(m->arena_bytes, m->align);
  s->train_arena = allocateZeroed(m->train_arena_bytes, m->align);
  s->order = malloc((size_t)s->train.count * sizeof(int64_t));
  int allocated = s->buffers && s->run_args && s->logits && s->arena &&
                  s->train_arena && s->order;
  for (int i = 0; allocated && i < n; ++i)
    allocated = (s->buffers[i] = allocateZeroed(m->train_buffer_bytes[i],
                                                m->align)) != NULL;
  if (!allocated) {
    fprintf(stderr, "error: out of memory\n");
    return 1;
  }
  /* The optimizer state (and step counter) stays zero-filled as the
   * training step expects; the parameters are shared by the training step
   * and the forward pass. */
  int status = m->init_params_packed(o->seed, s->buffers);
  if (status != NYX_OK) {
    fprintf(stderr, "error: %s_init_params: %s\n", m->name,
            nyx_status_string(status));
    return 1;
  }
  for (int i = 0; i < k; ++i)
    s->run_args[i] = s->buffers[i];
  s->run_args[k] = s->buffers[l.x];
  s->run_args[k + 1] = s->logits;

  printf("%s: %lld training rows, %lld test rows, batch %lld, %lld "
         "batches per epoch; %s schedule, lr %g\n",
         m->name, (long long)s->train.count, (long long)s->test.count,
         (long long)l.batch, (long long)per_epoch,
         nyx_lr_kind_name(schedule.kind), o->lr);

  for (int64_t i = 0; i < s->train.count; ++i)
    s->order[i] = i;
  digits_rng rng = digits_rng_seeded(o->seed);
  float *lr = s->buffers[l.lr], *loss = s->buffers[l.loss];
  int64_t step = 0;
  for (int64_t epoch = 1; epoch <= o->epochs; ++epoch) {
    double start = seconds(), sum = 0;
    digits_shuffle(s->order, s->train.count, &rng);
    for (int64_t b = 0; b < per_epoch; ++b, ++step) {
      digits_gather_batch(&s->train, s->order, b * l.batch, l.batch,
                          s->buffers[l.x], s->buffers[l.labels]);
      *lr = nyx_lr_at(&schedule, step);
      status = m->train_step_packed(s->buffers, s->train_arena);
      if (status != NYX_OK) {
        fprintf(stderr, "error: %s_train_step at epoch %lld, batch %lld: %s\n",
                m->name, (long long)epoch, (long long)b + 1,
                nyx_status_string(status));
        return 1;
      }
      if (!isfinite(*loss)) {
        fprintf(stderr,
                "error: the loss is %s at epoch %lld, batch %lld of %lld "
                "(step %lld, lr %g); training diverged\n",
                isnan(*loss) ? "NaN" : "infinite", (long long)epoch,
                (long long)b + 1, (long long)per_epoch, (long long)step,
                (double)*lr);
        return 2;
      }
      sum += *loss;
    }
    printf("epoch %3lld  loss %.4f  lr %.2e  %.2f s\n", (long long)epoch,
           sum / (double)per_epoch, (double)*lr, seconds() - start);
    fflush(stdout);
  }

  int64_t train_correct = countCorrect(m, s, &l, &s->train);
  int64_t test_correct = countCorrect(m, s, &l, &s->test);
  if (train_correct < 0 || test_correct < 0)
    return 1;
  double accuracy = (double)test_correct / (double)s->test.count;
  printf("train accuracy %lld/%lld = %.2f%%\n", (long long)train_correct,
         (long long)s->train.count,
         100.0 * (double)train_correct / (double)s->train.count);
  printf("test accuracy %lld/%lld = %.2f%%\n", (long long)test_correct,
         (long long)s->test.count, 100.0 * accuracy);
  if (o->save_weights && !saveWeights(m, s->buffers, o->save_weights))
    return 1;
  if (o->save_calibration &&
      !saveCalibration(m, &l, &s->train, o->save_calibration))
    return 1;
  if (accuracy < o->min_accuracy) {
    fprintf(stderr, "error: test accuracy %.2f%% is below %.2f%%\n",
            100.0 * accuracy, 100.0 * o->min_accuracy);
    return 3;
  }
  return 0;
}

int main(int argc, char **argv) {
  options o;
  int parsed = parseOptions(argc, argv, &o);
  if (parsed <= 0)
    return parsed < 0 ? 0 : 1;
  state s = {0};
  int code = run(&o, &s);
  freeState(&s, digits_compiled_model.train_num_buffers);
  return code;
}
