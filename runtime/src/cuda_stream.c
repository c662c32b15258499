/* Streams: a nyx_stream is the driver's CUstream under another name. */
#include "cuda_driver.h"

int nyx_stream_create(nyx_stream **out) {
  if (out)
    *out = NULL;
  int status = nyx_cuda_init();
  if (status != NYX_OK)
    return status;
  if (!out)
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "nyx_stream_create: the output pointer is NULL");
  CUstream stream = NULL;
  /* A blocking stream stays ordered with the legacy default stream, where
   * nyx_cuda_upload_once and callers passing NULL queue their work. */
  CUresult result = nyx_cu.cuStreamCreate(&stream, CU_STREAM_DEFAULT);
  if (result != CUDA_SUCCESS)
    return nyx_fail(nyx_cuda_status(result, NYX_ERR_INVALID_ARGUMENT),
                    "cuStreamCreate failed: %s", nyx_cuda_error_text(result));
  *out = (nyx_stream *)stream;
  return NYX_OK;
}

int nyx_stream_synchronize(nyx_stream *stream) {
  int status = nyx_cuda_init();
  if (status != NYX_OK)
    return status;
  CUresult result = stream ? nyx_cu.cuStreamSynchronize((CUstream)stream)
                           : nyx_cu.cuCtxSynchronize();
  if (result != CUDA_SUCCESS)
    return nyx_fail(nyx_cuda_status(result, NYX_ERR_INVALID_ARGUMENT),
                    "%s failed: %s",
                    stream ? "cuStreamSynchronize" : "cuCtxSynchronize",
                    nyx_cuda_error_text(result));
  return NYX_OK;
}

int nyx_stream_destroy(nyx_stream *stream) {
  if (!stream)
    return NYX_OK;
  int status = nyx_cuda_init();
  if (status != NYX_OK)
    return status;
  CUresult result = nyx_cu.cuStreamDestroy((CUstream)stream);
  if (result != CUDA_SUCCESS)
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT, "cuStreamDestroy failed: %s",
                    nyx_cuda_error_text(result));
  return NYX_OK;
}
