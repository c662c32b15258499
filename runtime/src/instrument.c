/* The run-time side of `nyxc --instrument`: a user hook, or one .npy file per
 * computed value. */
#define _POSIX_C_SOURCE 200809L

#include "nyx/instrument.h"
#include "internal.h"
#include "nyx/npy.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Longest piece of a kernel or value name kept in a file name, so the whole
 * name stays far below NAME_MAX. */
#define NYX_NAME_PIECE_MAX 80

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static nyx_instrument_hook hook_fn;
static void *hook_user;
static char *dump_dir;              /* set by nyx_instrument_dump_to */
static unsigned long long next_seq; /* numbers the dumped files */

void nyx_set_instrument_hook(nyx_instrument_hook hook, void *user) {
  pthread_mutex_lock(&lock);
  hook_fn = hook;
  hook_user = user;
  pthread_mutex_unlock(&lock);
}

/* mkdir -p: creates `dir` and any missing parents. */
static int make_directories(const char *dir) {
  size_t n = strlen(dir);
  char *path = malloc(n + 1);
  if (!path)
    return nyx_fail(NYX_ERR_OUT_OF_MEMORY, "cannot allocate a path");
  memcpy(path, dir, n + 1);
  for (size_t i = 1; i <= n; ++i) {
    if (path[i] != '/' && path[i] != '\0')
      continue;
    char saved = path[i];
    path[i] = '\0';
    struct stat st;
    if (stat(path, &st) != 0 && mkdir(path, 0777) != 0 && errno != EEXIST) {
      int err = errno;
      path[i] = saved;
      free(path);
      return nyx_fail(NYX_ERR_IO, "%s: cannot create the directory: %s", dir,
                      strerror(err));
    }
    path[i] = saved;
  }
  free(path);
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
    return nyx_fail(NYX_ERR_IO, "%s: not a directory", dir);
  return NYX_OK;
}

int nyx_instrument_dump_to(const char *dir) {
  char *copy = NULL;
  if (dir) {
    int status = make_directories(dir);
    if (status != NYX_OK)
      return status;
    copy = strdup(dir);
    if (!copy)
      return nyx_fail(NYX_ERR_OUT_OF_MEMORY, "cannot allocate a path");
  }
  pthread_mutex_lock(&lock);
  free(dump_dir);
  dump_dir = copy;
  next_seq = 0;
  pthread_mutex_unlock(&lock);
  return NYX_OK;
}

/* Copies `name` into `out` keeping [A-Za-z0-9_.-] and turning every other
 * byte into '_', so any IR name makes a safe file-name piece. */
static void file_name_piece(const char *name, char *out) {
  size_t n = 0;
  for (; name[n] && n < NYX_NAME_PIECE_MAX; ++n) {
    char c = name[n];
    int keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    out[n] = keep ? c : '_';
  }
  if (n == 0 || (n <= 2 && out[0] == '.' && (n == 1 || out[1] == '.')))
    out[n++] = '_'; /* never "", "." or ".." */
  out[n] = '\0';
}

/* Writes one value. bf16 has no .npy dtype and is widened to f32 (exactly);
 * a rank above what .npy files here hold has its leading dimensions merged,
 * which keeps the row-major data as it is. */
static int dump_value(const char *dir, unsigned long long seq,
                      const char *kernel_name, const char *value_name,
                      const void *data, nyx_dtype dtype, int rank,
                      const int64_t *shape) {
  int status = make_directories(dir);
  if (status != NYX_OK)
    return status;
  char kernel[NYX_NAME_PIECE_MAX + 2], value[NYX_NAME_PIECE_MAX + 2];
  file_name_piece(kernel_name, kernel);
  file_name_piece(value_name, value);
  size_t size = strlen(dir) + strlen(kernel) + strlen(value) + 48;
  char *path = malloc(size);
  if (!path)
    return nyx_fail(NYX_ERR_OUT_OF_MEMORY, "cannot allocate a path");
  snprintf(path, size, "%s/%06llu-%s-%s.npy", dir, seq, kernel, value);

  int64_t dims[NYX_NPY_MAX_RANK];
  int extra = rank > NYX_NPY_MAX_RANK ? rank - NYX_NPY_MAX_RANK : 0;
  dims[0] = rank > 0 ? 1 : 0;
  for (int i = 0; i <= extra && rank > 0; ++i)
    dims[0] *= shape[i];
  for (int i = extra + 1; i < rank; ++i)
    dims[i - extra] = shape[i];
  int npy_rank = rank - extra;

  void *widened = NULL;
  if (dtype == NYX_BF16) {
    size_t count;
    nyx_shape_bytes(rank, shape, 1, &count);
    widened = malloc(count ? count * sizeof(float) : 1);
    if (!widened) {
      free(path);
      return nyx_fail(NYX_ERR_OUT_OF_MEMORY,
                      "cannot allocate %zu floats to widen a bf16 value",
                      count);
    }
    const uint16_t *bits = data;
    for (size_t i = 0; i < count; ++i) {
      uint32_t word = (uint32_t)bits[i] << 16;
      memcpy((float *)widened + i, &word, sizeof word);
    }
    data = widened;
    dtype = NYX_F32;
  }
  status = nyx_npy_write(path, dtype, npy_rank, dims, data);
  free(widened);
  free(path);
  return status;
}

int nyx_instrument(const char *kernel_name, const char *value_name,
                   const void *data, int dtype, int rank,
                   const int64_t *shape) {
  size_t nbytes;
  if (!kernel_name || !value_name || nyx_dtype_size((nyx_dtype)dtype) == 0 ||
      rank < 0 || (rank > 0 && !shape) ||
      !nyx_shape_bytes(rank, shape, nyx_dtype_size((nyx_dtype)dtype),
                       &nbytes) ||
      (nbytes > 0 && !data))
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "nyx_instrument: null name or data, bad dtype %d or "
                    "rank %d",
                    dtype, rank);

  pthread_mutex_lock(&lock);
  nyx_instrument_hook hook = hook_fn;
  void *user = hook_user;
  int dumping = 0;
  char *dir = NULL;
  unsigned long long seq = 0;
  if (!hook) {
    const char *chosen = dump_dir ? dump_dir : getenv("NYX_DUMP_DIR");
    dumping = chosen && *chosen;
    if (dumping) {
      dir = strdup(chosen);
      seq = next_seq++;
    }
  }
  pthread_mutex_unlock(&lock);

  /* The hook runs unlocked, so it may set another hook or run a model. */
  if (hook)
    return hook(user, kernel_name, value_name, data, (nyx_dtype)dtype, rank,
                shape);
  if (!dumping)
    return NYX_OK;
  if (!dir)
    return nyx_fail(NYX_ERR_OUT_OF_MEMORY, "cannot allocate a path");
  int status = dump_value(dir, seq, kernel_name, value_name, data,
                          (nyx_dtype)dtype, rank, shape);
  free(dir);
  return status;
}
