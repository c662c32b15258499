/* Safetensors reading (with full validation) and atomic writing. */
#include "nyx/safetensors.h"
#include "internal.h"
#include "json.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kMaxRank = 8 };

typedef struct entry {
  char *name;
  nyx_dtype dtype;
  int rank;
  int64_t shape[kMaxRank];
  uint64_t begin; /* offsets relative to the start of the data section */
  uint64_t end;
} entry;

struct nyx_safetensors {
  unsigned char *file; /* the whole file */
  size_t file_size;
  const unsigned char *data; /* the data section */
  entry *entries;            /* ordered by data offset */
  size_t count;
  size_t *by_name; /* entry indices ordered by name, for nyx_safetensors_find */
};

static const struct {
  const char *name;
  nyx_dtype dtype;
} kDTypeNames[] = {
    {"F32", NYX_F32}, {"F16", NYX_F16}, {"BF16", NYX_BF16}, {"F64", NYX_F64},
    {"I8", NYX_I8},   {"I32", NYX_I32}, {"I64", NYX_I64},   {"BOOL", NYX_BOOL},
};

static const char *safetensors_dtype_name(nyx_dtype dtype) {
  for (size_t i = 0; i < sizeof kDTypeNames / sizeof kDTypeNames[0]; ++i)
    if (kDTypeNames[i].dtype == dtype)
      return kDTypeNames[i].name;
  return NULL;
}

static uint64_t read_le64(const unsigned char *bytes) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i)
    value = (value << 8) | bytes[i];
  return value;
}

static void write_le64(unsigned char *bytes, uint64_t value) {
  for (int i = 0; i < 8; ++i)
    bytes[i] = (unsigned char)(value >> (8 * i));
}

/* Fills `e` from the header object describing one tensor. */
static int parse_entry(const char *path, const char *name, const nyx_json *info,
                       uint64_t data_size, entry *e) {
  if (info->kind != NYX_JSON_OBJECT)
    return nyx_fail(NYX_ERR_FORMAT,
                    "%s: header entry for tensor '%s' is %s; expected an "
                    "object",
                    path, name, nyx_json_kind_phrase(info->kind));
  for (size_t i = 0; i < info->count; ++i) {
    const char *key = info->keys[i];
    if (strcmp(key, "dtype") != 0 && strcmp(key, "shape") != 0 &&
        strcmp(key, "data_offsets") != 0)
      return nyx_fail(NYX_ERR_FORMAT,
                      "%s: tensor '%s' has unknown header key '%s'; expected "
                      "dtype, shape and data_offsets",
                      path, name, key);
    for (size_t j = 0; j < i; ++j)
      if (strcmp(info->keys[j], key) == 0)
        return nyx_fail(NYX_ERR_FORMAT,
                        "%s: tensor '%s' has header key '%s' twice", path, name,
                        key);
  }

  const nyx_json *dtype = nyx_json_get(info, "dtype");
  const nyx_json *shape = nyx_json_get(info, "shape");
  const nyx_json *offsets = nyx_json_get(info, "data_offsets");
  if (!dtype || !shape || !offsets)
    return nyx_fail(NYX_ERR_FORMAT, "%s: tensor '%s' lacks '%s' in the header",
                    path, name,
                    !dtype   ? "dtype"
                    : !shape ? "shape"
                             : "data_offsets");

  if (dtype->kind != NYX_JSON_STRING)
    return nyx_fail(NYX_ERR_FORMAT,
                    "%s: tensor '%s': dtype is %s; expected a string", path,
                    name, nyx_json_kind_phrase(dtype->kind));
  bool known = false;
  for (size_t i = 0; i < sizeof kDTypeNames / sizeof kDTypeNames[0]; ++i) {
    if (strcmp(dtype->string, kDTypeNames[i].name) == 0) {
      e->dtype = kDTypeNames[i].dtype;
      known = true;
    }
  }
  if (!known)
    return nyx_fail(NYX_ERR_UNSUPPORTED,
                    "%s: tensor '%s' has dtype '%s'; supported dtypes are "
                    "F32, F16, BF16, F64, I8, I32, I64 and BOOL",
                    path, name, dtype->string);

  if (shape->kind != NYX_JSON_ARRAY)
    return nyx_fail(NYX_ERR_FORMAT,
                    "%s: tensor '%s': shape is %s; expected an array", path,
                    name, nyx_json_kind_phrase(shape->kind));
  if (shape->count > kMaxRank)
    return nyx_fail(NYX_ERR_UNSUPPORTED,
                    "%s: tensor '%s' has rank %zu; the runtime supports at "
                    "most %d",
                    path, name, shape->count, kMaxRank);
  e->rank = (int)shape->count;
  for (size_t i = 0; i < shape->count; ++i) {
    const nyx_json *dim = &shape->items[i];
    if (dim->kind != NYX_JSON_NUMBER || !dim->is_uint ||
        dim->uint_value > (uint64_t)INT64_MAX)
      return nyx_fail(NYX_ERR_FORMAT,
                      "%s: tensor '%s' has shape element %zu that is not a "
                      "non-negative integer",
                      path, name, i);
    e->shape[i] = (int64_t)dim->uint_value;
  }
  size_t nbytes;
  if (!nyx_shape_bytes(e->rank, e->shape, nyx_dtype_size(e->dtype), &nbytes))
    return nyx_fail(NYX_ERR_FORMAT,
                    "%s: tensor '%s' has a shape whose size "
                    "overflows",
                    path, name);

  if (offsets->kind != NYX_JSON_ARRAY || offsets->count != 2 ||
      offsets->items[0].kind != NYX_JSON_NUMBER ||
      offsets->items[1].kind != NYX_JSON_NUMBER || !offsets->items[0].is_uint ||
      !offsets->items[1].is_uint)
    return nyx_fail(NYX_ERR_FORMAT,
                    "%s: tensor '%s' has data_offsets that are not two "
                    "non-negative integers",
                    path, name);
  e->begin = offsets->items[0].uint_value;
  e->end = offsets->items[1].uint_value;
  if (e->begin > e->end)
    return nyx_fail(NYX_ERR_FORMAT,
                    "%s: tensor '%s' has data_offsets [%" PRIu64 ",%" PRIu64
                    "] that end before they begin",
                    path, name, e->begin, e->end);
  if (e->end > data_size)
    return nyx_fail(NYX_ERR_FORMAT,
                    "%s: tensor '%s' has data_offsets [%" PRIu64 ",%" PRIu64
                    "] beyond the %" PRIu64 " bytes of data",
                    path, name, e->begin, e->end, data_size);
  if (e->end - e->begin != nbytes) {
    char dims[160];
    nyx_format_shape(e->rank, e->shape, dims, sizeof dims);
    return nyx_fail(NYX_ERR_FORMAT,
                    "%s: tensor '%s' has data_offsets [%" PRIu64 ",%" PRIu64
                    "] spanning %" PRIu64 " bytes; expected %zu for %s %s",
                    path, name, e->begin, e->end, e->end - e->begin, nbytes,
                    dtype->string, dims);
  }
  return NYX_OK;
}

static int compare_by_offset(const void *a, const void *b) {
  const entry *x = a, *y = b;
  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end)
    return x->end < y->end ? -1 : 1;
  return 0;
}

/* qsort has no context argument; by-name sorting needs the entry table. */
static _Thread_local const entry *sort_entries;

static int compare_by_name(const void *a, const void *b) {
  return strcmp(sort_entries[*(const size_t *)a].name,
                sort_entries[*(const size_t *)b].name);
}

/* Builds the tensor table from the parsed header. */
static int build_entries(const char *path, const nyx_json *header,
                         uint64_t data_size, nyx_safetensors *st) {
  if (header->kind != NYX_JSON_OBJECT)
    return nyx_fail(NYX_ERR_FORMAT, "%s: header is %s; expected an object",
                    path, nyx_json_kind_phrase(header->kind));
  size_t tensors = 0;
  bool seen_metadata = false;
  for (size_t i = 0; i < header->count; ++i) {
    if (strcmp(header->keys[i], "__metadata__") != 0) {
      ++tensors;
      continue;
    }
    if (seen_metadata)
      return nyx_fail(NYX_ERR_FORMAT, "%s: header has '__metadata__' twice",
                      path);
    seen_metadata = true;
    const nyx_json *metadata = &header->items[i];
    if (metadata->kind != NYX_JSON_OBJECT)
      return nyx_fail(NYX_ERR_FORMAT,
                      "%s: '__metadata__' is %s; expected an object of "
                      "strings",
                      path, nyx_json_kind_phrase(metadata->kind));
    for (size_t j = 0; j < metadata->count; ++j)
      if (metadata->items[j].kind != NYX_JSON_STRING)
        return nyx_fail(NYX_ERR_FORMAT,
                        "%s: '__metadata__' value for '%s' is %s; expected "
                        "a string",
                        path, metadata->keys[j],
                        nyx_json_kind_phrase(metadata->items[j].kind));
  }

  st->entries = calloc(tensors ? tensors : 1, sizeof *st->entries);
  st->by_name = calloc(tensors ? tensors : 1, sizeof *st->by_name);
  if (!st->entries || !st->by_name)
    return nyx_fail(NYX_ERR_OUT_OF_MEMORY,
                    "%s: cannot allocate the tensor "
                    "table",
                    path);
  for (size_t i = 0; i < header->count; ++i) {
    const char *name = header->keys[i];
    if (strcmp(name, "__metadata__") == 0)
      continue;
    if (strlen(name) != header->key_lengths[i])
      return nyx_fail(NYX_ERR_FORMAT,
                      "%s: tensor name '%s' contains a NUL character", path,
                      name);
    entry *e = &st->entries[st->count];
    e->name = malloc(header->key_lengths[i] + 1);
    if (!e->name)
      return nyx_fail(NYX_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
    memcpy(e->name, name, header->key_lengths[i] + 1);
    ++st->count;
    int status = parse_entry(path, name, &header->items[i], data_size, e);
    if (status != NYX_OK)
      return status;
  }

  qsort(st->entries, st->count, sizeof *st->entries, compare_by_offset);
  for (size_t i = 0; i < st->count; ++i)
    st->by_name[i] = i;
  sort_entries = st->entries;
  qsort(st->by_name, st->count, sizeof *st->by_name, compare_by_name);
  for (size_t i = 1; i < st->count; ++i) {
    const char *a = st->entries[st->by_name[i - 1]].name;
    const char *b = st->entries[st->by_name[i]].name;
    if (strcmp(a, b) == 0)
      return nyx_fail(NYX_ERR_FORMAT, "%s: tensor '%s' appears twice", path, a);
  }
  const entry *previous = NULL;
  for (size_t i = 0; i < st->count; ++i) {
    const entry *e = &st->entries[i];
    if (e->begin == e->end)
      continue; /* empty tensors occupy no bytes and cannot overlap */
    if (previous && e->begin < previous->end)
      return nyx_fail(NYX_ERR_FORMAT,
                      "%s: tensors '%s' [%" PRIu64 ",%" PRIu64
                      "] and '%s' [%" PRIu64 ",%" PRIu64 "] overlap",
                      path, previous->name, previous->begin, previous->end,
                      e->name, e->begin, e->end);
    previous = e;
  }

  return NYX_OK;
}

int nyx_safetensors_open(const char *path, nyx_safetensors **out) {
  if (!out)
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "nyx_safetensors_open: out is NULL");
  *out = NULL;
  if (!path)
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "nyx_safetensors_open: path is NULL");
  nyx_safetensors *st = calloc(1, sizeof *st);
  if (!st)
    return nyx_fail(NYX_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
  int status = nyx_read_file(path, &st->file, &st->file_size);
  if (status != NYX_OK) {
    nyx_safetensors_close(st);
    return status;
  }
  if (st->file_size < 8) {
    status = nyx_fail(NYX_ERR_FORMAT,
                      "%s: file is %zu bytes; expected at least the 8-byte "
                      "header length",
                      path, st->file_size);
    nyx_safetensors_close(st);
    return status;
  }
  uint64_t header_size = read_le64(st->file);
  if (header_size > st->file_size - 8) {
    status = nyx_fail(NYX_ERR_FORMAT,
                      "%s: header length is %" PRIu64
                      " bytes but only %zu bytes follow it",
                      path, header_size, st->file_size - 8);
    nyx_safetensors_close(st);
    return status;
  }
  nyx_json header;
  char error[256];
  if (!nyx_json_parse((const char *)st->file + 8, (size_t)header_size, &header,
                      error, sizeof error)) {
    status =
        nyx_fail(NYX_ERR_FORMAT, "%s: invalid JSON header at %s", path, error);
    nyx_safetensors_close(st);
    return status;
  }
  st->data = st->file + 8 + header_size;
  status = build_entries(path, &header, st->file_size - 8 - header_size, st);
  nyx_json_free(&header);
  if (status != NYX_OK) {
    nyx_safetensors_close(st);
    return status;
  }
  *out = st;
  return NYX_OK;
}

size_t nyx_safetensors_count(const nyx_safetensors *file) {
  return file ? file->count : 0;
}

static void fill_view(const nyx_safetensors *file, const entry *e,
                      nyx_tensor_view *out) {
  out->name = e->name;
  out->dtype = e->dtype;
  out->rank = e->rank;
  out->shape = e->shape;
  out->data = file->data + e->begin;
  out->nbytes = (size_t)(e->end - e->begin);
}

int nyx_safetensors_get(const nyx_safetensors *file, size_t index,
                        nyx_tensor_view *out) {
  if (!file || !out)
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "nyx_safetensors_get: file or out is NULL");
  if (index >= file->count)
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "nyx_safetensors_get: index %zu is out of range; the "
                    "file has %zu tensors",
                    index, file->count);
  fill_view(file, &file->entries[index], out);
  return NYX_OK;
}

int nyx_safetensors_find(const nyx_safetensors *file, const char *name,
                         nyx_tensor_view *out) {
  if (!file || !name || !out)
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "nyx_safetensors_find: file, name or out is NULL");
  size_t low = 0, high = file->count;
  while (low < high) {
    size_t mid = low + (high - low) / 2;
    const entry *e = &file->entries[file->by_name[mid]];
    int order = strcmp(e->name, name);
    if (order == 0) {
      fill_view(file, e, out);
      return NYX_OK;
    }
    if (order < 0)
      low = mid + 1;
    else
      high = mid;
  }
  return nyx_fail(NYX_ERR_NOT_FOUND, "no tensor named '%s'", name);
}

void nyx_safetensors_close(nyx_safetensors *file) {
  if (!file)
    return;
  for (size_t i = 0; i < file->count; ++i)
    free(file->entries[i].name);
  free(file->entries);
  free(file->by_name);
  free(file->file);
  free(file);
}

/* ---- Writing ------------------------------------------------------------ */

typedef struct text {
  char *data;
  size_t size;
  size_t capacity;
  bool failed;
} text;

static void append(text *t, const char *bytes, size_t n) {
  if (t->failed)
    return;
  if (t->size + n + 1 > t->capacity) {
    size_t capacity = t->capacity ? t->capacity * 2 : 256;
    while (capacity < t->size + n + 1)
      capacity *= 2;
    char *grown = realloc(t->data, capacity);
    if (!grown) {
      t->failed = true;
      return;
    }
    t->data = grown;
    t->capacity = capacity;
  }
  memcpy(t->data + t->size, bytes, n);
  t->size += n;
  t->data[t->size] = '\0';
}

static void append_str(text *t, const char *s) { append(t, s, strlen(s)); }

static void append_u64(text *t, uint64_t value) {
  char digits[24];
  int n = snprintf(digits, sizeof digits, "%" PRIu64, value);
  append(t, digits, (size_t)n);
}

/* Writes `s` as a JSON string; bytes >= 0x80 pass through as UTF-8. */
static void append_json_string(text *t, const char *s) {
  append(t, "\"", 1);
  for (const unsigned char *c = (const unsigned char *)s; *c; ++c) {
    if (*c == '"' || *c == '\\') {
      char escaped[2] = {'\\', (char)*c};
      append(t, escaped, 2);
    } else if (*c < 0x20) {
      char escaped[8];
      snprintf(escaped, sizeof escaped, "\\u%04x", *c);
      append(t, escaped, 6);
    } else {
      append(t, (const char *)c, 1);
    }
  }
  append(t, "\"", 1);
}

static int check_tensor(const char *path, const nyx_tensor_view *tensor,
                        size_t index) {
  if (!tensor->name || !*tensor->name)
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "%s: tensor %zu has an empty name", path, index);
  if (strcmp(tensor->name, "__metadata__") == 0)
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "%s: tensor %zu is named '__metadata__', which the format "
                    "reserves",
                    path, index);
  if (!safetensors_dtype_name(tensor->dtype))
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "%s: tensor '%s' has invalid dtype %d", path, tensor->name,
                    (int)tensor->dtype);
  if (tensor->rank < 0 || tensor->rank > kMaxRank ||
      (tensor->rank > 0 && !tensor->shape))
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "%s: tensor '%s' has rank %d; expected 0 to %d with a "
                    "shape",
                    path, tensor->name, tensor->rank, kMaxRank);
  size_t nbytes;
  if (!nyx_shape_bytes(tensor->rank, tensor->shape,
                       nyx_dtype_size(tensor->dtype), &nbytes))
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "%s: tensor '%s' has a negative or overflowing shape", path,
                    tensor->name);
  if (nbytes != tensor->nbytes) {
    char dims[160];
    nyx_format_shape(tensor->rank, tensor->shape, dims, sizeof dims);
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "%s: tensor '%s' has nbytes %zu; expected %zu for %s %s",
                    path, tensor->name, tensor->nbytes, nbytes,
                    nyx_dtype_name(tensor->dtype), dims);
  }
  if (nbytes && !tensor->data)
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT, "%s: tensor '%s' has NULL data",
                    path, tensor->name);
  return NYX_OK;
}

static int compare_names(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int check_unique_names(const char *path, const nyx_tensor_view *tensors,
                              size_t count) {
  if (count < 2)
    return NYX_OK;
  const char **names = malloc(count * sizeof *names);
  if (!names)
    return nyx_fail(NYX_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
  for (size_t i = 0; i < count; ++i)
    names[i] = tensors[i].name;
  qsort(names, count, sizeof *names, compare_names);
  int status = NYX_OK;
  for (size_t i = 1; i < count && status == NYX_OK; ++i)
    if (strcmp(names[i - 1], names[i]) == 0)
      status = nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                        "%s: tensor name '%s' is used twice", path, names[i]);
  free(names);
  return status;
}

int nyx_safetensors_write(const char *path, const nyx_tensor_view *tensors,
                          size_t count) {
  if (!path || (count && !tensors))
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "nyx_safetensors_write: path or tensors is NULL");
  for (size_t i = 0; i < count; ++i) {
    int status = check_tensor(path, &tensors[i], i);
    if (status != NYX_OK)
      return status;
  }
  int status = check_unique_names(path, tensors, count);
  if (status != NYX_OK)
    return status;

  text header = {0};
  append(&header, "{", 1);
  uint64_t offset = 0;
  for (size_t i = 0; i < count; ++i) {
    const nyx_tensor_view *t = &tensors[i];
    if (i)
      append(&header, ",", 1);
    append_json_string(&header, t->name);
    append_str(&header, ":{\"dtype\":\"");
    append_str(&header, safetensors_dtype_name(t->dtype));
    append_str(&header, "\",\"shape\":[");
    for (int d = 0; d < t->rank; ++d) {
      if (d)
        append(&header, ",", 1);
      append_u64(&header, (uint64_t)t->shape[d]);
    }
    append_str(&header, "],\"data_offsets\":[");
    append_u64(&header, offset);
    append(&header, ",", 1);
    offset += t->nbytes;
    append_u64(&header, offset);
    append_str(&header, "]}");
  }
  append(&header, "}", 1);
  /* Pad so the data section, after the 8-byte length, starts 8-aligned. */
  while (!header.failed && header.size % 8 != 0)
    append(&header, " ", 1);
  nyx_byte_range *ranges = malloc((count + 2) * sizeof *ranges);
  if (header.failed || !ranges) {
    free(header.data);
    free(ranges);
    return nyx_fail(NYX_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
  }
  unsigned char length[8];
  write_le64(length, header.size);
  ranges[0] = (nyx_byte_range){length, 8};
  ranges[1] = (nyx_byte_range){header.data, header.size};
  for (size_t i = 0; i < count; ++i)
    ranges[i + 2] = (nyx_byte_range){tensors[i].data, tensors[i].nbytes};
  status = nyx_write_file_atomic(path, ranges, count + 2);
  free(ranges);
  free(header.data);
  return status;
}
