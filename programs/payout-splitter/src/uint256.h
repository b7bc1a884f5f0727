// Unsigned 256-bit integers as eight 32-bit limbs, least significant first: amounts on chain are
// uint256, and the split must be exact for every one of them.
#ifndef UINT256_H
#define UINT256_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct { uint32_t limb[8]; } uint256;

// Parses a canonical decimal string (no sign, no leading zeros); false if it is not one or overflows.
bool u256_parse(const char *text, size_t length, uint256 *out);
// Writes the decimal form, NUL-terminated, into out (at least 79 bytes).
void u256_format(const uint256 *value, char *out);
// value *= factor; false on overflow.
bool u256_mul_small(uint256 *value, uint32_t factor);
// value /= divisor (divisor > 0); returns the remainder.
uint32_t u256_div_small(uint256 *value, uint32_t divisor);
// a -= b; requires a >= b.
void u256_sub(uint256 *a, const uint256 *b);
void u256_add(uint256 *a, const uint256 *b);
bool u256_is_zero(const uint256 *value);
#endif
