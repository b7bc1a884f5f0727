/**
 * What the chains say happened to every request, read from their events and balances (never from
 * the services' own word): each request fulfilled, failed-and-refunded (PROGRAM_ERROR ingested:
 * the fee kept, the rest returned), refunded (deadline passed), or still open; how many times
 * each was ingested on each chain; whether each oracle holds exactly its open escrows plus its
 * fee ledger; the omni token's total supply over both chains.
 */
import { createPublicClient, http, zeroAddress, type Hex, type PublicClient } from "viem";
import { executableOracleAbi, instructionIngestorAbi, omniTokenAbi } from "../protocol/generated/abis.ts";
import type { ChaosWorld } from "./world.ts";

export type RequestFate = "fulfilled" | "failed_refunded" | "refunded" | "open" | "mint_missing";

export type Ledger = {
  requests: number;
  fulfilled: number;
  failed_refunded: number;
  refunded: number;
  /** Neither ingested nor refunded (after settling: lost), or a token move burned but never minted. */
  open: { chainId: number; requestId: Hex; fate: RequestFate }[];
  /** Requests ingested more than once on some chain. */
  duplicated: number;
  escrow_exact: boolean;
  escrow: {
    chainId: number;
    eth: { balance: string; expected: string };
    token: { balance: string; expected: string };
  }[];
  supply: bigint;
};

const clients = new Map<string, PublicClient>();
const client = (url: string): PublicClient => {
  let c = clients.get(url);
  if (!c) clients.set(url, (c = createPublicClient({ transport: http(url, { timeout: 60_000 }) }) as PublicClient));
  return c;
};

export async function omniSupply(world: ChaosWorld): Promise<bigint> {
  let total = 0n;
  for (const c of world.chains)
    total += await client(c.rpcUrl).readContract({
      address: c.omniToken as Hex,
      abi: omniTokenAbi,
      functionName: "totalSupply",
    });
  return total;
}

export async function readLedger(world: ChaosWorld): Promise<Ledger> {
  type Ingestion = { status: number; count: number };
  /** ingestions[chainIndex] : `${originChainId}:${requestId}` → status and count */
  const ingestions: Map<string, Ingestion>[] = [];
  for (const c of world.chains) {
    const logs = await client(c.rpcUrl).getContractEvents({
      address: c.ingestor as Hex,
      abi: instructionIngestorAbi,
      eventName: "ResultIngested",
      fromBlock: 0n,
    });
    const m = new Map<string, Ingestion>();
    for (const l of logs) {
      const key = `${l.args.originChainId}:${l.args.requestId}`;
      const seen = m.get(key);
      m.set(key, { status: Number(l.args.status), count: (seen?.count ?? 0) + 1 });
    }
    ingestions.push(m);
  }
  const ledger: Ledger = {
    requests: 0,
    fulfilled: 0,
    failed_refunded: 0,
    refunded: 0,
    open: [],
    duplicated: 0,
    escrow_exact: true,
    escrow: [],
    supply: await omniSupply(world),
  };
  for (const m of ingestions) for (const i of m.values()) if (i.count > 1) ledger.duplicated++;

  for (const [index, c] of world.chains.entries()) {
    const pc = client(c.rpcUrl);
    const oracle = c.oracle as Hex;
    const requested = await pc.getContractEvents({
      address: oracle,
      abi: executableOracleAbi,
      eventName: "ExecutionRequested",
      fromBlock: 0n,
    });
    const refunded = new Set(
      (
        await pc.getContractEvents({ address: oracle, abi: executableOracleAbi, eventName: "Refunded", fromBlock: 0n })
      ).map((l) => l.args.requestId),
    );
    const deferred = (
      await pc.getContractEvents({
        address: oracle,
        abi: executableOracleAbi,
        eventName: "RefundDeferred",
        fromBlock: 0n,
      })
    ).reduce((sum, l) => sum + (l.args.token === zeroAddress ? l.args.amount! : 0n), 0n);
    const feeOf = async (token: Hex) =>
      pc.readContract({ address: oracle, abi: executableOracleAbi, functionName: "feeOf", args: [token] });
    const ethFee = await feeOf(zeroAddress);
    const tokenFee = await feeOf(c.omniToken as Hex);
    let ethExpected = deferred;
    let tokenExpected = 0n;
    for (const r of requested) {
      ledger.requests++;
      const id = r.args.requestId!;
      const isEth = r.args.token === zeroAddress;
      const origin = ingestions[index]!.get(`${c.chainId}:${id}`);
      if (origin) {
        if (isEth) ethExpected += ethFee;
        else tokenExpected += tokenFee;
        if (origin.status !== 0) ledger.failed_refunded++;
        else {
          // a cross-chain move is done only when the destination chain has ingested it too
          const destination = isEth ? -1 : destinationOf(world, r.args.input!);
          if (destination >= 0 && destination !== index && !ingestions[destination]!.has(`${c.chainId}:${id}`))
            ledger.open.push({ chainId: c.chainId, requestId: id, fate: "mint_missing" });
          else ledger.fulfilled++;
        }
      } else if (refunded.has(id)) ledger.refunded++;
      else {
        ledger.open.push({ chainId: c.chainId, requestId: id, fate: "open" });
        if (isEth) ethExpected += r.args.amount!;
        else tokenExpected += r.args.amount!;
      }
    }
    const ethBalance = await pc.getBalance({ address: oracle });
    const tokenBalance = await pc.readContract({
      address: c.omniToken as Hex,
      abi: omniTokenAbi,
      functionName: "balanceOf",
      args: [oracle],
    });
    if (ethBalance !== ethExpected || tokenBalance !== tokenExpected) ledger.escrow_exact = false;
    ledger.escrow.push({
      chainId: c.chainId,
      eth: { balance: ethBalance.toString(), expected: ethExpected.toString() },
      token: { balance: tokenBalance.toString(), expected: tokenExpected.toString() },
    });
  }
  return ledger;
}

/** Index of the chain a token move's input names as its destination (-1: none or not a move). */
function destinationOf(world: ChaosWorld, input: Hex): number {
  try {
    const parsed = JSON.parse(Buffer.from(input.slice(2), "hex").toString("utf8")) as { destinationChainId?: unknown };
    return world.chains.findIndex((c) => c.chainId === Number(parsed.destinationChainId));
  } catch {
    return -1;
  }
}
