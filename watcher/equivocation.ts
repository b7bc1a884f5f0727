import type { RedisClient } from "../protocol/redis.ts";
import type { Logger } from "pino";
import { getAddress, hashStruct, recoverTypedDataAddress, type Address, type Hex } from "viem";
import { stakingRegistryAbi } from "../protocol/generated/abis.ts";
import { EVIDENCE_STREAM, evidenceFromJson, type Evidence } from "../protocol/evidence.ts";
import { resultForChain, type ExecutionRecord } from "../protocol/record.ts";
import { resultDomain, resultTypes } from "../protocol/result.ts";
import { revertName, shortError, type WatcherChain } from "./chain.ts";
import { watcherKeys } from "./state.ts";

/**
 * Equivocation (SPEC 3.5): remembers, per (ingestor domain, originChainId, requestId, signer),
 * the Results that signer signed (struct hash + signature), bounded LRU. When one signer signed
 * two different Results for one request under one domain, `StakingRegistry.proveEquivocation`
 * goes to the registry of that domain's chain (skipped when `equivocationSlashed` already says
 * so). Sources: every DA record the watcher reads and the `{versatus}evidence` stream the
 * collector feeds with conflicting signatures it received.
 */

type Seen = { structHash: Hex; evidence: Evidence };
export type Proof = { a: Evidence; b: Evidence };

export type EquivocationMetrics = { proofs: (outcome: string) => void };

export class EquivocationWatcher {
  private readonly seen = new Map<string, Seen[]>();
  private readonly pending: Proof[] = [];
  private readonly submitted = new Set<string>();
  private readonly chains: ReadonlyMap<bigint, WatcherChain>;
  private readonly redis: RedisClient;
  private readonly owner: Address;
  private readonly log: Logger;
  private readonly memory: number;
  private readonly metrics: EquivocationMetrics | undefined;

  constructor(options: {
    chains: ReadonlyMap<bigint, WatcherChain>;
    redis: RedisClient;
    owner: Address;
    log: Logger;
    memory: number;
    metrics?: EquivocationMetrics;
  }) {
    this.chains = options.chains;
    this.redis = options.redis;
    this.owner = options.owner;
    this.log = options.log;
    this.memory = options.memory;
    this.metrics = options.metrics;
  }

  /** Signatures remembered (for tests and metrics). */
  get size(): number {
    return this.seen.size;
  }

  /** Adds one signature; a valid one conflicting with an earlier one queues a proof. */
  async observe(evidence: Evidence): Promise<boolean> {
    const domain = resultDomain(evidence.ingestorChainId, evidence.ingestor);
    let signer: Address;
    try {
      signer = await recoverTypedDataAddress({
        domain,
        types: resultTypes,
        primaryType: "Result",
        message: evidence.result,
        signature: evidence.signature,
      });
    } catch {
      return false;
    }
    if (signer !== getAddress(evidence.signer)) return false;
    const structHash = hashStruct({ data: evidence.result, primaryType: "Result", types: resultTypes });
    const key = [
      evidence.ingestorChainId,
      evidence.ingestor.toLowerCase(),
      evidence.result.originChainId,
      evidence.result.requestId.toLowerCase(),
      signer.toLowerCase(),
    ].join(":");
    const list = this.seen.get(key) ?? [];
    this.seen.delete(key); // re-insert: most recently used last
    this.seen.set(key, list);
    if (this.seen.size > this.memory) this.seen.delete(this.seen.keys().next().value!);
    if (list.some((s) => s.structHash === structHash)) return false;
    const other = list[0];
    list.push({ structHash, evidence: { ...evidence, signer } });
    if (list.length > 2) list.splice(1, list.length - 2); // two different ones are all a proof needs
    if (!other) return false;
    if (this.submitted.has(key)) return false;
    this.submitted.add(key);
    this.pending.push({ a: other.evidence, b: { ...evidence, signer } });
    this.log.warn(
      { signer, requestId: evidence.result.requestId, originChainId: String(evidence.result.originChainId) },
      "equivocation detected",
    );
    return true;
  }

  /** Every signature of a record, each under its chain's ingestor domain (chains not followed are skipped). */
  async observeRecord(record: ExecutionRecord): Promise<void> {
    for (const sig of record.signatures) {
      const chain = this.chains.get(sig.chainId);
      if (!chain) continue;
      await this.observe({
        result: resultForChain(record.body, sig.chainId),
        signature: sig.signature,
        signer: sig.signer,
        ingestorChainId: sig.chainId,
        ingestor: chain.ingestor,
      });
    }
  }

  /** Reads new entries of the evidence stream (non-blocking); returns how many were read. */
  async readStream(count = 500): Promise<number> {
    const cursorKey = watcherKeys(this.owner).evidenceCursor;
    let read = 0;
    for (;;) {
      const cursor = (await this.redis.get(cursorKey)) ?? "0-0";
      const reply = (await this.redis.xread("COUNT", count, "STREAMS", EVIDENCE_STREAM, cursor)) as
        [string, [string, string[]][]][] | null;
      const entries = reply?.[0]?.[1] ?? [];
      if (entries.length === 0) return read;
      for (const [, fields] of entries) {
        const index = fields.indexOf("data");
        const evidence = index >= 0 ? evidenceFromJson(fields[index + 1] ?? "") : undefined;
        if (evidence) await this.observe(evidence);
        else this.log.debug({ fields }, "malformed evidence entry ignored");
      }
      read += entries.length;
      await this.redis.set(cursorKey, entries[entries.length - 1]![0]);
      if (entries.length < count) return read;
    }
  }

  /** Submits the queued proofs; returns the number that landed. */
  async submit(): Promise<number> {
    let landed = 0;
    while (this.pending.length > 0) {
      const proof = this.pending.shift()!;
      const { a, b } = proof;
      const chain = this.chains.get(a.ingestorChainId);
      if (!chain) {
        this.log.warn({ chainId: String(a.ingestorChainId) }, "equivocation on a chain not followed: cannot prove");
        this.metrics?.proofs("unprovable");
        continue;
      }
      try {
        const slashed = await chain.client.readContract({
          address: chain.registry,
          abi: stakingRegistryAbi,
          functionName: "equivocationSlashed",
          args: [a.signer, a.result.originChainId, a.result.requestId],
        });
        if (slashed) {
          this.metrics?.proofs("already_slashed");
          continue;
        }
        const hash = await chain.send({
          address: chain.registry,
          abi: stakingRegistryAbi,
          functionName: "proveEquivocation",
          args: [a.result, a.signature, b.result, b.signature, a.ingestorChainId, a.ingestor],
        });
        landed++;
        this.metrics?.proofs("proven");
        this.log.warn(
          { signer: a.signer, requestId: a.result.requestId, tx: hash },
          "equivocation proven: operator slashed",
        );
      } catch (error) {
        const name = revertName(error);
        if (name === "Staking_AlreadySlashed") {
          this.metrics?.proofs("already_slashed");
          continue;
        }
        this.metrics?.proofs("failed");
        this.log.error({ err: shortError(error), revert: name, signer: a.signer }, "proveEquivocation failed");
        if (name === undefined) {
          // transient (RPC): try again next round
          this.pending.push(proof);
          return landed;
        }
      }
    }
    return landed;
  }
}
