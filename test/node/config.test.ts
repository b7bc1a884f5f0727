import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadNodeConfig, nodeKeysFromEnv } from "../../cli/node/config.ts";
import { minimalNodeConfig } from "./minimalConfig.ts";

const KEY = `0x${"11".repeat(32)}`;
const base = minimalNodeConfig;
const error = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("no error");
};

describe("node config (versatus node --config)", () => {
  it("the example config parses, with the timing defaults", () => {
    const config = loadNodeConfig({ file: "config/node.example.json", env: {} });
    expect(config.roles).to.deep.equal(["relay", "compute", "collect", "post"]);
    expect(config.timing.quorum).to.equal(4);
    expect(config.network.bootstrap).to.have.length(1);
  });

  it("routing by auto-scaled quorums is off unless asked for (nodes do not share their samples yet)", () => {
    expect(loadNodeConfig({ raw: base(), env: {} }).autoscale.route).to.equal(false);
    expect(loadNodeConfig({ raw: { ...base(), autoscale: { route: true } }, env: {} }).autoscale.route).to.equal(true);
    expect(() => loadNodeConfig({ raw: { ...base(), autoscale: { route: "yes" } }, env: {} })).to.throw(
      /autoscale\.route/,
    );
  });

  it("network.recoveryThreads: 0 (in-thread) unless set, an integer from 0 to 16; a bad value names the field", () => {
    expect(loadNodeConfig({ raw: base(), env: {} }).network.recoveryThreads).to.equal(0);
    const withThreads = (recoveryThreads: unknown) => ({ ...base(), network: { ...base().network, recoveryThreads } });
    expect(loadNodeConfig({ raw: withThreads(2), env: {} }).network.recoveryThreads).to.equal(2);
    expect(loadNodeConfig({ raw: withThreads(16), env: {} }).network.recoveryThreads).to.equal(16);
    for (const bad of [-1, 17, 1.5, "2"])
      expect(
        error(() => loadNodeConfig({ raw: withThreads(bad), env: {} })),
        String(bad),
      ).to.match(/network\.recoveryThreads/);
  });

  it("content caching: persist/gateway roles with R, rotation and gateway defaults; bad values name the field", () => {
    const config = loadNodeConfig({ raw: { ...base(), roles: ["persist", "gateway"] }, env: {} });
    expect(config.content.replicas).to.equal(2);
    expect(config.content.rotationMs).to.equal(3_600_000);
    expect(config.content.gateway).to.include({ port: 8480, host: "127.0.0.1", upload: false });
    expect(error(() => loadNodeConfig({ raw: { ...base(), content: { replicas: 0 } }, env: {} }))).to.match(
      /content\.replicas/,
    );
    expect(error(() => loadNodeConfig({ raw: { ...base(), content: { rotationMs: 10 } }, env: {} }))).to.match(
      /content\.rotationMs/,
    );
    expect(
      error(() => loadNodeConfig({ raw: { ...base(), content: { gateway: { port: 70_000 } } }, env: {} })),
    ).to.match(/content\.gateway\.port/);
    const names = { chainId: 5, registry: "0x0000000000000000000000000000000000000003" };
    expect(error(() => loadNodeConfig({ raw: { ...base(), content: { gateway: { names } } }, env: {} }))).to.match(
      /content\.gateway\.names\.chainId/,
    );
  });

  it("errors name the field: an unknown role, a bad bootstrap address, a watch role without HoneSTake addresses", () => {
    expect(error(() => loadNodeConfig({ raw: { ...base(), roles: ["relay", "mine"] }, env: {} }))).to.match(/roles\.1/);
    expect(
      error(() =>
        loadNodeConfig({
          raw: { ...base(), network: { ...base().network, bootstrap: ["/ip4/1.2.3.4/tcp/1"] } },
          env: {},
        }),
      ),
    ).to.match(/network\.bootstrap\.0.*\/p2p\//);
    expect(error(() => loadNodeConfig({ raw: { ...base(), roles: ["watch"] }, env: {} }))).to.match(
      /chains\.0\.disputeManager/,
    );
    expect(error(() => loadNodeConfig({ raw: { ...base(), roles: [] }, env: {} }))).to.match(/roles/);
    expect(error(() => loadNodeConfig({ raw: { ...base(), timing: { stealAfterMs: -1 } }, env: {} }))).to.match(
      /timing\.stealAfterMs/,
    );
  });

  it("keys come only from the environment: a file holding one is refused; the roles' keys are required", () => {
    const dir = mkdtempSync(join(tmpdir(), "versatus-node-config-"));
    const file = join(dir, "node.json");
    writeFileSync(file, JSON.stringify({ ...base(), posterKey: KEY }));
    expect(error(() => loadNodeConfig({ file, env: {} }))).to.match(/posterKey.*environment/);
    const config = loadNodeConfig({ raw: base(), env: {} });
    expect(error(() => nodeKeysFromEnv(config, { VERSATUS_OPERATOR_KEY: KEY }))).to.match(/VERSATUS_POSTER_KEY/);
    expect(error(() => nodeKeysFromEnv(config, { VERSATUS_OPERATOR_KEY: "0x12", VERSATUS_POSTER_KEY: KEY }))).to.match(
      /VERSATUS_OPERATOR_KEY/,
    );
    expect(nodeKeysFromEnv(config, { VERSATUS_OPERATOR_KEY: KEY, VERSATUS_POSTER_KEY: KEY }).operatorKey).to.equal(KEY);
  });
});
