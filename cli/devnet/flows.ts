import {
  createPublicClient,
  createWalletClient,
  formatEther,
  http,
  parseEther,
  stringToHex,
  type Address,
  type Hex,
  type PublicClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  disputeManagerAbi,
  executableOracleAbi,
  instructionIngestorAbi,
  nativeStakeAdapterAbi,
  omniTokenAbi,
  stakingRegistryAbi,
} from "../../protocol/generated/abis.ts";
import { Op } from "../../protocol/instructions.ts";
import type { OutcomeTamper } from "../../worker/execute.ts";
import { devKey, type DevnetChain, type DevnetPrograms } from "./prepare.ts";

export type FlowResult = { flow: string; ok: boolean; detail: string; latencyMs: number };

const REQUESTER = 7;
const clients = (chain: DevnetChain, key = devKey(REQUESTER)) => {
  const transport = http(chain.rpcUrl);
  return {
    publicClient: createPublicClient({ transport }) as PublicClient,
    wallet: createWalletClient({ account: privateKeyToAccount(key), transport }),
  };
};

/** Waits for `ResultIngested` of `requestId` (from `originChainId`) on `chain`; returns its status. */
export async function waitForIngested(
  chain: DevnetChain,
  requestId: Hex,
  originChainId: number,
  timeoutMs: number,
): Promise<{ status: number; blockNumber: bigint } | undefined> {
  const { publicClient } = clients(chain);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const logs = await publicClient.getContractEvents({
      address: chain.ingestor,
      abi: instructionIngestorAbi,
      eventName: "ResultIngested",
      args: { requestId, originChainId: BigInt(originChainId) },
      fromBlock: 0n,
    });
    const log = logs[0];
    if (log) return { status: Number(log.args.status), blockNumber: log.blockNumber };
    await new Promise((r) => setTimeout(r, 200));
  }
  return undefined;
}

async function requestEth(chain: DevnetChain, programId: Hex, input: string, value: bigint) {
  const { publicClient, wallet } = clients(chain);
  const requestId = await publicClient.readContract({
    address: chain.oracle,
    abi: executableOracleAbi,
    functionName: "nextRequestId",
    args: [wallet.account.address, programId, stringToHex(input)],
  });
  const hash = await wallet.writeContract({
    address: chain.oracle,
    abi: executableOracleAbi,
    functionName: "request",
    args: [programId, stringToHex(input), 600n],
    value,
    chain: null,
  });
  await publicClient.waitForTransactionReceipt({ hash });
  return requestId;
}

/**
 * Flow 1: a payout split on chain A, paid to two fresh addresses by weight; run with the C
 * program and again with its TypeScript port (`payout-splitter-ts`, on the metered QuickJS engine).
 */
export async function payoutFlow(
  chainA: DevnetChain,
  programs: DevnetPrograms,
  timeoutMs: number,
  programName = "payout-splitter",
): Promise<FlowResult> {
  const flow = programName === "payout-splitter" ? "payout split" : `payout split (${programName})`;
  const started = Date.now();
  const { publicClient } = clients(chainA);
  const fee = await publicClient.readContract({
    address: chainA.oracle,
    abi: executableOracleAbi,
    functionName: "feeOf",
    args: ["0x0000000000000000000000000000000000000000"],
  });
  const value = parseEther("0.3");
  const payees = [privateKeyToAccount(randomKey()).address, privateKeyToAccount(randomKey()).address];
  // No amount in the input: the program splits what was escrowed minus the fee (its context).
  const input = JSON.stringify({
    recipients: [
      { to: payees[0], weight: 1 },
      { to: payees[1], weight: 2 },
    ],
  });
  const program = programs[programName];
  if (!program) return { flow, ok: false, detail: `${programName} is not published`, latencyMs: 0 };
  const requestId = await requestEth(chainA, program.programId, input, value);
  const ingested = await waitForIngested(chainA, requestId, chainA.chainId, timeoutMs);
  if (!ingested) return { flow, ok: false, detail: "no result before the timeout", latencyMs: Date.now() - started };
  const paid = await Promise.all(payees.map((a) => publicClient.getBalance({ address: a })));
  const total = value - fee;
  // weights 1 and 2: each gets floor(total * w / 3); the rounding dust goes to the first
  const expected = [total - (total * 2n) / 3n, (total * 2n) / 3n];
  const ok = ingested.status === 0 && paid[0] === expected[0] && paid[1] === expected[1];
  return { flow, ok, detail: `paid ${paid.join(" + ")} wei`, latencyMs: Date.now() - started };
}

/** Flow 2: the omni token moved from chain A to chain B: burned on A, minted on B, supply conserved. */
export async function tokenMoveFlow(
  chainA: DevnetChain,
  chainB: DevnetChain,
  programs: DevnetPrograms,
  timeoutMs: number,
): Promise<FlowResult> {
  const started = Date.now();
  const a = clients(chainA);
  const b = clients(chainB);
  const owner = clients(chainA, devKey(0));
  const amount = parseEther("40");
  const requester = a.wallet.account.address;
  const supply = async () =>
    (await a.publicClient.readContract({ address: chainA.omniToken, abi: omniTokenAbi, functionName: "totalSupply" })) +
    (await b.publicClient.readContract({ address: chainB.omniToken, abi: omniTokenAbi, functionName: "totalSupply" }));
  const before = await supply();
  const send = async (c: typeof a, hash: Promise<Hex>) =>
    c.publicClient.waitForTransactionReceipt({ hash: await hash });
  await send(
    owner,
    owner.wallet.writeContract({
      address: chainA.omniToken,
      abi: omniTokenAbi,
      functionName: "transfer",
      args: [requester, amount],
      chain: null,
    }),
  );
  await send(
    a,
    a.wallet.writeContract({
      address: chainA.omniToken,
      abi: omniTokenAbi,
      functionName: "approve",
      args: [chainA.oracle, amount],
      chain: null,
    }),
  );
  // Only the destination: the token mover burns the escrowed token (its context's asset), all of
  // it after the fee, and mints it to the requester on chain B.
  const balanceOnB = () =>
    b.publicClient.readContract({
      address: chainB.omniToken,
      abi: omniTokenAbi,
      functionName: "balanceOf",
      args: [requester],
    });
  const held = await balanceOnB();
  const tokenFee = await a.publicClient.readContract({
    address: chainA.oracle,
    abi: executableOracleAbi,
    functionName: "feeOf",
    args: [chainA.omniToken],
  });
  const input = JSON.stringify({ destinationChainId: chainB.chainId });
  const requestId = await a.publicClient.readContract({
    address: chainA.oracle,
    abi: executableOracleAbi,
    functionName: "nextRequestId",
    args: [requester, programs["token-mover"]!.programId, stringToHex(input)],
  });
  await send(
    a,
    a.wallet.writeContract({
      address: chainA.oracle,
      abi: executableOracleAbi,
      functionName: "requestWithToken",
      args: [programs["token-mover"]!.programId, stringToHex(input), 600n, chainA.omniToken, amount],
      chain: null,
    }),
  );
  const [onA, onB] = await Promise.all([
    waitForIngested(chainA, requestId, chainA.chainId, timeoutMs),
    waitForIngested(chainB, requestId, chainA.chainId, timeoutMs),
  ]);
  const minted = (await balanceOnB()) - held;
  const after = await supply();
  const ok = onA?.status === 0 && onB?.status === 0 && minted === amount - tokenFee && after === before;
  return {
    flow: `token move ${chainA.chainId} -> ${chainB.chainId}`,
    ok,
    detail: `burned on A: ${onA ? "yes" : "no"}, minted to the requester on B: ${minted}, supply ${after === before ? "conserved" : `changed by ${after - before}`}`,
    latencyMs: Date.now() - started,
  };
}

/** Flow 3: a program that fails (invalid input) is refunded at once, minus the fee. */
export async function failingFlow(
  chainA: DevnetChain,
  programs: DevnetPrograms,
  timeoutMs: number,
): Promise<FlowResult> {
  const started = Date.now();
  const { publicClient } = clients(chainA);
  const requestId = await requestEth(
    chainA,
    programs["payout-splitter"]!.programId,
    "this is not json",
    parseEther("0.1"),
  );
  const ingested = await waitForIngested(chainA, requestId, chainA.chainId, timeoutMs);
  const escrow = await publicClient.readContract({
    address: chainA.oracle,
    abi: executableOracleAbi,
    functionName: "escrowOf",
    args: [requestId],
  });
  const ok = ingested?.status === 1 && escrow.status === 2;
  return {
    flow: "failing program refunded",
    ok,
    detail: ingested
      ? `PROGRAM_ERROR posted, escrow settled (status ${escrow.status})`
      : "no result before the timeout",
    latencyMs: Date.now() - started,
  };
}

function randomKey(): Hex {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `0x${Buffer.from(bytes).toString("hex")}` as Hex;
}

/**
 * The devnet's lying quorum: operators in `colluders` rewrite every TRANSFER of the requests in
 * `lies` to pay `attacker` instead, and sign that. Enough of them reach the threshold, so the
 * wrong result is ingested; the watcher must catch it.
 */
export function redirectPayouts(lies: ReadonlySet<Hex>, attacker: Address): OutcomeTamper {
  return (job, outcome) => {
    if (!lies.has(job.context.requestId) || !outcome.instructions) return outcome;
    const instructions = new Map(
      [...outcome.instructions].map(([chainId, list]) => [
        chainId,
        list.map((ix) => (ix.op === Op.TRANSFER ? { ...ix, target: attacker } : ix)),
      ]),
    );
    const stdout = new TextEncoder().encode(
      new TextDecoder().decode(outcome.stdout).replaceAll(/0x[0-9a-fA-F]{40}/g, attacker),
    );
    return { ...outcome, stdout, instructions };
  };
}

/**
 * Flow 4: a faulty quorum caught. Three colluding operators sign a payout that pays an attacker;
 * it is ingested; the watcher re-executes it from DA, challenges with the correct bodyHash, votes,
 * and the dispute resolves: the three signers are slashed, their reputation reset, the watcher
 * paid its share and its bond returned.
 */
export async function faultyQuorumFlow(
  chainA: DevnetChain,
  programs: DevnetPrograms,
  lies: Set<Hex>,
  timeoutMs: number,
): Promise<FlowResult> {
  const started = Date.now();
  const staking = chainA.staking;
  if (!staking) return { flow: "faulty quorum caught", ok: false, detail: "HoneSTake not deployed", latencyMs: 0 };
  const { publicClient, wallet } = clients(chainA);
  const value = parseEther("0.2");
  const payee = privateKeyToAccount(randomKey()).address;
  const input = JSON.stringify({ recipients: [{ to: payee, weight: 1 }] });
  const requestId = await publicClient.readContract({
    address: chainA.oracle,
    abi: executableOracleAbi,
    functionName: "nextRequestId",
    args: [wallet.account.address, programs["payout-splitter"]!.programId, stringToHex(input)],
  });
  lies.add(requestId);
  await requestEth(chainA, programs["payout-splitter"]!.programId, input, value);
  const ingested = await waitForIngested(chainA, requestId, chainA.chainId, timeoutMs);
  if (!ingested) return fail("the wrong result was not ingested before the timeout");
  const ingestedAt = Date.now();

  const deadline = Date.now() + timeoutMs;
  const dispute = async () => {
    const logs = await publicClient.getContractEvents({
      address: staking.disputeManager,
      abi: disputeManagerAbi,
      eventName: "DisputeOpened",
      args: { requestId },
      fromBlock: ingested.blockNumber,
    });
    return logs[0]?.args;
  };
  let opened: Awaited<ReturnType<typeof dispute>>;
  while (!(opened = await dispute()) && Date.now() < deadline) await sleep(200);
  if (!opened) return fail("the watcher did not challenge the wrong result");
  const challengedAfterMs = Date.now() - ingestedAt;
  const resolved = async () =>
    (
      await publicClient.getContractEvents({
        address: staking.disputeManager,
        abi: disputeManagerAbi,
        eventName: "DisputeResolved",
        args: { disputeId: opened!.disputeId },
        fromBlock: ingested.blockNumber,
      })
    )[0]?.args;
  let outcome: Awaited<ReturnType<typeof resolved>>;
  while (!(outcome = await resolved()) && Date.now() < deadline) await sleep(250);
  if (!outcome) return fail(`dispute #${opened.disputeId} was not resolved before the timeout`);
  const reputations = await Promise.all(
    opened.signers!.map((signer) =>
      publicClient.readContract({
        address: staking.registry,
        abi: stakingRegistryAbi,
        functionName: "reputationOf",
        args: [signer],
      }),
    ),
  );
  const upheld = outcome.outcome === 2;
  const ok = upheld && outcome.slashed! > 0n && reputations.every((r) => r === 0n);
  return {
    flow: "faulty quorum caught",
    ok,
    detail:
      `challenged ${challengedAfterMs} ms after ingestion; dispute #${opened.disputeId} ` +
      `${upheld ? "upheld" : "REJECTED"}: ${opened.signers!.length} signers slashed ` +
      `${formatEther(outcome.slashed!)} ETH in total, watcher paid ${formatEther(outcome.challengerReward!)} ETH ` +
      `and its ${formatEther(opened.bond!)} ETH bond back; signers' reputation reset`,
    latencyMs: Date.now() - started,
  };

  function fail(detail: string): FlowResult {
    return { flow: "faulty quorum caught", ok: false, detail, latencyMs: Date.now() - started };
  }
}

/** Operators' and the watcher's HoneSTake standing on `chain`, for the devnet summary. */
export async function stakingSummary(chain: DevnetChain, accounts: { operators: number[]; watcher: number }) {
  const staking = chain.staking;
  if (!staking) return [];
  const { publicClient } = clients(chain);
  const read = <T>(address: Address, abi: readonly unknown[], functionName: string, args: unknown[]) =>
    publicClient.readContract({ address, abi, functionName, args } as never) as Promise<T>;
  const rows = [];
  for (const index of accounts.operators) {
    const account = privateKeyToAccount(devKey(index)).address;
    const [bonded] = await read<[bigint, bigint, bigint]>(staking.adapter, nativeStakeAdapterAbi, "stakeOf", [account]);
    rows.push({
      account: `operator dev:${index}`,
      "stake ETH": formatEther(bonded),
      "reputation bps": Number(await read<bigint>(staking.registry, stakingRegistryAbi, "reputationOf", [account])),
      "required ETH": formatEther(await read<bigint>(staking.registry, stakingRegistryAbi, "requiredStake", [account])),
      active: await read<boolean>(staking.registry, stakingRegistryAbi, "isActive", [account]),
    });
  }
  const watcher = privateKeyToAccount(devKey(accounts.watcher)).address;
  const [bonded] = await read<[bigint, bigint, bigint]>(staking.adapter, nativeStakeAdapterAbi, "stakeOf", [watcher]);
  rows.push({
    account: `watcher dev:${accounts.watcher}`,
    "stake ETH": formatEther(bonded),
    "reputation bps": 0,
    "required ETH": formatEther(await read<bigint>(staking.registry, stakingRegistryAbi, "watcherMinStake", [])),
    active: await read<boolean>(staking.registry, stakingRegistryAbi, "isWatcher", [watcher]),
  });
  return rows;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
