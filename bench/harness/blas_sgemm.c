/* Times OpenBLAS cblas_sgemm: C[M,N] = A[M,K] @ B[K,N], row-major, no
 * transposes, alpha 1, beta 0.
 *
 *   blas_sgemm m= n= k= a=A.bin b=B.bin [dump=C.bin] [timing args]
 *
 * The thread count is OpenBLAS's (OPENBLAS_NUM_THREADS). */
#include "timing.h"

#include <cblas.h>

struct gemm_ctx {
  int m, n, k;
  const float *a, *b;
  float *c;
};

static void run_once(void *p) {
  struct gemm_ctx *g = p;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->m, g->n, g->k, 1.0f,
              g->a, g->k, g->b, g->n, 0.0f, g->c, g->n);
}

int main(int argc, char **argv) {
  struct bench_args a = {argc, argv};
  struct gemm_ctx g;
  g.m = (int)arg_int(a, "m", 0);
  g.n = (int)arg_int(a, "n", 0);
  g.k = (int)arg_int(a, "k", 0);
  if (g.m < 1 || g.n < 1 || g.k < 1)
    die("expected m, n, k >= 1", NULL);
  g.a = read_exact(arg_str(a, "a", ""), sizeof(float) * g.m * g.k);
  g.b = read_exact(arg_str(a, "b", ""), sizeof(float) * g.k * g.n);
  g.c = bench_alloc(sizeof(float) * g.m * g.n);
  run_once(&g);
  const char *dump = arg_str(a, "dump", NULL);
  if (dump)
    write_all(dump, g.c, sizeof(float) * g.m * g.n);
  bench_time(a, run_once, &g, openblas_get_num_threads());
  return 0;
}
