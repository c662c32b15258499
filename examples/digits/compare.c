/* Compares two inference objects of one model on the digits test split,
 * a reference (f32) and a quantized build: each one's top-1 accuracy, how
 * often their top-1 classes agree, and the largest difference of their
 * logits. See README.md, "Quantized".
 *
 *   cc compare.c digits_data.c ref.o quant.o -lnyxrt \
 *     -DREF=mlp_f32 -DREF_UPPER=MLP_F32 -DREF_HEADER='"mlp_f32.h"' \
 *     -DQUANT=mlp_int8 -DQUANT_UPPER=MLP_INT8 -DQUANT_HEADER='"mlp_int8.h"'
 *
 * Exit status: 0 on success; 1 for a bad option, unreadable data or a
 * failing model call; 3 when the agreement is below --min-agreement. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nyx/runtime.h>

#include "digits_data.h"

#include REF_HEADER
#include QUANT_HEADER

#define PASTE_(a, b) a##b
#define PASTE(a, b) PASTE_(a, b)
#define STRING_(a) #a
#define STRING(a) STRING_(a)

/* Both take x and write the logits, batches of the same size. */
#define BATCH ((int64_t[])PASTE(REF_UPPER, _INPUT_X_SHAPE)[0])
_Static_assert(PASTE(REF_UPPER, _INPUT_X_BYTES) ==
                   PASTE(QUANT_UPPER, _INPUT_X_BYTES),
               "both models take the same input");
_Static_assert(PASTE(REF_UPPER, _NUM_BUFFERS) == 2 &&
                   PASTE(QUANT_UPPER, _NUM_BUFFERS) == 2,
               "both models embed their weights: x and the logits");

typedef struct model {
  const char *name;
  int (*run_packed)(void **buffers, void *arena);
  size_t arena_bytes;
  void *arena;
  float *logits;
} model;

static void *allocate(size_t bytes) {
  size_t rounded = (bytes + 63) / 64 * 64;
  return aligned_alloc(64, rounded ? rounded : 64);
}

static int run(model *m, float *x) {
  void *buffers[] = {x, m->logits};
  int status = m->run_packed(buffers, m->arena);
  if (status != NYX_OK)
    fprintf(stderr, "error: %s_run: %s\n", m->name, nyx_status_string(status));
  return status == NYX_OK;
}

int main(int argc, char **argv) {
  const char *data = DIGITS_DEFAULT_PATH;
  uint64_t split_seed = 0;
  double min_agreement = 0;
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 >= argc) {
      fprintf(stderr, "error: %s needs a value\n", argv[i]);
      return 1;
    }
    char *end = NULL;
    if (!strcmp(argv[i], "--data"))
      data = argv[i + 1];
    else if (!strcmp(argv[i], "--split-seed"))
      split_seed = strtoull(argv[i + 1], &end, 10);
    else if (!strcmp(argv[i], "--min-agreement"))
      min_agreement = strtod(argv[i + 1], &end);
    else {
      fprintf(stderr,
              "usage: %s [--data PATH] [--split-seed N] [--min-agreement P]\n",
              argv[0]);
      return 1;
    }
    if (end && *end) {
      fprintf(stderr, "error: %s is '%s'; expected a number\n", argv[i],
              argv[i + 1]);
      return 1;
    }
  }

  char error[512];
  digits_set all, train, test;
  if (!digits_load(data, &all, error, sizeof error)) {
    fprintf(stderr, "error: %s\n", error);
    return 1;
  }
  if (!digits_split(&all, 0.2, split_seed, &train, &test)) {
    fprintf(stderr, "error: cannot split the rows 80/20\n");
    return 1;
  }
  const int64_t batch = BATCH;
  const size_t logitBytes = (size_t)batch * DIGITS_CLASSES * sizeof(float);
  model ref = {STRING(REF), PASTE(REF, _run_packed),
               PASTE(REF_UPPER, _ARENA_BYTES), NULL, NULL};
  model quant = {STRING(QUANT), PASTE(QUANT, _run_packed),
                 PASTE(QUANT_UPPER, _ARENA_BYTES), NULL, NULL};
  float *x = allocate((size_t)batch * DIGITS_PIXELS * sizeof(float));
  int64_t *labels = malloc((size_t)batch * sizeof(int64_t));
  ref.arena = allocate(ref.arena_bytes);
  quant.arena = allocate(quant.arena_bytes);
  ref.logits = allocate(logitBytes);
  quant.logits = allocate(logitBytes);
  if (!x || !labels || !ref.arena || !quant.arena || !ref.logits ||
      !quant.logits) {
    fprintf(stderr, "error: out of memory\n");
    return 1;
  }

  int64_t refCorrect = 0, quantCorrect = 0, agree = 0;
  double maxDiff = 0, maxLogit = 0;
  for (int64_t b = 0; b < digits_eval_batches(test.count, batch); ++b) {
    int64_t rows =
        digits_gather_batch(&test, NULL, b * batch, batch, x, labels);
    if (!run(&ref, x) || !run(&quant, x))
      return 1;
    refCorrect +=
        digits_count_correct(ref.logits, labels, rows, DIGITS_CLASSES);
    quantCorrect +=
        digits_count_correct(quant.logits, labels, rows, DIGITS_CLASSES);
    for (int64_t r = 0; r < rows; ++r) {
      const float *a = ref.logits + r * DIGITS_CLASSES;
      const float *q = quant.logits + r * DIGITS_CLASSES;
      agree +=
          digits_argmax(a, DIGITS_CLASSES) == digits_argmax(q, DIGITS_CLASSES);
      for (int c = 0; c < DIGITS_CLASSES; ++c) {
        maxDiff = fmax(maxDiff, fabs((double)a[c] - q[c]));
        maxLogit = fmax(maxLogit, fabs((double)a[c]));
      }
    }
  }
  const double n = (double)test.count;
  printf("%s: test accuracy %lld/%lld = %.2f%%\n", ref.name,
         (long long)refCorrect, (long long)test.count, 100 * refCorrect / n);
  printf("%s: test accuracy %lld/%lld = %.2f%%\n", quant.name,
         (long long)quantCorrect, (long long)test.count,
         100 * quantCorrect / n);
  printf("top-1 agreement %lld/%lld = %.2f%%\n", (long long)agree,
         (long long)test.count, 100 * agree / n);
  printf("largest logit difference %.4g (largest |logit| %.4g)\n", maxDiff,
         maxLogit);
  int code = 0;
  if (agree / n < min_agreement) {
    fprintf(stderr, "error: top-1 agreement %.2f%% is below %.2f%%\n",
            100 * agree / n, 100 * min_agreement);
    code = 3;
  }
  free(x);
  free(labels);
  free(ref.arena);
  free(quant.arena);
  free(ref.logits);
  free(quant.logits);
  digits_set_free(&all);
  digits_set_free(&train);
  digits_set_free(&test);
  return code;
}
