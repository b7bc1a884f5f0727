import {
  createPublicClient,
  createWalletClient,
  http,
  parseEther,
  stringToHex,
  type Hex,
  type PublicClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { executableOracleAbi, instructionIngestorAbi, omniTokenAbi } from "../../protocol/abis.ts";
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
    args: [wallet.account.address],
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

/** Flow 1: a payout split on chain A, paid to two fresh addresses by weight. */
export async function payoutFlow(
  chainA: DevnetChain,
  programs: DevnetPrograms,
  timeoutMs: number,
): Promise<FlowResult> {
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
  const input = JSON.stringify({
    amount: (value - fee).toString(),
    recipients: [
      { to: payees[0], weight: 1 },
      { to: payees[1], weight: 2 },
    ],
  });
  const requestId = await requestEth(chainA, programs["payout-splitter"]!.programId, input, value);
  const ingested = await waitForIngested(chainA, requestId, chainA.chainId, timeoutMs);
  if (!ingested)
    return { flow: "payout split", ok: false, detail: "no result before the timeout", latencyMs: Date.now() - started };
  const paid = await Promise.all(payees.map((a) => publicClient.getBalance({ address: a })));
  const total = value - fee;
  // weights 1 and 2: each gets floor(total * w / 3); the rounding dust goes to the first
  const expected = [total - (total * 2n) / 3n, (total * 2n) / 3n];
  const ok = ingested.status === 0 && paid[0] === expected[0] && paid[1] === expected[1];
  return { flow: "payout split", ok, detail: `paid ${paid.join(" + ")} wei`, latencyMs: Date.now() - started };
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
  const recipient = privateKeyToAccount(randomKey()).address;
  const requestId = await a.publicClient.readContract({
    address: chainA.oracle,
    abi: executableOracleAbi,
    functionName: "nextRequestId",
    args: [requester],
  });
  const input = JSON.stringify({
    token: chainA.omniToken,
    to: recipient,
    amount: amount.toString(),
    destinationChainId: chainB.chainId,
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
  const minted = await b.publicClient.readContract({
    address: chainB.omniToken,
    abi: omniTokenAbi,
    functionName: "balanceOf",
    args: [recipient],
  });
  const after = await supply();
  const ok = onA?.status === 0 && onB?.status === 0 && minted === amount && after === before;
  return {
    flow: `token move ${chainA.chainId} -> ${chainB.chainId}`,
    ok,
    detail: `burned on A: ${onA ? "yes" : "no"}, minted on B: ${minted}, supply ${after === before ? "conserved" : `changed by ${after - before}`}`,
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
