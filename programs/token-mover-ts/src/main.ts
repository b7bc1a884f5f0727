// Cross-chain token mover, the TypeScript port of programs/token-mover (AssemblyScript): burns
// `amount` of the escrowed omni token on the origin chain and mints exactly that amount of the
// same token to `to` on the destination chain. It can only move what it burned: the burn names
// the token, so the output rule every node applies turns a token other than the escrowed one (or
// an amount above escrow minus fee) into PROGRAM_ERROR and a refund.
//
// Input: {"token"?: "0x..", "to"?: "0x..", "amount"?: "<uint256>", "destinationChainId": <n>}
// With the request context, token defaults to the escrowed asset, to to the requester and amount
// to the escrow minus the fee. Bad input: the reason on stderr, exit code 2.
import { burn, context, fail, inputJson, isAddress, mint, run, type Action } from "../../../sdk/ts/index.ts";

const MAX_UINT256 = (1n << 256n) - 1n;
const ALLOWED = ["token", "to", "amount", "destinationChainId"];

run((): Action[] => {
  let raw: unknown;
  try {
    raw = inputJson();
  } catch {
    return fail("input is not JSON");
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return fail("input must be a JSON object");
  const fields = raw as Record<string, unknown>;
  for (const key of Object.keys(fields)) if (!ALLOWED.includes(key)) fail(`unknown field "${key}"`);
  const ctx = context();

  const token = fields.token ?? ctx?.asset;
  const to = fields.to ?? ctx?.requester;
  if (token === undefined) fail('missing "token"');
  if (to === undefined) fail('missing "to"');
  if (!isAddress(token)) fail('"token" is not a 0x-prefixed 20-byte address');
  if (!isAddress(to)) fail('"to" is not a 0x-prefixed 20-byte address');

  let amount: bigint;
  if (fields.amount === undefined) {
    if (ctx === null) return fail('missing "amount"');
    amount = ctx.amount - ctx.fee;
  } else {
    if (typeof fields.amount !== "string" || !/^[1-9][0-9]*$/.test(fields.amount)) {
      return fail('"amount" must be a decimal string between 1 and 2^256-1');
    }
    amount = BigInt(fields.amount);
  }
  if (amount <= 0n || amount > MAX_UINT256) fail('"amount" must be a decimal string between 1 and 2^256-1');

  const destination = fields.destinationChainId;
  if (destination === undefined) fail('missing "destinationChainId"');
  if (typeof destination !== "number" || !Number.isSafeInteger(destination) || destination <= 0) {
    fail('"destinationChainId" must be a positive integer');
  }
  return [burn(amount, { token }), mint(token, to, amount, destination)];
});
