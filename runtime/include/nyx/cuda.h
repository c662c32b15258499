/* The CUDA side of libnyxrt: device memory, streams, and the module loading
 * and kernel launches that objects compiled with `nyxc --target=cuda-*` call.
 *
 * The runtime opens the NVIDIA driver (libcuda.so.1) with dlopen the first
 * time any function here is called, so a program linked with -lnyxrt starts
 * and runs its CPU code on machines without a driver; there every function
 * below returns NYX_ERR_NO_GPU and nyx_last_error says why.
 *
 * Environment:
 *   NYX_CUDA_DEVICE  the device ordinal to use (default 0);
 *   NYX_CUDA_DRIVER  the driver library to open instead of "libcuda.so.1".
 * Both are read once, by the first call. */
#ifndef NYX_CUDA_H
#define NYX_CUDA_H

#include "nyx/runtime.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A CUDA stream; NULL means the legacy default stream. Streams made by
 * nyx_stream_create are ordered with the default stream, as the driver's
 * blocking streams are. */
typedef struct nyx_stream nyx_stream;

/* A module loaded into the device's context and its kernels. Lives until the
 * process exits. */
typedef struct nyx_cuda_module nyx_cuda_module;

/* Returns NYX_OK when a driver and the selected device are usable: loads the
 * driver, initializes it, retains the device's primary context and makes it
 * current on the calling thread. Otherwise NYX_ERR_NO_GPU, with a message
 * such as "libcuda.so.1 not found (no NVIDIA driver)", "cuInit failed: <the
 * driver's text>" or "no CUDA device". The outcome of the first call is kept:
 * later calls are cheap and give the same status and message. Thread-safe.
 * Every other function in this header calls it first (except nyx_cuda_free
 * and nyx_stream_destroy given NULL, which do nothing), so each works on any
 * thread. */
int nyx_cuda_init(void);

/* Writes the device's name (NUL-terminated, truncated to name_size) and its
 * compute capability. Any output may be NULL (name also when name_size is 0).
 * On failure the name is "" and the capability 0.0. */
int nyx_cuda_device_info(char *name, size_t name_size, int *major, int *minor);

/* ---- Streams ---------------------------------------------------------- */

/* Creates a stream in *out (NULL on failure). Errors: NYX_ERR_NO_GPU,
 * NYX_ERR_INVALID_ARGUMENT (out is NULL or the driver refused). */
int nyx_stream_create(nyx_stream **out);

/* Waits for the work queued on `stream`; NULL waits for all work in the
 * context. A kernel that faulted earlier reports its error here. */
int nyx_stream_synchronize(nyx_stream *stream);

/* Destroys a stream from nyx_stream_create once its queued work is done (the
 * call does not wait). NULL, the default stream, is ignored: NYX_OK. */
int nyx_stream_destroy(nyx_stream *stream);

/* ---- Device memory ---------------------------------------------------- */

/* Allocates `bytes` of device memory through a caching allocator: sizes are
 * rounded up to a size class (a multiple of 512 bytes below 1 MiB, of 2 MiB
 * from 1 MiB on), and freed blocks are kept per class and handed out again.
 * When the driver has no memory left, the cached blocks are returned to it
 * and the allocation tried once more before failing with
 * NYX_ERR_OUT_OF_MEMORY. bytes == 0 gives *device_ptr = NULL and NYX_OK. On
 * failure *device_ptr is NULL. Thread-safe. */
int nyx_cuda_malloc(void **device_ptr, size_t bytes);

/* Returns a block from nyx_cuda_malloc to the cache. A block may be handed
 * out again at once, so free it only after the work that uses it is ordered
 * before any later use (queued on the same stream, or synchronized). NULL is
 * ignored (NYX_OK, without touching the driver); a pointer nyx_cuda_malloc
 * did not return, or one already freed, gives NYX_ERR_INVALID_ARGUMENT. */
int nyx_cuda_free(void *device_ptr);

/* Returns every cached block to the driver. Does nothing when the driver was
 * never initialized. */
void nyx_cuda_release_cached(void);

/* Copies and fills, queued on `stream` (NULL: the default stream); wait for
 * them with nyx_stream_synchronize. Host memory need not be pinned: the driver
 * stages pageable memory, and may return only once the host buffer has been
 * read (to the device) or written (to the host). bytes == 0 does nothing.
 * Errors: NYX_ERR_NO_GPU, NYX_ERR_INVALID_ARGUMENT (a NULL pointer, or the
 * driver refused the range), NYX_ERR_OUT_OF_MEMORY. */
int nyx_cuda_copy_to_device(void *dst, const void *src, size_t bytes,
                            nyx_stream *stream);
int nyx_cuda_copy_to_host(void *dst, const void *src, size_t bytes,
                          nyx_stream *stream);
int nyx_cuda_copy_device(void *dst, const void *src, size_t bytes,
                         nyx_stream *stream);
/* Sets `bytes` bytes at dst to (unsigned char)byte. */
int nyx_cuda_memset(void *dst, int byte, size_t bytes, nyx_stream *stream);

/* ---- What generated code calls ---------------------------------------- */

/* Returns in *slot the module built from a compiled object's embedded code,
 * loading it on the first call and returning the cached one afterwards
 * (thread-safe; a failed load leaves *slot NULL and is tried again by the
 * next call). `cubin` (cubin_bytes > 0) is tried first; when there is none,
 * or the driver rejects it (a cubin for another architecture), the
 * NUL-terminated `ptx` is compiled by the driver's JIT. Then each of
 * kernel_names[0..num_kernels) is looked up; nyx_cuda_launch takes an index
 * into that list.
 * Errors: NYX_ERR_NO_GPU; NYX_ERR_FORMAT (the driver rejects the code; the
 * message holds the JIT's error log); NYX_ERR_UNSUPPORTED (the PTX is too new
 * for the driver, or no code for this GPU); NYX_ERR_NOT_FOUND (a kernel name
 * is missing, named in the message); NYX_ERR_OUT_OF_MEMORY;
 * NYX_ERR_INVALID_ARGUMENT (slot NULL, neither PTX nor cubin, a NULL name). */
int nyx_cuda_module_get(nyx_cuda_module **slot, const char *ptx,
                        const void *cubin, size_t cubin_bytes,
                        const char *const *kernel_names, int num_kernels);

/* Queues kernel `index` of `module` on `stream` with a 1-D grid of grid_x
 * blocks of block_x threads and shared_bytes of dynamic shared memory.
 * `args` holds a pointer to each argument's value, as cuLaunchKernel takes
 * them. Above 48 KiB of shared memory the kernel's limit is raised first
 * (once per kernel and size). Errors, with the kernel's name and the driver's
 * text: NYX_ERR_OUT_OF_MEMORY (CUDA_ERROR_OUT_OF_MEMORY), else
 * NYX_ERR_INVALID_ARGUMENT (bad index, a launch the driver refuses). A fault
 * while the kernel runs is reported by a later synchronize. */
int nyx_cuda_launch(nyx_cuda_module *module, int index, uint32_t grid_x,
                    uint32_t block_x, uint32_t shared_bytes, void **args,
                    nyx_stream *stream);

/* Returns in *slot a device copy of the host block [host, host + bytes) (a
 * model's weights), made by the first call and cached for the process
 * (thread-safe; the copy is complete when the call returns). The block is
 * not owned by the caching allocator: never pass it to nyx_cuda_free.
 * bytes == 0 gives *slot = NULL and NYX_OK. */
int nyx_cuda_upload_once(void **slot, const void *host, size_t bytes);

/* The body of a generated <name>_run on host buffers: allocates a device
 * buffer for each of host_buffers[0..count) (bytes[i] bytes) and a device
 * arena of arena_bytes, copies the buffers whose directions[i] has bit 1 (an
 * input) to the device, calls run(device_buffers, device_arena, NULL),
 * copies the buffers whose directions[i] has bit 2 (an output, or an input
 * updated in place) back, waits for the device, and frees the device memory
 * (on every path). Errors: those of the calls it makes, or
 * NYX_ERR_INVALID_ARGUMENT for a NULL buffer. */
int nyx_cuda_run_host(int (*run)(void **device_buffers, void *device_arena,
                                 nyx_stream *stream),
                      void **host_buffers, const uint64_t *bytes,
                      const uint8_t *directions, int count,
                      uint64_t arena_bytes);

#ifdef __cplusplus
}
#endif

#endif /* NYX_CUDA_H */
