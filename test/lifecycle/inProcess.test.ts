import { expect } from "chai";
import { custom } from "viem";
import { startWatcher } from "../../watcher/index.ts";
import { loadWatcherConfig } from "../../watcher/config.ts";
import {
  ADDRESS_1,
  ADDRESS_2,
  DEV_KEY_2,
  capturedLogger,
  chainAt,
  occupiedPort,
  programsDir,
  redisUrl,
} from "./helpers.ts";

/** The services as libraries (a node runs them in one process): a failed start leaves nothing running. */
describe("lifecycle: services started in-process are all-or-nothing", function () {
  this.timeout(60_000);

  it("startWatcher with its ops port in use rejects and stops what it started (no round runs after)", async () => {
    const taken = await occupiedPort();
    let rpcCalls = 0;
    // an RPC that is down: every call counts, so a watcher loop left running would show here
    const transport = custom({
      request: async () => {
        rpcCalls += 1;
        throw new Error("fetch failed");
      },
    });
    const { lines, log } = capturedLogger();
    try {
      const config = loadWatcherConfig({
        raw: {
          chains: [{ ...chainAt("http://in-process.invalid"), disputeManager: ADDRESS_1, registry: ADDRESS_2 }],
          programs: { dirs: [programsDir] },
          da: { primary: { layer: "local", dir: `${programsDir}/da` } },
          runtimeThreads: 1,
          redis: { url: redisUrl },
          operations: { httpPort: taken.port },
          options: { pollIntervalMs: 50 },
        },
        env: {},
      });
      let failure: unknown;
      await startWatcher(config, { privateKey: DEV_KEY_2, transports: { 31337: transport }, logger: log }).catch(
        (error: unknown) => (failure = error),
      );
      expect((failure as { code?: string } | undefined)?.code).to.equal("EADDRINUSE");
      const afterFailure = rpcCalls;
      await new Promise((r) => setTimeout(r, 1_500));
      expect(rpcCalls, "the watcher's rounds went on after its start failed").to.equal(afterFailure);
      expect(lines.map((l) => l.msg)).not.to.include("watcher started");
    } finally {
      await taken.close();
    }
  });
});
