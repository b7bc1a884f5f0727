// A small JSON reader over the input buffer: just what the splitter's input needs (objects,
// arrays, strings without escapes, non-negative integers), with the byte offset of any error.
#ifndef JSON_H
#define JSON_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  const char *text;
  size_t length;
  size_t pos;
  const char *error;
} json_reader;

void json_init(json_reader *r, const char *text, size_t length);
bool json_expect(json_reader *r, char c);
// True and consumes c if the next non-space byte is c.
bool json_accept(json_reader *r, char c);
// Reads a string; points into the input (no escapes allowed).
bool json_string(json_reader *r, const char **start, size_t *length);
bool json_uint32(json_reader *r, uint32_t *out);
bool json_at_end(json_reader *r);
bool json_fail(json_reader *r, const char *message);
#endif
