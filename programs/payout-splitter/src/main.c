// Payout splitter: reads {"amount":"<uint256>","recipients":[{"to":"0x..","weight":<n>},...]}
// and pays each recipient amount * weight / totalWeight; the rounding dust goes to the first
// recipient, so the payouts always add up to exactly `amount`.
//
// Bad input is reported on stderr and ends with exit code 2 (the `exit` outcome, nothing paid).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "uint256.h"

#define MAX_RECIPIENTS 64
#define MAX_INPUT 65536

typedef struct {
  const char *to;
  uint32_t weight;
  uint256 amount;
} recipient;

static void fail(const char *what, size_t where) {
  fprintf(stderr, "payout-splitter: invalid input at byte %zu: %s\n", where, what);
  exit(2);
}

static int is_address(const char *text, size_t length) {
  if (length != 42 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) return 0;
  for (size_t i = 2; i < length; i++) {
    char c = text[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return 0;
  }
  return 1;
}

static void read_recipient(json_reader *r, recipient *out) {
  int has_to = 0, has_weight = 0;
  if (!json_expect(r, '{')) fail(r->error, r->pos);
  do {
    const char *key;
    size_t key_length;
    if (!json_string(r, &key, &key_length) || !json_expect(r, ':')) fail(r->error, r->pos);
    if (key_length == 2 && memcmp(key, "to", 2) == 0) {
      size_t length;
      if (!json_string(r, &out->to, &length)) fail(r->error, r->pos);
      if (!is_address(out->to, length)) fail("recipient \"to\" is not a 0x-prefixed 20-byte address", r->pos);
      has_to = 1;
    } else if (key_length == 6 && memcmp(key, "weight", 6) == 0) {
      if (!json_uint32(r, &out->weight)) fail(r->error, r->pos);
      if (out->weight == 0 || out->weight > 1000000) fail("weight must be between 1 and 1000000", r->pos);
      has_weight = 1;
    } else {
      fail("unknown recipient field (expected \"to\" and \"weight\")", r->pos);
    }
  } while (json_accept(r, ','));
  if (!json_expect(r, '}')) fail(r->error, r->pos);
  if (!has_to || !has_weight) fail("each recipient needs \"to\" and \"weight\"", r->pos);
}

int main(void) {
  static char input[MAX_INPUT];
  size_t length = fread(input, 1, sizeof input, stdin);
  if (length == sizeof input) fail("input larger than 64 KiB", length);

  static recipient recipients[MAX_RECIPIENTS];
  size_t count = 0;
  uint256 amount;
  int has_amount = 0;
  json_reader r;
  json_init(&r, input, length);

  if (!json_expect(&r, '{')) fail(r.error, r.pos);
  do {
    const char *key;
    size_t key_length;
    if (!json_string(&r, &key, &key_length) || !json_expect(&r, ':')) fail(r.error, r.pos);
    if (key_length == 6 && memcmp(key, "amount", 6) == 0) {
      const char *digits;
      size_t digits_length;
      if (!json_string(&r, &digits, &digits_length)) fail(r.error, r.pos);
      if (!u256_parse(digits, digits_length, &amount)) fail("\"amount\" must be a decimal string below 2^256", r.pos);
      has_amount = 1;
    } else if (key_length == 10 && memcmp(key, "recipients", 10) == 0) {
      if (!json_expect(&r, '[')) fail(r.error, r.pos);
      do {
        if (count == MAX_RECIPIENTS) fail("more than 64 recipients", r.pos);
        read_recipient(&r, &recipients[count++]);
      } while (json_accept(&r, ','));
      if (!json_expect(&r, ']')) fail(r.error, r.pos);
    } else {
      fail("unknown field (expected \"amount\" and \"recipients\")", r.pos);
    }
  } while (json_accept(&r, ','));
  if (!json_expect(&r, '}') || !json_at_end(&r)) fail(r.error ? r.error : "trailing bytes after the object", r.pos);
  if (!has_amount || count == 0) fail("\"amount\" and at least one recipient are required", r.pos);

  uint32_t total = 0;
  for (size_t i = 0; i < count; i++) {
    total += recipients[i].weight;
    if (total > 64000000) fail("total weight too large", r.pos);
  }

  // amount * weight can exceed 2^256, so divide first and split the remainder separately:
  // amount = q * total + rem, share_i = q * w_i + (rem * w_i) / total, all exact.
  uint256 quotient = amount;
  uint32_t remainder = u256_div_small(&quotient, total);
  uint256 paid = {{0}};
  for (size_t i = 0; i < count; i++) {
    recipient *p = &recipients[i];
    p->amount = quotient;
    u256_mul_small(&p->amount, p->weight);  // <= amount, cannot overflow
    uint256 extra = {{(uint32_t)(((uint64_t)remainder * p->weight) / total)}};
    u256_add(&p->amount, &extra);
    u256_add(&paid, &p->amount);
  }
  uint256 dust = amount;
  u256_sub(&dust, &paid);
  u256_add(&recipients[0].amount, &dust);

  char digits[80];
  fputs("{\"actions\":[", stdout);
  for (size_t i = 0; i < count; i++) {
    u256_format(&recipients[i].amount, digits);
    printf("%s{\"op\":\"transfer\",\"to\":\"%.42s\",\"amount\":\"%s\"}", i ? "," : "", recipients[i].to, digits);
  }
  fputs("]}\n", stdout);
  return 0;
}
