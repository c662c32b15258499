/* Reading and writing safetensors files
 * (https://github.com/huggingface/safetensors): an 8-byte little-endian header
 * length N, N bytes of JSON describing each tensor, then the tensor data. */
#ifndef NYX_SAFETENSORS_H
#define NYX_SAFETENSORS_H

#include "nyx/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nyx_safetensors nyx_safetensors;

/* A tensor inside an open file (or, for nyx_safetensors_write, one to write).
 * When read, every pointer stays valid until nyx_safetensors_close; `data` may
 * not be aligned for the element type (copy it out with memcpy). */
typedef struct nyx_tensor_view {
  const char *name;
  nyx_dtype dtype;
  int rank;
  const int64_t *shape;
  const void *data;
  size_t nbytes;
} nyx_tensor_view;

/* Opens and fully validates a file: header length within the file, strict
 * JSON, known keys, supported dtypes (F32 F16 BF16 F64 I8 I32 I64 BOOL; any
 * other dtype gives NYX_ERR_UNSUPPORTED), rank <= 8, offsets inside the data
 * and matching dtype size times element count, no overlapping tensors, no
 * duplicate names. Errors: NYX_ERR_IO, NYX_ERR_FORMAT, NYX_ERR_UNSUPPORTED,
 * NYX_ERR_OUT_OF_MEMORY, NYX_ERR_INVALID_ARGUMENT. */
int nyx_safetensors_open(const char *path, nyx_safetensors **out);

/* Number of tensors (the "__metadata__" entry is not a tensor). */
size_t nyx_safetensors_count(const nyx_safetensors *file);

/* The index-th tensor, in the order of their data offsets.
 * NYX_ERR_INVALID_ARGUMENT if index >= count. */
int nyx_safetensors_get(const nyx_safetensors *file, size_t index,
                        nyx_tensor_view *out);

/* The tensor with that name, or NYX_ERR_NOT_FOUND. */
int nyx_safetensors_find(const nyx_safetensors *file, const char *name,
                         nyx_tensor_view *out);

/* Releases the file; NULL is ignored. */
void nyx_safetensors_close(nyx_safetensors *file);

/* Writes `count` tensors, their data in the given order, with the header
 * padded by spaces to a multiple of 8 bytes. Each tensor's nbytes must equal
 * its element count times the dtype size; names must be unique, non-empty and
 * not "__metadata__". The file is written to a temporary file next to `path`
 * and renamed over it, so a reader never sees a partial file. */
int nyx_safetensors_write(const char *path, const nyx_tensor_view *tensors,
                          size_t count);

#ifdef __cplusplus
}
#endif

#endif /* NYX_SAFETENSORS_H */
