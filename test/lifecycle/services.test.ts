import { expect } from "chai";
import { connect, createServer, type Server, type Socket } from "node:net";
import {
  ADDRESS_1,
  ADDRESS_2,
  DEV_KEY_1,
  DEV_KEY_2,
  OPERATOR,
  chainAt,
  configFile,
  deadPort,
  dependencyLines,
  healthz,
  killAllStarted,
  logLines,
  occupiedPort,
  programsDir,
  redisUrl,
  startCli,
  stopsWithin,
} from "./helpers.ts";

type Case = {
  service: "relayer" | "worker" | "ingestor" | "watcher";
  args: (config: string) => string[];
  config: (redis: string, rpc: string) => unknown;
  env: Record<string, string>;
  portEnv: string;
};

const cases: Case[] = [
  {
    service: "relayer",
    args: (config) => ["relayer", "--config", config],
    config: (redis, rpc) => ({
      chains: [chainAt(rpc)],
      operators: { addresses: [OPERATOR] },
      scheduler: { quorum: 1 },
      redis: { url: redis },
    }),
    env: {},
    portEnv: "RELAYER_HTTP_PORT",
  },
  {
    service: "worker",
    args: (config) => ["worker", "--config", config],
    config: (redis, rpc) => ({
      chains: [{ chainId: 31337, ingestor: ADDRESS_2, rpcUrl: rpc }],
      programs: { dirs: [programsDir] },
      runtimeThreads: 1,
      redis: { url: redis },
    }),
    env: { OPERATOR_KEY: DEV_KEY_2 },
    portEnv: "WORKER_HTTP_PORT",
  },
  {
    service: "ingestor",
    args: (config) => ["ingestor", "--config", config],
    config: (redis, rpc) => ({
      chains: [chainAt(rpc)],
      collector: { operators: [OPERATOR], threshold: 1 },
      da: { primary: { layer: "local", dir: `${programsDir}/da` } },
      redis: { url: redis },
    }),
    env: { POSTER_KEY: DEV_KEY_1 },
    portEnv: "METRICS_PORT",
  },
  {
    service: "watcher",
    args: (config) => ["watcher", "run", "--config", config],
    config: (redis, rpc) => ({
      chains: [{ ...chainAt(rpc), disputeManager: ADDRESS_1, registry: ADDRESS_2 }],
      programs: { dirs: [programsDir] },
      da: { primary: { layer: "local", dir: `${programsDir}/da` } },
      runtimeThreads: 1,
      redis: { url: redis },
    }),
    env: { WATCHER_KEY: DEV_KEY_2 },
    portEnv: "WATCHER_HTTP_PORT",
  },
];

/** A TCP proxy to the real Redis that can be stopped (connections cut, port closed) and started again on the same port. */
async function redisProxy(): Promise<{ port: number; stop: () => void; start: () => Promise<void> }> {
  const target = new URL(redisUrl);
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const start = async () => {
    server = createServer((client) => {
      const upstream = connect(Number(target.port || 6379), target.hostname);
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on("error", drop).on("close", drop);
      upstream.on("error", drop).on("close", drop);
    });
    await new Promise<void>((resolve) => server!.listen(port, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
  };
  await start();
  return {
    get port() {
      return port;
    },
    stop: () => {
      server?.close();
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    start,
  };
}

async function eventuallyTrue(check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > until) expect.fail("condition not reached in time");
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("lifecycle: services as processes (real Redis, dependencies down)", function () {
  this.timeout(120_000);
  afterEach(() => killAllStarted());

  describe("Redis unreachable and the RPC down: reported once, in /healthz, and SIGTERM/SIGINT still stop it", () => {
    for (const c of cases) {
      it(c.service, async () => {
        const [redisPort, rpcPort, opsPort] = [await deadPort(), await deadPort(), await deadPort()];
        const config = configFile(c.config(`redis://127.0.0.1:${redisPort}`, `http://127.0.0.1:${rpcPort}`));
        const service = startCli(c.args(config), { env: { ...c.env, [c.portEnv]: String(opsPort) } });
        await service.waitFor(/redis unreachable at redis:\/\/127\.0\.0\.1:\d+\/?: retrying/, 40_000);
        // ioredis retries every 50..2000 ms; the service says so once (then once a minute)
        await new Promise((r) => setTimeout(r, 2_500));
        const redisLines = logLines(service.output()).filter(
          (l) => typeof l.msg === "string" && /^redis (still )?unreachable/.test(l.msg),
        );
        expect(redisLines, service.output()).to.have.length(1);
        expect(redisLines[0]).to.include({ dependency: "redis", where: `redis://127.0.0.1:${redisPort}` });
        expect(redisLines[0]!.since).to.match(/^\d{4}-\d\d-\d\dT/);
        expect(service.output()).not.to.match(/Unhandled error event/);
        const health = await healthz(opsPort);
        expect(health.status).to.equal(503);
        const redis = (health.body.dependencies as Record<string, Record<string, unknown>> | undefined)?.redis;
        expect(redis, JSON.stringify(health.body)).to.include({ ok: false, where: `redis://127.0.0.1:${redisPort}` });
        expect(redis!.downSince).to.be.a("string");
        expect(redis!.failures).to.be.greaterThan(1);
        await stopsWithin(service, c.service === "worker" ? "SIGINT" : "SIGTERM");
      });
    }
  });

  it("relayer with Redis up and the RPC down: the RPC is reported once, in /healthz, and SIGTERM stops it", async () => {
    const [rpcPort, opsPort] = [await deadPort(), await deadPort()];
    const config = configFile(cases[0]!.config(redisUrl, `http://127.0.0.1:${rpcPort}`));
    const service = startCli(["relayer", "--config", config], { env: { RELAYER_HTTP_PORT: String(opsPort) } });
    await service.waitFor(/rpc of chain 31337 unreachable at http:\/\/127\.0\.0\.1:\d+\/: retrying/, 40_000);
    // past the first reconciliation pass (at most 5 s after the start): it fails on the same RPC
    await new Promise((r) => setTimeout(r, 7_000));
    const rpcLines = dependencyLines(service.output(), "rpc of chain 31337");
    expect(rpcLines, service.output()).to.have.length(1);
    expect(service.output()).not.to.contain("reconciliation pass failed");
    const health = await healthz(opsPort);
    expect(health.status).to.equal(503);
    const chain = (health.body.chains as Record<string, { rpc: Record<string, unknown> }>)["31337"]!;
    expect(chain.rpc).to.include({ ok: false });
    expect((health.body.dependencies as Record<string, Record<string, unknown>>).redis).to.include({ ok: true });
    await stopsWithin(service, "SIGTERM");
  });

  it("watcher with Redis up and the RPC down: the RPC is reported once, in /healthz, and SIGTERM stops it", async () => {
    const [rpcPort, opsPort] = [await deadPort(), await deadPort()];
    const config = configFile(cases[3]!.config(redisUrl, `http://127.0.0.1:${rpcPort}`));
    const service = startCli(["watcher", "run", "--config", config], {
      env: { WATCHER_KEY: DEV_KEY_2, WATCHER_HTTP_PORT: String(opsPort) },
    });
    await service.waitFor(/rpc of chain 31337 unreachable at http:\/\/127\.0\.0\.1:\d+\/: retrying/, 40_000);
    await new Promise((r) => setTimeout(r, 4_000));
    const lines = logLines(service.output());
    expect(dependencyLines(service.output(), "rpc of chain 31337"), service.output()).to.have.length(1);
    expect(
      lines.filter((l) => l.msg === "watcher step failed"),
      service.output(),
    ).to.have.length(0);
    const health = await healthz(opsPort);
    expect(health.status).to.equal(503);
    const dependencies = health.body.dependencies as Record<string, Record<string, unknown>>;
    expect(dependencies["rpc 31337"]).to.include({ ok: false, where: `http://127.0.0.1:${rpcPort}/` });
    expect(dependencies.redis).to.include({ ok: true });
    await stopsWithin(service, "SIGTERM");
  });

  it("relayer: Redis going away while it runs is logged once, shown in /healthz, and its return is logged", async () => {
    const proxy = await redisProxy();
    try {
      const opsPort = await deadPort();
      const config = configFile(
        cases[0]!.config(`redis://127.0.0.1:${proxy.port}/10`, `http://127.0.0.1:${await deadPort()}`),
      );
      const service = startCli(["relayer", "--config", config], { env: { RELAYER_HTTP_PORT: String(opsPort) } });
      await service.waitFor(/"msg":"relayer started"/, 40_000);
      await eventuallyTrue(
        async () => ((await healthz(opsPort)).body.dependencies as Record<string, { ok: boolean }>).redis!.ok,
      );
      proxy.stop();
      await service.waitFor(/redis unreachable at/, 20_000);
      await new Promise((r) => setTimeout(r, 2_000));
      const down = await healthz(opsPort);
      expect(down.status).to.equal(503);
      expect((down.body.dependencies as Record<string, Record<string, unknown>>).redis).to.include({ ok: false });
      await proxy.start();
      await service.waitFor(/redis reachable again at/, 20_000);
      await eventuallyTrue(
        async () => ((await healthz(opsPort)).body.dependencies as Record<string, { ok: boolean }>).redis!.ok,
      );
      const lines = dependencyLines(service.output(), "redis");
      expect(
        lines.map((l) => l.msg as string).map((m) => m.split(" at ")[0]),
        service.output(),
      ).to.deep.equal(["redis unreachable", "redis reachable again"]);
      await stopsWithin(service, "SIGTERM");
    } finally {
      proxy.stop();
    }
  });

  it("ingestor with Redis up: starts every role, is healthy, and SIGINT stops it", async () => {
    const [rpcPort, opsPort] = [await deadPort(), await deadPort()];
    const config = configFile(cases[2]!.config(redisUrl, `http://127.0.0.1:${rpcPort}`));
    const service = startCli(["ingestor", "--config", config, "--roles", "collector,poster"], {
      env: { POSTER_KEY: DEV_KEY_1, METRICS_PORT: String(opsPort) },
    });
    await service.waitFor(/"msg":"ingestor started"/, 40_000);
    const health = await healthz(opsPort);
    expect(health.body, JSON.stringify(health.body)).to.include({ redis: "PONG", collector: true, poster: true });
    await stopsWithin(service, "SIGINT");
    expect(service.output()).to.contain('"msg":"ingestor stopped"');
  });

  it("ingestor with Redis up and the RPC down: the RPC is reported once (whichever role asked), in /healthz, and SIGTERM stops it", async () => {
    const [rpcPort, opsPort] = [await deadPort(), await deadPort()];
    const config = configFile({
      ...(cases[2]!.config(redisUrl, `http://127.0.0.1:${rpcPort}`) as Record<string, unknown>),
      reconcile: { intervalMs: 500, graceMs: 0 },
    });
    const service = startCli(["ingestor", "--config", config], {
      env: { POSTER_KEY: DEV_KEY_1, METRICS_PORT: String(opsPort) },
    });
    await service.waitFor(/rpc of chain 31337 unreachable at http:\/\/127\.0\.0\.1:\d+\/: retrying/, 40_000);
    // several reconciliation passes fail on it meanwhile: no line (and no stack) per pass
    await new Promise((r) => setTimeout(r, 5_000));
    expect(dependencyLines(service.output(), "rpc of chain 31337"), service.output()).to.have.length(1);
    expect(service.output()).not.to.contain("reconciliation pass failed");
    const health = await healthz(opsPort);
    expect(health.status, JSON.stringify(health.body)).to.equal(503);
    const dependencies = health.body.dependencies as Record<string, Record<string, unknown>>;
    expect(dependencies["rpc 31337"]).to.include({ ok: false, where: `http://127.0.0.1:${rpcPort}/` });
    expect(dependencies["rpc 31337"]!.failures).to.be.greaterThan(1);
    expect(dependencies.redis).to.include({ ok: true });
    await stopsWithin(service, "SIGTERM");
  });

  describe("a failed start stops what it started and exits non-zero", () => {
    for (const c of cases) {
      it(`${c.service}: ops server port in use`, async () => {
        const taken = await occupiedPort();
        try {
          const config = configFile(c.config(redisUrl, `http://127.0.0.1:${await deadPort()}`));
          const service = startCli(c.args(config), { env: { ...c.env, [c.portEnv]: String(taken.port) } });
          const exit = await Promise.race([
            service.exited,
            new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 40_000).unref()),
          ]);
          expect(exit, `still running:\n${service.output()}`).to.not.equal(undefined);
          expect(exit!.code, service.output()).to.equal(1);
          expect(service.output()).to.match(new RegExp(`${c.service} did not start: .*EADDRINUSE`));
          expect(service.output()).not.to.contain(`"msg":"${c.service} started"`);
        } finally {
          await taken.close();
        }
      });
    }

    it("relayer: port 70000 and a garbage redis.url are config errors naming the field", async () => {
      const base = cases[0]!.config(redisUrl, "http://127.0.0.1:1") as Record<string, unknown>;
      const badPort = startCli(["relayer", "--config", configFile({ ...base, operations: { httpPort: 70_000 } })]);
      const garbage = startCli(["relayer", "--config", configFile({ ...base, redis: { url: "garbage" } })]);
      for (const [service, field] of [
        [badPort, "operations.httpPort"],
        [garbage, "redis.url"],
      ] as const) {
        const exit = await service.exited;
        expect(exit.code, service.output()).to.equal(1);
        expect(service.output()).to.contain(`relayer did not start: Invalid config`).and.contain(field);
        expect(service.output()).not.to.contain("TypeError");
      }
    });
  });
});
