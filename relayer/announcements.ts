import type { Address, Hex, PublicClient } from "viem";
import { executionRequested, requestJobOfLog } from "../ingestor/reconcile.ts";
import type { RequestJob } from "../protocol/jobs.ts";

/** A request announced by another node (a hint: checked against this node's own chain view). */
export type Announcement = {
  chainId: string;
  requestId: Hex;
  blockNumber: string;
  blockHash: Hex;
  txHash: Hex;
  logIndex: number;
};

export type AnnouncementVerdict =
  { ok: true; job: RequestJob } | { ok: false; reason: "unconfirmed" | "other_block" | "no_such_request" | "expired" };

/**
 * Checks an announcement against this node's own RPC: the block is at least `confirmations` deep,
 * its hash at that height is the announced one (not a reorged-away block), and it holds an
 * `ExecutionRequested` of `oracle` with the announced log index, transaction and request id. The
 * RequestJob is rebuilt from the log itself, never from the announcement. An unexpired request
 * only, by the chain's latest block time. RPC errors are thrown (the caller decides: the follower finds real requests anyway).
 */
export async function checkAnnouncement(
  client: PublicClient,
  chain: { chainId: number; oracle: Address; confirmations: number },
  a: Announcement,
  nowSeconds?: bigint,
): Promise<AnnouncementVerdict> {
  // the chain's clock decides expiry (as the oracle does), not this machine's
  const latest = await client.getBlock({ blockTag: "latest" });
  const head = latest.number;
  nowSeconds ??= latest.timestamp;
  if (head - BigInt(chain.confirmations) < BigInt(a.blockNumber)) return { ok: false, reason: "unconfirmed" };
  const block = await client.getBlock({ blockNumber: BigInt(a.blockNumber) });
  if (block.hash.toLowerCase() !== a.blockHash.toLowerCase()) return { ok: false, reason: "other_block" };
  const logs = await client.getLogs({ address: chain.oracle, event: executionRequested, blockHash: a.blockHash });
  const found = logs.find(
    (l) =>
      l.logIndex === a.logIndex &&
      l.transactionHash?.toLowerCase() === a.txHash.toLowerCase() &&
      l.args.requestId?.toLowerCase() === a.requestId.toLowerCase(),
  );
  if (!found) return { ok: false, reason: "no_such_request" };
  const job = requestJobOfLog(String(chain.chainId), chain.oracle, found, block.timestamp);
  if (BigInt(job.deadline) < nowSeconds) return { ok: false, reason: "expired" };
  return { ok: true, job };
}
