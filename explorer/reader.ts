import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  createPublicClient,
  formatEther,
  getAddress,
  hexToString,
  http,
  parseEventLogs,
  zeroAddress,
  type Address,
  type Hex,
  type PublicClient,
  type Transport,
} from "viem";
import type { DaClient } from "../da/index.ts";
import {
  disputeManagerAbi,
  executableOracleAbi,
  instructionIngestorAbi,
  omniTokenAbi,
  stakingRegistryAbi,
} from "../protocol/generated/abis.ts";
import { decodeIngestedCall, recoverSigners } from "../protocol/ingested.ts";
import { decodePackage } from "../protocol/programPackage.ts";
import { recordToJson } from "../protocol/record.ts";
import { DISPUTE_KINDS, DISPUTE_STATES, readStakeStatus } from "../protocol/staking.ts";
import { rankOperators } from "../protocol/quorum.ts";

/**
 * What the explorer reads, per chain, and how: every view is built from the chain's events and
 * views plus the execution record in DA, with the project's own readers (protocol/ingested.ts for
 * the ingested Result and its signers, protocol/record.ts for records, protocol/staking.ts for
 * stakes). Only public data: no key is ever loaded here.
 */
export type ExplorerChain = {
  name: string;
  chainId: number;
  rpcUrl?: string | undefined;
  oracle: Address;
  ingestor: Address;
  omniToken?: Address | undefined;
  staking?: { registry: Address; adapter: Address; disputeManager: Address } | undefined;
  /** In-process chains (tests): a viem transport instead of http(rpcUrl). */
  transport?: Transport | undefined;
};

export type ChainReader = { chain: ExplorerChain; client: PublicClient };

export function chainReader(chain: ExplorerChain): ChainReader {
  const transport = chain.transport ?? http(chain.rpcUrl);
  return { chain, client: createPublicClient({ transport }) as PublicClient };
}

const text = (hex: Hex): string | null => {
  if (hex === "0x") return "";
  try {
    const s = hexToString(hex);
    return /[\u0000-\u0008\u000e-\u001f]/.test(s) ? null : s;
  } catch {
    return null;
  }
};

/** Block timestamps, cached (blocks never change below the head on these chains' finality). */
const timestamps = new WeakMap<PublicClient, Map<bigint, number>>();
async function timeOf(client: PublicClient, blockNumber: bigint): Promise<number> {
  let cache = timestamps.get(client);
  if (!cache) timestamps.set(client, (cache = new Map()));
  const hit = cache.get(blockNumber);
  if (hit !== undefined) return hit;
  const block = await client.getBlock({ blockNumber });
  const t = Number(block.timestamp);
  cache.set(blockNumber, t);
  return t;
}

async function programNames(r: ChainReader): Promise<Map<string, string>> {
  const published = await r.client.getContractEvents({
    address: r.chain.oracle,
    abi: executableOracleAbi,
    eventName: "ProgramPublished",
    fromBlock: 0n,
  });
  return new Map(published.map((e) => [e.args.programId!.toLowerCase(), e.args.name!]));
}

export type RequestRow = {
  chainId: number;
  requestId: Hex;
  programId: Hex;
  program: string | null;
  requester: Address;
  token: Address;
  amount: string;
  blockNumber: string;
  requestedAt: number;
  state: "open" | "expired" | "settled" | "failed" | "refunded";
  settledAt: number | null;
  /** Seconds from the request's block to the block that settled it (block timestamps). */
  latencyS: number | null;
  latencyBlocks: number | null;
};

/** The latest `limit` requests of a chain (or only `requestId`), newest first, with how and when each settled. */
export async function listRequests(r: ChainReader, limit = 200, requestId?: Hex): Promise<RequestRow[]> {
  const { client, chain } = r;
  const one = requestId ? { requestId } : {};
  const [requested, ingested, refunded, names, head] = await Promise.all([
    client.getContractEvents({
      address: chain.oracle,
      abi: executableOracleAbi,
      eventName: "ExecutionRequested",
      args: one,
      fromBlock: 0n,
    }),
    client.getContractEvents({
      address: chain.ingestor,
      abi: instructionIngestorAbi,
      eventName: "ResultIngested",
      args: { ...one, originChainId: BigInt(chain.chainId) },
      fromBlock: 0n,
    }),
    client.getContractEvents({
      address: chain.oracle,
      abi: executableOracleAbi,
      eventName: "Refunded",
      args: one,
      fromBlock: 0n,
    }),
    programNames(r),
    client.getBlock({ blockTag: "latest" }),
  ]);
  const ingestedBy = new Map(ingested.map((e) => [e.args.requestId!.toLowerCase(), e]));
  const refundedBy = new Map(refunded.map((e) => [e.args.requestId!.toLowerCase(), e]));
  const latest = requested.slice(-limit).reverse();
  return Promise.all(
    latest.map(async (e): Promise<RequestRow> => {
      const id = e.args.requestId!.toLowerCase();
      const requestedAt = await timeOf(client, e.blockNumber);
      const ing = ingestedBy.get(id);
      const ref = refundedBy.get(id);
      const end = ing ?? ref;
      const settledAt = end ? await timeOf(client, end.blockNumber) : null;
      const state: RequestRow["state"] = ing
        ? ing.args.status === 0
          ? "settled"
          : "failed"
        : ref
          ? "refunded"
          : head.timestamp > e.args.deadline!
            ? "expired"
            : "open";
      return {
        chainId: chain.chainId,
        requestId: e.args.requestId!,
        programId: e.args.programId!,
        program: names.get(e.args.programId!.toLowerCase()) ?? null,
        requester: e.args.requester!,
        token: e.args.token!,
        amount: e.args.amount!.toString(),
        blockNumber: e.blockNumber.toString(),
        requestedAt,
        state,
        settledAt,
        latencyS: settledAt === null ? null : settledAt - requestedAt,
        latencyBlocks: end ? Number(end.blockNumber - e.blockNumber) : null,
      };
    }),
  );
}

const OPS = ["TRANSFER", "CALL", "MINT", "BURN", "CREATE"] as const;

type Leg = {
  chainId: number;
  txHash: Hex;
  blockNumber: string;
  status: number;
  bodyHash: Hex;
  daPointer: Hex;
  signatures: { signer: Address; signature: Hex }[];
  instructions: { op: string; target: Address; amount: string; data: Hex; outcome: string }[];
  settlement: { spent: string; fee: string; refunded: string } | null;
};

/** One chain's ingestion of (originChainId, requestId): the Result, each signature and signer, each instruction and how it settled. */
async function legOf(r: ChainReader, originChainId: number, requestId: Hex): Promise<Leg | null> {
  const { client, chain } = r;
  const [log] = await client.getContractEvents({
    address: chain.ingestor,
    abi: instructionIngestorAbi,
    eventName: "ResultIngested",
    args: { requestId, originChainId: BigInt(originChainId) },
    fromBlock: 0n,
  });
  if (!log) return null;
  const chainId = BigInt(chain.chainId);
  const call = await decodeIngestedCall(client, chain.ingestor, log.transactionHash, BigInt(originChainId), requestId);
  const signatures = call
    ? await Promise.all(
        call.signatures.map(async (signature) => ({
          signature,
          signer: (await recoverSigners({ ...call, signatures: [signature] }, chainId, chain.ingestor))[0]!,
        })),
      )
    : [];
  const receipt = await client.getTransactionReceipt({ hash: log.transactionHash });
  const mine = (id: Hex | undefined) => id?.toLowerCase() === requestId.toLowerCase();
  const events = parseEventLogs({ abi: [...executableOracleAbi, ...omniTokenAbi], logs: receipt.logs });
  const failed = new Map<number, { target: Address; reason: Hex }>();
  const called = new Map<number, bigint>();
  let settlement: Leg["settlement"] = null;
  const minted: string[] = [];
  for (const e of events) {
    const args = e.args as Record<string, unknown>;
    if (e.eventName === "InstructionFailed" && mine(args.requestId as Hex))
      failed.set(Number(args.index), { target: args.target as Address, reason: args.reason as Hex });
    if (e.eventName === "CallExecuted" && mine(args.requestId as Hex))
      called.set(Number(args.index), args.spent as bigint);
    if (e.eventName === "EscrowSettled" && mine(args.requestId as Hex))
      settlement = {
        spent: String(args.spent),
        fee: String(args.fee),
        refunded: String(args.refunded),
      };
    if (e.eventName === "CrossChainMinted" && mine(args.requestId as Hex))
      minted.push(`minted ${formatEther(args.amount as bigint)}`);
    if (e.eventName === "MintQueued" && mine(args.requestId as Hex))
      minted.push(`queued ${formatEther(args.amount as bigint)} (over the mint limit)`);
  }
  const instructions = (call?.instructions ?? []).map((ix, i) => {
    const f = failed.get(i);
    const outcome = f
      ? `failed (${f.reason === "0x" ? "reverted" : f.reason.slice(0, 10)}), refunded`
      : ix.op === 1
        ? `called, took ${formatEther(called.get(i) ?? 0n)}`
        : ix.op === 2
          ? (minted.shift() ?? "minted")
          : "done";
    return {
      op: OPS[ix.op] ?? String(ix.op),
      target: ix.target,
      amount: ix.amount.toString(),
      data: ix.data,
      outcome,
    };
  });
  return {
    chainId: chain.chainId,
    txHash: log.transactionHash,
    blockNumber: log.blockNumber.toString(),
    status: log.args.status!,
    bodyHash: log.args.bodyHash!,
    daPointer: log.args.daPointer!,
    signatures,
    instructions,
    settlement,
  };
}

/** Everything about one request: the request, its program, quorum, each chain's leg and the DA record. */
export async function requestDetail(
  readers: ChainReader[],
  chainId: number,
  requestId: Hex,
  options: { da?: DaClient | undefined; quorum?: number } = {},
) {
  const origin = readers.find((r) => r.chain.chainId === chainId);
  if (!origin) return null;
  const [event] = await origin.client.getContractEvents({
    address: origin.chain.oracle,
    abi: executableOracleAbi,
    eventName: "ExecutionRequested",
    args: { requestId },
    fromBlock: 0n,
  });
  if (!event) return null;
  const [row] = await listRequests(origin, 1, requestId);
  if (!row) return null;
  const legs = (await Promise.all(readers.map((r) => legOf(r, chainId, requestId)))).filter((l) => l !== null);
  const home = legs.find((l) => l.chainId === chainId) ?? legs[0];
  let record: ReturnType<typeof recordToJson> | null = null;
  let recordError: string | null = null;
  if (home && home.daPointer !== "0x") {
    if (!options.da) recordError = "no DA store configured for the explorer";
    else
      record = await options.da
        .get(home.daPointer)
        .then(recordToJson)
        .catch((e: unknown) => {
          recordError = e instanceof Error ? e.message : String(e);
          return null;
        });
  }
  const operators = await activeOperators(origin).catch(() => [] as Address[]);
  const ranked = rankOperators(chainId, requestId, operators);
  const quorumSize = options.quorum ?? 4;
  return {
    ...row,
    input: event.args.input!,
    inputText: text(event.args.input!),
    deadline: Number(event.args.deadline),
    quorum: { members: ranked.slice(0, quorumSize), standby: ranked.slice(quorumSize) },
    legs,
    record,
    recordError,
    stdout: record ? text(record.body.stdout as Hex) : null,
    stderr: record ? text(record.body.stderr as Hex) : null,
  };
}

/** Registered operators of a chain's StakingRegistry (registration events minus deregistrations). */
async function registered(r: ChainReader): Promise<{ operators: Address[]; watchers: Address[] }> {
  const s = r.chain.staking;
  if (!s) return { operators: [], watchers: [] };
  const range = { address: s.registry, abi: stakingRegistryAbi, fromBlock: 0n } as const;
  // everyone ever registered: readStakeStatus says whether each still is (and is active)
  const [reg, wreg] = await Promise.all([
    r.client.getContractEvents({ ...range, eventName: "OperatorRegistered" }),
    r.client.getContractEvents({ ...range, eventName: "WatcherRegistered" }),
  ]);
  const operators = new Set(reg.map((e) => getAddress(e.args.operator!)));
  const watchers = new Set(wreg.map((e) => getAddress(e.args.account!)));
  return { operators: [...operators], watchers: [...watchers] };
}

async function activeOperators(r: ChainReader): Promise<Address[]> {
  const s = r.chain.staking;
  if (!s) return [];
  const { operators } = await registered(r);
  const active = await Promise.all(
    operators.map((o) =>
      r.client.readContract({ address: s.registry, abi: stakingRegistryAbi, functionName: "isActive", args: [o] }),
    ),
  );
  return operators.filter((_, i) => active[i]);
}

/** Operators and watchers of one chain with stake, reputation and required stake; the curve's parameters; every slash. */
export async function stakingView(r: ChainReader) {
  const s = r.chain.staking;
  if (!s) return null;
  const clients = {
    publicClient: r.client,
    addresses: { registry: s.registry, adapter: s.adapter, disputes: s.disputeManager },
  };
  const { operators, watchers } = await registered(r);
  const [params, threshold] = await Promise.all([
    r.client.readContract({ address: s.registry, abi: stakingRegistryAbi, functionName: "stakeParams" }),
    r.client.readContract({ address: s.registry, abi: stakingRegistryAbi, functionName: "threshold" }),
  ]);
  const show = async (account: Address) => {
    const st = await readStakeStatus(clients, account);
    return {
      account,
      index: st.index ?? null,
      registered: st.registered,
      active: st.active,
      watcher: st.watcher,
      bonded: st.bonded.toString(),
      unbonding: st.unbonding.toString(),
      slashable: st.slashable.toString(),
      requiredStake: st.requiredStake.toString(),
      reputationBps: st.reputationBps,
      watcherWeight: st.watcherWeight.toString(),
    };
  };
  const range = { address: s.registry, abi: stakingRegistryAbi, fromBlock: 0n } as const;
  const slashEvents = await Promise.all([
    r.client.getContractEvents({ ...range, eventName: "EquivocationSlashed" }),
    r.client.getContractEvents({ ...range, eventName: "FaultSlashed" }),
    r.client.getContractEvents({ ...range, eventName: "FraudSlashed" }),
    r.client.getContractEvents({ ...range, eventName: "WatcherSlashed" }),
  ]);
  const slashes = slashEvents.flat().map((e) => {
    const a = e.args as Record<string, unknown>;
    return {
      kind: e.eventName,
      account: (a.operator ?? a.watcher) as Address,
      amount: String(a.reward !== undefined ? (a.reward as bigint) + (a.remainder as bigint) : a.taken),
      requestId: (a.requestId as Hex | undefined) ?? null,
      blockNumber: e.blockNumber.toString(),
      txHash: e.transactionHash,
    };
  });
  return {
    chainId: r.chain.chainId,
    threshold: threshold.toString(),
    curve: { base: params[0].toString(), floor: params[1].toString(), alphaBps: Number(params[2]) },
    operators: await Promise.all(operators.map(show)),
    watchers: await Promise.all(watchers.map(show)),
    slashes,
  };
}

/** Every dispute of a chain's DisputeManager: the claim, the votes and the outcome. */
export async function disputesView(r: ChainReader) {
  const s = r.chain.staking;
  if (!s) return [];
  const range = { address: s.disputeManager, abi: disputeManagerAbi, fromBlock: 0n } as const;
  const [opened, revealed, resolved] = await Promise.all([
    r.client.getContractEvents({ ...range, eventName: "DisputeOpened" }),
    r.client.getContractEvents({ ...range, eventName: "VoteRevealed" }),
    r.client.getContractEvents({ ...range, eventName: "DisputeResolved" }),
  ]);
  return Promise.all(
    opened.map(async (e) => {
      const id = e.args.disputeId!;
      const d = await r.client.readContract({ ...range, functionName: "disputeOf", args: [id] });
      const outcome = resolved.find((x) => x.args.disputeId === id);
      return {
        disputeId: id.toString(),
        requestId: e.args.requestId!,
        originChainId: Number(e.args.originChainId),
        kind: DISPUTE_KINDS[d.kind] ?? "WrongResult",
        state: DISPUTE_STATES[d.state] ?? "None",
        challenger: d.challenger,
        accused: e.args.signers ?? [],
        bond: d.bond.toString(),
        votes: revealed
          .filter((v) => v.args.disputeId === id)
          .map((v) => ({ voter: v.args.voter!, upholds: v.args.upholds!, weight: v.args.weight!.toString() })),
        upholdWeight: d.upholdWeight.toString(),
        rejectWeight: d.rejectWeight.toString(),
        slashed: outcome ? outcome.args.slashed!.toString() : null,
        challengerReward: outcome ? outcome.args.challengerReward!.toString() : null,
      };
    }),
  );
}

/**
 * What the program store says of a package: its manifest version and how it runs (a JavaScript
 * engine id means TypeScript/JavaScript in QuickJS; otherwise a WebAssembly module). Null when no
 * store given holds it, or it does not decode to this id.
 */
function packageInfo(dirs: readonly string[], programId: Hex): { version: string; language: string } | null {
  for (const dir of dirs) {
    const file = join(dir, `${programId.toLowerCase()}.vpkg`);
    if (!existsSync(file)) continue;
    try {
      const { manifest } = decodePackage(readFileSync(file), programId);
      return {
        version: manifest.version,
        language: manifest.engine ? `TypeScript/JavaScript (${manifest.engine.split("@")[0]})` : "WebAssembly",
      };
    } catch {
      return null;
    }
  }
  return null;
}

/** Programs published on each chain: name, versions (programIds by block, manifest version and language from the store), runs. */
export async function programsView(readers: ChainReader[], programDirs: readonly string[] = []) {
  type Version = {
    programId: Hex;
    chainId: number;
    publisher: Address;
    uri: string;
    block: string;
    version: string | null;
    language: string | null;
  };
  const byName = new Map<string, { name: string; versions: Version[] }>();
  const runs = new Map<string, number>();
  for (const r of readers) {
    const [published, requested] = await Promise.all([
      r.client.getContractEvents({
        address: r.chain.oracle,
        abi: executableOracleAbi,
        eventName: "ProgramPublished",
        fromBlock: 0n,
      }),
      r.client.getContractEvents({
        address: r.chain.oracle,
        abi: executableOracleAbi,
        eventName: "ExecutionRequested",
        fromBlock: 0n,
      }),
    ]);
    for (const e of requested) {
      const id = e.args.programId!.toLowerCase();
      runs.set(id, (runs.get(id) ?? 0) + 1);
    }
    for (const e of published) {
      const name = e.args.name!;
      const entry = byName.get(name) ?? { name, versions: [] };
      const info = packageInfo(programDirs, e.args.programId!);
      entry.versions.push({
        programId: e.args.programId!,
        chainId: r.chain.chainId,
        publisher: e.args.publisher!,
        uri: e.args.uri!,
        block: e.blockNumber.toString(),
        version: info?.version ?? null,
        language: info?.language ?? null,
      });
      byName.set(name, entry);
    }
  }
  return [...byName.values()].map((p) => ({
    ...p,
    runs: [...new Set(p.versions.map((v) => v.programId.toLowerCase()))].reduce((n, id) => n + (runs.get(id) ?? 0), 0),
  }));
}

export const ETH = zeroAddress;
