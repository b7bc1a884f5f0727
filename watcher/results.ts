import type { RedisClient } from "../protocol/redis.ts";
import type { Logger } from "pino";
import { randomBytes } from "node:crypto";
import { bytesToHex, type Address, type Hex } from "viem";
import { disputeManagerAbi, instructionIngestorAbi } from "../protocol/generated/abis.ts";
import { recoverSigners } from "../protocol/ingested.ts";
import { challengeCommitment } from "../protocol/disputes.ts";
import { resultForChain, type ExecutionRecord } from "../protocol/record.ts";
import { ingestedCall, revertName, shortError, type IngestedCall, type WatcherChain } from "./chain.ts";
import type { FraudProver } from "./fraud.ts";
import type { IngestedEvent } from "./follower.ts";
import type { WatcherMetrics } from "./metrics.ts";
import { resultField, watcherKeys, type ResultState } from "./state.ts";
import type { Verifier } from "./verifier.ts";

/**
 * What the watcher does with every ingested result (SPEC 3.5): verify it (verifier.ts); a wrong
 * one is challenged with the bodyHash re-execution gives (WrongResult), an unreadable or
 * non-matching record with DataUnavailable. A challenge takes two transactions so it cannot be
 * front-run: `commitChallenge(keccak256(abi.encode(challenger, originChainId, requestId, kind,
 * claimedBodyHash, salt)))`, then, in a later block, `challenge(r, signers, kind, claimed, salt)`
 * naming every signer recovered from the ingest transaction's signatures (ascending). Nothing is
 * finalised any more: reputation accrues from the fee ledger (`versatus operator reputation`).
 * State per result lives in Redis (state.ts), so a restart picks up where it was.
 */

export const DisputeKind = { WrongResult: 0, DataUnavailable: 1 } as const;

/** "unknown" verdicts (program or request not found yet, RPC down) are retried this many rounds. */
const UNKNOWN_RETRIES = 20;

export type ResultMonitorOptions = {
  chains: ReadonlyMap<bigint, WatcherChain>;
  redis: RedisClient;
  owner: Address;
  verifier: Verifier;
  log: Logger;
  metrics: WatcherMetrics;
  challenge: boolean;
  concurrency: number;
  /** Objective fraud proofs (unbacked or foreign mints), checked once per ingested result. */
  fraud?: FraudProver;
};

export class ResultMonitor {
  private readonly o: ResultMonitorOptions;
  private readonly inFlight = new Set<string>();

  constructor(options: ResultMonitorOptions) {
    this.o = options;
  }

  /** Records newly seen ingest events (idempotent: a re-scan keeps the existing state). */
  async onIngested(events: IngestedEvent[]): Promise<void> {
    const key = watcherKeys(this.o.owner);
    const write = this.o.redis.multi();
    for (const e of events) {
      const state: ResultState = {
        requestId: e.requestId,
        originChainId: e.originChainId.toString(),
        bodyHash: e.bodyHash,
        daPointer: e.daPointer,
        transactionHash: e.transactionHash,
        seenAt: Date.now(),
        verdict: "pending",
      };
      write.hsetnx(key.results(e.chainId), resultField(e.originChainId, e.requestId), JSON.stringify(state));
    }
    await write.exec();
  }

  /** One round over every chain's open results. */
  async tick(): Promise<void> {
    await Promise.all([...this.o.chains.values()].map((chain) => this.tickChain(chain)));
  }

  private async tickChain(chain: WatcherChain): Promise<void> {
    const key = watcherKeys(this.o.owner).results(chain.chainId);
    const all = await this.o.redis.hgetall(key);
    const entries = Object.entries(all);
    if (entries.length === 0) return;
    const now = await chain.now();
    const { challengeWindow } = await chain.params();
    const work = entries.filter(([field]) => !this.inFlight.has(`${chain.chainId}:${field}`));
    let next = 0;
    const runOne = async () => {
      while (next < work.length) {
        const [field, json] = work[next++]!;
        const id = `${chain.chainId}:${field}`;
        this.inFlight.add(id);
        try {
          await this.handle(chain, key, field, JSON.parse(json) as ResultState, now, challengeWindow);
        } catch (error) {
          this.o.log.warn({ err: shortError(error), chainId: chain.config.chainId, field }, "result handling failed");
        } finally {
          this.inFlight.delete(id);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.o.concurrency, work.length) }, runOne));
  }

  private async handle(
    chain: WatcherChain,
    key: string,
    field: string,
    state: ResultState,
    now: bigint,
    challengeWindow: bigint,
  ): Promise<void> {
    const originChainId = BigInt(state.originChainId);
    const ingestedAt = await chain.client.readContract({
      address: chain.ingestor,
      abi: instructionIngestorAbi,
      functionName: "ingestedAt",
      args: [originChainId, state.requestId],
    });
    if (ingestedAt === 0n) {
      // reorged away: nothing to judge
      await this.o.redis.hdel(key, field);
      return;
    }
    const windowEnd = ingestedAt + challengeWindow;
    const save = (s: ResultState) => this.o.redis.hset(key, field, JSON.stringify(s));

    if (this.o.fraud && !state.fraudChecked) {
      // Objective faults need no window and no vote: proven from the signed Results alone.
      await this.o.fraud.check(chain, {
        originChainId,
        requestId: state.requestId,
        transactionHash: state.transactionHash,
      });
      state = { ...state, fraudChecked: true };
      await save(state);
    }

    if (state.verdict === "pending" || state.verdict === "unknown") {
      if (now > windowEnd) {
        this.o.log.info({ requestId: state.requestId, verdict: state.verdict }, "window closed before a verdict");
        if (state.verdict === "unknown") {
          await this.o.redis.hdel(key, field);
          return;
        }
      }
      // the DA retries must end inside the window (chain seconds left → wall-clock budget)
      const untilMs = Date.now() + Math.max(0, Number(windowEnd - now) - 2) * 1000;
      const verdict = await this.o.verifier.verifyIngested(
        { originChainId, requestId: state.requestId, bodyHash: state.bodyHash, daPointer: state.daPointer },
        untilMs,
      );
      this.o.metrics.checked.inc({ verdict: verdict.kind });
      if (verdict.kind === "unknown") {
        const tries = (state.tries ?? 0) + 1;
        this.o.log.warn({ requestId: state.requestId, reason: verdict.reason, tries }, "result could not be verified");
        if (!verdict.transient || tries >= UNKNOWN_RETRIES) await this.o.redis.hdel(key, field);
        else await save({ ...state, verdict: "unknown", reason: verdict.reason, tries });
        return;
      }
      if (verdict.kind === "ok") {
        state = { ...state, verdict: "ok" };
        await save(state);
      } else {
        this.o.metrics.mismatches.inc({ kind: verdict.kind });
        const record = verdict.kind === "wrong" ? verdict.record : undefined;
        state = {
          ...state,
          verdict: verdict.kind,
          ...(verdict.kind === "wrong" ? { correctBodyHash: verdict.correctBodyHash } : { reason: verdict.reason }),
        };
        await save(state);
        await this.challenge(chain, key, field, state, record);
        return;
      }
    }

    if (state.verdict === "wrong" || state.verdict === "unavailable") {
      if (state.challengedAt === undefined && now <= windowEnd) await this.challenge(chain, key, field, state);
      else await this.o.redis.hdel(key, field);
      return;
    }

    if (state.verdict === "ok" && now > windowEnd) await this.o.redis.hdel(key, field);
  }

  /** The Result and signatures as ingested (from the ingest calldata, else rebuilt from the record). */
  private async ingested(
    chain: WatcherChain,
    state: ResultState,
    record?: ExecutionRecord,
  ): Promise<IngestedCall | undefined> {
    const call = await ingestedCall(chain, state.transactionHash, BigInt(state.originChainId), state.requestId);
    if (call) return call;
    if (!record) return undefined;
    return {
      result: resultForChain(record.body, chain.chainId),
      signatures: record.signatures.filter((s) => s.chainId === chain.chainId).map((s) => s.signature),
    };
  }

  private async challenge(
    chain: WatcherChain,
    key: string,
    field: string,
    state: ResultState,
    record?: ExecutionRecord,
  ): Promise<void> {
    const kind = state.verdict === "wrong" ? DisputeKind.WrongResult : DisputeKind.DataUnavailable;
    const kindName = kind === DisputeKind.WrongResult ? "wrong_result" : "data_unavailable";
    if (!this.o.challenge) {
      this.o.log.warn({ requestId: state.requestId, kind: kindName }, "challenge disabled: not challenging");
      await this.o.redis.hdel(key, field);
      return;
    }
    const call = await this.ingested(chain, state, record);
    if (!call) {
      this.o.log.error({ requestId: state.requestId }, "cannot rebuild the ingested Result and signatures");
      this.o.metrics.challenges.inc({ kind: kindName, outcome: "failed" });
      await this.o.redis.hdel(key, field);
      return;
    }
    const claimed = (kind === DisputeKind.WrongResult ? state.correctBodyHash! : `0x${"00".repeat(32)}`) as Hex;
    const originChainId = BigInt(state.originChainId);
    const save = (s: ResultState) => this.o.redis.hset(key, field, JSON.stringify(s));
    try {
      // Step 1: commit (the salt is durable before the commitment leaves).
      if (state.challengeCommitBlock === undefined) {
        const salt = state.challengeSalt ?? bytesToHex(randomBytes(32));
        if (!state.challengeSalt) {
          state = { ...state, challengeSalt: salt };
          await save(state);
        }
        const commitment = challengeCommitment({
          challenger: chain.account.address,
          originChainId,
          requestId: state.requestId,
          kind,
          claimedBodyHash: claimed,
          salt,
        });
        const hash = await chain.send({
          address: chain.disputeManager,
          abi: disputeManagerAbi,
          functionName: "commitChallenge",
          args: [commitment],
        });
        const receipt = await chain.client.getTransactionReceipt({ hash });
        state = { ...state, challengeCommitBlock: receipt.blockNumber.toString() };
        await save(state);
        this.o.log.info({ requestId: state.requestId, kind: kindName, tx: hash }, "challenge committed");
      }
      // Step 2: in a later block, the challenge itself, naming every signer recorded at ingestion.
      const head = await chain.client.getBlockNumber({ cacheTime: 0 });
      if (head <= BigInt(state.challengeCommitBlock!)) return; // next round
      const signers = await recoverSigners(call, chain.chainId, chain.ingestor);
      const { bond } = await chain.params();
      const hash = await chain.send({
        address: chain.disputeManager,
        abi: disputeManagerAbi,
        functionName: "challenge",
        args: [call.result, signers, kind, claimed, state.challengeSalt!],
        value: bond,
      });
      const latency = (Date.now() - state.seenAt) / 1000;
      this.o.metrics.detectionLatency.observe(latency);
      this.o.metrics.challenges.inc({ kind: kindName, outcome: "sent" });
      this.o.log.warn(
        { requestId: state.requestId, kind: kindName, claimed, signers: signers.length, tx: hash, latencyS: latency },
        "result challenged",
      );
      await this.o.redis.hdel(key, field);
    } catch (error) {
      const name = revertName(error);
      if (name === "Dispute_AlreadyChallenged" || name === "Dispute_WindowClosed" || name === "Dispute_NotIngested") {
        this.o.metrics.challenges.inc({ kind: kindName, outcome: "already" });
        this.o.log.info({ requestId: state.requestId, revert: name }, "challenge not needed");
        await this.o.redis.hdel(key, field);
        return;
      }
      this.o.metrics.challenges.inc({ kind: kindName, outcome: "failed" });
      this.o.log.error({ requestId: state.requestId, err: shortError(error), revert: name }, "challenge failed");
      if (name !== undefined) await this.o.redis.hdel(key, field);
    }
  }
}
