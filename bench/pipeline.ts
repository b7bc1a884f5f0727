/**
 * Pipeline benchmark: 2,000 requests on the two local chains (`hardhat node` on loopback), served by
 * the whole off-chain network in this process (relayer, 4 workers, collector, poster).
 * Latency = request mined -> its ResultIngested seen (wall clock, polled every 25 ms).
 * Prints a table and writes bench/results/pipeline.json. Run: npm run bench:pipeline [-- --requests N]
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { createPublicClient, createWalletClient, http, stringToHex, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { prepareDevnet, devKey } from "../cli/devnet/prepare.ts";
import { clearNetworkState, devnetRedis } from "../cli/devnet/redis.ts";
import { startDevnetServices } from "../cli/devnet/services.ts";
import { executableOracleAbi, instructionIngestorAbi } from "../protocol/generated/abis.ts";
import { QUEUE_PREFIX, queueNames } from "../protocol/queues.ts";
import { createProgress } from "../protocol/progress.ts";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const REQUESTS = arg("requests", 2000);
const REQUESTERS = [7, 8, 9, 10, 11, 12, 13, 14];
const VALUE = 10n ** 15n;

const root = process.cwd();
// No top-level await (issue 13, nodejs/node#53238): the script runs in main().
async function main(): Promise<void> {
  const redis = await devnetRedis();
  const work = mkdtempSync(join(tmpdir(), "versatus-bench-"));
  const { chains, programs, running } = await prepareDevnet({
    root,
    storeDir: join(work, "programs"),
    deploymentsDir: join(work, "deployments"),
    log: () => {},
    reuseChains: false,
  });
  await clearNetworkState(redis.url);
  const chainA = chains[0]!;
  const services = await startDevnetServices({
    chains,
    redisUrl: redis.url,
    storeDir: join(work, "programs"),
    dataDir: work,
    // the request -> result path only (the watcher would add a finalize per result; see bench:watcher)
    watcher: false,
  });

  const transport = http(chainA.rpcUrl);
  const publicClient = createPublicClient({ transport });
  // No amount: the payout splitter splits the escrow minus the fee (its request context).
  const input = stringToHex(
    JSON.stringify({ recipients: [{ to: "0x000000000000000000000000000000000000dEaD", weight: 1 }] }),
  );
  const programId = programs["payout-splitter"]!.programId;

  // ---- send: each requester sends its share with explicit nonces, in parallel
  const minedAt = new Map<string, number>();
  const started = Date.now();
  const progress = createProgress();
  const sending = progress.bar("requests mined", REQUESTS);
  await Promise.all(
    REQUESTERS.map(async (index, r) => {
      const account = privateKeyToAccount(devKey(index));
      const wallet = createWalletClient({ account, transport });
      let nonce = await publicClient.getTransactionCount({ address: account.address });
      const mine: Promise<void>[] = [];
      for (let i = r; i < REQUESTS; i += REQUESTERS.length) {
        const hash = await wallet.writeContract({
          address: chainA.oracle,
          abi: executableOracleAbi,
          functionName: "request",
          args: [programId, input, 3600n],
          value: VALUE,
          nonce: nonce++,
          gas: 200_000n,
          chain: null,
        });
        mine.push(
          publicClient.waitForTransactionReceipt({ hash, pollingInterval: 25 }).then((receipt) => {
            for (const log of receipt.logs) if (log.topics[1]) minedAt.set(log.topics[1].toLowerCase(), Date.now());
            sending.tick();
          }),
        );
      }
      await Promise.all(mine);
    }),
  );
  const sentMs = Date.now() - started;
  sending.done();
  const fulfilling = progress.bar("requests fulfilled", REQUESTS);

  // ---- observe results
  const fulfilledAt = new Map<string, number>();
  let duplicates = 0;
  let fromBlock = 0n;
  const deadline = Date.now() + Math.max(120_000, REQUESTS * 100);
  while (fulfilledAt.size < REQUESTS && Date.now() < deadline) {
    const head = await publicClient.getBlockNumber();
    if (head >= fromBlock) {
      const logs = await publicClient.getContractEvents({
        address: chainA.ingestor,
        abi: instructionIngestorAbi,
        eventName: "ResultIngested",
        fromBlock,
        toBlock: head,
      });
      const now = Date.now();
      for (const log of logs) {
        const id = (log.args.requestId as Hex).toLowerCase();
        if (fulfilledAt.has(id)) duplicates++;
        else fulfilledAt.set(id, now);
      }
      fromBlock = head + 1n;
      fulfilling.update(fulfilledAt.size);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  fulfilling.done();
  const elapsedMs = Math.max(...fulfilledAt.values()) - started;
  const latencies = [...fulfilledAt.entries()].map(([id, t]) => t - (minedAt.get(id) ?? t)).sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;

  const results = new Queue(queueNames.results, {
    connection: new Redis(redis.url, { maxRetriesPerRequest: null }),
    prefix: QUEUE_PREFIX,
  });
  const resultCount = (await results.getJobCounts("completed", "failed", "active", "waiting")) as Record<
    string,
    number
  >;
  const offchainResults = Object.values(resultCount).reduce((a, b) => a + b, 0);
  await results.close();

  const report = {
    requests: REQUESTS,
    fulfilled: fulfilledAt.size,
    lost: REQUESTS - fulfilledAt.size,
    duplicates,
    fulfilled_per_second: Math.round((fulfilledAt.size / elapsedMs) * 1000 * 10) / 10,
    latency_ms_p50: pct(50),
    latency_ms_p99: pct(99),
    offchain_results_per_second: Math.round((offchainResults / elapsedMs) * 1000 * 10) / 10,
    send_ms: sentMs,
    elapsed_ms: elapsedMs,
    note: "one process runs the benchmark driver and the whole network; two hardhat nodes run beside it on the same 2 cores",
  };
  console.table(Object.entries(report).map(([metric, value]) => ({ metric, value })));
  mkdirSync("bench/results", { recursive: true });
  writeFileSync("bench/results/pipeline.json", JSON.stringify(report, null, 2) + "\n");
  console.log("wrote bench/results/pipeline.json");
  await services.close();
  await Promise.all(running.map((c) => c.stop()));
  await redis.stop();
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
