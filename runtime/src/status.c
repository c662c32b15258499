/* Status strings, the thread-local error message, dtype helpers and shape
 * arithmetic shared by the rest of the runtime. */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

const char *nyx_status_string(int status) {
  switch (status) {
  case NYX_OK:
    return "NYX_OK: success";
  case NYX_ERR_INVALID_ARGUMENT:
    return "NYX_ERR_INVALID_ARGUMENT: an argument is null or out of range";
  case NYX_ERR_MISALIGNED:
    return "NYX_ERR_MISALIGNED: a buffer is not aligned as required";
  case NYX_ERR_IO:
    return "NYX_ERR_IO: a file could not be opened, read or written";
  case NYX_ERR_FORMAT:
    return "NYX_ERR_FORMAT: a file is truncated or malformed";
  case NYX_ERR_NOT_FOUND:
    return "NYX_ERR_NOT_FOUND: a named tensor does not exist";
  case NYX_ERR_SHAPE_MISMATCH:
    return "NYX_ERR_SHAPE_MISMATCH: a tensor has a different shape than "
           "expected";
  case NYX_ERR_DTYPE_MISMATCH:
    return "NYX_ERR_DTYPE_MISMATCH: a tensor has a different dtype than "
           "expected";
  case NYX_ERR_WEIGHTS_NOT_LOADED:
    return "NYX_ERR_WEIGHTS_NOT_LOADED: the model's weights have not been "
           "loaded";
  case NYX_ERR_OUT_OF_MEMORY:
    return "NYX_ERR_OUT_OF_MEMORY: a memory allocation failed";
  case NYX_ERR_UNSUPPORTED:
    return "NYX_ERR_UNSUPPORTED: the request uses a feature the runtime does "
           "not support";
  case NYX_ERR_NO_GPU:
    return "NYX_ERR_NO_GPU: GPU not available";
  default:
    return "unknown status";
  }
}

/* Sized for messages naming a path, a tensor and two shapes; longer ones are
 * truncated rather than allocated so recording an error can never fail. */
static _Thread_local char last_error[1024];

const char *nyx_last_error(void) { return last_error; }

int nyx_fail(int status, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, args);
  va_end(args);
  return status;
}

size_t nyx_dtype_size(nyx_dtype dtype) {
  switch (dtype) {
  case NYX_F32:
  case NYX_I32:
    return 4;
  case NYX_F16:
  case NYX_BF16:
    return 2;
  case NYX_F64:
  case NYX_I64:
    return 8;
  case NYX_I8:
  case NYX_BOOL:
    return 1;
  }
  return 0;
}

const char *nyx_dtype_name(nyx_dtype dtype) {
  switch (dtype) {
  case NYX_F32:
    return "f32";
  case NYX_F16:
    return "f16";
  case NYX_BF16:
    return "bf16";
  case NYX_F64:
    return "f64";
  case NYX_I8:
    return "i8";
  case NYX_I32:
    return "i32";
  case NYX_I64:
    return "i64";
  case NYX_BOOL:
    return "bool";
  }
  return "unknown";
}

void nyx_free(void *ptr) { free(ptr); }

bool nyx_shape_bytes(int rank, const int64_t *shape, size_t elem_size,
                     size_t *nbytes) {
  size_t total = elem_size;
  for (int i = 0; i < rank; ++i) {
    if (shape[i] < 0)
      return false;
    if (shape[i] == 0)
      total = 0; /* an empty tensor, however large its other dimensions */
  }
  for (int i = 0; i < rank && total != 0; ++i) {
    uint64_t dim = (uint64_t)shape[i];
    if (dim != 0 && total > SIZE_MAX / dim)
      return false;
    total *= (size_t)dim;
  }
  *nbytes = total;
  return true;
}

void nyx_format_shape(int rank, const int64_t *shape, char *buf, size_t size) {
  size_t used = 0;
  if (size == 0)
    return;
  buf[0] = '\0';
  used += (size_t)snprintf(buf, size, "[");
  for (int i = 0; i < rank && used < size; ++i)
    used += (size_t)snprintf(buf + used, size - used, i ? ",%lld" : "%lld",
                             (long long)shape[i]);
  if (used < size)
    snprintf(buf + used, size - used, "]");
}
