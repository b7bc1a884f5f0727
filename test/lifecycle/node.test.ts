import { expect } from "chai";
import { join } from "node:path";
import {
  DEV_KEY_1,
  chainAt,
  configFile,
  deadPort,
  dependencyLines,
  healthz,
  killAllStarted,
  occupiedPort,
  programsDir,
  startCli,
  stopsWithin,
  type Service,
} from "./helpers.ts";

/** A `versatus node` config whose chain and Redis are wherever the test says. */
function nodeConfig(rpcUrl: string, redisUrl: string) {
  const { pollIntervalMs: _poll, ...chain } = chainAt(rpcUrl);
  return configFile({
    network: { name: "lifecycle", listen: ["/ip4/127.0.0.1/tcp/0"], peerKeyFile: join(programsDir, "peer.key") },
    roles: ["relay", "compute", "collect", "post"],
    redis: { url: redisUrl },
    chains: [chain],
    programs: { dirs: [programsDir] },
    da: { primary: { layer: "local", dir: join(programsDir, "da") } },
  });
}

const keys = { VERSATUS_OPERATOR_KEY: DEV_KEY_1, VERSATUS_POSTER_KEY: DEV_KEY_1 };

describe("lifecycle: `versatus node` as a process", function () {
  this.timeout(120_000);
  afterEach(() => killAllStarted());

  it("with the chain's RPC and Redis down it waits and says why (log, /healthz), and SIGTERM ends it", async () => {
    const [rpcPort, redisPort, opsPort] = [await deadPort(), await deadPort(), await deadPort()];
    const node: Service = startCli(
      ["node", "--config", nodeConfig(`http://127.0.0.1:${rpcPort}`, `redis://127.0.0.1:${redisPort}`)],
      { env: { ...keys, VERSATUS_NODE_PORT: String(opsPort) } },
    );
    await node.waitFor(/rpc of chain 31337 unreachable at http:\/\/127\.0\.0\.1:\d+\/: retrying/, 60_000);
    // the operator set is retried with a growing pause: still one line per outage
    await new Promise((r) => setTimeout(r, 3_000));
    expect(dependencyLines(node.output(), "rpc of chain 31337"), node.output()).to.have.length(1);
    expect(dependencyLines(node.output(), "redis"), node.output()).to.have.length(1);
    expect(node.output()).not.to.match(/did not start|ContractFunctionExecutionError/);

    const health = await healthz(opsPort);
    expect(health.status).to.equal(503);
    expect(health.body.starting, JSON.stringify(health.body)).to.equal(true);
    const dependencies = health.body.dependencies as Record<string, Record<string, unknown>>;
    expect(dependencies["rpc 31337"]).to.include({ ok: false, where: `http://127.0.0.1:${rpcPort}/` });
    expect(dependencies["rpc 31337"]!.downSince).to.be.a("string");
    expect(dependencies.redis).to.include({ ok: false, where: `redis://127.0.0.1:${redisPort}` });
    await stopsWithin(node, "SIGTERM");
  });

  it("an ops port in use fails the start: exit 1, the reason, nothing started", async () => {
    const taken = await occupiedPort();
    try {
      const node = startCli(
        [
          "node",
          "--config",
          nodeConfig(`http://127.0.0.1:${await deadPort()}`, `redis://127.0.0.1:${await deadPort()}`),
        ],
        { env: { ...keys, VERSATUS_NODE_PORT: String(taken.port) } },
      );
      const exit = await node.exited;
      expect(exit.code, node.output()).to.equal(1);
      expect(node.output()).to.match(/node did not start: .*EADDRINUSE/);
      // the ops server starts first: nothing was dialled or followed
      expect(node.output()).not.to.match(/unreachable|"msg":"node started"/);
    } finally {
      await taken.close();
    }
  });

  it("port 70000 is a config error naming the field", async () => {
    const node = startCli(["node", "--config", nodeConfig("http://127.0.0.1:1", "redis://127.0.0.1:1")], {
      env: { ...keys, VERSATUS_NODE_PORT: "70000" },
    });
    const exit = await node.exited;
    expect(exit.code, node.output()).to.equal(1);
    expect(node.output()).to.contain("node did not start: Invalid config").and.contain("ops.port");
  });
});
