/* Whole-file reads and atomic (temporary file + rename) writes. */
#define _POSIX_C_SOURCE 200809L

#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int nyx_read_file(const char *path, unsigned char **data, size_t *size) {
  *data = NULL;
  *size = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return nyx_fail(NYX_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return nyx_fail(NYX_ERR_IO, "%s: cannot stat: %s", path, strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return nyx_fail(NYX_ERR_IO, "%s: not a regular file", path);
  }
  size_t length = (size_t)st.st_size;
  unsigned char *buffer = malloc(length ? length : 1);
  if (!buffer) {
    close(fd);
    return nyx_fail(NYX_ERR_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes",
                    path, length);
  }
  size_t done = 0;
  while (done < length) {
    ssize_t got = read(fd, buffer + done, length - done);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0) {
      int err = errno;
      free(buffer);
      close(fd);
      return nyx_fail(NYX_ERR_IO, "%s: read failed: %s", path, strerror(err));
    }
    if (got == 0)
      break; /* the file shrank while being read; use what is there */
    done += (size_t)got;
  }
  close(fd);
  *data = buffer;
  *size = done;
  return NYX_OK;
}

static int write_all(int fd, const void *data, size_t size) {
  const unsigned char *bytes = data;
  while (size > 0) {
    ssize_t put = write(fd, bytes, size);
    if (put < 0 && errno == EINTR)
      continue;
    if (put < 0)
      return -1;
    bytes += put;
    size -= (size_t)put;
  }
  return 0;
}

/* Creates a fresh file next to `path` with O_EXCL (so the process umask
 * applies, unlike mkstemp's fixed 0600) and returns its descriptor; *temp
 * receives the malloc'd name. */
static int create_temp_file(const char *path, char **temp) {
  static atomic_uint counter;
  size_t size = strlen(path) + 48;
  char *name = malloc(size);
  *temp = name;
  if (!name) {
    errno = ENOMEM;
    return -1;
  }
  for (int attempt = 0; attempt < 100; ++attempt) {
    snprintf(name, size, "%s.tmp.%ld.%u", path, (long)getpid(),
             atomic_fetch_add(&counter, 1));
    int fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0 || errno != EEXIST)
      return fd;
  }
  return -1;
}

int nyx_write_file_atomic(const char *path, const nyx_byte_range *ranges,
                          size_t count) {
  char *temp = NULL;
  int fd = create_temp_file(path, &temp);
  if (fd < 0) {
    int err = errno;
    free(temp);
    return nyx_fail(NYX_ERR_IO, "%s: cannot create a temporary file: %s", path,
                    strerror(err));
  }
  for (size_t i = 0; i < count; ++i) {
    if (ranges[i].size && write_all(fd, ranges[i].data, ranges[i].size) != 0) {
      int err = errno;
      close(fd);
      unlink(temp);
      free(temp);
      return nyx_fail(NYX_ERR_IO, "%s: write failed: %s", path, strerror(err));
    }
  }
  if (close(fd) != 0) {
    int err = errno;
    unlink(temp);
    free(temp);
    return nyx_fail(NYX_ERR_IO, "%s: write failed: %s", path, strerror(err));
  }
  if (rename(temp, path) != 0) {
    int err = errno;
    unlink(temp);
    free(temp);
    return nyx_fail(NYX_ERR_IO,
                    "%s: cannot rename the temporary file into "
                    "place: %s",
                    path, strerror(err));
  }
  free(temp);
  return NYX_OK;
}
