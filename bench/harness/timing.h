/* What every timing harness of bench/run shares: key=value arguments, raw
 * f32 files, and one timing loop that reports a median.
 *
 * The loop runs `warmup` untimed calls, then timed calls until it has at
 * least `min_reps` and has spent `budget` seconds, or has `max_reps`; it
 * prints one line that bench/run reads:
 *
 *   result median_ms=0.123456 reps=57 threads=2
 */
#ifndef NYX_BENCH_TIMING_H
#define NYX_BENCH_TIMING_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct bench_args {
  int argc;
  char **argv;
};

/* The value of `key=` among the arguments, or `dflt` when absent. */
static inline const char *arg_str(struct bench_args a, const char *key,
                                  const char *dflt) {
  size_t n = strlen(key);
  for (int i = 1; i < a.argc; ++i)
    if (strncmp(a.argv[i], key, n) == 0 && a.argv[i][n] == '=')
      return a.argv[i] + n + 1;
  return dflt;
}

static inline void die(const char *what, const char *detail) {
  fprintf(stderr, "harness: %s%s%s\n", what, detail ? ": " : "",
          detail ? detail : "");
  exit(2);
}

static inline long arg_int(struct bench_args a, const char *key, long dflt) {
  const char *v = arg_str(a, key, NULL);
  if (!v)
    return dflt;
  char *end;
  long n = strtol(v, &end, 10);
  if (*v == 0 || *end)
    die("not an integer", v);
  return n;
}

static inline double arg_double(struct bench_args a, const char *key,
                                double dflt) {
  const char *v = arg_str(a, key, NULL);
  if (!v)
    return dflt;
  char *end;
  double d = strtod(v, &end);
  if (*v == 0 || *end)
    die("not a number", v);
  return d;
}

/* The most buffers a model harness passes. */
enum { kMaxBuffers = 16 };

/* Splits "a,b,c" in place into at most kMaxBuffers items. */
static inline int split_list(char *list, char **items) {
  int n = 0;
  for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
    if (n == kMaxBuffers)
      die("too many items in", list);
    items[n++] = tok;
  }
  return n;
}

/* 64-byte aligned, rounded up so that any size (even 0) is valid. */
static inline void *bench_alloc(size_t bytes) {
  size_t rounded = (bytes + 63) / 64 * 64;
  void *p = aligned_alloc(64, rounded ? rounded : 64);
  if (!p)
    die("out of memory", NULL);
  memset(p, 0, rounded ? rounded : 64);
  return p;
}

/* Reads exactly `bytes` bytes of `path` into a new aligned buffer. */
static inline void *read_exact(const char *path, size_t bytes) {
  FILE *f = fopen(path, "rb");
  if (!f)
    die("cannot open", path);
  void *p = bench_alloc(bytes);
  size_t got = fread(p, 1, bytes, f);
  int extra = fgetc(f);
  fclose(f);
  if (got != bytes || extra != EOF)
    die("file size differs from the expected byte count", path);
  return p;
}

static inline void write_all(const char *path, const void *data, size_t bytes) {
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, bytes, f) != bytes || fclose(f) != 0)
    die("cannot write", path);
}

static inline double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef void (*bench_fn)(void *ctx);

/* Times `fn(ctx)` as described at the top and prints the result line. */
static inline void bench_time(struct bench_args a, bench_fn fn, void *ctx,
                              int threads) {
  long warmup = arg_int(a, "warmup", 2);
  long min_reps = arg_int(a, "min_reps", 5);
  long max_reps = arg_int(a, "max_reps", 10000);
  double budget = arg_double(a, "budget", 1.0);
  if (min_reps < 1 || max_reps < min_reps)
    die("expected 1 <= min_reps <= max_reps", NULL);
  for (long i = 0; i < warmup; ++i)
    fn(ctx);
  double *times = malloc(sizeof(double) * (size_t)max_reps);
  if (!times)
    die("out of memory", NULL);
  long reps = 0;
  double start = now_seconds();
  while (reps < max_reps &&
         (reps < min_reps || now_seconds() - start < budget)) {
    double t0 = now_seconds();
    fn(ctx);
    times[reps++] = now_seconds() - t0;
  }
  qsort(times, (size_t)reps, sizeof(double), compare_doubles);
  double median = reps % 2 ? times[reps / 2]
                           : 0.5 * (times[reps / 2 - 1] + times[reps / 2]);
  printf("result median_ms=%.6f reps=%ld threads=%d\n", median * 1e3, reps,
         threads);
  free(times);
}

#endif
