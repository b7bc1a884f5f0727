// Cross-chain token mover, a controller program of the omni tokens that name it (SPEC 3.4): the
// request escrows omni tokens on the origin chain; this program burns `amount` of them there and
// mints exactly that amount of the same token to the recipient on the destination chain (SPEC 3.3:
// MINT is the one op a result from another origin may carry). No lock box, no wrapped copy: the
// total supply across chains stays constant.
//
// It can only move what it burned: the burn and the mint name the same token and the same amount,
// and the burn names that token explicitly, so the output rule every node applies turns an input
// naming any token other than the escrowed one (or an amount above escrow minus fee) into
// PROGRAM_ERROR and a refund. No input makes it mint another token, or more than it burned.
//
// Input:  {"token":"0x..","to":"0x..","amount":"<uint256>","destinationChainId":<n>}
// Output: {"actions":[{"op":"burn","token":..,"amount":..},{"op":"mint","chainId":<n>,"token":..,"to":..,"amount":..}]}
//
// Compiled with --exportStart _start: these top-level statements are the WASI entry point.
import { fail, readInput, writeOutput } from "./wasi";
import { parseFlatObject } from "./json";

const MAX_UINT256 = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
const ALLOWED_KEYS = ["token", "to", "amount", "destinationChainId"];

function isAddress(value: string): bool {
  if (value.length != 42 || !value.startsWith("0x")) return false;
  for (let i = 2; i < 42; i++) {
    const c = value.charCodeAt(i);
    const hex = (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
    if (!hex) return false;
  }
  return true;
}

function isPositiveAmount(value: string): bool {
  if (value.length == 0 || value.length > MAX_UINT256.length || value.charAt(0) == "0") return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  // Same length: decimal strings without leading zeros compare like numbers.
  return value.length < MAX_UINT256.length || value <= MAX_UINT256;
}

function required(value: string | null, name: string): string {
  if (value == null) fail('missing "' + name + '"');
  return value!;
}

const input = parseFlatObject(readInput());
for (let i = 0; i < input.keys.length; i++) {
  if (!ALLOWED_KEYS.includes(input.keys[i])) fail('unknown field "' + input.keys[i] + '"');
}
const token = required(input.get("token"), "token");
const to = required(input.get("to"), "to");
const amount = required(input.get("amount"), "amount");
const destination = required(input.get("destinationChainId"), "destinationChainId");

if (!isAddress(token)) fail('"token" is not a 0x-prefixed 20-byte address');
if (!isAddress(to)) fail('"to" is not a 0x-prefixed 20-byte address');
if (!input.isStringValue("amount") || !isPositiveAmount(amount))
  fail('"amount" must be a decimal string between 1 and 2^256-1');
if (
  input.isStringValue("destinationChainId") ||
  destination.length > 19 ||
  destination == "0" ||
  destination.charAt(0) == "0"
) {
  fail('"destinationChainId" must be a positive integer');
}

writeOutput(
  '{"actions":[{"op":"burn","token":"' +
    token +
    '","amount":"' +
    amount +
    '"},' +
    '{"op":"mint","chainId":' +
    destination +
    ',"token":"' +
    token +
    '","to":"' +
    to +
    '","amount":"' +
    amount +
    '"}]}\n',
);
