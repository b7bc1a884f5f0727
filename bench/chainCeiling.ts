/**
 * The chain's own ceiling (issue 14), shared by bench:chain (its own `hardhat node`) and
 * bench:pipeline (the devnet's chain A, measured in the same run as the pipeline): transactions
 * signed in advance, sent in JSON-RPC batches (the node runs a batch in order), every receipt
 * checked. Pairs are `ExecutableOracle.request` followed by `ingest` of its 3-of-N signed result
 * (one TRANSFER), all signed before the first is sent (request ids follow from the oracle's nonce).
 */
import { ethers as E } from "ethers";
import type { Address, Hex } from "viem";
import { Op, type Instruction } from "../protocol/instructions.ts";
import { requestIdOf } from "../protocol/requestIds.ts";
import { makeResult, signResult } from "../test/helpers/suite.ts";
import { executableOracleAbi, instructionIngestorAbi } from "../protocol/generated/abis.ts";

type RpcResponse = { id: number; result?: unknown; error?: { message: string } };

export async function rpcBatch(url: string, calls: { method: string; params: unknown[] }[]): Promise<RpcResponse[]> {
  const body = JSON.stringify(calls.map((c, i) => ({ jsonrpc: "2.0", id: i, ...c })));
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
      const out = (await res.json()) as RpcResponse[];
      return out.sort((a, b) => a.id - b.id);
    } catch (error) {
      // `hardhat node` closes an idle keep-alive socket as the next request goes out on it ("other
      // side closed", the request unread; a loaded machine hits this): send again on a new socket
      if (attempt >= 3 || !/other side closed/.test(String((error as { cause?: unknown }).cause ?? error))) throw error;
    }
  }
}

/** Sends pre-signed raw transactions in order, `rpcBatchSize` per JSON-RPC batch, and returns the
 * seconds from the first send until every one is mined, plus the hashes. `onSent` gets the time
 * each batch's answer came back (on an automining node: when its transactions were mined). */
export async function sendAll(
  url: string,
  raws: string[],
  rpcBatchSize: number,
  onSent?: (first: number, count: number, at: number) => void,
): Promise<{ seconds: number; hashes: string[] }> {
  const hashes: string[] = [];
  const t0 = performance.now();
  for (let i = 0; i < raws.length; i += rpcBatchSize) {
    const out = await rpcBatch(
      url,
      raws.slice(i, i + rpcBatchSize).map((raw) => ({ method: "eth_sendRawTransaction", params: [raw] })),
    );
    for (const r of out) {
      if (r.error) throw new Error(`eth_sendRawTransaction failed at ${i + r.id}: ${r.error.message}`);
      hashes.push(r.result as string);
    }
    onSent?.(i, out.length, Date.now());
  }
  // automining: a transaction is mined when its send returns; wait for the last receipt anyway
  for (;;) {
    const [last] = await rpcBatch(url, [{ method: "eth_getTransactionReceipt", params: [hashes[hashes.length - 1]] }]);
    if (last?.result) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  return { seconds: (performance.now() - t0) / 1000, hashes };
}

/** Every receipt's status; throws naming the first failed transaction. Returns the gas used. */
export async function checkReceipts(url: string, hashes: string[]): Promise<number> {
  let gas = 0;
  for (let i = 0; i < hashes.length; i += 200) {
    const out = await rpcBatch(
      url,
      hashes.slice(i, i + 200).map((h) => ({ method: "eth_getTransactionReceipt", params: [h] })),
    );
    for (const r of out) {
      const receipt = r.result as { status: string; gasUsed: string } | null;
      if (!receipt || receipt.status !== "0x1") throw new Error(`transaction ${hashes[i + r.id]} failed or is missing`);
      gas += Number(receipt.gasUsed);
    }
  }
  return gas;
}

export type CeilingChain = {
  url: string;
  chainId: number;
  oracle: Address;
  ingestor: Address;
  programId: Hex;
  input: Hex;
  /** Escrow sent with each request and the TRANSFER paid out of it (escrow minus the oracle's fee). */
  escrow: bigint;
  payout: bigint;
  requester: E.Wallet | E.HDNodeWallet;
  poster: E.Wallet | E.HDNodeWallet;
  /** At least the threshold of active operators. */
  signers: (E.Wallet | E.HDNodeWallet)[];
  rpcBatchSize: number;
};

const FEES = { maxFeePerGas: E.parseUnits("20", "gwei"), maxPriorityFeePerGas: E.parseUnits("1", "gwei") };
const oracleInterface = new E.Interface(executableOracleAbi as unknown as E.InterfaceAbi);
const ingestorInterface = new E.Interface(instructionIngestorAbi as unknown as E.InterfaceAbi);

/** Signs `count` requests from `requester` starting at its next account nonce (no sends). Also
 * returns the request ids they will get (the oracle's request nonce is read once). */
export async function signRequests(
  chain: Omit<CeilingChain, "poster" | "signers" | "payout" | "rpcBatchSize">,
  count: number,
  from: { accountNonce: number; requestNonce: bigint },
): Promise<{ raws: string[]; requestIds: Hex[] }> {
  const data = oracleInterface.encodeFunctionData("request", [chain.programId, chain.input, 3600n]);
  const raws: string[] = [];
  const requestIds: Hex[] = [];
  for (let i = 0; i < count; i++) {
    raws.push(
      await chain.requester.signTransaction({
        type: 2,
        chainId: chain.chainId,
        nonce: from.accountNonce + i,
        to: chain.oracle,
        data,
        value: chain.escrow,
        gasLimit: 250_000n,
        ...FEES,
      }),
    );
    requestIds.push(
      requestIdOf({
        chainId: BigInt(chain.chainId),
        oracle: chain.oracle,
        requester: chain.requester.address as Address,
        nonce: from.requestNonce + BigInt(i),
        programId: chain.programId,
        input: chain.input,
      }).toLowerCase() as Hex,
    );
  }
  return { raws, requestIds };
}

/** The oracle's next request nonce for `requester` (the top 64 bits of its next request id). */
export async function nextRequestNonce(
  url: string,
  chain: Pick<CeilingChain, "oracle" | "programId" | "input">,
  requester: string,
): Promise<bigint> {
  const provider = new E.JsonRpcProvider(url, undefined, { staticNetwork: true, cacheTimeout: -1 });
  const oracle = new E.Contract(chain.oracle, oracleInterface, provider);
  const id = (await oracle.getFunction("nextRequestId")(requester, chain.programId, chain.input)) as bigint;
  provider.destroy();
  return BigInt(id) >> 192n;
}

/** Pre-signed request+ingest pairs per second on `chain` (every result really ingested, paid once). */
export async function measurePairCeiling(
  chain: CeilingChain,
  pairs: number,
): Promise<{ pairsPerSecond: number; seconds: number; gas: number }> {
  const provider = new E.JsonRpcProvider(chain.url, undefined, { staticNetwork: true, cacheTimeout: -1 });
  try {
    const payee = E.Wallet.createRandom().address as Address;
    const requestNonce = await nextRequestNonce(chain.url, chain, chain.requester.address);
    const { raws: requestRaws, requestIds } = await signRequests(chain, pairs, {
      accountNonce: await provider.getTransactionCount(chain.requester.address, "pending"),
      requestNonce,
    });
    let posterNonce = await provider.getTransactionCount(chain.poster.address, "pending");
    const chainId = BigInt(chain.chainId);
    const raws: string[] = [];
    for (let i = 0; i < pairs; i++) {
      const requestId = requestIds[i]!;
      const instructions: Instruction[] = [{ op: Op.TRANSFER, target: payee, amount: chain.payout, data: "0x" }];
      const result = makeResult({
        requestId,
        originChainId: chainId,
        programId: chain.programId,
        input: chain.input,
        instructions,
        bodyHash: E.id(requestId),
      });
      const sigs = await signResult(chain.signers, chainId, chain.ingestor, result);
      const data = ingestorInterface.encodeFunctionData("ingest", [
        result,
        instructions,
        sigs,
        "0x00" + "ab".repeat(32),
      ]);
      raws.push(
        requestRaws[i]!,
        await chain.poster.signTransaction({
          type: 2,
          chainId: chain.chainId,
          nonce: posterNonce++,
          to: chain.ingestor,
          data,
          gasLimit: 600_000n,
          ...FEES,
        }),
      );
    }
    const run = await sendAll(chain.url, raws, chain.rpcBatchSize);
    const gas = await checkReceipts(chain.url, run.hashes);
    const oracle = new E.Contract(chain.oracle, oracleInterface, provider);
    for (const id of requestIds) {
      const info = (await oracle.getFunction("escrowOf")(id)) as { status: bigint };
      if (info.status !== 2n) throw new Error(`request ${id} was not ingested (status ${info.status})`);
    }
    const paid = await provider.getBalance(payee);
    if (paid !== chain.payout * BigInt(pairs))
      throw new Error(`payee got ${paid}, expected ${chain.payout * BigInt(pairs)}`);
    return { pairsPerSecond: pairs / run.seconds, seconds: run.seconds, gas };
  } finally {
    provider.destroy();
  }
}
