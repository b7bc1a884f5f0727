import { expect } from "chai";
import { Command } from "commander";
import { registerWatcherRunCommand } from "../../cli/watcherRun.ts";
import { loadWatcherConfig, watcherKey } from "../../watcher/config.ts";

const chain = {
  chainId: 31337,
  rpcUrl: "http://127.0.0.1:8545",
  oracle: `0x${"11".repeat(20)}`,
  ingestor: `0x${"22".repeat(20)}`,
  disputeManager: `0x${"33".repeat(20)}`,
  registry: `0x${"44".repeat(20)}`,
};

describe("watcher: config and command", () => {
  it("fills defaults and takes environment overrides", () => {
    const config = loadWatcherConfig({
      raw: { chains: [chain], programs: { dirs: ["programs"] } },
      env: { REDIS_URL: "redis://example:6379/3", WATCHER_HTTP_PORT: "9470" },
    });
    expect(config.options).to.include({ challenge: true, vote: true, fraudProofs: true, pollIntervalMs: 500 });
    expect(config.redis.url).to.equal("redis://example:6379/3");
    expect(config.operations.httpPort).to.equal(9470);
    expect(config.chains[0]!.confirmations).to.equal(0);
  });

  it("names the field that is wrong", () => {
    const { disputeManager: _, ...noDispute } = chain;
    expect(() => loadWatcherConfig({ raw: { chains: [noDispute], programs: { dirs: ["p"] } }, env: {} })).to.throw(
      /chains\.0\.disputeManager/,
    );
    expect(() => loadWatcherConfig({ raw: { chains: [chain] }, env: {} })).to.throw(/programs/);
    const config = loadWatcherConfig({ raw: { chains: [chain], programs: { dirs: ["p"] } }, env: {} });
    expect(() => watcherKey(config, {})).to.throw(/WATCHER_KEY/);
    expect(watcherKey(config, { WATCHER_KEY: `0x${"ab".repeat(32)}` })).to.equal(`0x${"ab".repeat(32)}`);
  });

  it("registers `run` under the watcher command", () => {
    const watcher = new Command("watcher");
    registerWatcherRunCommand(watcher);
    const run = watcher.commands.find((c) => c.name() === "run")!;
    expect(run).to.not.equal(undefined);
    const flags = run.options.map((o) => o.long);
    expect(flags).to.include.members(["--config", "--key-env", "--no-challenge", "--no-vote", "--no-fraud-proofs"]);
  });
});
