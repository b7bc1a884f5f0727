#include "json.h"

void json_init(json_reader *r, const char *text, size_t length) {
  r->text = text;
  r->length = length;
  r->pos = 0;
  r->error = 0;
}

static void skip_space(json_reader *r) {
  while (r->pos < r->length) {
    char c = r->text[r->pos];
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') break;
    r->pos++;
  }
}

bool json_fail(json_reader *r, const char *message) {
  if (!r->error) r->error = message;
  return false;
}

bool json_accept(json_reader *r, char c) {
  skip_space(r);
  if (r->pos < r->length && r->text[r->pos] == c) {
    r->pos++;
    return true;
  }
  return false;
}

bool json_expect(json_reader *r, char c) {
  if (json_accept(r, c)) return true;
  static char message[] = "expected 'x'";
  message[10] = c;
  return json_fail(r, message);
}

bool json_string(json_reader *r, const char **start, size_t *length) {
  if (!json_expect(r, '"')) return false;
  size_t begin = r->pos;
  while (r->pos < r->length && r->text[r->pos] != '"') {
    if (r->text[r->pos] == '\\') return json_fail(r, "escapes are not supported in strings");
    r->pos++;
  }
  if (r->pos >= r->length) return json_fail(r, "unterminated string");
  *start = r->text + begin;
  *length = r->pos - begin;
  r->pos++;
  return true;
}

bool json_uint32(json_reader *r, uint32_t *out) {
  skip_space(r);
  uint64_t value = 0;
  size_t begin = r->pos;
  while (r->pos < r->length && r->text[r->pos] >= '0' && r->text[r->pos] <= '9') {
    value = value * 10 + (uint64_t)(r->text[r->pos++] - '0');
    if (value > 0xffffffffu) return json_fail(r, "integer too large");
  }
  if (r->pos == begin) return json_fail(r, "expected an integer");
  *out = (uint32_t)value;
  return true;
}

bool json_at_end(json_reader *r) {
  skip_space(r);
  return r->pos == r->length;
}
