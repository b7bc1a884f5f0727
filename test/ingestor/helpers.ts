import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { createPublicClient, custom, keccak256, type Address, type Hex, type Transport } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import type { NetworkConnection } from "hardhat/types/network";
import { devAccount } from "../../deploy/context.ts";
import { instructionsHash, type Instruction } from "../../protocol/instructions.ts";
import { recordBodyOfResultJob, type PostJob, type ResultJob, type SignedChainResult } from "../../protocol/jobs.ts";
import { jobIds, QUEUE_PREFIX, queueNames } from "../../protocol/queues.ts";
import { contextToJson, type ProgramContext } from "../../protocol/programContext.ts";
import { recordBodyHash } from "../../protocol/record.ts";
import { readRequestRecord } from "../../protocol/ruleContext.ts";
import { resultDomain, resultTypes, type Result } from "../../protocol/result.ts";
import { ingestorConfigSchema, type IngestorConfig, type IngestorConfigInput } from "../../ingestor/config.ts";
import { deployTestSuite, type Suite } from "../helpers/suite.ts";
import { redisUrl } from "../worker/helpers.ts";

export const silentLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

/** One in-process chain with the suite deployed, and a viem transport on the same provider. */
export type TestChain = Suite & { connection: NetworkConnection; transport: Transport; chainIdString: string };

export async function testChain(connection: NetworkConnection): Promise<TestChain> {
  const suite = await deployTestSuite(connection);
  return {
    ...suite,
    connection,
    transport: custom(connection.provider as Parameters<typeof custom>[0]),
    chainIdString: String(suite.chainId),
  };
}

export function transportsOf(chains: TestChain[]): Record<string, Transport> {
  return Object.fromEntries(chains.map((c) => [c.chainIdString, c.transport]));
}

/** A dedicated logical Redis DB per test file (of the server in REDIS_URL), flushed before and after. */
export async function testRedis(db: number): Promise<{ url: string; redis: Redis; flush: () => Promise<void> }> {
  const url = redisUrl(db);
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  await redis.flushdb();
  return { url, redis, flush: async () => void (await redis.flushdb()) };
}

export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function testConfig(
  chains: TestChain[],
  options: { redisUrl: string; daDir: string; overrides?: Partial<IngestorConfigInput> },
): IngestorConfig {
  return ingestorConfigSchema.parse({
    chains: chains.map((c) => ({
      chainId: Number(c.chainId),
      rpcUrl: "http://127.0.0.1:1", // unused: the tests pass the in-process transport
      oracle: c.addresses.ExecutableOracle,
      ingestor: c.addresses.InstructionIngestor,
      pollIntervalMs: 10,
    })),
    redis: { url: options.redisUrl },
    da: { primary: { layer: "local", dir: options.daDir } },
    posterKey: devAccount(5).privateKey,
    poster: { maxBatchWaitMs: 30, receiptTimeoutMs: 10_000, retryDelayMs: 50, rateLimitDelayMs: 200 },
    reconcile: { graceMs: 0, lookbackBlocks: 10_000 },
    ...options.overrides,
  });
}

export const operatorKeys = [1, 2, 3, 4].map((i) => devAccount(i).privateKey as Hex);

export type RequestInfo = {
  origin: TestChain;
  requestId: Hex;
  input: Hex;
};

/** The context a worker builds for a request: its origin's event and the fee at its block. */
export async function requestContext(request: RequestInfo): Promise<ProgramContext> {
  const { origin } = request;
  const client = createPublicClient({ transport: origin.transport });
  const oracle = origin.addresses.ExecutableOracle as Address;
  const record = await readRequestRecord(client, oracle, request.requestId, 0n);
  if (!record) throw new Error(`no request ${request.requestId} on chain ${origin.chainId}`);
  return {
    requestId: record.requestId,
    originChainId: origin.chainId,
    oracle,
    requester: record.requester,
    asset: record.token,
    amount: record.amount,
    fee: record.fee,
    blockNumber: record.blockNumber,
    timestamp: record.blockTimestamp,
    programId: record.programId,
  };
}

/** What a worker would push: body + per-chain signed Results (signed here with the operator's key). */
export async function makeResultJob(
  operatorKey: Hex,
  request: RequestInfo,
  options: {
    status?: 0 | 1;
    stdout?: Hex;
    stderr?: Hex;
    fuelUsed?: bigint;
    /** Instructions per chain (the origin chain is always included). */
    instructions?: { chain: TestChain; instructions: Instruction[] }[];
    /** Replace the signature with garbage of the right length. */
    garbageSignature?: boolean;
    /** The program context signed (default: the origin's request event and fee, as a worker builds it). */
    context?: ProgramContext;
  } = {},
): Promise<ResultJob> {
  const account = privateKeyToAccount(operatorKey);
  const { origin } = request;
  const groups = (options.instructions ?? []).filter((g) => g.instructions.length > 0);
  const context = options.context ?? (await requestContext(request));
  const targets = new Map<string, TestChain>([[origin.chainIdString, origin]]);
  for (const g of groups) targets.set(g.chain.chainIdString, g.chain);
  const status = options.status ?? 0;
  // The job first, unsigned; then the body from it with the collector's own builder, so the test
  // signs exactly the bodyHash the collector will rebuild.
  const job: ResultJob = {
    operator: account.address,
    originChainId: origin.chainIdString,
    oracle: context.oracle,
    requestId: context.requestId,
    programId: context.programId,
    context: contextToJson(context),
    input: request.input,
    outcome: {
      kind: status === 0 ? "ok" : "trap",
      status,
      exitCode: status === 0 ? 0 : null,
      fuelUsed: String(options.fuelUsed ?? 1234n),
      stdout: options.stdout ?? "0x",
      stderr: options.stderr ?? "0x",
      message: "",
    },
    chains: [...targets.values()].map((target) => ({
      chainId: target.chainIdString,
      ingestor: target.addresses.InstructionIngestor as Address,
      result: undefined as unknown as SignedChainResult["result"],
      instructions: (groups.find((g) => g.chain === target)?.instructions ?? []).map((ix) => ({
        ...ix,
        amount: ix.amount.toString(),
      })),
      signature: "0x",
    })),
  };
  const body = recordBodyOfResultJob(job);
  const bodyHash = recordBodyHash(body);
  for (const [i, target] of [...targets.values()].entries()) {
    const instructions = groups.find((g) => g.chain === target)?.instructions ?? [];
    // Hand-built on purpose (not resultForChain): a status-1 job with instructions must sign what it lists.
    const result: Result = {
      requestId: body.requestId,
      originChainId: body.originChainId,
      programId: body.programId,
      inputHash: keccak256(body.input),
      status: body.status,
      instructionsHash: instructionsHash(instructions),
      bodyHash,
    };
    let signature = await account.signTypedData({
      domain: resultDomain(target.chainId, target.addresses.InstructionIngestor as Address),
      types: resultTypes,
      primaryType: "Result",
      message: result,
    });
    if (options.garbageSignature) signature = `0x${"11".repeat(32)}${"22".repeat(32)}1b` as Hex;
    job.chains[i] = {
      ...job.chains[i]!,
      result: { ...result, originChainId: String(result.originChainId) },
      signature,
    };
  }
  return job;
}

export function resultsQueue(redisUrl: string): Queue<ResultJob> {
  const url = new URL(redisUrl);
  return new Queue<ResultJob>(queueNames.results, {
    connection: { host: url.hostname, port: Number(url.port || 6379), db: Number(url.pathname.slice(1) || 0) },
    prefix: QUEUE_PREFIX,
  });
}

export async function pushResult(queue: Queue<ResultJob>, job: ResultJob): Promise<void> {
  await queue.add("result", job, { jobId: jobIds.result(BigInt(job.originChainId), job.requestId, job.operator) });
}

/** Polls `check` until it returns a value other than undefined/false (bounded by `timeoutMs`). */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
  what = "condition",
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * The PostJob a collector would queue for `chainId` from these operators' result jobs (signatures
 * in ascending signer order), built by hand so a test can hand the poster what an honest
 * collector would refuse.
 */
export function postJobOf(jobs: ResultJob[], chainId: string, daPointer: Hex = "0x00"): PostJob {
  const entries = jobs
    .map((job) => ({ operator: job.operator.toLowerCase(), chain: job.chains.find((c) => c.chainId === chainId)! }))
    .sort((a, b) => (a.operator < b.operator ? -1 : 1));
  const first = entries[0]!.chain;
  return {
    chainId,
    originChainId: jobs[0]!.originChainId,
    requestId: jobs[0]!.requestId,
    result: first.result,
    instructions: first.instructions,
    signatures: entries.map((e) => e.chain.signature),
    daPointer,
  };
}
