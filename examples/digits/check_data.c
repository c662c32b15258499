/* Checks the data side of the digits demo without a model: loads the file,
 * splits it, walks an epoch of training batches and the evaluation batches,
 * and counts correct predictions of made-up logits, printing the counts and
 * exiting 1 if anything does not add up.
 *
 *   cc check_data.c digits_data.c -lz -lm -o check_data
 *   ./check_data [--data PATH] [--batch N] [--split-seed N]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digits_data.h"

static int failures = 0;

static void check(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "check failed: %s\n", what);
    ++failures;
  }
}

static void printClassCounts(const char *title, const digits_set *set) {
  int64_t counts[DIGITS_CLASSES] = {0};
  for (int64_t i = 0; i < set->count; ++i)
    ++counts[set->labels[i]];
  printf("%-6s %5lld rows, per class:", title, (long long)set->count);
  for (int c = 0; c < DIGITS_CLASSES; ++c)
    printf(" %lld", (long long)counts[c]);
  printf("\n");
}

/* Every row of the data set is in exactly one part, unchanged. */
static void checkSplit(const digits_set *all, const digits_set *train,
                       const digits_set *test) {
  check(train->count + test->count == all->count,
        "train and test together have every row");
  check(test->count == (int64_t)ceil(0.2 * (double)all->count),
        "the test set is ceil(20%) of the rows");
  char *seen = calloc((size_t)all->count, 1);
  const digits_set *parts[] = {train, test};
  for (int p = 0; p < 2; ++p)
    for (int64_t i = 0; i < parts[p]->count; ++i) {
      int64_t src = parts[p]->source[i];
      if (src < 0 || src >= all->count || seen[src]++) {
        check(0, "each row is in one part once");
        continue;
      }
      check(parts[p]->labels[i] == all->labels[src] &&
                !memcmp(parts[p]->pixels + i * DIGITS_PIXELS,
                        all->pixels + src * DIGITS_PIXELS,
                        DIGITS_PIXELS * sizeof(float)),
            "a split row equals its source row");
    }
  free(seen);
}

/* One epoch of training batches in a shuffled order: full batches, no row
 * twice, and exactly count % batch rows left out. */
static void checkTrainingEpoch(const digits_set *train, int64_t batch,
                               uint64_t seed) {
  int64_t *order = malloc((size_t)train->count * sizeof *order);
  float *x = malloc((size_t)batch * DIGITS_PIXELS * sizeof *x);
  int64_t *labels = malloc((size_t)batch * sizeof *labels);
  char *seen = calloc((size_t)train->count, 1);
  for (int64_t i = 0; i < train->count; ++i)
    order[i] = i;
  digits_rng rng = digits_rng_seeded(seed);
  digits_shuffle(order, train->count, &rng);
  int64_t batches = digits_train_batches(train->count, batch), used = 0;
  for (int64_t b = 0; b < batches; ++b) {
    int64_t real =
        digits_gather_batch(train, order, b * batch, batch, x, labels);
    check(real == batch, "a training batch is full");
    for (int64_t i = 0; i < batch; ++i) {
      int64_t row = order[b * batch + i];
      check(!seen[row]++, "a training row comes once per epoch");
      check(labels[i] == train->labels[row] &&
                !memcmp(x + i * DIGITS_PIXELS,
                        train->pixels + row * DIGITS_PIXELS,
                        DIGITS_PIXELS * sizeof(float)),
            "a batch row is its training row");
      ++used;
    }
  }
  check(train->count - used == train->count % batch,
        "the epoch drops only the last partial batch");
  printf("training: %lld batches of %lld per epoch, %lld rows left out\n",
         (long long)batches, (long long)batch,
         (long long)(train->count - used));
  free(order);
  free(x);
  free(labels);
  free(seen);
}

/* Evaluation batches: every row once in order, the last batch padded with
 * zero rows, and logits equal to the one-hot labels count every real row
 * as correct. */
static void checkEvaluation(const digits_set *test, int64_t batch) {
  float *x = malloc((size_t)batch * DIGITS_PIXELS * sizeof *x);
  int64_t *labels = malloc((size_t)batch * sizeof *labels);
  float *logits = malloc((size_t)batch * DIGITS_CLASSES * sizeof *logits);
  int64_t batches = digits_eval_batches(test->count, batch);
  int64_t rows = 0, padding = 0, correct = 0, shiftedCorrect = 0;
  for (int64_t b = 0; b < batches; ++b) {
    memset(x, 0x7f, (size_t)batch * DIGITS_PIXELS * sizeof *x);
    int64_t real = digits_gather_batch(test, NULL, b * batch, batch, x, labels);
    for (int64_t i = 0; i < batch; ++i) {
      int isReal = i < real;
      int64_t row = b * batch + i;
      for (int p = 0; p < DIGITS_PIXELS; ++p)
        check(x[i * DIGITS_PIXELS + p] ==
                  (isReal ? test->pixels[row * DIGITS_PIXELS + p] : 0.0f),
              "an evaluation row is its test row, or zero padding");
      check(labels[i] == (isReal ? test->labels[row] : 0),
            "an evaluation label is its test label, or 0 for padding");
      for (int c = 0; c < DIGITS_CLASSES; ++c)
        logits[i * DIGITS_CLASSES + c] = c == labels[i] ? 1.0f : -1.0f;
    }
    correct += digits_count_correct(logits, labels, real, DIGITS_CLASSES);
    for (int64_t i = 0; i < batch; ++i)
      labels[i] = (labels[i] + 1) % DIGITS_CLASSES;
    shiftedCorrect +=
        digits_count_correct(logits, labels, real, DIGITS_CLASSES);
    rows += real;
    padding += batch - real;
  }
  check(rows == test->count, "evaluation sees every test row");
  check(padding == batches * batch - test->count,
        "evaluation pads only the last batch");
  check(correct == test->count, "one-hot logits of the labels are correct");
  check(shiftedCorrect == 0, "one-hot logits of other labels are wrong");
  printf("evaluation: %lld batches, %lld padding rows in the last; "
         "accuracy of one-hot logits %lld/%lld\n",
         (long long)batches, (long long)padding, (long long)correct,
         (long long)test->count);
  free(x);
  free(labels);
  free(logits);
}

static void checkArgmax(void) {
  const float ties[] = {0, 3, 3, 1};
  const float nanFirst[] = {NAN, -5, -2, -9};
  const float allNan[] = {NAN, NAN};
  check(digits_argmax(ties, 4) == 1, "argmax takes the first of equal logits");
  check(digits_argmax(nanFirst, 4) == 2, "a NaN logit never wins");
  check(digits_argmax(allNan, 2) == 0, "all-NaN logits predict class 0");
}

static void checkSplitSeeds(const digits_set *all) {
  digits_set a[2], b[2], c[2];
  if (!digits_split(all, 0.2, 7, &a[0], &a[1]) ||
      !digits_split(all, 0.2, 7, &b[0], &b[1]) ||
      !digits_split(all, 0.2, 8, &c[0], &c[1])) {
    check(0, "splits with seeds 7 and 8");
    return;
  }
  size_t bytes = (size_t)a[0].count * sizeof(int64_t);
  check(!memcmp(a[0].source, b[0].source, bytes),
        "the same seed gives the same split");
  check(memcmp(a[0].source, c[0].source, bytes) != 0,
        "another seed gives another split");
  for (int i = 0; i < 2; ++i) {
    digits_set_free(&a[i]);
    digits_set_free(&b[i]);
    digits_set_free(&c[i]);
  }
}

int main(int argc, char **argv) {
  const char *path = DIGITS_DEFAULT_PATH;
  long long batch = 32, splitSeed = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--data"))
      path = argv[i + 1];
    else if (!strcmp(argv[i], "--batch"))
      batch = atoll(argv[i + 1]);
    else if (!strcmp(argv[i], "--split-seed"))
      splitSeed = atoll(argv[i + 1]);
  }
  if (argc % 2 == 0 || batch < 1 || splitSeed < 0) {
    fprintf(stderr,
            "usage: %s [--data PATH] [--batch N >= 1] "
            "[--split-seed N >= 0]\n",
            argv[0]);
    return 1;
  }

  char error[512];
  digits_set all, train, test;
  if (!digits_load(path, &all, error, sizeof error)) {
    fprintf(stderr, "error: %s\n", error);
    return 1;
  }
  if (!digits_split(&all, 0.2, (uint64_t)splitSeed, &train, &test)) {
    fprintf(stderr, "error: cannot split %lld rows 80/20\n",
            (long long)all.count);
    return 1;
  }
  printf("%s\n", path);
  printClassCounts("all", &all);
  printClassCounts("train", &train);
  printClassCounts("test", &test);
  double sum = 0, lo = INFINITY, hi = -INFINITY;
  for (int64_t i = 0; i < all.count * DIGITS_PIXELS; ++i) {
    sum += all.pixels[i];
    lo = fmin(lo, all.pixels[i]);
    hi = fmax(hi, all.pixels[i]);
  }
  printf("pixels scaled to [%g, %g], mean %.6f\n", lo, hi,
         sum / (double)(all.count * DIGITS_PIXELS));
  printf("split seed %lld: first test rows (file lines from 0):", splitSeed);
  for (int i = 0; i < 8 && i < test.count; ++i)
    printf(" %lld", (long long)test.source[i]);
  printf("\n");

  checkSplit(&all, &train, &test);
  checkSplitSeeds(&all);
  checkTrainingEpoch(&train, batch, 1);
  checkEvaluation(&test, batch);
  checkArgmax();
  digits_set_free(&all);
  digits_set_free(&train);
  digits_set_free(&test);
  if (failures) {
    fprintf(stderr, "%d checks failed\n", failures);
    return 1;
  }
  printf("all checks passed\n");
  return 0;
}
