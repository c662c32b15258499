/* Times two compiled variants of one model side by side, in one process:
 *
 *   pair_bench A.so NAME_A B.so NAME_B ITERS IN_BYTES,... OUT_BYTES,...
 *
 * Each .so is a Nyx object linked with -shared; NAME is its --name. Inputs
 * are f32 values uniform in [-1, 1] (the same for both variants). Prints the
 * median time of each, the ratio B/A, the thread count, and the largest
 * absolute difference between the two variants' outputs, so a benchmark
 * never reports the speed of a wrong answer. */
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

static int parse_sizes(const char *list, uint64_t *out, int max) {
  int n = 0;
  for (const char *p = list; *p && n < max;) {
    char *end;
    out[n++] = strtoull(p, &end, 10);
    p = *end == ',' ? end + 1 : end;
    if (end == p && *p)
      return -1;
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

static int time_variant(struct variant *v, int iters) {
  double *t = malloc(sizeof(double) * iters);
  for (int i = 0; i < iters + 2; ++i) { /* two warm-up runs */
    double start = now_ms();
    int status = v->run(v->buffers, v->arena);
    if (status != NYX_OK) {
      fprintf(stderr, "pair_bench: run failed: %s\n",
              nyx_status_string(status));
      return -1;
    }
    if (i >= 2)
      t[i - 2] = now_ms() - start;
  }
  qsort(t, iters, sizeof(double), cmp_double);
  v->median_ms = t[iters / 2];
  free(t);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: pair_bench A.so NAME_A B.so NAME_B ITERS "
                    "IN_BYTES,... OUT_BYTES,...\n");
    return 2;
  }
  uint64_t in[64], out[64];
  int nin = parse_sizes(argv[6], in, 64), nout = parse_sizes(argv[7], out, 64);
  int iters = atoi(argv[5]);
  if (nin < 0 || nout <= 0 || iters <= 0) {
    fprintf(stderr, "pair_bench: bad sizes or iteration count\n");
    return 2;
  }
  struct variant v[2];
  if (load(argv[1], argv[2], &v[0]) || load(argv[3], argv[4], &v[1]))
    return 1;
  srand(1);
  void *inputs[64];
  for (int i = 0; i < nin; ++i) {
    float *p = alloc_aligned(in[i]);
    for (uint64_t j = 0; j < in[i] / 4; ++j)
      p[j] = 2.0f * rand() / RAND_MAX - 1.0f;
    inputs[i] = p;
  }
  for (int k = 0; k < 2; ++k) {
    v[k].buffers = malloc(sizeof(void *) * (nin + nout));
    memcpy(v[k].buffers, inputs, sizeof(void *) * nin);
    for (int i = 0; i < nout; ++i)
      v[k].buffers[nin + i] = alloc_aligned(out[i]);
    if (time_variant(&v[k], iters))
      return 1;
  }
  double diff = 0;
  for (int i = 0; i < nout; ++i) {
    const float *a = v[0].buffers[nin + i], *b = v[1].buffers[nin + i];
    for (uint64_t j = 0; j < out[i] / 4; ++j) {
      double d = fabs((double)a[j] - (double)b[j]);
      if (d > diff || isnan(d))
        diff = d;
    }
  }
  printf("%-10s %10.3f ms %-10s %10.3f ms  ratio %6.2fx  threads %d  "
         "max|diff| %.2g\n",
         argv[2], v[0].median_ms, argv[4], v[1].median_ms,
         v[1].median_ms / v[0].median_ms, nyx_get_num_threads(), diff);
  return 0;
}
