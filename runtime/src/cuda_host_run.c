/* nyx_cuda_run_host: a device-pointer entry point run on host buffers. */
#include "internal.h"
#include "nyx/cuda.h"

#include <stdlib.h>

enum { COPY_IN = 1, COPY_OUT = 2 };

int nyx_cuda_run_host(int (*run)(void **device_buffers, void *device_arena,
                                 nyx_stream *stream),
                      void **host_buffers, const uint64_t *bytes,
                      const uint8_t *directions, int count,
                      uint64_t arena_bytes) {
  if (!run || count < 0 ||
      (count > 0 && (!host_buffers || !bytes || !directions)))
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "nyx_cuda_run_host: NULL entry point or tables");
  for (int i = 0; i < count; ++i)
    if (!host_buffers[i])
      return nyx_fail(NYX_ERR_INVALID_ARGUMENT, "buffer %d of the run is NULL",
                      i);
  int status = nyx_cuda_init();
  if (status != NYX_OK)
    return status;
  void **device = calloc(count > 0 ? (size_t)count : 1, sizeof(void *));
  void *arena = NULL;
  if (!device)
    return nyx_fail(NYX_ERR_OUT_OF_MEMORY, "out of host memory");
  status = nyx_cuda_malloc(&arena, arena_bytes);
  for (int i = 0; i < count && status == NYX_OK; ++i) {
    /* A zero-byte buffer still needs a non-NULL pointer for the run's
     * argument checks; one byte does. */
    status = nyx_cuda_malloc(&device[i], bytes[i] > 0 ? bytes[i] : 1);
    if (status == NYX_OK && (directions[i] & COPY_IN) && bytes[i] > 0)
      status =
          nyx_cuda_copy_to_device(device[i], host_buffers[i], bytes[i], NULL);
  }
  if (status == NYX_OK)
    status = run(device, arena, NULL);
  for (int i = 0; i < count && status == NYX_OK; ++i)
    if ((directions[i] & COPY_OUT) && bytes[i] > 0)
      status =
          nyx_cuda_copy_to_host(host_buffers[i], device[i], bytes[i], NULL);
  /* Frees only after the device has finished with the memory. */
  int synced = nyx_stream_synchronize(NULL);
  if (status == NYX_OK)
    status = synced;
  for (int i = 0; i < count; ++i)
    nyx_cuda_free(device[i]);
  nyx_cuda_free(arena);
  free(device);
  return status;
}
