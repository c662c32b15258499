/* A small strict JSON parser (RFC 8259) for safetensors headers. */
#ifndef NYX_RUNTIME_JSON_H
#define NYX_RUNTIME_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum nyx_json_kind {
  NYX_JSON_NULL,
  NYX_JSON_BOOL,
  NYX_JSON_NUMBER,
  NYX_JSON_STRING,
  NYX_JSON_ARRAY,
  NYX_JSON_OBJECT
} nyx_json_kind;

typedef struct nyx_json nyx_json;
struct nyx_json {
  nyx_json_kind kind;
  size_t offset; /* byte offset of the value in the parsed text */
  bool boolean;
  /* Numbers: is_uint when the literal is a non-negative integer without
   * fraction or exponent that fits in uint64_t; only then is uint_value set.
   * Other numbers are accepted but carry no value: the header needs none. */
  bool is_uint;
  uint64_t uint_value;
  /* Strings: decoded UTF-8, NUL-terminated; length excludes the terminator
   * and counts any "\u0000" escapes inside. */
  char *string;
  size_t length;
  /* Arrays and objects: `count` items; objects also have keys[i] (with
   * key_lengths[i]) in the order they appear. */
  size_t count;
  nyx_json *items;
  char **keys;
  size_t *key_lengths;
};

/* Parses exactly one JSON value surrounded by optional whitespace. On failure
 * returns false and writes "byte N: what was wrong" into error. Returns false
 * with "out of memory" if an allocation fails. */
bool nyx_json_parse(const char *text, size_t length, nyx_json *out, char *error,
                    size_t error_size);

/* Frees what nyx_json_parse allocated inside `value`. */
void nyx_json_free(nyx_json *value);

/* The value for `key` in an object, or NULL. */
const nyx_json *nyx_json_get(const nyx_json *object, const char *key);

/* "null", "a boolean", "a number", "a string", "an array" or "an object",
 * for messages such as "shape is an object; expected an array". */
const char *nyx_json_kind_phrase(nyx_json_kind kind);

#endif /* NYX_RUNTIME_JSON_H */
