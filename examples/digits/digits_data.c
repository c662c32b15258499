/* Loading, splitting and batching the digits data set (see digits_data.h). */
#include "digits_data.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

void digits_set_free(digits_set *set) {
  free(set->pixels);
  free(set->labels);
  free(set->source);
  memset(set, 0, sizeof *set);
}

static bool allocateSet(digits_set *set, int64_t count) {
  memset(set, 0, sizeof *set);
  size_t n = count > 0 ? (size_t)count : 1;
  set->pixels = malloc(n * DIGITS_PIXELS * sizeof(float));
  set->labels = malloc(n * sizeof(int64_t));
  set->source = malloc(n * sizeof(int64_t));
  if (!set->pixels || !set->labels || !set->source) {
    digits_set_free(set);
    return false;
  }
  set->count = count;
  return true;
}

/* The whole decompressed file, NUL-terminated. */
static char *readAll(const char *path, size_t *size, char *error,
                     size_t error_size) {
  gzFile file = gzopen(path, "rb");
  if (!file) {
    snprintf(error, error_size, "%s: cannot open: %s", path,
             errno ? strerror(errno) : "zlib could not allocate its state");
    return NULL;
  }
  size_t capacity = 1 << 20, used = 0;
  char *text = malloc(capacity);
  for (;;) {
    if (!text) {
      snprintf(error, error_size, "%s: out of memory", path);
      gzclose(file);
      return NULL;
    }
    if (capacity - used < 2) {
      char *bigger = realloc(text, capacity * 2);
      if (!bigger)
        free(text);
      text = bigger;
      capacity *= 2;
      continue;
    }
    int got = gzread(file, text + used, (unsigned)(capacity - used - 1));
    if (got < 0) {
      int code;
      snprintf(error, error_size, "%s", gzerror(file, &code));
      free(text);
      gzclose(file);
      return NULL;
    }
    if (got == 0)
      break;
    used += (size_t)got;
  }
  /* A gzip stream cut short reads as a clean end of file with
   * Z_BUF_ERROR pending. */
  int code;
  const char *message = gzerror(file, &code);
  if (code != Z_OK) {
    snprintf(error, error_size, "%s", message); /* zlib names the file */
    free(text);
    gzclose(file);
    return NULL;
  }
  gzclose(file);
  text[used] = '\0';
  *size = used;
  return text;
}

/* Parses one non-negative decimal integer at *p, advancing past it. */
static bool parseInt(const char **p, long *value) {
  const char *s = *p;
  if (*s < '0' || *s > '9')
    return false;
  long v = 0;
  while (*s >= '0' && *s <= '9' && v < 1000000)
    v = v * 10 + (*s++ - '0');
  *value = v;
  *p = s;
  return true;
}

static bool isLineEnd(char c) { return c == '\n' || c == '\r' || c == '\0'; }

/* Parses one line of 65 fields into the set's row `row`. */
static bool parseRow(const char *line, int64_t lineNo, digits_set *set,
                     int64_t row, const char *path, char *error,
                     size_t error_size) {
  const char *p = line;
  for (int field = 0; field <= DIGITS_PIXELS; ++field) {
    long v;
    bool last = field == DIGITS_PIXELS;
    if (!parseInt(&p, &v) || (last ? !isLineEnd(*p) : *p != ',')) {
      snprintf(error, error_size,
               "%s:%lld: field %d is not %s; expected %d comma-separated "
               "integers per line",
               path, (long long)lineNo + 1, field + 1,
               last ? "an integer ending the line"
                    : "an integer followed by a comma",
               DIGITS_PIXELS + 1);
      return false;
    }
    long max = last ? DIGITS_CLASSES - 1 : DIGITS_MAX_PIXEL;
    if (v > max) {
      snprintf(error, error_size, "%s:%lld: %s %ld; expected 0..%ld", path,
               (long long)lineNo + 1, last ? "label is" : "pixel value is", v,
               max);
      return false;
    }
    if (last)
      set->labels[row] = v;
    else
      set->pixels[row * DIGITS_PIXELS + field] =
          (float)v / (float)DIGITS_MAX_PIXEL;
    if (!last)
      ++p;
  }
  set->source[row] = lineNo;
  return true;
}

bool digits_load(const char *path, digits_set *out, char *error,
                 size_t error_size) {
  memset(out, 0, sizeof *out);
  size_t size;
  char *text = readAll(path, &size, error, error_size);
  if (!text)
    return false;

  int64_t lines = 0;
  for (size_t i = 0; i < size; ++i)
    lines += text[i] == '\n';
  if (size > 0 && text[size - 1] != '\n')
    ++lines;

  digits_set set;
  if (!allocateSet(&set, lines)) {
    snprintf(error, error_size, "%s: out of memory for %lld rows", path,
             (long long)lines);
    free(text);
    return false;
  }
  int64_t rows = 0, lineNo = 0;
  for (const char *line = text; *line; ++lineNo) {
    const char *end = strchr(line, '\n');
    bool blank = true;
    for (const char *c = line; c != (end ? end : line + strlen(line)); ++c)
      blank &= *c == '\r' || *c == ' ';
    if (!blank) {
      if (!parseRow(line, lineNo, &set, rows, path, error, error_size)) {
        digits_set_free(&set);
        free(text);
        return false;
      }
      ++rows;
    }
    if (!end)
      break;
    line = end + 1;
  }
  free(text);
  if (rows == 0) {
    snprintf(error, error_size, "%s: no rows; expected lines of %d integers",
             path, DIGITS_PIXELS + 1);
    digits_set_free(&set);
    return false;
  }
  set.count = rows;
  *out = set;
  return true;
}

digits_rng digits_rng_seeded(uint64_t seed) {
  digits_rng rng = {seed};
  return rng;
}

uint64_t digits_rng_next(digits_rng *rng) {
  uint64_t z = (rng->state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t digits_rng_below(digits_rng *rng, uint64_t bound) {
  /* Reject the top partial copy of [0, bound) in the 2^64 range. */
  uint64_t limit = -bound % bound;
  for (;;) {
    uint64_t r = digits_rng_next(rng);
    if (r >= limit)
      return r % bound;
  }
}

void digits_shuffle(int64_t *order, int64_t n, digits_rng *rng) {
  for (int64_t i = n - 1; i > 0; --i) {
    int64_t j = (int64_t)digits_rng_below(rng, (uint64_t)i + 1);
    int64_t t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
}

static void copyRow(const digits_set *from, int64_t row, digits_set *to,
                    int64_t at) {
  memcpy(to->pixels + at * DIGITS_PIXELS, from->pixels + row * DIGITS_PIXELS,
         DIGITS_PIXELS * sizeof(float));
  to->labels[at] = from->labels[row];
  to->source[at] = from->source[row];
}

bool digits_split(const digits_set *all, double test_fraction, uint64_t seed,
                  digits_set *train, digits_set *test) {
  int64_t n = all->count;
  int64_t testCount = (int64_t)ceil(test_fraction * (double)n);
  if (testCount < 1 || testCount >= n)
    return false;
  int64_t *order = malloc((size_t)n * sizeof *order);
  if (!order)
    return false;
  for (int64_t i = 0; i < n; ++i)
    order[i] = i;
  digits_rng rng = digits_rng_seeded(seed);
  digits_shuffle(order, n, &rng);
  if (!allocateSet(train, n - testCount)) {
    free(order);
    return false;
  }
  if (!allocateSet(test, testCount)) {
    digits_set_free(train);
    free(order);
    return false;
  }
  for (int64_t i = 0; i < train->count; ++i)
    copyRow(all, order[i], train, i);
  for (int64_t i = 0; i < testCount; ++i)
    copyRow(all, order[train->count + i], test, i);
  free(order);
  return true;
}

int64_t digits_train_batches(int64_t count, int64_t batch) {
  return batch > 0 ? count / batch : 0;
}

int64_t digits_eval_batches(int64_t count, int64_t batch) {
  return batch > 0 ? (count + batch - 1) / batch : 0;
}

int64_t digits_gather_batch(const digits_set *set, const int64_t *order,
                            int64_t first, int64_t batch, float *x,
                            int64_t *labels) {
  int64_t real = 0;
  for (int64_t i = 0; i < batch; ++i) {
    int64_t position = first + i;
    float *dst = x + i * DIGITS_PIXELS;
    if (position < 0 || position >= set->count) {
      memset(dst, 0, DIGITS_PIXELS * sizeof(float));
      labels[i] = 0;
      continue;
    }
    int64_t row = order ? order[position] : position;
    memcpy(dst, set->pixels + row * DIGITS_PIXELS,
           DIGITS_PIXELS * sizeof(float));
    labels[i] = set->labels[row];
    ++real;
  }
  return real;
}

int digits_argmax(const float *logits, int classes) {
  int best = 0;
  for (int c = 1; c < classes; ++c)
    if (logits[c] > logits[best] || isnan(logits[best]))
      best = isnan(logits[c]) ? best : c;
  return best;
}

int64_t digits_count_correct(const float *logits, const int64_t *labels,
                             int64_t rows, int classes) {
  int64_t correct = 0;
  for (int64_t r = 0; r < rows; ++r)
    correct += digits_argmax(logits + r * classes, classes) == labels[r];
  return correct;
}
