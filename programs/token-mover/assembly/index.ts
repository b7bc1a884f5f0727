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
// Input:  {"destinationChainId":<n>, "to"?:"0x..", "token"?:"0x..", "amount"?:"<uint256>"}
//         `to` defaults to the requester, `token` to the escrowed asset and `amount` to the escrow
//         minus the fee: all three from the request context (sdk/assemblyscript/versatus.ts), so
//         {"destinationChainId":31338} moves everything paid to the requester's own account.
// Output: {"actions":[{"op":"burn","token":..,"amount":..},{"op":"mint","chainId":<n>,"token":..,"to":..,"amount":..}]}
//
// Compiled with --exportStart _start: these top-level statements are the WASI entry point.
import { fail, readInput, writeOutput } from "./wasi";
import { parseFlatObject } from "./json";
import { readContext, ZERO_ADDRESS } from "../../../sdk/assemblyscript/versatus";

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
// Defaults from the request context (what the chain recorded), never from another party's word.
function fromContext(field: string): string | null {
  const ctx = readContext();
  if (ctx == null) return null;
  if (field == "token") return ctx.asset != ZERO_ADDRESS ? ctx.asset : null;
  if (field == "to") return ctx.requester;
  return ctx.spendable();
}

function field(name: string): string {
  return required(input.keys.includes(name) ? input.get(name) : fromContext(name), name);
}

const token = field("token");
const to = field("to");
const amount = field("amount");
const destination = required(input.get("destinationChainId"), "destinationChainId");

if (!isAddress(token)) fail('"token" is not a 0x-prefixed 20-byte address');
if (!isAddress(to)) fail('"to" is not a 0x-prefixed 20-byte address');
if ((input.keys.includes("amount") && !input.isStringValue("amount")) || !isPositiveAmount(amount))
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
