/* A recursive-descent JSON parser, strict about the grammar: no trailing
 * commas, comments, leading zeros, bare control characters, invalid UTF-8 or
 * unpaired surrogates, and nothing but whitespace after the value. */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kMaxDepth = 64 };

typedef struct parser {
  const unsigned char *text;
  size_t length;
  size_t pos;
  char *error;
  size_t error_size;
  bool failed;
} parser;

static bool fail_at(parser *p, size_t pos, const char *what) {
  if (!p->failed)
    snprintf(p->error, p->error_size, "byte %zu: %s", pos, what);
  p->failed = true;
  return false;
}

static void skip_whitespace(parser *p) {
  while (p->pos < p->length) {
    unsigned char c = p->text[p->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
      return;
    ++p->pos;
  }
}

static bool at_end(const parser *p) { return p->pos >= p->length; }

static bool match_literal(parser *p, const char *word) {
  size_t n = strlen(word);
  if (p->length - p->pos < n || memcmp(p->text + p->pos, word, n) != 0)
    return fail_at(p, p->pos, "invalid literal; expected a JSON value");
  p->pos += n;
  return true;
}

/* A growable byte buffer for decoded strings. */
typedef struct buffer {
  char *data;
  size_t size;
  size_t capacity;
} buffer;

static bool buffer_push(buffer *b, const void *bytes, size_t n) {
  if (b->size + n + 1 > b->capacity) {
    size_t capacity = b->capacity ? b->capacity * 2 : 32;
    while (capacity < b->size + n + 1)
      capacity *= 2;
    char *grown = realloc(b->data, capacity);
    if (!grown)
      return false;
    b->data = grown;
    b->capacity = capacity;
  }
  memcpy(b->data + b->size, bytes, n);
  b->size += n;
  b->data[b->size] = '\0';
  return true;
}

static bool push_utf8(buffer *b, uint32_t cp) {
  unsigned char out[4];
  size_t n;
  if (cp < 0x80) {
    out[0] = (unsigned char)cp;
    n = 1;
  } else if (cp < 0x800) {
    out[0] = (unsigned char)(0xC0 | (cp >> 6));
    out[1] = (unsigned char)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    out[0] = (unsigned char)(0xE0 | (cp >> 12));
    out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (unsigned char)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    out[0] = (unsigned char)(0xF0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    n = 4;
  }
  return buffer_push(b, out, n);
}

static bool read_hex4(parser *p, uint32_t *value) {
  if (p->length - p->pos < 4)
    return fail_at(p, p->pos, "truncated \\u escape; expected 4 hex digits");
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    unsigned char c = p->text[p->pos + (size_t)i];
    uint32_t digit;
    if (c >= '0' && c <= '9')
      digit = c - '0';
    else if (c >= 'a' && c <= 'f')
      digit = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      digit = c - 'A' + 10;
    else
      return fail_at(p, p->pos + (size_t)i,
                     "invalid \\u escape; expected 4 hex digits");
    v = v * 16 + digit;
  }
  p->pos += 4;
  *value = v;
  return true;
}

/* Length of the valid UTF-8 sequence starting at p->pos, or 0. */
static size_t utf8_sequence_length(const parser *p) {
  const unsigned char *s = p->text + p->pos;
  size_t left = p->length - p->pos;
  unsigned char c = s[0];
  size_t n;
  uint32_t cp, min;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2, cp = c & 0x1F, min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3, cp = c & 0x0F, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (left < n)
    return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((s[i] & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

static bool parse_string(parser *p, char **out, size_t *out_length) {
  size_t start = p->pos;
  ++p->pos; /* the opening quote */
  buffer b = {0};
  if (!buffer_push(&b, "", 0))
    return fail_at(p, start, "out of memory");
  for (;;) {
    if (at_end(p)) {
      free(b.data);
      return fail_at(p, start, "unterminated string");
    }
    unsigned char c = p->text[p->pos];
    if (c == '"') {
      ++p->pos;
      break;
    }
    bool ok = true;
    if (c == '\\') {
      size_t escape_pos = p->pos;
      if (p->pos + 1 >= p->length) {
        free(b.data);
        return fail_at(p, start, "unterminated string");
      }
      unsigned char e = p->text[p->pos + 1];
      p->pos += 2;
      char simple = 0;
      switch (e) {
      case '"':
        simple = '"';
        break;
      case '\\':
        simple = '\\';
        break;
      case '/':
        simple = '/';
        break;
      case 'b':
        simple = '\b';
        break;
      case 'f':
        simple = '\f';
        break;
      case 'n':
        simple = '\n';
        break;
      case 'r':
        simple = '\r';
        break;
      case 't':
        simple = '\t';
        break;
      case 'u': {
        uint32_t cp;
        if (!read_hex4(p, &cp)) {
          free(b.data);
          return false;
        }
        if (cp >= 0xDC00 && cp <= 0xDFFF) {
          free(b.data);
          return fail_at(p, escape_pos, "unpaired low surrogate in \\u escape");
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          uint32_t low;
          if (p->length - p->pos < 2 || p->text[p->pos] != '\\' ||
              p->text[p->pos + 1] != 'u') {
            free(b.data);
            return fail_at(p, escape_pos,
                           "high surrogate not followed by a \\u low "
                           "surrogate");
          }
          p->pos += 2;
          if (!read_hex4(p, &low)) {
            free(b.data);
            return false;
          }
          if (low < 0xDC00 || low > 0xDFFF) {
            free(b.data);
            return fail_at(p, escape_pos,
                           "high surrogate not followed by a low surrogate");
          }
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        ok = push_utf8(&b, cp);
        break;
      }
      default:
        free(b.data);
        return fail_at(p, escape_pos, "invalid escape sequence in string");
      }
      if (simple)
        ok = buffer_push(&b, &simple, 1);
    } else if (c < 0x20) {
      free(b.data);
      return fail_at(p, p->pos, "unescaped control character in string");
    } else if (c < 0x80) {
      ok = buffer_push(&b, &c, 1);
      ++p->pos;
    } else {
      size_t n = utf8_sequence_length(p);
      if (n == 0) {
        free(b.data);
        return fail_at(p, p->pos, "invalid UTF-8 in string");
      }
      ok = buffer_push(&b, p->text + p->pos, n);
      p->pos += n;
    }
    if (!ok) {
      free(b.data);
      return fail_at(p, start, "out of memory");
    }
  }
  *out = b.data;
  *out_length = b.size;
  return true;
}

static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static bool parse_number(parser *p, nyx_json *out) {
  size_t start = p->pos;
  bool negative = false, integral = true, overflow = false;
  uint64_t value = 0;
  if (p->text[p->pos] == '-') {
    negative = true;
    ++p->pos;
  }
  if (at_end(p) || !is_digit(p->text[p->pos]))
    return fail_at(p, p->pos, "expected a digit in number");
  if (p->text[p->pos] == '0') {
    ++p->pos;
    if (!at_end(p) && is_digit(p->text[p->pos]))
      return fail_at(p, start, "number has a leading zero");
  } else {
    while (!at_end(p) && is_digit(p->text[p->pos])) {
      uint64_t digit = p->text[p->pos] - '0';
      if (value > (UINT64_MAX - digit) / 10)
        overflow = true;
      value = value * 10 + digit;
      ++p->pos;
    }
  }
  if (!at_end(p) && p->text[p->pos] == '.') {
    integral = false;
    ++p->pos;
    if (at_end(p) || !is_digit(p->text[p->pos]))
      return fail_at(p, p->pos, "expected a digit after '.' in number");
    while (!at_end(p) && is_digit(p->text[p->pos]))
      ++p->pos;
  }
  if (!at_end(p) && (p->text[p->pos] == 'e' || p->text[p->pos] == 'E')) {
    integral = false;
    ++p->pos;
    if (!at_end(p) && (p->text[p->pos] == '+' || p->text[p->pos] == '-'))
      ++p->pos;
    if (at_end(p) || !is_digit(p->text[p->pos]))
      return fail_at(p, p->pos, "expected a digit in number exponent");
    while (!at_end(p) && is_digit(p->text[p->pos]))
      ++p->pos;
  }
  out->kind = NYX_JSON_NUMBER;
  out->is_uint = integral && !overflow && (!negative || value == 0);
  out->uint_value = out->is_uint ? value : 0;
  return true;
}

static bool parse_value(parser *p, nyx_json *out, int depth);

/* Appends an item slot to an array or object, growing by doubling. */
static nyx_json *append_item(nyx_json *container, size_t *capacity,
                             bool with_key) {
  if (container->count == *capacity) {
    size_t grown = *capacity ? *capacity * 2 : 4;
    nyx_json *items = realloc(container->items, grown * sizeof *items);
    if (!items)
      return NULL;
    container->items = items;
    if (with_key) {
      char **keys = realloc(container->keys, grown * sizeof *keys);
      if (!keys)
        return NULL;
      container->keys = keys;
      size_t *lengths =
          realloc(container->key_lengths, grown * sizeof *lengths);
      if (!lengths)
        return NULL;
      container->key_lengths = lengths;
    }
    *capacity = grown;
  }
  nyx_json *item = &container->items[container->count];
  memset(item, 0, sizeof *item);
  return item;
}

static bool parse_array(parser *p, nyx_json *out, int depth) {
  out->kind = NYX_JSON_ARRAY;
  size_t capacity = 0;
  ++p->pos; /* '[' */
  skip_whitespace(p);
  if (!at_end(p) && p->text[p->pos] == ']') {
    ++p->pos;
    return true;
  }
  for (;;) {
    nyx_json *item = append_item(out, &capacity, false);
    if (!item)
      return fail_at(p, p->pos, "out of memory");
    ++out->count; /* counted first so a failure still frees it */
    if (!parse_value(p, item, depth + 1))
      return false;
    skip_whitespace(p);
    if (at_end(p))
      return fail_at(p, p->pos, "unterminated array; expected ',' or ']'");
    unsigned char c = p->text[p->pos++];
    if (c == ']')
      return true;
    if (c != ',')
      return fail_at(p, p->pos - 1, "expected ',' or ']' in array");
  }
}

static bool parse_object(parser *p, nyx_json *out, int depth) {
  out->kind = NYX_JSON_OBJECT;
  size_t capacity = 0;
  ++p->pos; /* '{' */
  skip_whitespace(p);
  if (!at_end(p) && p->text[p->pos] == '}') {
    ++p->pos;
    return true;
  }
  for (;;) {
    skip_whitespace(p);
    if (at_end(p) || p->text[p->pos] != '"')
      return fail_at(p, p->pos, "expected a string key in object");
    nyx_json *item = append_item(out, &capacity, true);
    if (!item)
      return fail_at(p, p->pos, "out of memory");
    char *key;
    size_t key_length;
    if (!parse_string(p, &key, &key_length))
      return false;
    out->keys[out->count] = key;
    out->key_lengths[out->count] = key_length;
    ++out->count;
    skip_whitespace(p);
    if (at_end(p) || p->text[p->pos] != ':')
      return fail_at(p, p->pos, "expected ':' after object key");
    ++p->pos;
    if (!parse_value(p, item, depth + 1))
      return false;
    skip_whitespace(p);
    if (at_end(p))
      return fail_at(p, p->pos, "unterminated object; expected ',' or '}'");
    unsigned char c = p->text[p->pos++];
    if (c == '}')
      return true;
    if (c != ',')
      return fail_at(p, p->pos - 1, "expected ',' or '}' in object");
  }
}

static bool parse_value(parser *p, nyx_json *out, int depth) {
  memset(out, 0, sizeof *out);
  skip_whitespace(p);
  out->offset = p->pos;
  if (depth > kMaxDepth)
    return fail_at(p, p->pos, "values nested too deeply");
  if (at_end(p))
    return fail_at(p, p->pos, "unexpected end of input; expected a value");
  unsigned char c = p->text[p->pos];
  switch (c) {
  case '{':
    return parse_object(p, out, depth);
  case '[':
    return parse_array(p, out, depth);
  case '"':
    out->kind = NYX_JSON_STRING;
    return parse_string(p, &out->string, &out->length);
  case 't':
    out->kind = NYX_JSON_BOOL;
    out->boolean = true;
    return match_literal(p, "true");
  case 'f':
    out->kind = NYX_JSON_BOOL;
    return match_literal(p, "false");
  case 'n':
    out->kind = NYX_JSON_NULL;
    return match_literal(p, "null");
  default:
    if (c == '-' || is_digit(c))
      return parse_number(p, out);
    return fail_at(p, p->pos, "unexpected character; expected a value");
  }
}

bool nyx_json_parse(const char *text, size_t length, nyx_json *out, char *error,
                    size_t error_size) {
  parser p = {(const unsigned char *)text, length, 0, error, error_size, false};
  if (error_size)
    error[0] = '\0';
  if (!parse_value(&p, out, 0)) {
    nyx_json_free(out);
    return false;
  }
  skip_whitespace(&p);
  if (!at_end(&p)) {
    fail_at(&p, p.pos, "unexpected data after the JSON value");
    nyx_json_free(out);
    return false;
  }
  return true;
}

void nyx_json_free(nyx_json *value) {
  if (!value)
    return;
  free(value->string);
  for (size_t i = 0; i < value->count; ++i) {
    nyx_json_free(&value->items[i]);
    if (value->keys)
      free(value->keys[i]);
  }
  free(value->items);
  free(value->keys);
  free(value->key_lengths);
  memset(value, 0, sizeof *value);
}

const nyx_json *nyx_json_get(const nyx_json *object, const char *key) {
  if (object->kind != NYX_JSON_OBJECT)
    return NULL;
  size_t length = strlen(key);
  for (size_t i = 0; i < object->count; ++i)
    if (object->key_lengths[i] == length &&
        memcmp(object->keys[i], key, length) == 0)
      return &object->items[i];
  return NULL;
}

const char *nyx_json_kind_phrase(nyx_json_kind kind) {
  switch (kind) {
  case NYX_JSON_NULL:
    return "null";
  case NYX_JSON_BOOL:
    return "a boolean";
  case NYX_JSON_NUMBER:
    return "a number";
  case NYX_JSON_STRING:
    return "a string";
  case NYX_JSON_ARRAY:
    return "an array";
  case NYX_JSON_OBJECT:
    return "an object";
  }
  return "a value";
}
