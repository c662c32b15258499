/* Helpers shared by the runtime's source files; not part of the public API. */
#ifndef NYX_RUNTIME_INTERNAL_H
#define NYX_RUNTIME_INTERNAL_H

#include "nyx/runtime.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define NYX_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define NYX_PRINTF(fmt, args)
#endif

/* Records a printf-style detail message for nyx_last_error and returns
 * `status`, so a failing path reads `return nyx_fail(NYX_ERR_IO, ...)`. */
int nyx_fail(int status, const char *fmt, ...) NYX_PRINTF(2, 3);

/* Number of elements of a shape, or false when a dimension is negative or the
 * product (times elem_size, giving *nbytes) overflows size_t. */
bool nyx_shape_bytes(int rank, const int64_t *shape, size_t elem_size,
                     size_t *nbytes);

/* Formats a shape as "[2,3]" into buf (truncated to size). */
void nyx_format_shape(int rank, const int64_t *shape, char *buf, size_t size);

/* Reads a whole file into a malloc'd buffer (at least one byte allocated).
 * Fails with NYX_ERR_IO or NYX_ERR_OUT_OF_MEMORY. */
int nyx_read_file(const char *path, unsigned char **data, size_t *size);

/* Writes `count` byte ranges to a temporary file in the directory of `path`
 * and renames it over `path`, so `path` is either the old file or the
 * complete new one. Fails with NYX_ERR_IO or NYX_ERR_OUT_OF_MEMORY. */
typedef struct nyx_byte_range {
  const void *data;
  size_t size;
} nyx_byte_range;
int nyx_write_file_atomic(const char *path, const nyx_byte_range *ranges,
                          size_t count);

#endif /* NYX_RUNTIME_INTERNAL_H */
