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
import { deployTestSuite, operatorWallets } from "../test/helpers/suite.ts";
import { checkReceipts, measurePairCeiling, nextRequestNonce, sendAll, signRequests } from "./chainCeiling.ts";

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
const INPUT = E.hexlify(E.toUtf8Bytes('{"splits":[1,2,3]}')) as Hex;

// No top-level await (issue 13, nodejs/node#53238): the script runs in main().
async function main(): Promise<void> {
  const chain = await startChain({ name: "bench", port: PORT, chainId: CHAIN_ID });
  try {
    const connection = await hre.network.connect({ network: "localhost", override: { url: chain.url } });
    const suite = await deployTestSuite(connection);
    const oracleAddress = (await suite.oracle.getAddress()) as Address;
    const provider = new E.JsonRpcProvider(chain.url, undefined, { staticNetwork: true, cacheTimeout: -1 });
    const requester = devAccount(7);
    const ceilingChain = {
      url: chain.url,
      chainId: CHAIN_ID,
      oracle: oracleAddress,
      ingestor: (await suite.ingestor.getAddress()) as Address,
      programId: suite.programId as Hex,
      input: INPUT,
      escrow: ESCROW,
      payout: PAYOUT,
      requester,
      poster: devAccount(5),
      signers: operatorWallets().slice(0, 3),
      rpcBatchSize: RPC_BATCH,
    };

    // Warm up: the requester's account id and the fee ledger exist before measuring.
    await (
      await suite.oracle.connect(requester.connect(provider)).request(suite.programId, INPUT, 3600n, { value: ESCROW })
    ).wait();

    // ---- 1. request-only
    const { raws: requestRaws } = await signRequests(ceilingChain, REQUESTS, {
      accountNonce: await provider.getTransactionCount(requester.address),
      requestNonce: await nextRequestNonce(chain.url, ceilingChain, requester.address),
    });
    const requestsRun = await sendAll(chain.url, requestRaws, RPC_BATCH);
    await checkReceipts(chain.url, requestsRun.hashes);
    const requestsPerSecond = REQUESTS / requestsRun.seconds;
    console.log(`request-only: ${REQUESTS} in ${requestsRun.seconds.toFixed(2)} s = ${requestsPerSecond.toFixed(1)}/s`);

    // ---- 2. request+ingest pairs, all signed before the first is sent
    const pairsRun = await measurePairCeiling(ceilingChain, PAIRS);
    const pairGas = pairsRun.gas;
    const pairsPerSecond = pairsRun.pairsPerSecond;
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
