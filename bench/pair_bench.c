/* Times two compiled variants of one model side by side, in one process,
 * running them alternately:
 *
 *   pair_bench A.so NAME_A B.so NAME_B ITERS IN_BYTES,... OUT_BYTES,...
 *
 * Each .so is a Nyx object linked with -shared; NAME is its --name. Inputs
 * are f32 values uniform in [-1, 1] (the same for both variants). Prints the
 * median time of each, the ratio B/A, the thread count, and the largest
 * absolute difference between the two variants' outputs, so a benchmark
 * never reports the speed of a wrong answer: a difference beyond rounding
 * fails the run. */
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nyx/runtime.h"

typedef int (*run_fn)(void **, void *);

struct variant {
  run_fn run;
  void *arena;
  void **buffers;
  double median_ms;
};

/* Parses "N,N,..." into out[]; -1 for text that is not a list of numbers or
 * for more than `max` of them. */
static int parse_sizes(const char *list, uint64_t *out, int max) {
  int n = 0;
  for (const char *p = list; *p;) {
    char *end;
    uint64_t value = strtoull(p, &end, 10);
    if (end == p || n == max || (*end && *end != ','))
      return -1;
    out[n++] = value;
    p = *end ? end + 1 : end;
  }
  return n;
}

/* 64-byte aligned, as the ABI asks of every buffer. */
static void *alloc_aligned(uint64_t bytes) {
  uint64_t rounded = (bytes + 63) / 64 * 64;
  return aligned_alloc(64, rounded ? rounded : 64);
}

static int load(const char *path, const char *name, struct variant *v) {
  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    fprintf(stderr, "pair_bench: %s\n", dlerror());
    return -1;
  }
  char sym[256];
  snprintf(sym, sizeof sym, "%s_run_packed", name);
  v->run = (run_fn)dlsym(lib, sym);
  snprintf(sym, sizeof sym, "%s_arena_bytes", name);
  const uint64_t *arena = (const uint64_t *)dlsym(lib, sym);
  if (!v->run || !arena) {
    fprintf(stderr, "pair_bench: %s has no %s_run_packed/_arena_bytes\n", path,
            name);
    return -1;
  }
  v->arena = alloc_aligned(*arena);
  return v->arena ? 0 : -1;
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int run_once(struct variant *v, double *ms) {
  double start = now_ms();
  int status = v->run(v->buffers, v->arena);
  *ms = now_ms() - start;
  if (status != NYX_OK)
    fprintf(stderr, "pair_bench: run failed: %s\n", nyx_status_string(status));
  return status != NYX_OK;
}

/* Runs A and B alternately (after two warm-up runs each), so drift in
 * clock speed or machine load falls on both, and keeps each median. */
static int time_pair(struct variant v[2], int iters) {
  double *t[2] = {malloc(sizeof(double) * iters),
                  malloc(sizeof(double) * iters)};
  int failed = !t[0] || !t[1];
  for (int i = 0; !failed && i < iters + 2; ++i)
    for (int k = 0; k < 2 && !failed; ++k) {
      double ms;
      failed = run_once(&v[k], &ms);
      if (i >= 2)
        t[k][i - 2] = ms;
    }
  for (int k = 0; k < 2 && !failed; ++k) {
    qsort(t[k], iters, sizeof(double), cmp_double);
    v[k].median_ms = t[k][iters / 2];
  }
  free(t[0]);
  free(t[1]);
  return failed;
}

int main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: pair_bench A.so NAME_A B.so NAME_B ITERS "
                    "IN_BYTES,... OUT_BYTES,...\n");
    return 2;
  }
  enum { kMaxBuffers = 64 };
  uint64_t in[kMaxBuffers], out[kMaxBuffers];
  int nin = parse_sizes(argv[6], in, kMaxBuffers);
  int nout = parse_sizes(argv[7], out, kMaxBuffers);
  int iters = atoi(argv[5]);
  if (nin < 0 || nout <= 0 || iters <= 0) {
    fprintf(stderr,
            "pair_bench: bad sizes (at most %d inputs and %d "
            "outputs) or iteration count\n",
            kMaxBuffers, kMaxBuffers);
    return 2;
  }
  struct variant v[2];
  if (load(argv[1], argv[2], &v[0]) || load(argv[3], argv[4], &v[1]))
    return 1;
  srand(1);
  void *inputs[kMaxBuffers];
  for (int i = 0; i < nin; ++i) {
    float *p = alloc_aligned(in[i]);
    if (!p)
      return 1;
    for (uint64_t j = 0; j < in[i] / 4; ++j)
      p[j] = 2.0f * rand() / RAND_MAX - 1.0f;
    inputs[i] = p;
  }
  for (int k = 0; k < 2; ++k) {
    v[k].buffers = malloc(sizeof(void *) * (nin + nout));
    if (!v[k].buffers)
      return 1;
    memcpy(v[k].buffers, inputs, sizeof(void *) * nin);
    for (int i = 0; i < nout; ++i)
      if (!(v[k].buffers[nin + i] = alloc_aligned(out[i])))
        return 1;
  }
  if (time_pair(v, iters))
    return 1;
  /* The variants compute the same function; they may differ by rounding
   * (vectorized transcendentals), not more. */
  double diff = 0, scale = 0;
  int nan_mismatch = 0;
  for (int i = 0; i < nout; ++i) {
    const float *a = v[0].buffers[nin + i], *b = v[1].buffers[nin + i];
    for (uint64_t j = 0; j < out[i] / 4; ++j) {
      if (isnan(a[j]) != isnan(b[j]))
        nan_mismatch = 1;
      else if (!isnan(a[j]) && fabs((double)a[j] - b[j]) > diff)
        diff = fabs((double)a[j] - b[j]);
      if (fabs(a[j]) > scale)
        scale = fabs(a[j]);
    }
  }
  printf("%-10s %10.3f ms %-10s %10.3f ms  ratio %6.2fx  threads %d  "
         "max|diff| %.2g\n",
         argv[2], v[0].median_ms, argv[4], v[1].median_ms,
         v[1].median_ms / v[0].median_ms, nyx_get_num_threads(), diff);
  if (nan_mismatch || diff > 1e-4 * (1 + scale)) {
    fprintf(stderr,
            "pair_bench: the variants disagree (max|diff| %g, "
            "largest |output| %g)\n",
            diff, scale);
    return 1;
  }
  return 0;
}
