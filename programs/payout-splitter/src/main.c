// Payout splitter: reads {"recipients":[{"to":"0x..","weight":<n>},...]} and splits what the
// requester actually paid, the escrow minus the oracle's fee (the request context: VERSATUS_AMOUNT
// - VERSATUS_FEE, see sdk/c/versatus.h), paying each recipient amount * weight / totalWeight; the
// rounding dust goes to the first recipient, so the payouts always add up to exactly that amount.
// A recipient "to": "requester" is whoever made the request (VERSATUS_REQUESTER): a share paid back.
//
// An "amount" in the input is not trusted: with a context it is ignored (a note on stderr says so
// when it differs from the escrow). Only a run without a context (a bare runtime run, no request)
// takes the amount from the input.
//
// Bad input is reported on stderr and ends with exit code 2 (the `exit` outcome, nothing paid).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "uint256.h"
#include "versatus.h"

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

static int u256_greater(const uint256 *a, const uint256 *b) {
  for (int i = 7; i >= 0; i--)
    if (a->limb[i] != b->limb[i]) return a->limb[i] > b->limb[i];
  return 0;
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
      if (length == 9 && memcmp(out->to, "requester", 9) == 0) {
        out->to = NULL;  // the requester, from the request context (resolved below)
      } else if (!is_address(out->to, length)) {
        fail("recipient \"to\" is not a 0x-prefixed 20-byte address or \"requester\"", r->pos);
      }
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
      fail("unknown field (expected \"recipients\")", r.pos);
    }
  } while (json_accept(&r, ','));
  if (!json_expect(&r, '}') || !json_at_end(&r)) fail(r.error ? r.error : "trailing bytes after the object", r.pos);
  if (count == 0) fail("at least one recipient is required", r.pos);

  // What was paid decides, never the input: escrow minus fee from the request context.
  versatus_context ctx;
  int has_context = versatus_context_read(&ctx);
  if (has_context < 0) fail("malformed request context", 0);
  if (has_context) {
    uint256 escrow, fee;
    if (!u256_parse(ctx.amount, strlen(ctx.amount), &escrow) || !u256_parse(ctx.fee, strlen(ctx.fee), &fee))
      fail("request context amounts out of range", 0);
    if (!u256_greater(&escrow, &fee)) {
      fprintf(stderr, "payout-splitter: the escrow (%s) leaves nothing after the fee (%s)\n", ctx.amount, ctx.fee);
      exit(2);
    }
    uint256 budget = escrow;
    u256_sub(&budget, &fee);
    if (has_amount && memcmp(&amount, &budget, sizeof amount) != 0) {
      char digits[80];
      u256_format(&budget, digits);
      fprintf(stderr, "payout-splitter: ignoring the input's \"amount\"; splitting the escrow minus the fee, %s\n",
              digits);
    }
    amount = budget;
  } else if (!has_amount) {
    fail("\"amount\" is required when the run has no request context", r.pos);
  }
  for (size_t i = 0; i < count; i++) {
    if (recipients[i].to) continue;
    if (!has_context) fail("\"to\": \"requester\" needs a request context", r.pos);
    recipients[i].to = ctx.requester;
  }

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
