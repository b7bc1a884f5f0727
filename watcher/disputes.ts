import type { RedisClient } from "../protocol/redis.ts";
import type { Logger } from "pino";
import { bytesToHex, getAbiItem, type Address, type Hex } from "viem";
import { randomBytes } from "node:crypto";
import { disputeManagerAbi, instructionIngestorAbi, stakingRegistryAbi } from "../protocol/generated/abis.ts";
import { revertName, shortError, type WatcherChain } from "./chain.ts";
import type { DisputeEvent } from "./follower.ts";
import type { WatcherMetrics } from "./metrics.ts";
import { DisputeKind } from "./results.ts";
import { resultField, watcherKeys, type DisputeState, type ResultState } from "./state.ts";
import type { Verifier } from "./verifier.ts";

/**
 * Votes on disputes (SPEC 3.5). Every DisputeOpened is evaluated independently through the same
 * verification path: WrongResult upholds iff re-execution gives exactly the claimed bodyHash;
 * DataUnavailable upholds iff no record matching the result's bodyHash can be read. The vote and
 * a random salt are stored in Redis before the commit transaction (a restart still reveals). The
 * phases follow the chain's latest block timestamp `now` (calls are simulated at `now` and mined
 * later): commit while `now < commitEnd`, reveal while `commitEnd < now < revealEnd`, resolve once
 * `now > revealEnd` if nobody did; a dispute extended for lack of participation is voted on again
 * in its new round. The vote is at risk (a vote against the outcome loses a share of the stake),
 * so a watcher that cannot evaluate abstains. Whatever the DisputeManager owes the watcher is
 * withdrawn.
 */

const resultIngested = getAbiItem({ abi: instructionIngestorAbi, name: "ResultIngested" });
const OPEN = 1;

export type DisputeVoterOptions = {
  chains: ReadonlyMap<bigint, WatcherChain>;
  redis: RedisClient;
  owner: Address;
  verifier: Verifier;
  log: Logger;
  metrics: WatcherMetrics;
  vote: boolean;
};

export class DisputeVoter {
  private readonly o: DisputeVoterOptions;
  private warnedNoWeight = false;

  constructor(options: DisputeVoterOptions) {
    this.o = options;
  }

  async onDisputes(events: DisputeEvent[]): Promise<void> {
    const keys = watcherKeys(this.o.owner);
    const write = this.o.redis.multi();
    for (const e of events) {
      const state: DisputeState = {
        id: e.id.toString(),
        requestId: e.requestId,
        originChainId: e.originChainId.toString(),
        kind: e.kind,
        resultBodyHash: e.resultBodyHash,
        claimedBodyHash: e.claimedBodyHash,
        commitEnd: e.commitEnd.toString(),
        revealEnd: e.revealEnd.toString(),
      };
      write.hsetnx(keys.disputes(e.chainId), state.id, JSON.stringify(state));
      this.o.log.info(
        {
          chainId: String(e.chainId),
          disputeId: state.id,
          requestId: e.requestId,
          kind: e.kind,
          challenger: e.challenger,
        },
        "dispute opened",
      );
    }
    await write.exec();
  }

  async tick(): Promise<void> {
    await Promise.all([...this.o.chains.values()].map((chain) => this.tickChain(chain)));
  }

  private async tickChain(chain: WatcherChain): Promise<void> {
    const key = watcherKeys(this.o.owner).disputes(chain.chainId);
    const all = await this.o.redis.hgetall(key);
    if (Object.keys(all).length > 0) {
      const now = await chain.now();
      for (const [field, json] of Object.entries(all)) {
        try {
          await this.handle(chain, key, field, JSON.parse(json) as DisputeState, now);
        } catch (error) {
          this.o.log.warn({ err: shortError(error), disputeId: field }, "dispute handling failed");
        }
      }
    }
    await this.withdraw(chain);
  }

  private async handle(chain: WatcherChain, key: string, field: string, state: DisputeState, now: bigint) {
    const id = BigInt(state.id);
    const commitEnd = BigInt(state.commitEnd);
    const revealEnd = BigInt(state.revealEnd);
    const save = (s: DisputeState) => this.o.redis.hset(key, field, JSON.stringify(s));
    const me = this.o.owner;

    if (this.o.vote && state.upholds === undefined && now < commitEnd) {
      const weight = await chain.client.readContract({
        address: chain.registry,
        abi: stakingRegistryAbi,
        functionName: "watcherWeight",
        args: [me],
      });
      if (weight === 0n) {
        if (!this.warnedNoWeight)
          this.o.log.warn({ watcher: me }, "not a staked watcher: not voting (versatus watcher stake)");
        this.warnedNoWeight = true;
        state = { ...state, upholds: null };
      } else {
        state = { ...state, upholds: await this.evaluate(chain, state) };
      }
      await save(state);
      if (state.upholds === null) this.o.metrics.votes.inc({ action: "abstain", outcome: "sent" });
    }

    if (typeof state.upholds === "boolean" && !state.committed && now < commitEnd) {
      const upholds = state.upholds;
      const salt = state.salt ?? bytesToHex(randomBytes(32));
      if (!state.salt) {
        state = { ...state, salt };
        await save(state); // the salt is durable before the commitment leaves
      }
      const commitment = await chain.client.readContract({
        address: chain.disputeManager,
        abi: disputeManagerAbi,
        functionName: "voteCommitment",
        args: [id, me, upholds, salt],
      });
      const done = await this.act(chain, "commit", "commitVote", [id, commitment], ["Dispute_AlreadyCommitted"]);
      if (done) {
        state = { ...state, committed: true };
        await save(state);
      }
      return;
    }

    if (state.committed && !state.revealed && now > commitEnd && now < revealEnd) {
      const done = await this.act(
        chain,
        "reveal",
        "revealVote",
        [id, state.upholds === true, state.salt!],
        ["Dispute_NothingToReveal", "Dispute_NotOpen"],
      );
      if (done) await save({ ...state, revealed: true });
      return;
    }

    if (now > revealEnd) {
      const dispute = await chain.client.readContract({
        address: chain.disputeManager,
        abi: disputeManagerAbi,
        functionName: "disputeOf",
        args: [id],
      });
      if (dispute.state === OPEN) {
        const done = await this.act(chain, "resolve", "resolve", [id], ["Dispute_NotOpen"]);
        if (!done) return;
        // Too little of the watcher stake voted: the dispute is extended into a new round (never
        // decided by default). Vote again in it with the same verdict and a fresh salt.
        const after = await chain.client.readContract({
          address: chain.disputeManager,
          abi: disputeManagerAbi,
          functionName: "disputeOf",
          args: [id],
        });
        if (after.state === OPEN && BigInt(after.revealEnd) > revealEnd) {
          this.o.log.info({ disputeId: state.id, round: after.round }, "dispute extended: voting in the new round");
          const { salt: _old, ...rest } = state;
          void _old;
          await save({
            ...rest,
            commitEnd: String(after.commitEnd),
            revealEnd: String(after.revealEnd),
            committed: false,
            revealed: false,
          });
          return;
        }
      }
      await this.o.redis.hdel(key, field);
    }
  }

  /** Sends one dispute call; true when it landed or `benign` says it is no longer needed. */
  private async act(
    chain: WatcherChain,
    action: string,
    functionName: string,
    args: unknown[],
    benign: string[],
  ): Promise<boolean> {
    try {
      const hash = await chain.send({ address: chain.disputeManager, abi: disputeManagerAbi, functionName, args });
      this.o.metrics.votes.inc({ action, outcome: "sent" });
      this.o.log.info({ action, disputeId: String(args[0]), tx: hash }, "dispute action");
      return true;
    } catch (error) {
      const name = revertName(error);
      if (name !== undefined && benign.includes(name)) {
        this.o.metrics.votes.inc({ action, outcome: "already" });
        return true;
      }
      this.o.metrics.votes.inc({ action, outcome: "failed" });
      this.o.log.warn(
        { action, disputeId: String(args[0]), err: shortError(error), revert: name },
        "dispute action failed",
      );
      return false;
    }
  }

  /** true: the challenger's claim holds; false: it does not; null: cannot tell (abstain). */
  async evaluate(chain: WatcherChain, state: DisputeState): Promise<boolean | null> {
    const originChainId = BigInt(state.originChainId);
    if (state.kind === DisputeKind.WrongResult) {
      const recomputed = await this.o.verifier.recompute(originChainId, state.requestId);
      if (!recomputed.ok) {
        this.o.log.warn({ disputeId: state.id, reason: recomputed.reason }, "cannot evaluate dispute: abstaining");
        return null;
      }
      const upholds = recomputed.bodyHash === state.claimedBodyHash.toLowerCase();
      this.o.log.info(
        { disputeId: state.id, claimed: state.claimedBodyHash, recomputed: recomputed.bodyHash, upholds },
        "dispute evaluated",
      );
      return upholds;
    }
    // Only the ingested result's own record can be judged: without its ingest event (outside the
    // followed range) or for a result other than the ingested one, this watcher cannot tell.
    const ingested = await this.ingestedOf(chain, originChainId, state.requestId);
    if (!ingested || ingested.bodyHash.toLowerCase() !== state.resultBodyHash.toLowerCase()) {
      this.o.log.warn({ disputeId: state.id }, "cannot evaluate availability (not the ingested result): abstaining");
      return null;
    }
    const read = await this.o.verifier.readRecord(ingested.daPointer, state.resultBodyHash);
    this.o.log.info({ disputeId: state.id, available: read.ok }, "dispute evaluated (data availability)");
    return !read.ok;
  }

  private async ingestedOf(
    chain: WatcherChain,
    originChainId: bigint,
    requestId: Hex,
  ): Promise<{ daPointer: Hex; bodyHash: Hex } | undefined> {
    const stored = await this.o.redis.hget(
      watcherKeys(this.o.owner).results(chain.chainId),
      resultField(originChainId, requestId),
    );
    if (stored) return JSON.parse(stored) as ResultState;
    const logs = await chain.client.getLogs({
      address: chain.ingestor,
      event: resultIngested,
      args: { requestId, originChainId },
      fromBlock: BigInt(chain.config.startBlock),
      toBlock: "latest",
      strict: true,
    });
    const log = logs.find((l) => !l.removed);
    return log ? { daPointer: log.args.daPointer, bodyHash: log.args.bodyHash } : undefined;
  }

  private async withdraw(chain: WatcherChain): Promise<void> {
    const owed = await chain.client.readContract({
      address: chain.disputeManager,
      abi: disputeManagerAbi,
      functionName: "owed",
      args: [this.o.owner],
    });
    if (owed === 0n) return;
    const done = await this.act(chain, "withdraw", "withdraw", [], ["Dispute_NothingToWithdraw"]);
    if (done) this.o.log.info({ chainId: chain.config.chainId, wei: owed.toString() }, "withdrew what was owed");
  }
}
