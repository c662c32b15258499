/* GPU timings for bench/cuda/run, through libnyxrt's driver runtime.
 *
 *   cuda_bench info
 *       prints "device name=... sm=90", or exits 3 with the reason when no
 *       GPU can be used
 *   cuda_bench model inputs=A.bin,B.bin in_bytes=N,M out_bytes=K dump=OUT
 *       times bench_model_run_cuda_packed (a model compiled with
 *       nyxc --target=cuda-smXX --name bench_model) on device buffers
 *   cuda_bench copy bytes=N
 *       times a device-to-device copy of N bytes
 *   cuda_bench cublas dtype=f32|f16|bf16 m= n= k= inputs=A.bin,B.bin dump=OUT
 *       times cuBLAS's row-major C = A B (libcublas opened with dlopen;
 *       f32 without TF32, f16/bf16 accumulating in f32)
 *
 * A timed repetition is `inner` calls queued back to back and one
 * synchronize, `inner` chosen in the warm-up so a repetition takes about a
 * millisecond or more; the line printed is "result median_ms=... reps=..."
 * per call, as bench/run's harnesses print it. */
#include <dlfcn.h>

#include "nyx/cuda.h"
#include "timing.h"

static void check(int status, const char *what) {
  if (status != NYX_OK)
    die(what, nyx_last_error());
}

typedef void (*call_fn)(void *ctx);

/* Times `fn` as described above. */
static void time_calls(struct bench_args a, call_fn fn, void *ctx) {
  double budget = arg_double(a, "budget", 1.0);
  long min_reps = arg_int(a, "min_reps", 5);
  fn(ctx);
  check(nyx_stream_synchronize(NULL), "warm-up");
  long inner = 1;
  for (;;) {
    double start = now_seconds();
    for (long i = 0; i < inner; ++i)
      fn(ctx);
    check(nyx_stream_synchronize(NULL), "warm-up");
    if (now_seconds() - start >= 1e-3 || inner >= (1L << 20))
      break;
    inner *= 2;
  }
  enum { kMaxReps = 1000 };
  double times[kMaxReps];
  long reps = 0;
  double begin = now_seconds();
  while (reps < kMaxReps &&
         (reps < min_reps || now_seconds() - begin < budget)) {
    double start = now_seconds();
    for (long i = 0; i < inner; ++i)
      fn(ctx);
    check(nyx_stream_synchronize(NULL), "run");
    times[reps++] = (now_seconds() - start) * 1e3 / (double)inner;
  }
  qsort(times, (size_t)reps, sizeof(double), compare_doubles);
  printf("result median_ms=%.6f reps=%ld threads=1\n", times[reps / 2], reps);
}

/* A device copy of the raw file `path` of exactly `bytes` bytes. */
static void *device_file(const char *path, size_t bytes) {
  void *host = read_exact(path, bytes), *dev = NULL;
  check(nyx_cuda_malloc(&dev, bytes ? bytes : 1), "device allocation");
  check(nyx_cuda_copy_to_device(dev, host, bytes, NULL), "copy to device");
  check(nyx_stream_synchronize(NULL), "copy to device");
  free(host);
  return dev;
}

static void dump_device(struct bench_args a, const void *dev, size_t bytes) {
  const char *path = arg_str(a, "dump", NULL);
  if (!path)
    return;
  void *host = bench_alloc(bytes);
  check(nyx_cuda_copy_to_host(host, dev, bytes, NULL), "copy to host");
  check(nyx_stream_synchronize(NULL), "copy to host");
  write_all(path, host, bytes);
  free(host);
}

/* ---- model ------------------------------------------------------------ */

#ifdef NYX_BENCH_MODEL
int bench_model_run_cuda_packed(void **buffers, void *device_arena,
                                nyx_stream *stream);
extern const uint64_t bench_model_arena_bytes;

struct model_ctx {
  void *buffers[kMaxBuffers];
  void *arena;
};

static void run_model(void *p) {
  struct model_ctx *c = p;
  check(bench_model_run_cuda_packed(c->buffers, c->arena, NULL),
        "bench_model_run_cuda_packed");
}

static void bench_model(struct bench_args a) {
  char *inputs = strdup(arg_str(a, "inputs", ""));
  char *in_bytes = strdup(arg_str(a, "in_bytes", ""));
  char *paths[kMaxBuffers], *sizes[kMaxBuffers];
  int n = split_list(inputs, paths);
  if (split_list(in_bytes, sizes) != n || n >= kMaxBuffers)
    die("expected one size in in_bytes for each file in inputs", NULL);
  size_t out_bytes = strtoull(arg_str(a, "out_bytes", "0"), NULL, 10);
  struct model_ctx c;
  for (int i = 0; i < n; ++i)
    c.buffers[i] = device_file(paths[i], strtoull(sizes[i], NULL, 10));
  check(nyx_cuda_malloc(&c.buffers[n], out_bytes), "device allocation");
  check(nyx_cuda_malloc(&c.arena, bench_model_arena_bytes),
        "device allocation");
  run_model(&c);
  dump_device(a, c.buffers[n], out_bytes);
  time_calls(a, run_model, &c);
}
#endif

/* ---- copy --------------------------------------------------------------- */

struct copy_ctx {
  void *src, *dst;
  size_t bytes;
};

static void run_copy(void *p) {
  struct copy_ctx *c = p;
  check(nyx_cuda_copy_device(c->dst, c->src, c->bytes, NULL), "copy");
}

static void bench_copy(struct bench_args a) {
  struct copy_ctx c = {NULL, NULL, (size_t)arg_int(a, "bytes", 1 << 26)};
  check(nyx_cuda_malloc(&c.src, c.bytes), "device allocation");
  check(nyx_cuda_malloc(&c.dst, c.bytes), "device allocation");
  check(nyx_cuda_memset(c.src, 1, c.bytes, NULL), "memset");
  time_calls(a, run_copy, &c);
}

/* ---- cuBLAS ---------------------------------------------------------------
 */

/* The few cuBLAS entry points used (cublas_api.h): handles are opaque,
 * statuses ints, 0 = success. */
enum { kOpN = 0, kR32F = 0, kR16F = 2, kR16BF = 14, kCompute32F = 68 };
typedef int (*cublas_create_fn)(void **handle);
typedef int (*cublas_sgemm_fn)(void *handle, int ta, int tb, int m, int n,
                               int k, const float *alpha, const float *A,
                               int lda, const float *B, int ldb,
                               const float *beta, float *C, int ldc);
typedef int (*cublas_gemm_ex_fn)(void *handle, int ta, int tb, int m, int n,
                                 int k, const void *alpha, const void *A,
                                 int atype, int lda, const void *B, int btype,
                                 int ldb, const void *beta, void *C, int ctype,
                                 int ldc, int compute, int algo);

struct cublas_ctx {
  void *handle;
  cublas_sgemm_fn sgemm;
  cublas_gemm_ex_fn gemm_ex;
  int dtype; /* kR32F, kR16F or kR16BF */
  int m, n, k;
  void *a, *b, *c;
};

/* Row-major C = A B is column-major C^T = B^T A^T: B and A swap places. */
static void run_cublas(void *p) {
  struct cublas_ctx *c = p;
  const float one = 1.0f, zero = 0.0f;
  int rc = c->dtype == kR32F
               ? c->sgemm(c->handle, kOpN, kOpN, c->n, c->m, c->k, &one, c->b,
                          c->n, c->a, c->k, &zero, c->c, c->n)
               : c->gemm_ex(c->handle, kOpN, kOpN, c->n, c->m, c->k, &one, c->b,
                            c->dtype, c->n, c->a, c->dtype, c->k, &zero, c->c,
                            c->dtype, c->n, kCompute32F, -1);
  if (rc != 0) {
    char code[32];
    snprintf(code, sizeof code, "status %d", rc);
    die("cuBLAS GEMM failed", code);
  }
}

static void bench_cublas(struct bench_args a) {
  const char *lib = arg_str(a, "cublas", "/usr/local/cuda/lib64/libcublas.so");
  void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
  if (!h)
    die("cannot open cuBLAS", dlerror());
  struct cublas_ctx c;
  cublas_create_fn create = (cublas_create_fn)dlsym(h, "cublasCreate_v2");
  c.sgemm = (cublas_sgemm_fn)dlsym(h, "cublasSgemm_v2");
  c.gemm_ex = (cublas_gemm_ex_fn)dlsym(h, "cublasGemmEx");
  if (!create || !c.sgemm || !c.gemm_ex)
    die("cuBLAS lacks cublasCreate_v2, cublasSgemm_v2 or cublasGemmEx", lib);
  if (create(&c.handle) != 0)
    die("cublasCreate_v2 failed", NULL);
  const char *dtype = arg_str(a, "dtype", "f32");
  c.dtype = strcmp(dtype, "f16") == 0    ? kR16F
            : strcmp(dtype, "bf16") == 0 ? kR16BF
                                         : kR32F;
  size_t elem = c.dtype == kR32F ? 4 : 2;
  c.m = (int)arg_int(a, "m", 0);
  c.n = (int)arg_int(a, "n", 0);
  c.k = (int)arg_int(a, "k", 0);
  char *inputs = strdup(arg_str(a, "inputs", ""));
  char *paths[kMaxBuffers];
  if (split_list(inputs, paths) != 2)
    die("expected inputs=A.bin,B.bin", NULL);
  c.a = device_file(paths[0], elem * (size_t)c.m * (size_t)c.k);
  c.b = device_file(paths[1], elem * (size_t)c.k * (size_t)c.n);
  size_t out = elem * (size_t)c.m * (size_t)c.n;
  check(nyx_cuda_malloc(&c.c, out), "device allocation");
  run_cublas(&c);
  dump_device(a, c.c, out);
  time_calls(a, run_cublas, &c);
}

/* ---- main -----------------------------------------------------------------
 */

int main(int argc, char **argv) {
  struct bench_args a = {argc, argv};
  const char *mode = argc > 1 ? argv[1] : "";
  if (nyx_cuda_init() != NYX_OK) {
    fprintf(stderr, "no GPU: %s\n", nyx_last_error());
    return 3;
  }
  if (strcmp(mode, "info") == 0) {
    char name[256];
    int major = 0, minor = 0;
    check(nyx_cuda_device_info(name, sizeof name, &major, &minor), "info");
    printf("device name=%s sm=%d%d\n", name, major, minor);
    return 0;
  }
#ifdef NYX_BENCH_MODEL
  if (strcmp(mode, "model") == 0) {
    bench_model(a);
    return 0;
  }
#endif
  if (strcmp(mode, "copy") == 0) {
    bench_copy(a);
    return 0;
  }
  if (strcmp(mode, "cublas") == 0) {
    bench_cublas(a);
    return 0;
  }
  die("unknown mode; expected info, model, copy or cublas", mode);
  return 2;
}
