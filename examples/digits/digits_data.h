/* The scikit-learn digits data set: loading it from its gzip'ed CSV file,
 * a seeded shuffle and train/test split, minibatches, and counting correct
 * predictions. Nothing here knows about a model. */
#ifndef DIGITS_DATA_H
#define DIGITS_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DIGITS_PIXELS 64 /* 8x8 images */
#define DIGITS_CLASSES 10
#define DIGITS_MAX_PIXEL 16 /* pixel values are 0..16 in the file */

/* Where Debian's python3-sklearn installs the file. */
#define DIGITS_DEFAULT_PATH                                                    \
  "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"

/* Rows of pixels scaled to [0, 1] (row-major, DIGITS_PIXELS per row) and
 * their labels 0..9. `source` holds each row's line index in the file (0
 * for the first line) so a split can be checked against the original. */
typedef struct digits_set {
  int64_t count;
  float *pixels;
  int64_t *labels;
  int64_t *source;
} digits_set;

void digits_set_free(digits_set *set);

/* Reads the CSV (gzip'ed or plain: zlib reads both): one row per line, 64
 * integer pixel values 0..16 then the label 0..9, comma-separated. On
 * failure returns false with a message naming the file, line and field in
 * `error`. */
bool digits_load(const char *path, digits_set *out, char *error,
                 size_t error_size);

/* splitmix64: a small, fast generator whose whole state is one integer, so
 * a run is reproduced from its seed alone. */
typedef struct digits_rng {
  uint64_t state;
} digits_rng;

digits_rng digits_rng_seeded(uint64_t seed);
uint64_t digits_rng_next(digits_rng *rng);
/* Uniform in [0, bound) without modulo bias; bound >= 1. */
uint64_t digits_rng_below(digits_rng *rng, uint64_t bound);
/* Fisher-Yates shuffle of order[0..n). */
void digits_shuffle(int64_t *order, int64_t n, digits_rng *rng);

/* Rows in a seeded random order, the last ceil(test_fraction * count) of
 * them the test set and the rest the training set (the rounding of
 * scikit-learn's train_test_split). Returns false when memory runs out or
 * either part would be empty. */
bool digits_split(const digits_set *all, double test_fraction, uint64_t seed,
                  digits_set *train, digits_set *test);

/* Minibatches: training drops the last partial batch of an epoch (an epoch
 * takes floor(count / batch) batches); evaluation takes ceil(count / batch)
 * and pads the last one. */
int64_t digits_train_batches(int64_t count, int64_t batch);
int64_t digits_eval_batches(int64_t count, int64_t batch);

/* Copies rows order[first], order[first + 1], ... of `set` into x (batch x
 * DIGITS_PIXELS floats) and labels (batch entries); `order` is NULL for the
 * set's own order. Slots past order's `count` entries are padding: zero
 * pixels and label 0. Returns the number of real rows. */
int64_t digits_gather_batch(const digits_set *set, const int64_t *order,
                            int64_t first, int64_t batch, float *x,
                            int64_t *labels);

/* The index of the largest of `classes` logits; the first on ties, and NaNs
 * never win. */
int digits_argmax(const float *logits, int classes);

/* How many of the first `rows` rows of logits (rows x classes) have their
 * argmax equal to the label. */
int64_t digits_count_correct(const float *logits, const int64_t *labels,
                             int64_t rows, int classes);

#endif /* DIGITS_DATA_H */
