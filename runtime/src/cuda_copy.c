/* Copies between host and device, fills, and the one-time upload of a
 * model's constant blocks. */
#include "cuda_driver.h"

#include <pthread.h>
#include <stdint.h>

static CUdeviceptr device_address(const void *ptr) {
  return (CUdeviceptr)(uintptr_t)ptr;
}

/* The shared prologue: the driver is ready and, unless the copy is empty,
 * neither pointer is NULL. */
static int check_copy(const char *what, void *dst, const void *src,
                      size_t bytes) {
  int status = nyx_cuda_init();
  if (status != NYX_OK)
    return status;
  if (bytes > 0 && (!dst || !src))
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "%s of %zu bytes: the %s pointer is NULL", what, bytes,
                    dst ? "source" : "destination");
  return NYX_OK;
}

static int copy_result(const char *what, CUresult result, size_t bytes) {
  if (result == CUDA_SUCCESS)
    return NYX_OK;
  return nyx_fail(nyx_cuda_status(result, NYX_ERR_INVALID_ARGUMENT),
                  "%s of %zu bytes failed: %s", what, bytes,
                  nyx_cuda_error_text(result));
}

int nyx_cuda_copy_to_device(void *dst, const void *src, size_t bytes,
                            nyx_stream *stream) {
  const char *what = "nyx_cuda_copy_to_device";
  int status = check_copy(what, dst, src, bytes);
  if (status != NYX_OK || bytes == 0)
    return status;
  return copy_result(what,
                     nyx_cu.cuMemcpyHtoDAsync(device_address(dst), src, bytes,
                                              (CUstream)stream),
                     bytes);
}

int nyx_cuda_copy_to_host(void *dst, const void *src, size_t bytes,
                          nyx_stream *stream) {
  const char *what = "nyx_cuda_copy_to_host";
  int status = check_copy(what, dst, src, bytes);
  if (status != NYX_OK || bytes == 0)
    return status;
  return copy_result(what,
                     nyx_cu.cuMemcpyDtoHAsync(dst, device_address(src), bytes,
                                              (CUstream)stream),
                     bytes);
}

int nyx_cuda_copy_device(void *dst, const void *src, size_t bytes,
                         nyx_stream *stream) {
  const char *what = "nyx_cuda_copy_device";
  int status = check_copy(what, dst, src, bytes);
  if (status != NYX_OK || bytes == 0)
    return status;
  return copy_result(what,
                     nyx_cu.cuMemcpyDtoDAsync(device_address(dst),
                                              device_address(src), bytes,
                                              (CUstream)stream),
                     bytes);
}

int nyx_cuda_memset(void *dst, int byte, size_t bytes, nyx_stream *stream) {
  const char *what = "nyx_cuda_memset";
  /* There is no source: pass dst for it so only dst is checked. */
  int status = check_copy(what, dst, dst, bytes);
  if (status != NYX_OK || bytes == 0)
    return status;
  return copy_result(what,
                     nyx_cu.cuMemsetD8Async(device_address(dst),
                                            (unsigned char)byte, bytes,
                                            (CUstream)stream),
                     bytes);
}

/* Uploads are rare and happen before a model's first run, so one lock for
 * all slots is enough. */
static pthread_mutex_t upload_lock = PTHREAD_MUTEX_INITIALIZER;

int nyx_cuda_upload_once(void **slot, const void *host, size_t bytes) {
  int status = nyx_cuda_init();
  if (status != NYX_OK)
    return status;
  if (!slot)
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "nyx_cuda_upload_once: the slot pointer is NULL");
  if (bytes == 0) {
    *slot = NULL;
    return NYX_OK;
  }
  if (!host)
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "nyx_cuda_upload_once of %zu bytes: the host pointer is "
                    "NULL",
                    bytes);
  /* Published with release order after the copy finished, so a thread that
   * sees the pointer here sees the uploaded data. */
  if (__atomic_load_n(slot, __ATOMIC_ACQUIRE))
    return NYX_OK;
  pthread_mutex_lock(&upload_lock);
  if (!*slot) {
    CUdeviceptr ptr = 0;
    status = nyx_cuda_alloc_uncached(&ptr, bytes);
    if (status == NYX_OK) {
      CUresult result = nyx_cu.cuMemcpyHtoDAsync(ptr, host, bytes, NULL);
      if (result == CUDA_SUCCESS)
        result = nyx_cu.cuStreamSynchronize(NULL);
      if (result == CUDA_SUCCESS) {
        __atomic_store_n(slot, (void *)(uintptr_t)ptr, __ATOMIC_RELEASE);
      } else {
        nyx_cu.cuMemFree(ptr);
        status = copy_result("nyx_cuda_upload_once", result, bytes);
      }
    }
  }
  pthread_mutex_unlock(&upload_lock);
  return status;
}
