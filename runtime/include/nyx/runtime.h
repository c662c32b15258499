/* libnyxrt: the C runtime that objects produced by nyxc link against.
 *
 * A C program that uses a generated model includes only this header (and the
 * generated one) and links with `-lnyxrt`; nothing beyond libc and pthreads is
 * required. */
#ifndef NYX_RUNTIME_H
#define NYX_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes returned (as int) by every fallible runtime and generated
 * function. The order is part of the ABI. */
typedef enum nyx_status {
  NYX_OK = 0,
  NYX_ERR_INVALID_ARGUMENT,
  NYX_ERR_MISALIGNED,
  NYX_ERR_IO,
  NYX_ERR_FORMAT,
  NYX_ERR_NOT_FOUND,
  NYX_ERR_SHAPE_MISMATCH,
  NYX_ERR_DTYPE_MISMATCH,
  NYX_ERR_WEIGHTS_NOT_LOADED,
  NYX_ERR_OUT_OF_MEMORY,
  NYX_ERR_UNSUPPORTED,
  NYX_ERR_NO_GPU
} nyx_status;

/* A short name and meaning for a status code, e.g.
 * "NYX_ERR_IO: a file could not be opened, read or written".
 * Unknown codes give "unknown status". Never NULL. */
const char *nyx_status_string(int status);

/* The detail message of the most recent failing runtime call on this thread
 * (it is not cleared by later successful calls, like errno). "" if no call on
 * this thread has failed. The pointer stays valid until the next failing call
 * on the same thread. */
const char *nyx_last_error(void);

/* Element types; the order matches the compiler's ir::DType. */
typedef enum nyx_dtype {
  NYX_F32 = 0,
  NYX_F16,
  NYX_BF16,
  NYX_F64,
  NYX_I8,
  NYX_I32,
  NYX_I64,
  NYX_BOOL
} nyx_dtype;

/* Bytes per element; 0 for a value outside the enum. */
size_t nyx_dtype_size(nyx_dtype dtype);
/* "f32", "f16", "bf16", "f64", "i8", "i32", "i64", "bool"; "unknown" for a
 * value outside the enum. */
const char *nyx_dtype_name(nyx_dtype dtype);

/* Frees memory the runtime allocated for the caller (nyx_npy_read data). */
void nyx_free(void *ptr);

/* ---- Thread pool ------------------------------------------------------ */

/* Calls body(ctx, begin, end) for contiguous chunks that together cover
 * [0, n) exactly once, on a persistent pool of threads plus the calling
 * thread, and returns when every chunk has finished. n <= 0 does nothing.
 * Runs inline on the calling thread when there is only one chunk, the pool
 * has one thread, or the caller is itself inside a nyx_parallel_for body
 * (nested parallelism is serial). Safe to call from several threads at once;
 * concurrent calls take turns using the pool. */
void nyx_parallel_for(int64_t n,
                      void (*body)(void *ctx, int64_t begin, int64_t end),
                      void *ctx);

/* The number of threads (the caller included) nyx_parallel_for uses: the last
 * value given to nyx_set_num_threads, else the environment variable
 * NYX_NUM_THREADS, else the number of online CPUs. */
int nyx_get_num_threads(void);

/* Sets the thread count for later nyx_parallel_for calls; n <= 0 restores the
 * default (NYX_NUM_THREADS or the CPU count). Values above 1024 are clamped.
 * Waits for a nyx_parallel_for in progress on another thread to finish. */
void nyx_set_num_threads(int n);

/* Working memory for generated kernels (packed GEMM operands): a 64-byte
 * aligned block of at least `bytes` bytes owned by the calling thread,
 * valid until its next nyx_scratch call; kept and reused, freed when the
 * thread exits. A kernel calls it once per thread and chunk, never while an
 * earlier block is still in use on that thread. Aborts with a message when
 * the memory cannot be had: kernels have no error path. */
void *nyx_scratch(int64_t bytes);

/* ---- Parameter initialization ------------------------------------------ */

/* Fills dst[0..n) with floats drawn uniformly from [lo, hi). The draws are
 * a function of (seed, stream, index) alone (a counter-based generator), so
 * a seed gives the same bits on every machine and thread count; each
 * parameter of a model uses its own stream. lo == hi fills the constant. */
void nyx_fill_uniform(float *dst, int64_t n, float lo, float hi, uint64_t seed,
                      uint64_t stream);

/* ---- Weights ---------------------------------------------------------- */

/* One tensor a generated object expects in its weights buffer. */
typedef struct nyx_tensor_desc {
  const char *name;
  nyx_dtype dtype;
  int rank;
  const int64_t *shape;
  size_t offset; /* byte offset of the tensor inside the weights buffer */
} nyx_tensor_desc;

/* Reads the safetensors file at `path`, checks that every desc names a tensor
 * the file holds with exactly that dtype and shape (other tensors in the file
 * are ignored), allocates a buffer of total_bytes aligned to `align` (a power
 * of two; 0 means 64), zero-fills it, copies each tensor to its offset and
 * stores the buffer in *out_buffer. Free it with nyx_free_weights.
 *
 * Errors: NYX_ERR_IO (cannot read the file), NYX_ERR_FORMAT (malformed file),
 * NYX_ERR_UNSUPPORTED (dtype the runtime does not know), NYX_ERR_NOT_FOUND,
 * NYX_ERR_SHAPE_MISMATCH, NYX_ERR_DTYPE_MISMATCH, NYX_ERR_INVALID_ARGUMENT (a
 * desc does not fit in total_bytes, bad align, null pointers),
 * NYX_ERR_OUT_OF_MEMORY. On error *out_buffer is set to NULL. */
int nyx_load_weights(const char *path, const nyx_tensor_desc *descs,
                     size_t count, size_t total_bytes, size_t align,
                     void **out_buffer);

/* Frees a buffer from nyx_load_weights; NULL is ignored. */
void nyx_free_weights(void *buffer);

#ifdef __cplusplus
}
#endif

#endif /* NYX_RUNTIME_H */
