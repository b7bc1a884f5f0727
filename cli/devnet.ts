import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { pino } from "pino";
import { prepareDevnet } from "./devnet/prepare.ts";
import { clearNetworkState, devnetRedis } from "./devnet/redis.ts";
import { privateKeyToAccount } from "viem/accounts";
import type { Hex } from "viem";
import { devKey } from "./devnet/prepare.ts";
import { OPERATOR_ACCOUNTS, startDevnetServices, WATCHER_ACCOUNT } from "./devnet/services.ts";
import {
  failingFlow,
  faultyQuorumFlow,
  payoutFlow,
  redirectPayouts,
  stakingSummary,
  tokenMoveFlow,
  type FlowResult,
} from "./devnet/flows.ts";

/** Operators that lie in the "faulty quorum" flow (3 of 4: the threshold), and who they pay. */
const COLLUDERS = [1, 2, 3];
const ATTACKER_ACCOUNT = 8;

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * `versatus devnet`: two local chains, the suite deployed on both (HoneSTake included), the example
 * programs published, the relayer, 4 operators (threshold 3), the collector/poster and a staked
 * watcher, then the sample flows (the last one: a faulty quorum caught and slashed) and a summary.
 * Keeps serving until Ctrl-C; `--once` exits after the flows (0 only if all succeeded).
 */
export function registerDevnetCommand(program: Command): void {
  program
    .command("devnet")
    .description("run a local devnet: 2 chains, the suite, 4 operators, relayer and collector, sample flows")
    .option("--once", "exit after the sample flows (exit code 0 only if all succeeded)")
    .option("--timeout <ms>", "how long each flow may take", "60000")
    .option("--verbose", "print the services' JSON logs")
    .action(async (opts: { once?: boolean; timeout: string; verbose?: boolean }) => {
      process.exitCode = await runDevnet({
        once: !!opts.once,
        timeoutMs: Number(opts.timeout),
        verbose: !!opts.verbose,
      });
    });
}

export async function runDevnet(options: { once: boolean; timeoutMs: number; verbose: boolean }): Promise<number> {
  const log = (line: string) => console.log(`[devnet] ${line}`);
  const dataDir = join(repoRoot, ".versatus", "devnet");
  mkdirSync(dataDir, { recursive: true });
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  };
  // One stop per Ctrl-C: the terminal's SIGINT and the launcher's forwarded copy arrive together
  // (cli/bin.js); a repeat more than a second later exits at once.
  let stopAt: number | undefined;
  const onStop = () => {
    if (stopAt === undefined) {
      stopAt = Date.now();
      void stop().then(() => process.exit(0));
    } else if (Date.now() - stopAt > 1_000) process.exit(130);
  };
  process.on("SIGINT", onStop);
  process.on("SIGTERM", onStop);
  try {
    const redis = await devnetRedis();
    cleanups.push(redis.stop);
    log(`redis at ${redis.url}`);
    const { chains, programs, running } = await prepareDevnet({
      root: repoRoot,
      storeDir: join(dataDir, "programs"),
      deploymentsDir: process.env.VERSATUS_DEPLOYMENTS_DIR ?? join(repoRoot, "deployments"),
      log,
    });
    cleanups.push(async () => void (await Promise.all(running.map((c) => c.stop()))));
    if (running.every((c) => c.process)) {
      // Fresh chains: any queue, cursor or schedule left in Redis belongs to chains that are gone.
      const cleared = await clearNetworkState(redis.url);
      if (cleared) log(`cleared ${cleared} Redis keys of an earlier devnet`);
    }
    for (const [name, { programId }] of Object.entries(programs)) log(`program ${name}: ${programId}`);
    const logger = pino({ level: options.verbose ? "info" : "silent" });
    // requests the colluding operators lie about (only the faulty-quorum flow adds to it)
    const lies = new Set<Hex>();
    const services = await startDevnetServices({
      chains,
      redisUrl: redis.url,
      storeDir: join(dataDir, "programs"),
      dataDir,
      logger,
      colluders: {
        operators: COLLUDERS,
        tamper: redirectPayouts(lies, privateKeyToAccount(devKey(ATTACKER_ACCOUNT)).address),
      },
      blockTickMs: 1_000,
    });
    cleanups.push(services.close);
    log(
      `relayer, 4 operators (threshold 3), the collector/poster${services.watcher ? ` and the watcher (dev:${WATCHER_ACCOUNT})` : ""} are running`,
    );

    const [chainA, chainB] = chains as [(typeof chains)[0], (typeof chains)[0]];
    const results: FlowResult[] = [];
    for (const [name, flow] of [
      ["payout split", () => payoutFlow(chainA, programs, options.timeoutMs)],
      ["payout split (TypeScript)", () => payoutFlow(chainA, programs, options.timeoutMs, "payout-splitter-ts")],
      ["token move", () => tokenMoveFlow(chainA, chainB, programs, options.timeoutMs)],
      ["failing program", () => failingFlow(chainA, programs, options.timeoutMs)],
      ["faulty quorum", () => faultyQuorumFlow(chainA, programs, lies, options.timeoutMs)],
    ] as const) {
      log(`flow: ${name} ...`);
      const result = await flow().catch((error: unknown): FlowResult => ({
        flow: name,
        ok: false,
        detail: (error as Error).message,
        latencyMs: 0,
      }));
      log(`flow: ${name} ${result.ok ? "succeeded" : "FAILED"} (${result.latencyMs} ms)`);
      results.push(result);
    }
    console.log("\nVersatus devnet: summary");
    console.table(
      results.map((r) => ({
        flow: r.flow,
        result: r.ok ? "ok" : "FAILED",
        "latency ms": r.latencyMs,
        detail: r.detail,
      })),
    );
    console.table(
      Object.fromEntries(
        chains.map((c) => [`chain ${c.chainId}`, { rpc: c.rpcUrl, oracle: c.oracle, ingestor: c.ingestor }]),
      ),
    );
    const standing = await stakingSummary(chainA, { operators: OPERATOR_ACCOUNTS, watcher: WATCHER_ACCOUNT });
    if (standing.length) {
      console.log(
        `HoneSTake on chain ${chainA.chainId} (reputation accrues from the fee ledger once an epoch and its window pass: versatus operator reputation)`,
      );
      console.table(standing);
    }
    const allOk = results.every((r) => r.ok);
    if (options.once) {
      await stop();
      return allOk ? 0 : 1;
    }
    log("serving until Ctrl-C (request with `npx versatus request ...`)");
    await new Promise(() => {});
    return 0;
  } catch (error) {
    console.error(`[devnet] ${(error as Error).message}`);
    await stop();
    return 1;
  }
}
