import { Redis } from "ioredis";
import { keccak256, stringToHex, type Address, type Hex } from "viem";
import type { RequestJob, WorkJob } from "../../protocol/jobs.ts";

/**
 * Shared by test/worker and test/relayer. Each test file uses its own Redis logical database
 * (the queue prefix is fixed by the protocol), flushed before and after.
 */
export const REDIS_BASE = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

export function redisUrl(db: number): string {
  return `${REDIS_BASE.replace(/\/\d+$/, "")}/${db}`;
}

export async function flushedRedis(db: number): Promise<Redis> {
  const redis = new Redis(redisUrl(db), { maxRetriesPerRequest: null });
  await redis.flushdb();
  return redis;
}

/** Waits until `check` returns a value (not undefined); rejects after `timeoutMs`. No timing is asserted. */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function requestJob(fields: {
  label: string;
  programId: Hex;
  input: unknown;
  chainId?: number;
  oracle?: Address;
  deadline?: bigint;
  /** Escrowed asset (default ETH) and amount (default 1 ether). */
  token?: Address;
  amount?: bigint;
}): RequestJob {
  const text = typeof fields.input === "string" ? fields.input : JSON.stringify(fields.input);
  return {
    chainId: String(fields.chainId ?? 31337),
    oracle: fields.oracle ?? "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    requestId: keccak256(stringToHex(fields.label)),
    programId: fields.programId,
    requester: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    token: fields.token ?? "0x0000000000000000000000000000000000000000",
    amount: String(fields.amount ?? 10n ** 18n),
    deadline: String(fields.deadline ?? BigInt(Math.floor(Date.now() / 1000) + 3600)),
    input: stringToHex(text),
    blockNumber: "12",
    blockTimestamp: "1700000000",
    transactionHash: keccak256(stringToHex(`tx ${fields.label}`)),
    logIndex: 0,
  };
}

export function workJob(request: RequestJob, operator: Address): WorkJob {
  return { ...request, operator, reassignAfter: Date.now() + 60_000 };
}
