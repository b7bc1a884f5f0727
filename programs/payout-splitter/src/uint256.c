#include "uint256.h"
#include <string.h>

bool u256_mul_small(uint256 *value, uint32_t factor) {
  uint64_t carry = 0;
  for (int i = 0; i < 8; i++) {
    uint64_t product = (uint64_t)value->limb[i] * factor + carry;
    value->limb[i] = (uint32_t)product;
    carry = product >> 32;
  }
  return carry == 0;
}

uint32_t u256_div_small(uint256 *value, uint32_t divisor) {
  uint64_t remainder = 0;
  for (int i = 7; i >= 0; i--) {
    uint64_t current = (remainder << 32) | value->limb[i];
    value->limb[i] = (uint32_t)(current / divisor);
    remainder = current % divisor;
  }
  return (uint32_t)remainder;
}

static bool add_small(uint256 *value, uint32_t addend) {
  uint64_t carry = addend;
  for (int i = 0; i < 8 && carry; i++) {
    uint64_t sum = (uint64_t)value->limb[i] + carry;
    value->limb[i] = (uint32_t)sum;
    carry = sum >> 32;
  }
  return carry == 0;
}

bool u256_parse(const char *text, size_t length, uint256 *out) {
  memset(out, 0, sizeof *out);
  if (length == 0 || length > 78 || (length > 1 && text[0] == '0')) return false;
  for (size_t i = 0; i < length; i++) {
    if (text[i] < '0' || text[i] > '9') return false;
    if (!u256_mul_small(out, 10) || !add_small(out, (uint32_t)(text[i] - '0'))) return false;
  }
  return true;
}

bool u256_is_zero(const uint256 *value) {
  for (int i = 0; i < 8; i++)
    if (value->limb[i]) return false;
  return true;
}

void u256_format(const uint256 *value, char *out) {
  char digits[80];
  size_t count = 0;
  uint256 rest = *value;
  do {
    digits[count++] = (char)('0' + u256_div_small(&rest, 10));
  } while (!u256_is_zero(&rest));
  for (size_t i = 0; i < count; i++) out[i] = digits[count - 1 - i];
  out[count] = '\0';
}

void u256_sub(uint256 *a, const uint256 *b) {
  int64_t borrow = 0;
  for (int i = 0; i < 8; i++) {
    int64_t difference = (int64_t)a->limb[i] - b->limb[i] - borrow;
    borrow = difference < 0;
    a->limb[i] = (uint32_t)(difference + (borrow ? ((int64_t)1 << 32) : 0));
  }
}

void u256_add(uint256 *a, const uint256 *b) {
  uint64_t carry = 0;
  for (int i = 0; i < 8; i++) {
    uint64_t sum = (uint64_t)a->limb[i] + b->limb[i] + carry;
    a->limb[i] = (uint32_t)sum;
    carry = sum >> 32;
  }
}
