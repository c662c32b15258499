/* nyx_load_weights: fills a generated object's weights buffer from a
 * safetensors file, checking each tensor against what the object expects. */
#define _POSIX_C_SOURCE 200809L

#include "internal.h"
#include "nyx/safetensors.h"

#include <stdlib.h>
#include <string.h>

static bool same_shape(int rank_a, const int64_t *a, int rank_b,
                       const int64_t *b) {
  if (rank_a != rank_b)
    return false;
  for (int i = 0; i < rank_a; ++i)
    if (a[i] != b[i])
      return false;
  return true;
}

/* Checks one desc against the file and the buffer bounds. */
static int check_desc(const char *path, const nyx_safetensors *file,
                      const nyx_tensor_desc *desc, size_t index,
                      size_t total_bytes, nyx_tensor_view *view) {
  if (!desc->name)
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "nyx_load_weights: descriptor %zu has no name", index);
  if (desc->rank < 0 || (desc->rank > 0 && !desc->shape))
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "nyx_load_weights: descriptor '%s' has rank %d without a "
                    "shape",
                    desc->name, desc->rank);
  if (nyx_safetensors_find(file, desc->name, view) != NYX_OK)
    return nyx_fail(NYX_ERR_NOT_FOUND, "%s: no tensor named '%s'", path,
                    desc->name);
  if (view->dtype != desc->dtype)
    return nyx_fail(NYX_ERR_DTYPE_MISMATCH,
                    "%s: tensor '%s' has dtype %s; expected %s", path,
                    desc->name, nyx_dtype_name(view->dtype),
                    nyx_dtype_name(desc->dtype));
  if (!same_shape(view->rank, view->shape, desc->rank, desc->shape)) {
    char found[160], expected[160];
    nyx_format_shape(view->rank, view->shape, found, sizeof found);
    nyx_format_shape(desc->rank, desc->shape, expected, sizeof expected);
    return nyx_fail(NYX_ERR_SHAPE_MISMATCH,
                    "%s: tensor '%s' has shape %s; expected %s", path,
                    desc->name, found, expected);
  }
  if (desc->offset > total_bytes || view->nbytes > total_bytes - desc->offset)
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "nyx_load_weights: tensor '%s' (%zu bytes at offset %zu) "
                    "does not fit in the %zu-byte weights buffer",
                    desc->name, view->nbytes, desc->offset, total_bytes);
  return NYX_OK;
}

int nyx_load_weights(const char *path, const nyx_tensor_desc *descs,
                     size_t count, size_t total_bytes, size_t align,
                     void **out_buffer) {
  if (!out_buffer)
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "nyx_load_weights: out_buffer is NULL");
  *out_buffer = NULL;
  if (!path || (count && !descs))
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "nyx_load_weights: path or descs is NULL");
  if (align == 0)
    align = 64;
  if ((align & (align - 1)) != 0)
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "nyx_load_weights: align %zu is not a power of two", align);
  if (align < sizeof(void *))
    align = sizeof(void *); /* posix_memalign's minimum */

  nyx_safetensors *file;
  int status = nyx_safetensors_open(path, &file);
  if (status != NYX_OK)
    return status;

  nyx_tensor_view *views = malloc((count ? count : 1) * sizeof *views);
  if (!views) {
    nyx_safetensors_close(file);
    return nyx_fail(NYX_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
  }
  for (size_t i = 0; i < count && status == NYX_OK; ++i)
    status = check_desc(path, file, &descs[i], i, total_bytes, &views[i]);

  void *buffer = NULL;
  if (status == NYX_OK &&
      posix_memalign(&buffer, align, total_bytes ? total_bytes : 1) != 0)
    status =
        nyx_fail(NYX_ERR_OUT_OF_MEMORY,
                 "%s: cannot allocate %zu bytes of weights", path, total_bytes);
  if (status == NYX_OK) {
    /* Bytes no tensor covers (alignment padding) are deterministic zeros. */
    memset(buffer, 0, total_bytes);
    for (size_t i = 0; i < count; ++i)
      if (views[i].nbytes)
        memcpy((unsigned char *)buffer + descs[i].offset, views[i].data,
               views[i].nbytes);
    *out_buffer = buffer;
  }
  free(views);
  nyx_safetensors_close(file);
  return status;
}

void nyx_free_weights(void *buffer) { free(buffer); }
