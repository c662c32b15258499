/* NumPy .npy reading (format versions 1.0, 2.0 and 3.0) and writing (1.0).
 *
 * The header is a Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 * parsed here by a small dedicated scanner. */
#include "nyx/npy.h"
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

static const struct {
  const char *descr;
  nyx_dtype dtype;
} kDescrs[] = {
    {"<f4", NYX_F32}, {"<f2", NYX_F16}, {"<f8", NYX_F64},  {"|i1", NYX_I8},
    {"<i4", NYX_I32}, {"<i8", NYX_I64}, {"|b1", NYX_BOOL},
};

typedef struct scanner {
  const char *path;
  const char *text;
  size_t length;
  size_t pos;
} scanner;

typedef struct npy_header {
  char descr[32];
  bool has_descr, has_fortran, has_shape;
  bool fortran_order;
  int rank;
  int64_t shape[NYX_NPY_MAX_RANK];
} npy_header;

static int header_error(const scanner *s, const char *what) {
  return nyx_fail(NYX_ERR_FORMAT, "%s: invalid .npy header at byte %zu: %s",
                  s->path, s->pos, what);
}

static void skip_spaces(scanner *s) {
  while (s->pos < s->length &&
         (s->text[s->pos] == ' ' || s->text[s->pos] == '\t' ||
          s->text[s->pos] == '\n' || s->text[s->pos] == '\r'))
    ++s->pos;
}

static bool peek(const scanner *s, char c) {
  return s->pos < s->length && s->text[s->pos] == c;
}

static bool consume_word(scanner *s, const char *word) {
  size_t n = strlen(word);
  if (s->length - s->pos < n || memcmp(s->text + s->pos, word, n) != 0)
    return false;
  s->pos += n;
  return true;
}

/* A quoted Python string without escapes (numpy never writes any). */
static int scan_string(scanner *s, char *out, size_t size) {
  if (!peek(s, '\'') && !peek(s, '"'))
    return header_error(s, "expected a quoted string");
  char quote = s->text[s->pos++];
  size_t start = s->pos;
  while (s->pos < s->length && s->text[s->pos] != quote) {
    if (s->text[s->pos] == '\\')
      return header_error(s, "escapes in strings are not supported");
    ++s->pos;
  }
  if (s->pos >= s->length)
    return header_error(s, "unterminated string");
  size_t n = s->pos - start;
  ++s->pos;
  if (n >= size)
    return header_error(s, "string is too long");
  memcpy(out, s->text + start, n);
  out[n] = '\0';
  return NYX_OK;
}

static int scan_shape(scanner *s, npy_header *h) {
  if (!peek(s, '('))
    return header_error(s, "expected '(' to start the shape tuple");
  ++s->pos;
  h->rank = 0;
  for (;;) {
    skip_spaces(s);
    if (peek(s, ')')) {
      ++s->pos;
      return NYX_OK;
    }
    if (s->pos >= s->length || s->text[s->pos] < '0' || s->text[s->pos] > '9')
      return header_error(s, "expected a non-negative integer in the shape");
    int64_t value = 0;
    while (s->pos < s->length && s->text[s->pos] >= '0' &&
           s->text[s->pos] <= '9') {
      int digit = s->text[s->pos++] - '0';
      if (value > (INT64_MAX - digit) / 10)
        return header_error(s, "shape dimension overflows int64");
      value = value * 10 + digit;
    }
    if (peek(s, 'L')) /* written by Python 2 for longs */
      ++s->pos;
    if (h->rank == NYX_NPY_MAX_RANK)
      return nyx_fail(NYX_ERR_UNSUPPORTED,
                      "%s: array has more than %d dimensions", s->path,
                      NYX_NPY_MAX_RANK);
    h->shape[h->rank++] = value;
    skip_spaces(s);
    if (peek(s, ',')) {
      ++s->pos;
      continue;
    }
    if (!peek(s, ')'))
      return header_error(s, "expected ',' or ')' in the shape");
  }
}

static int scan_header(scanner *s, npy_header *h) {
  memset(h, 0, sizeof *h);
  skip_spaces(s);
  if (!peek(s, '{'))
    return header_error(s, "expected '{'");
  ++s->pos;
  for (;;) {
    skip_spaces(s);
    if (peek(s, '}')) {
      ++s->pos;
      break;
    }
    char key[32];
    int status = scan_string(s, key, sizeof key);
    if (status != NYX_OK)
      return status;
    skip_spaces(s);
    if (!peek(s, ':'))
      return header_error(s, "expected ':' after a key");
    ++s->pos;
    skip_spaces(s);
    if (strcmp(key, "descr") == 0 && !h->has_descr) {
      if (peek(s, '['))
        return nyx_fail(NYX_ERR_UNSUPPORTED,
                        "%s: structured dtypes are not supported", s->path);
      status = scan_string(s, h->descr, sizeof h->descr);
      h->has_descr = true;
    } else if (strcmp(key, "fortran_order") == 0 && !h->has_fortran) {
      if (consume_word(s, "True"))
        h->fortran_order = true;
      else if (!consume_word(s, "False"))
        return header_error(s, "fortran_order is not True or False");
      h->has_fortran = true;
    } else if (strcmp(key, "shape") == 0 && !h->has_shape) {
      status = scan_shape(s, h);
      h->has_shape = true;
    } else {
      return nyx_fail(NYX_ERR_FORMAT,
                      "%s: invalid .npy header: unexpected or repeated key "
                      "'%s'",
                      s->path, key);
    }
    if (status != NYX_OK)
      return status;
    skip_spaces(s);
    if (peek(s, ',')) {
      ++s->pos;
      continue;
    }
    if (!peek(s, '}'))
      return header_error(s, "expected ',' or '}'");
  }
  skip_spaces(s);
  if (s->pos != s->length)
    return header_error(s, "unexpected text after the dict");
  if (!h->has_descr || !h->has_fortran || !h->has_shape)
    return nyx_fail(NYX_ERR_FORMAT, "%s: invalid .npy header: missing key '%s'",
                    s->path,
                    !h->has_descr     ? "descr"
                    : !h->has_fortran ? "fortran_order"
                                      : "shape");
  return NYX_OK;
}

static int descr_dtype(const char *path, const char *descr, nyx_dtype *out) {
  for (size_t i = 0; i < sizeof kDescrs / sizeof kDescrs[0]; ++i) {
    if (strcmp(descr, kDescrs[i].descr) == 0) {
      *out = kDescrs[i].dtype;
      return NYX_OK;
    }
  }
  /* A 1-byte type carries no byte order; '<' and '=' are equivalent there. */
  if ((descr[0] == '<' || descr[0] == '=') &&
      (strcmp(descr + 1, "i1") == 0 || strcmp(descr + 1, "b1") == 0)) {
    *out = descr[1] == 'i' ? NYX_I8 : NYX_BOOL;
    return NYX_OK;
  }
  if (descr[0] == '>')
    return nyx_fail(NYX_ERR_UNSUPPORTED,
                    "%s: dtype '%s' is big-endian; only little-endian arrays "
                    "are supported",
                    path, descr);
  return nyx_fail(NYX_ERR_UNSUPPORTED,
                  "%s: dtype '%s' is not supported; expected one of <f4 <f2 "
                  "<f8 |i1 <i4 <i8 |b1",
                  path, descr);
}

int nyx_npy_read(const char *path, nyx_dtype *dtype, int *rank,
                 int64_t shape[NYX_NPY_MAX_RANK], void **data, size_t *nbytes) {
  if (!path || !dtype || !rank || !shape || !data || !nbytes)
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "nyx_npy_read: a pointer argument is NULL");
  *data = NULL;
  *nbytes = 0;
  unsigned char *file;
  size_t size;
  int status = nyx_read_file(path, &file, &size);
  if (status != NYX_OK)
    return status;

  size_t header_start = 0, header_length = 0;
  if (size < 8 || memcmp(file, kMagic, sizeof kMagic) != 0) {
    status = nyx_fail(NYX_ERR_FORMAT, "%s: not a .npy file (bad magic)", path);
  } else if (file[7] != 0 || file[6] < 1 || file[6] > 3) {
    status = nyx_fail(NYX_ERR_UNSUPPORTED,
                      "%s: .npy format version %d.%d; expected 1.0, 2.0 or "
                      "3.0",
                      path, file[6], file[7]);
  } else {
    header_start = file[6] == 1 ? 10 : 12;
    if (size < header_start) {
      status = nyx_fail(NYX_ERR_FORMAT,
                        "%s: file is %zu bytes; truncated inside the header "
                        "length",
                        path, size);
    } else {
      header_length = (size_t)file[8] | (size_t)file[9] << 8;
      if (file[6] != 1)
        header_length |= (size_t)file[10] << 16 | (size_t)file[11] << 24;
      if (header_length > size - header_start)
        status = nyx_fail(NYX_ERR_FORMAT,
                          "%s: header is %zu bytes but only %zu follow the "
                          "header length; the file is truncated",
                          path, header_length, size - header_start);
    }
  }

  npy_header header;
  if (status == NYX_OK) {
    scanner s = {path, (const char *)file + header_start, header_length, 0};
    status = scan_header(&s, &header);
  }
  if (status == NYX_OK)
    status = descr_dtype(path, header.descr, dtype);
  if (status == NYX_OK && header.fortran_order)
    status = nyx_fail(NYX_ERR_UNSUPPORTED,
                      "%s: array is in Fortran order; only C order is "
                      "supported",
                      path);
  size_t expected = 0;
  if (status == NYX_OK && !nyx_shape_bytes(header.rank, header.shape,
                                           nyx_dtype_size(*dtype), &expected))
    status = nyx_fail(NYX_ERR_FORMAT, "%s: array size overflows", path);
  if (status == NYX_OK) {
    size_t available = size - header_start - header_length;
    if (available != expected) {
      char dims[160];
      nyx_format_shape(header.rank, header.shape, dims, sizeof dims);
      status = nyx_fail(NYX_ERR_FORMAT,
                        "%s: file has %zu bytes of data; expected %zu for "
                        "dtype %s and shape %s%s",
                        path, available, expected, header.descr, dims,
                        available < expected ? " (truncated)" : "");
    }
  }
  if (status == NYX_OK) {
    void *copy = malloc(expected ? expected : 1);
    if (!copy) {
      status = nyx_fail(NYX_ERR_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes",
                        path, expected);
    } else {
      memcpy(copy, file + header_start + header_length, expected);
      *data = copy;
      *nbytes = expected;
      *rank = header.rank;
      memcpy(shape, header.shape, sizeof header.shape);
    }
  }
  free(file);
  return status;
}

static const char *dtype_descr(nyx_dtype dtype) {
  for (size_t i = 0; i < sizeof kDescrs / sizeof kDescrs[0]; ++i)
    if (kDescrs[i].dtype == dtype)
      return kDescrs[i].descr;
  return NULL;
}

int nyx_npy_write(const char *path, nyx_dtype dtype, int rank,
                  const int64_t *shape, const void *data) {
  if (!path)
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT, "nyx_npy_write: path is NULL");
  const char *descr = dtype_descr(dtype);
  if (!descr)
    return nyx_fail(
        dtype == NYX_BF16 ? NYX_ERR_UNSUPPORTED : NYX_ERR_INVALID_ARGUMENT,
        "%s: dtype %s has no .npy equivalent", path, nyx_dtype_name(dtype));
  if (rank < 0 || rank > NYX_NPY_MAX_RANK || (rank > 0 && !shape))
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "%s: rank %d; expected 0 to %d with a shape", path, rank,
                    NYX_NPY_MAX_RANK);
  size_t nbytes;
  if (!nyx_shape_bytes(rank, shape, nyx_dtype_size(dtype), &nbytes))
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "%s: shape has a negative dimension or overflows", path);
  if (nbytes && !data)
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT, "%s: data is NULL", path);

  /* Fits the longest header: 8 dimensions of 19 digits each. */
  char header[512];
  int length =
      snprintf(header, sizeof header,
               "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
  for (int i = 0; i < rank; ++i)
    length += snprintf(header + length, sizeof header - (size_t)length,
                       i ? ", %lld" : "%lld", (long long)shape[i]);
  length += snprintf(header + length, sizeof header - (size_t)length, "%s), }",
                     rank == 1 ? "," : "");
  /* Pad with spaces and a final newline so the data starts 64-aligned. */
  size_t total = 10 + (size_t)length + 1;
  size_t padded = (total + 63) / 64 * 64;
  memset(header + length, ' ', padded - total);
  length += (int)(padded - total);
  header[length++] = '\n';

  unsigned char preamble[10];
  memcpy(preamble, kMagic, sizeof kMagic);
  preamble[6] = 1;
  preamble[7] = 0;
  preamble[8] = (unsigned char)(length & 0xFF);
  preamble[9] = (unsigned char)(length >> 8);
  nyx_byte_range ranges[3] = {
      {preamble, sizeof preamble}, {header, (size_t)length}, {data, nbytes}};
  return nyx_write_file_atomic(path, ranges, 3);
}
