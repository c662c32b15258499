/* The STREAM triad a[i] = b[i] + s * c[i] over n floats, with OpenMP
 * (OMP_NUM_THREADS): the memory bandwidth a streaming kernel can reach.
 * Arrays are first touched by the threads that use them.
 *
 *   triad n= [timing args]
 *
 * Besides the result line it prints `check=` (a[n-1]), so a compiler cannot
 * drop the loop. */
#include "timing.h"

#include <omp.h>

struct triad_ctx {
  long n;
  float *a, *b, *c;
  float s;
};

static void run_once(void *p) {
  struct triad_ctx *t = p;
  float *restrict a = t->a;
  const float *restrict b = t->b, *restrict c = t->c;
  const float s = t->s;
#pragma omp parallel for schedule(static)
  for (long i = 0; i < t->n; ++i)
    a[i] = b[i] + s * c[i];
}

int main(int argc, char **argv) {
  struct bench_args a = {argc, argv};
  struct triad_ctx t;
  t.n = arg_int(a, "n", 0);
  if (t.n < 1)
    die("expected n >= 1", NULL);
  t.s = 3.0f;
  t.a = aligned_alloc(64, sizeof(float) * t.n);
  t.b = aligned_alloc(64, sizeof(float) * t.n);
  t.c = aligned_alloc(64, sizeof(float) * t.n);
  if (!t.a || !t.b || !t.c)
    die("out of memory", NULL);
#pragma omp parallel for schedule(static)
  for (long i = 0; i < t.n; ++i) {
    t.a[i] = 0.0f;
    t.b[i] = 1.0f;
    t.c[i] = 2.0f;
  }
  bench_time(a, run_once, &t, omp_get_max_threads());
  printf("check=%g\n", (double)t.a[t.n - 1]);
  return 0;
}
