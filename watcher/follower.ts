import type { RedisClient } from "../protocol/redis.ts";
import type { Logger } from "pino";
import { getAbiItem, type Address, type Hex } from "viem";
import { disputeManagerAbi, instructionIngestorAbi } from "../protocol/generated/abis.ts";
import type { WatcherChain } from "./chain.ts";
import { watcherKeys } from "./state.ts";

/**
 * Follows one chain for the watcher: `ResultIngested` (InstructionIngestor) and `DisputeOpened`
 * (DisputeManager) after `confirmations`, in chunks of at most `maxBlockRange`, with a cursor in
 * Redis (last block fully handled) moved only after the chunk's handler resolved, like the
 * relayer's follower: a crash re-reads the chunk, and the handlers are idempotent.
 */

const resultIngested = getAbiItem({ abi: instructionIngestorAbi, name: "ResultIngested" });
const disputeOpened = getAbiItem({ abi: disputeManagerAbi, name: "DisputeOpened" });

export type IngestedEvent = {
  chainId: bigint;
  requestId: Hex;
  originChainId: bigint;
  status: number;
  bodyHash: Hex;
  daPointer: Hex;
  blockNumber: bigint;
  transactionHash: Hex;
};

export type DisputeEvent = {
  chainId: bigint;
  id: bigint;
  requestId: Hex;
  originChainId: bigint;
  kind: number;
  challenger: Address;
  resultHash: Hex;
  resultBodyHash: Hex;
  claimedBodyHash: Hex;
  signers: Address[];
  bond: bigint;
  commitEnd: bigint;
  revealEnd: bigint;
};

export type FollowerHandlers = {
  onIngested: (events: IngestedEvent[]) => Promise<void>;
  onDisputes: (events: DisputeEvent[]) => Promise<void>;
};

export class WatcherFollower {
  readonly chain: WatcherChain;
  private readonly redis: RedisClient;
  private readonly owner: Address;
  private readonly log: Logger;
  private readonly handlers: FollowerHandlers;
  /** Unix ms of the last successful poll (health). */
  lastPollAt = 0;
  head = 0n;

  constructor(options: {
    chain: WatcherChain;
    redis: RedisClient;
    owner: Address;
    log: Logger;
    handlers: FollowerHandlers;
  }) {
    this.chain = options.chain;
    this.redis = options.redis;
    this.owner = options.owner;
    this.log = options.log;
    this.handlers = options.handlers;
  }

  private get cursorKey(): string {
    return watcherKeys(this.owner).cursor(this.chain.chainId);
  }

  async cursor(): Promise<bigint> {
    const stored = await this.redis.get(this.cursorKey);
    return stored === null ? BigInt(this.chain.config.startBlock) - 1n : BigInt(stored);
  }

  /** One poll: scans newly confirmed blocks; returns the number of events handled. */
  async pollOnce(): Promise<number> {
    const { client, config } = this.chain;
    const head = await client.getBlockNumber({ cacheTime: 0 });
    this.head = head;
    this.lastPollAt = Date.now();
    const safe = head - BigInt(config.confirmations);
    let from = (await this.cursor()) + 1n;
    let seen = 0;
    while (from <= safe) {
      let to = from + BigInt(config.maxBlockRange) - 1n;
      if (to > safe) to = safe;
      const [ingested, disputes] = await Promise.all([
        client.getLogs({
          address: this.chain.ingestor,
          event: resultIngested,
          fromBlock: from,
          toBlock: to,
          strict: true,
        }),
        client.getLogs({
          address: this.chain.disputeManager,
          event: disputeOpened,
          fromBlock: from,
          toBlock: to,
          strict: true,
        }),
      ]);
      const ingestedEvents: IngestedEvent[] = ingested
        .filter((l) => !l.removed)
        .map((l) => ({
          chainId: this.chain.chainId,
          requestId: l.args.requestId.toLowerCase() as Hex,
          originChainId: l.args.originChainId,
          status: l.args.status,
          bodyHash: l.args.bodyHash.toLowerCase() as Hex,
          daPointer: l.args.daPointer.toLowerCase() as Hex,
          blockNumber: l.blockNumber,
          transactionHash: l.transactionHash,
        }));
      const disputeEvents: DisputeEvent[] = disputes
        .filter((l) => !l.removed)
        .map((l) => ({
          chainId: this.chain.chainId,
          id: l.args.disputeId,
          requestId: l.args.requestId.toLowerCase() as Hex,
          originChainId: l.args.originChainId,
          kind: l.args.kind,
          challenger: l.args.challenger,
          resultHash: l.args.resultHash,
          resultBodyHash: l.args.resultBodyHash.toLowerCase() as Hex,
          claimedBodyHash: l.args.claimedBodyHash.toLowerCase() as Hex,
          signers: [...l.args.signers],
          bond: l.args.bond,
          commitEnd: l.args.commitEnd,
          revealEnd: l.args.revealEnd,
        }));
      if (ingestedEvents.length > 0) await this.handlers.onIngested(ingestedEvents);
      if (disputeEvents.length > 0) await this.handlers.onDisputes(disputeEvents);
      seen += ingestedEvents.length + disputeEvents.length;
      await this.redis.set(this.cursorKey, to.toString());
      from = to + 1n;
    }
    if (seen > 0) this.log.debug({ chainId: this.chain.config.chainId, seen, head }, "events");
    return seen;
  }
}
