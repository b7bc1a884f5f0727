import type { Logger } from "pino";
import { getAbiItem, getAddress, type Hex } from "viem";
import type { DaClient } from "../da/index.ts";
import { executableOracleAbi } from "../protocol/generated/abis.ts";
import { recordBodyHash, type ExecutionRecord, type ExecutionRecordBody } from "../protocol/record.ts";
import type { NanoRuntime } from "../runtime/executor.ts";
import type { ControllerResolver } from "../protocol/conservation.ts";
import { contextOfRequest } from "../protocol/programContext.ts";
import { chainControllerResolver, requestFee } from "../protocol/ruleContext.ts";
import { runRequest, type OutputRuleInputs, type RequestToRun } from "../worker/execute.ts";
import type { ProgramStore } from "../worker/programStore.ts";
import { shortError, type WatcherChain } from "./chain.ts";

/**
 * The watcher's verification path (SPEC 3.5, 5): read the execution record from DA by its
 * pointer, check it hashes to the ingested bodyHash, and re-execute the request exactly as a
 * worker does (worker/execute.ts `runRequest`: the request's input, program and context as the
 * origin chain's ExecutionRequested event and the fee at its block give them, clock = the
 * request's block timestamp, seed = the requestId) to get the bodyHash an honest quorum signs.
 */

const executionRequested = getAbiItem({ abi: executableOracleAbi, name: "ExecutionRequested" });

export type RecordRead = { ok: true; record: ExecutionRecord } | { ok: false; reason: string };

export type Recomputed =
  | { ok: true; body: ExecutionRecordBody; bodyHash: Hex }
  | {
      ok: false;
      reason: string;
      /** retrying later may help (program not published yet, RPC down) */ transient: boolean;
    };

export type IngestVerdict =
  | { kind: "ok"; record: ExecutionRecord; bodyHash: Hex }
  | { kind: "wrong"; record: ExecutionRecord; correctBodyHash: Hex }
  | { kind: "unavailable"; reason: string }
  | { kind: "unknown"; reason: string; transient: boolean; record?: ExecutionRecord };

export type VerifierOptions = {
  da: DaClient;
  store: ProgramStore;
  runtime: NanoRuntime;
  /** Followed chains by id: origin chains give the requests. */
  chains: ReadonlyMap<bigint, WatcherChain>;
  log: Logger;
  daAttempts: number;
  daRetryDelayMs: number;
  /** Every record read (equivocation tracking). */
  onRecord?: (record: ExecutionRecord) => void;
  /** Tests only: answers `isController` instead of the chains. */
  controllers?: ControllerResolver;
};

/** A request as its origin recorded it: its context (escrow, fee, requester, ...) and input. */
export type WatchedRequest = RequestToRun;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Verifier {
  private readonly options: VerifierOptions;
  private readonly requests = new Map<string, WatchedRequest>();
  /** `isController` answers, shared with the fraud-proof detector (same chains, same cache). */
  readonly controllers: ControllerResolver;

  constructor(options: VerifierOptions) {
    this.options = options;
    this.controllers = options.controllers ?? chainControllerResolver((chainId) => options.chains.get(chainId)?.client);
  }

  /** The output rule's inputs (the same a worker uses, so both reach one verdict; the escrow is the context's). */
  ruleFor(): OutputRuleInputs {
    return { controllers: this.controllers };
  }

  /**
   * Reads the record `daPointer` names and checks it hashes to `bodyHash`. Retries up to
   * `daAttempts` times (never past `untilMs`): a record that still cannot be read, or reads but
   * does not match, is unavailable.
   */
  async readRecord(daPointer: Hex, bodyHash: Hex, untilMs = Number.POSITIVE_INFINITY): Promise<RecordRead> {
    const { da, daAttempts, daRetryDelayMs } = this.options;
    let reason = "";
    for (let attempt = 1; attempt <= daAttempts; attempt++) {
      try {
        const record = await da.get(daPointer);
        this.options.onRecord?.(record);
        const hash = recordBodyHash(record.body);
        if (hash !== bodyHash.toLowerCase()) return { ok: false, reason: `record hashes to ${hash}, not ${bodyHash}` };
        return { ok: true, record };
      } catch (error) {
        reason = shortError(error);
      }
      if (attempt < daAttempts && Date.now() + daRetryDelayMs < untilMs) await sleep(daRetryDelayMs);
      else break;
    }
    return { ok: false, reason };
  }

  /** The request as its origin chain recorded it, or undefined when the origin has no such request. */
  async request(originChainId: bigint, requestId: Hex): Promise<WatchedRequest | undefined> {
    const key = `${originChainId}:${requestId.toLowerCase()}`;
    const cached = this.requests.get(key);
    if (cached) return cached;
    const origin = this.options.chains.get(originChainId);
    if (!origin) return undefined;
    const escrow = await origin.client.readContract({
      address: origin.oracle,
      abi: executableOracleAbi,
      functionName: "escrowOf",
      args: [requestId],
    });
    // An ingested request's slot holds the ingestion record, not the request: only "no record at
    // all" (no status, no deadline) means the origin has no such request.
    if (escrow.status === 0 && escrow.deadline === 0n) return undefined;
    const logs = await origin.client.getLogs({
      address: origin.oracle,
      event: executionRequested,
      args: { requestId },
      fromBlock: BigInt(origin.config.startBlock),
      toBlock: "latest",
      strict: true,
    });
    const log = logs.find((l) => !l.removed);
    if (!log) return undefined;
    const fee = await requestFee(origin.client, origin.oracle, log.args.token, log.blockNumber);
    const requestBlock = await origin.client.getBlock({ blockNumber: log.blockNumber });
    const context = contextOfRequest(
      {
        chainId: originChainId.toString(),
        oracle: getAddress(log.address),
        requestId,
        programId: log.args.programId,
        requester: getAddress(log.args.requester),
        token: getAddress(log.args.token),
        amount: log.args.amount.toString(),
        blockNumber: log.blockNumber.toString(),
        blockTimestamp: requestBlock.timestamp.toString(),
      },
      fee,
    );
    const request: WatchedRequest = { context, input: log.args.input.toLowerCase() as Hex };
    this.requests.set(key, request);
    if (this.requests.size > 10_000) this.requests.delete(this.requests.keys().next().value!);
    return request;
  }

  /** Re-executes the request as an honest worker would and returns the body and its hash. */
  async recompute(originChainId: bigint, requestId: Hex): Promise<Recomputed> {
    let request: WatchedRequest | undefined;
    try {
      request = await this.request(originChainId, requestId);
    } catch (error) {
      return { ok: false, reason: `origin chain read failed: ${shortError(error)}`, transient: true };
    }
    if (!request) {
      const known = this.options.chains.has(originChainId);
      return {
        ok: false,
        reason: known
          ? `no request ${requestId} on chain ${originChainId}`
          : `origin chain ${originChainId} not followed`,
        transient: false,
      };
    }
    let pkg;
    try {
      pkg = await this.options.store.get(request.context.programId);
    } catch (error) {
      return { ok: false, reason: `program ${request.context.programId}: ${shortError(error)}`, transient: true };
    }
    try {
      const run = await runRequest(request, pkg, this.options.runtime, this.ruleFor());
      return { ok: true, body: run.body, bodyHash: run.bodyHash };
    } catch (error) {
      return { ok: false, reason: `re-execution abandoned: ${shortError(error)}`, transient: true };
    }
  }

  /** Full check of one ingested result. */
  async verifyIngested(
    event: { originChainId: bigint; requestId: Hex; bodyHash: Hex; daPointer: Hex },
    untilMs?: number,
  ): Promise<IngestVerdict> {
    const read = await this.readRecord(event.daPointer, event.bodyHash, untilMs);
    if (!read.ok) return { kind: "unavailable", reason: read.reason };
    const { record } = read;
    const recomputed = await this.recompute(event.originChainId, event.requestId);
    if (!recomputed.ok) return { kind: "unknown", reason: recomputed.reason, transient: recomputed.transient, record };
    if (recomputed.bodyHash === event.bodyHash.toLowerCase())
      return { kind: "ok", record, bodyHash: recomputed.bodyHash };
    this.options.log.warn(
      {
        requestId: event.requestId,
        originChainId: String(event.originChainId),
        ingested: event.bodyHash,
        recomputed: recomputed.bodyHash,
      },
      "ingested result differs from re-execution",
    );
    return { kind: "wrong", record, correctBodyHash: recomputed.bodyHash };
  }
}
