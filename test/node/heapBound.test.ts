import { expect } from "chai";
import { join } from "node:path";
import { DEFAULT_MAX_OLD_SPACE_MB, loadNodeConfig } from "../../cli/node/config.ts";
import { readFileSync } from "node:fs";
import { argsWithHeapBound, heapBoundOfConfigFile, maxOldSpaceInEffect, nodeConfigArg } from "../../cli/node/heap.ts";
import {
  DEV_KEY_1,
  chainAt,
  configFile,
  deadPort,
  gone,
  killAllStarted,
  programsDir,
  startCli,
  stopsWithin,
} from "../lifecycle/helpers.ts";
import { minimalNodeConfig } from "./minimalConfig.ts";

const MiB = 1024 * 1024;

const base = minimalNodeConfig;

/** A node config whose chain and Redis are not there: the node waits for them with its ops server up. */
async function waitingNodeConfig(heap: Record<string, unknown>): Promise<string> {
  const { pollIntervalMs: _poll, ...chain } = chainAt(`http://127.0.0.1:${await deadPort()}`);
  return configFile({
    network: { name: "heap", listen: ["/ip4/127.0.0.1/tcp/0"], peerKeyFile: join(programsDir, "peer.key") },
    roles: ["relay", "compute", "collect", "post"],
    redis: { url: `redis://127.0.0.1:${await deadPort()}` },
    chains: [chain],
    programs: { dirs: [programsDir] },
    da: { primary: { layer: "local", dir: join(programsDir, "da") } },
    heap,
  });
}

async function heapLimitMetric(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = /^versatus_nodejs_heap_size_limit_bytes\{[^}]*\} (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(text);
  expect(line, text.slice(0, 2_000)).to.not.equal(null);
  return Number(line![1]);
}

describe("node heap bound (config heap.maxOldSpaceMb)", function () {
  this.timeout(120_000);
  afterEach(() => killAllStarted());

  it("defaults to 512 MB and rejects a bound outside 128..65536 MB naming the field", () => {
    expect(DEFAULT_MAX_OLD_SPACE_MB).to.equal(512);
    expect(loadNodeConfig({ raw: base(), env: {} }).heap.maxOldSpaceMb).to.equal(512);
    expect(loadNodeConfig({ raw: { ...base(), heap: { maxOldSpaceMb: 300 } }, env: {} }).heap.maxOldSpaceMb).to.equal(
      300,
    );
    for (const bad of [64, 100_000, 256.5, "512"])
      expect(() => loadNodeConfig({ raw: { ...base(), heap: { maxOldSpaceMb: bad } }, env: {} })).to.throw(
        /heap\.maxOldSpaceMb/,
      );
    expect(() => loadNodeConfig({ raw: { ...base(), heap: { maxOldSpace: 512 } }, env: {} })).to.throw(/heap/);
  });

  it("reads the bound a process was started with from its arguments and NODE_OPTIONS, the command line last", () => {
    expect(maxOldSpaceInEffect([], "")).to.equal(undefined);
    expect(maxOldSpaceInEffect(["--max-old-space-size=300"], "")).to.equal(300);
    expect(maxOldSpaceInEffect([], "--inspect-port=0 --max_old_space_size=200")).to.equal(200);
    expect(maxOldSpaceInEffect(["--max-old-space-size=300"], "--max-old-space-size=200")).to.equal(300);
    expect(
      argsWithHeapBound(256, ["--max-old-space-size=900", "--enable-source-maps"], ["/node", "bin.js", "node"]),
    ).to.deep.equal(["--enable-source-maps", "--max-old-space-size=256", "bin.js", "node"]);
  });

  it("the launcher reads the bound from the config file as JSON: absent is the default, unusable is left to the config check", () => {
    expect(nodeConfigArg(["node", "bin.js", "node", "--config", "a.json"])).to.equal("a.json");
    expect(nodeConfigArg(["node", "bin.js", "node", "--config=b.json"])).to.equal("b.json");
    expect(nodeConfigArg(["node", "bin.js", "worker", "--config", "a.json"])).to.equal(undefined);
    expect(heapBoundOfConfigFile(configFile({ roles: ["relay"] }))).to.equal(DEFAULT_MAX_OLD_SPACE_MB);
    expect(heapBoundOfConfigFile(configFile({ heap: { maxOldSpaceMb: 300 } }))).to.equal(300);
    expect(heapBoundOfConfigFile(configFile({ heap: { maxOldSpaceMb: 64 } }))).to.equal(undefined);
    expect(heapBoundOfConfigFile(configFile({ heap: { maxOldSpaceMb: "512" } }))).to.equal(undefined);
    expect(heapBoundOfConfigFile("/nonexistent/node.json")).to.equal(undefined);
  });

  it("`versatus node` started without the flag runs with its config's bound (heap_size_limit on /metrics) and SIGTERM ends both processes", async () => {
    const opsPort = await deadPort();
    const node = startCli(["node", "--config", await waitingNodeConfig({ maxOldSpaceMb: 200 })], {
      env: { VERSATUS_OPERATOR_KEY: DEV_KEY_1, VERSATUS_POSTER_KEY: DEV_KEY_1, VERSATUS_NODE_PORT: String(opsPort) },
    });
    await node.waitFor(/unreachable/, 60_000);
    const limit = await heapLimitMetric(opsPort);
    // old space 200 MB plus V8's young generation (a few tens of MB), far below its own default (GBs)
    expect(limit).to.be.at.least(200 * MiB);
    expect(limit).to.be.below(280 * MiB);
    const served = node.output().match(/"pid":(\d+)/)?.[1];
    expect(Number(served), "the node runs in a child of the launcher").to.not.equal(node.pid);
    // the launcher relaunched before loading the CLI: it holds a fraction of the node's memory
    const rssMb = (pid: number) =>
      Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;
    expect(rssMb(node.pid), `launcher ${rssMb(node.pid)} MB, node ${rssMb(Number(served))} MB`).to.be.below(
      rssMb(Number(served)) / 2,
    );
    await stopsWithin(node, "SIGTERM");
    expect(await gone(Number(served), 2_000)).to.equal(true);
  });

  it("started with the flag already (as cli/devnet/cluster.ts does) it does not start itself again", async () => {
    const opsPort = await deadPort();
    const config = await waitingNodeConfig({ maxOldSpaceMb: 160 });
    const node = startCli(["node", "--config", config], {
      env: {
        VERSATUS_OPERATOR_KEY: DEV_KEY_1,
        VERSATUS_POSTER_KEY: DEV_KEY_1,
        VERSATUS_NODE_PORT: String(opsPort),
        NODE_OPTIONS: "--max-old-space-size=160",
      },
    });
    await node.waitFor(/unreachable/, 60_000);
    const limit = await heapLimitMetric(opsPort);
    expect(limit).to.be.at.least(160 * MiB);
    expect(limit).to.be.below(240 * MiB);
    expect(Number(node.output().match(/"pid":(\d+)/)?.[1])).to.equal(node.pid);
    await stopsWithin(node, "SIGTERM");
  });
});
