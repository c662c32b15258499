/* Reading and writing NumPy .npy files
 * (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html). */
#ifndef NYX_NPY_H
#define NYX_NPY_H

#include "nyx/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The largest rank .npy reading and writing supports. */
#define NYX_NPY_MAX_RANK 8

/* Reads a version 1.0, 2.0 or 3.0 file holding a little-endian C-order array
 * of dtype <f4 <f2 <f8 |i1 <i4 <i8 or |b1. On success *data is a malloc'd
 * copy of the elements (free with nyx_free; never NULL, even for an empty
 * array) and *nbytes its size. Errors: NYX_ERR_IO, NYX_ERR_FORMAT (bad magic,
 * bad header, truncated or oversized data), NYX_ERR_UNSUPPORTED (other dtypes,
 * big-endian, fortran_order True, rank above 8), NYX_ERR_OUT_OF_MEMORY,
 * NYX_ERR_INVALID_ARGUMENT. */
int nyx_npy_read(const char *path, nyx_dtype *dtype, int *rank,
                 int64_t shape[NYX_NPY_MAX_RANK], void **data, size_t *nbytes);

/* Writes a version 1.0 file (header padded so the data starts at a multiple
 * of 64 bytes) through a temporary file renamed over `path`. NYX_F16 is
 * written as <f2; NYX_BF16 has no .npy dtype and gives NYX_ERR_UNSUPPORTED.
 * `data` holds the product of shape elements; it may be NULL only when that
 * product is 0. */
int nyx_npy_write(const char *path, nyx_dtype dtype, int rank,
                  const int64_t *shape, const void *data);

#ifdef __cplusplus
}
#endif

#endif /* NYX_NPY_H */
