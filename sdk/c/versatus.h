// versatus.h: the request context for Versatus programs written in C (header only, wasi-libc).
//
// Every node gives a program the context of the request it runs, taken from the origin chain's
// ExecutionRequested event and the oracle's fee at the request's block, as WASI environment
// variables (SPEC 4; protocol/programContext.ts). The values are identical on every node and
// covered by the execution record's bodyHash:
//
//   VERSATUS_REQUEST_ID       0x + 64 lowercase hex
//   VERSATUS_ORIGIN_CHAIN_ID  decimal
//   VERSATUS_ORACLE           0x + 40 lowercase hex
//   VERSATUS_REQUESTER        0x + 40 lowercase hex: who made (and paid for) the request
//   VERSATUS_ASSET            0x + 40 lowercase hex: the escrowed token, all zeros for ETH
//   VERSATUS_AMOUNT           decimal (< 2^256): the whole escrow, fee included
//   VERSATUS_FEE              decimal (< 2^256): the oracle's fee; the program may spend
//                             at most AMOUNT - FEE
//   VERSATUS_BLOCK_NUMBER     decimal: the request's block on the origin chain
//   VERSATUS_TIMESTAMP        decimal Unix seconds of that block (the program's clock starts here)
//   VERSATUS_PROGRAM_ID       0x + 64 lowercase hex
//
// Usage:
//   versatus_context ctx;
//   if (versatus_context_read(&ctx) != 1) { fputs("no request context\n", stderr); return 2; }
//   if (!versatus_address_equal(ctx.requester, "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266")) ...
//
// Build: clang --target=wasm32-wasi -I path/to/sdk/c ...
#ifndef VERSATUS_H
#define VERSATUS_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct {
  const char *request_id;
  uint64_t origin_chain_id;
  const char *oracle;
  const char *requester;
  const char *asset;
  /** Decimal strings: amounts are uint256 on chain (see uint256 helpers of your own). */
  const char *amount;
  const char *fee;
  uint64_t block_number;
  uint64_t timestamp;
  const char *program_id;
} versatus_context;

static inline int versatus__hex(const char *text, size_t digits) {
  if (!text || text[0] != '0' || text[1] != 'x') return 0;
  for (size_t i = 0; i < digits; i++) {
    char c = text[2 + i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return 0;
  }
  return text[2 + digits] == '\0';
}

static inline int versatus__decimal(const char *text) {
  if (!text || !*text || (text[0] == '0' && text[1] != '\0')) return 0;
  size_t n = 0;
  for (; text[n]; n++)
    if (text[n] < '0' || text[n] > '9') return 0;
  return n <= 78;
}

static inline int versatus__u64(const char *text, uint64_t *out) {
  if (!versatus__decimal(text)) return 0;
  uint64_t value = 0;
  for (const char *p = text; *p; p++) {
    uint64_t digit = (uint64_t)(*p - '0');
    if (value > (UINT64_MAX - digit) / 10) return 0;
    value = value * 10 + digit;
  }
  *out = value;
  return 1;
}

/**
 * Reads the request context. Returns 1 when it is there (always on the network, and in
 * `versatus program run|simulate`), 0 when the runtime gave none (a bare run: an empty
 * environment), -1 when a variable is malformed (an origin chain id beyond 64 bits included).
 * The strings point into the environment and live as long as the program.
 */
static inline int versatus_context_read(versatus_context *ctx) {
  ctx->request_id = getenv("VERSATUS_REQUEST_ID");
  if (!ctx->request_id) return 0;
  ctx->oracle = getenv("VERSATUS_ORACLE");
  ctx->requester = getenv("VERSATUS_REQUESTER");
  ctx->asset = getenv("VERSATUS_ASSET");
  ctx->amount = getenv("VERSATUS_AMOUNT");
  ctx->fee = getenv("VERSATUS_FEE");
  ctx->program_id = getenv("VERSATUS_PROGRAM_ID");
  int ok = versatus__hex(ctx->request_id, 64) && versatus__hex(ctx->oracle, 40) &&
           versatus__hex(ctx->requester, 40) && versatus__hex(ctx->asset, 40) &&
           versatus__decimal(ctx->amount) && versatus__decimal(ctx->fee) && versatus__hex(ctx->program_id, 64) &&
           versatus__u64(getenv("VERSATUS_ORIGIN_CHAIN_ID"), &ctx->origin_chain_id) &&
           versatus__u64(getenv("VERSATUS_BLOCK_NUMBER"), &ctx->block_number) &&
           versatus__u64(getenv("VERSATUS_TIMESTAMP"), &ctx->timestamp);
  return ok ? 1 : -1;
}

/** Compares two 0x addresses ignoring the case of their hex digits (checksummed or not). */
static inline int versatus_address_equal(const char *a, const char *b) {
  if (!a || !b) return 0;
  for (size_t i = 0; i < 42; i++) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'F') x = (char)(x - 'A' + 'a');
    if (y >= 'A' && y <= 'F') y = (char)(y - 'A' + 'a');
    if (x != y || x == '\0') return 0;
  }
  return a[42] == '\0' && b[42] == '\0';
}

/** True when the escrow is ETH (the asset is the zero address). */
static inline int versatus_asset_is_eth(const versatus_context *ctx) {
  return versatus_address_equal(ctx->asset, "0x0000000000000000000000000000000000000000");
}

#endif
