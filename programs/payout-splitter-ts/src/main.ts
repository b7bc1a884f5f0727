// Payout splitter, the TypeScript port of programs/payout-splitter (C). Input:
//   {"amount"?: "<uint256>", "recipients": [{"to": "0x..", "weight": <1..1000000>}, ...]}
// Pays each recipient amount * weight / totalWeight; the rounding dust goes to the first, so the
// payments add up to the amount exactly. Without "amount" it splits the escrow minus the oracle's
// fee, read from the request context. Bad input: the reason on stderr, exit code 2.
import { context, fail, inputJson, isAddress, run, transfer, type Action } from "../../../sdk/ts/index.ts";

const MAX_RECIPIENTS = 64;
const MAX_WEIGHT = 1_000_000;
const MAX_UINT256 = (1n << 256n) - 1n;

type Recipient = { to: string; weight: number };

function readInput(): { amount: bigint; recipients: Recipient[] } {
  let raw: unknown;
  try {
    raw = inputJson();
  } catch {
    return fail("input is not JSON");
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return fail("input must be a JSON object");
  const fields = raw as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (key !== "amount" && key !== "recipients") fail('unknown field (expected "amount" and "recipients")');
  }
  let amount: bigint;
  if (fields.amount === undefined) {
    const ctx = context();
    if (ctx === null) return fail('"amount" is required when the request context is not available');
    amount = ctx.amount - ctx.fee;
  } else {
    if (typeof fields.amount !== "string" || !/^(0|[1-9][0-9]*)$/.test(fields.amount)) {
      return fail('"amount" must be a decimal string below 2^256');
    }
    amount = BigInt(fields.amount);
    if (amount > MAX_UINT256) return fail('"amount" must be a decimal string below 2^256');
  }
  const list = fields.recipients;
  if (!Array.isArray(list) || list.length === 0) return fail('"amount" and at least one recipient are required');
  if (list.length > MAX_RECIPIENTS) return fail(`more than ${MAX_RECIPIENTS} recipients`);
  const recipients = list.map((entry: unknown): Recipient => {
    if (entry === null || typeof entry !== "object") return fail('each recipient needs "to" and "weight"');
    const { to, weight, ...rest } = entry as Record<string, unknown>;
    if (Object.keys(rest).length > 0) fail('unknown recipient field (expected "to" and "weight")');
    if (to === undefined || weight === undefined) fail('each recipient needs "to" and "weight"');
    if (!isAddress(to)) fail('recipient "to" is not a 0x-prefixed 20-byte address');
    if (typeof weight !== "number" || !Number.isInteger(weight) || weight < 1 || weight > MAX_WEIGHT) {
      fail(`weight must be between 1 and ${MAX_WEIGHT}`);
    }
    return { to: to as string, weight: weight as number };
  });
  return { amount, recipients };
}

run((): Action[] => {
  const { amount, recipients } = readInput();
  const total = recipients.reduce((sum, r) => sum + BigInt(r.weight), 0n);
  const shares = recipients.map((r) => (amount * BigInt(r.weight)) / total);
  const dust = amount - shares.reduce((sum, share) => sum + share, 0n);
  shares[0] = shares[0]! + dust;
  return recipients.map((r, i) => transfer(r.to, shares[i]!));
});
