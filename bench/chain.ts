/**
 * Chain ceiling (issue 14): how many transactions this machine's local chain takes per second, so
 * the pipeline benchmark is judged against what the chain can take. Starts its own `hardhat node`
 * (automining, like the devnet) on a free port, deploys the suite as `npx hardhat deploy` does, then
 * sends transactions signed in advance, in JSON-RPC batches (the node runs a batch in order):
 *   1. request-only: `ExecutableOracle.request` from one requester;
 *   2. request+ingest pairs: each request followed by `ingest` of its 3-of-4 signed result (one
 *      TRANSFER), signed before anything is sent (the request ids follow from the oracle's nonce).
 * Every receipt is checked (status 1, and the pair's result really ingested). Writes
 * bench/results/chain.json with `chain_ceiling_pairs_per_second`.
 * Run: npm run bench:chain  (CHAIN_BENCH_PORT, CHAIN_BENCH_REQUESTS, CHAIN_BENCH_PAIRS, CHAIN_BENCH_RPC_BATCH)
 * Anvil (@foundry-rs/anvil) is not installed in this repository, so only Hardhat's node is measured.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import hre from "hardhat";
import { ethers as E } from "ethers";
import type { Address, Hex } from "viem";
import { startChain } from "../scripts/localChains.ts";
import { devAccount } from "../deploy/context.ts";
import { Op, type Instruction } from "../protocol/instructions.ts";
import { requestIdOf } from "../protocol/requestIds.ts";
import { deployTestSuite, makeResult, operatorWallets, signResult } from "../test/helpers/suite.ts";

const env = (name: string, fallback: number) => {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return n;
};

const PORT = env("CHAIN_BENCH_PORT", 18_645);
const REQUESTS = env("CHAIN_BENCH_REQUESTS", 2000);
const PAIRS = env("CHAIN_BENCH_PAIRS", 1000);
const RPC_BATCH = env("CHAIN_BENCH_RPC_BATCH", 50);
const CHAIN_ID = 31337;
const ESCROW = E.parseEther("0.01");
const PAYOUT = E.parseEther("0.0099");
const INPUT = E.hexlify(E.toUtf8Bytes('{"splits":[1,2,3]}'));

type RpcResponse = { id: number; result?: unknown; error?: { message: string } };

async function rpcBatch(url: string, calls: { method: string; params: unknown[] }[]): Promise<RpcResponse[]> {
  const body = calls.map((c, i) => ({ jsonrpc: "2.0", id: i, ...c }));
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const out = (await res.json()) as RpcResponse[];
  return out.sort((a, b) => a.id - b.id);
}

/** Sends pre-signed raw transactions in order, `RPC_BATCH` per JSON-RPC batch, and returns the
 * seconds from the first send until every one is mined, plus the hashes. */
async function sendAll(url: string, raws: string[]): Promise<{ seconds: number; hashes: string[] }> {
  const hashes: string[] = [];
  const t0 = performance.now();
  for (let i = 0; i < raws.length; i += RPC_BATCH) {
    const out = await rpcBatch(
      url,
      raws.slice(i, i + RPC_BATCH).map((raw) => ({ method: "eth_sendRawTransaction", params: [raw] })),
    );
    for (const r of out) {
      if (r.error) throw new Error(`eth_sendRawTransaction failed at ${i + r.id}: ${r.error.message}`);
      hashes.push(r.result as string);
    }
  }
  // automining: a transaction is mined when its send returns; wait for the last receipt anyway
  for (;;) {
    const [last] = await rpcBatch(url, [{ method: "eth_getTransactionReceipt", params: [hashes[hashes.length - 1]] }]);
    if (last?.result) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  return { seconds: (performance.now() - t0) / 1000, hashes };
}

/** Every receipt's status; throws naming the first failed transaction. */
async function checkReceipts(url: string, hashes: string[]): Promise<number> {
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

// No top-level await (issue 13, nodejs/node#53238): the script runs in main().
async function main(): Promise<void> {
  const chain = await startChain({ name: "bench", port: PORT, chainId: CHAIN_ID });
  try {
    const connection = await hre.network.connect({ network: "localhost", override: { url: chain.url } });
    const suite = await deployTestSuite(connection);
    const oracleAddress = (await suite.oracle.getAddress()) as Address;
    const ingestorAddress = await suite.ingestor.getAddress();
    const provider = new E.JsonRpcProvider(chain.url, undefined, { staticNetwork: true, cacheTimeout: -1 });
    const requester = devAccount(7);
    const poster = devAccount(5);
    const payee = E.Wallet.createRandom().address as `0x${string}`;
    const operators = operatorWallets().slice(0, 3);
    const fees = { maxFeePerGas: E.parseUnits("20", "gwei"), maxPriorityFeePerGas: E.parseUnits("1", "gwei") };
    const requestData = suite.oracle.interface.encodeFunctionData("request", [suite.programId, INPUT, 3600n]);
    // the oracle's request nonce: the top 64 bits of the next request id
    const nextNonce = async () =>
      BigInt(await suite.oracle.nextRequestId(requester.address, suite.programId, INPUT)) >> 192n;

    // Warm up: the requester's account id and the fee ledger exist before measuring.
    await (
      await suite.oracle.connect(requester.connect(provider)).request(suite.programId, INPUT, 3600n, { value: ESCROW })
    ).wait();

    const signedRequest = (nonce: number) =>
      requester.signTransaction({
        type: 2,
        chainId: CHAIN_ID,
        nonce,
        to: oracleAddress,
        data: requestData,
        value: ESCROW,
        gasLimit: 150_000n,
        ...fees,
      });

    // ---- 1. request-only
    let requesterNonce = await provider.getTransactionCount(requester.address);
    const requestRaws: string[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      requestRaws.push(await signedRequest(requesterNonce++));
    }
    const requestsRun = await sendAll(chain.url, requestRaws);
    await checkReceipts(chain.url, requestsRun.hashes);
    const requestsPerSecond = REQUESTS / requestsRun.seconds;
    console.log(`request-only: ${REQUESTS} in ${requestsRun.seconds.toFixed(2)} s = ${requestsPerSecond.toFixed(1)}/s`);

    // ---- 2. request+ingest pairs, all signed before the first is sent
    const firstNonce = await nextNonce();
    let posterNonce = await provider.getTransactionCount(poster.address);
    const pairRaws: string[] = [];
    const requestIds: Hex[] = [];
    const chainId = BigInt(CHAIN_ID);
    for (let i = 0; i < PAIRS; i++) {
      const requestId = requestIdOf({
        chainId,
        oracle: oracleAddress,
        requester: requester.address as Address,
        nonce: firstNonce + BigInt(i),
        programId: suite.programId as Hex,
        input: INPUT as Hex,
      });
      requestIds.push(requestId);
      const instructions: Instruction[] = [{ op: Op.TRANSFER, target: payee, amount: PAYOUT, data: "0x" }];
      const result = makeResult({
        requestId,
        originChainId: chainId,
        programId: suite.programId,
        input: INPUT,
        instructions,
        bodyHash: E.id(requestId),
      });
      const sigs = await signResult(operators, chainId, ingestorAddress, result);
      const ingestData = suite.ingestor.interface.encodeFunctionData("ingest", [
        result,
        instructions,
        sigs,
        "0x00" + "ab".repeat(32),
      ]);
      pairRaws.push(
        await signedRequest(requesterNonce++),
        await poster.signTransaction({
          type: 2,
          chainId: CHAIN_ID,
          nonce: posterNonce++,
          to: ingestorAddress,
          data: ingestData,
          gasLimit: 400_000n,
          ...fees,
        }),
      );
    }
    const pairsRun = await sendAll(chain.url, pairRaws);
    const pairGas = await checkReceipts(chain.url, pairsRun.hashes);
    // every pair's result really landed, once
    for (const id of requestIds) {
      const info = await suite.oracle.escrowOf(id);
      if (info.status !== 2n) throw new Error(`request ${id} was not ingested (status ${info.status})`);
    }
    const payeeBalance = await provider.getBalance(payee);
    if (payeeBalance !== PAYOUT * BigInt(PAIRS))
      throw new Error(`payee got ${payeeBalance}, expected ${PAYOUT * BigInt(PAIRS)}`);
    const pairsPerSecond = PAIRS / pairsRun.seconds;
    console.log(`request+ingest pairs: ${PAIRS} in ${pairsRun.seconds.toFixed(2)} s = ${pairsPerSecond.toFixed(1)}/s`);

    const out = {
      generatedAt: new Date().toISOString(),
      chain: "hardhat node (EDR), automine, one transaction per block",
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? "unknown" },
      rpc_batch: RPC_BATCH,
      requests: REQUESTS,
      pairs: PAIRS,
      chain_ceiling_requests_per_second: Number(requestsPerSecond.toFixed(1)),
      chain_ceiling_pairs_per_second: Number(pairsPerSecond.toFixed(1)),
      chain_ceiling_tx_per_second_in_pairs: Number(((2 * PAIRS) / pairsRun.seconds).toFixed(1)),
      gas_per_second_in_pairs: Math.round(pairGas / pairsRun.seconds),
      lost: 0,
      duplicates: 0,
    };
    console.table([out]);
    mkdirSync("bench/results", { recursive: true });
    writeFileSync("bench/results/chain.json", JSON.stringify(out, null, 2) + "\n");
    console.log("wrote bench/results/chain.json");
    await connection.close();
  } finally {
    await chain.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
