import { expect } from "chai";
import { network } from "hardhat";
import { deploySuite } from "../../deploy/run.ts";
import { DeploymentStore } from "../../deploy/store.ts";
import { localDeployConfig } from "../helpers/suite.ts";
import { loadDnsConfig } from "../../dns/config.ts";
import { parseDeployConfig } from "../../deploy/config.ts";

describe("deploy: the NameRegistry of the DNS facade", function () {
  this.timeout(120_000);

  it("is deployed with the config's suffix and windows, saved as NameRegistry, and reused by a re-run", async () => {
    const connection = await network.create("chainA");
    const store = new DeploymentStore(undefined);
    const config = localDeployConfig();
    const addresses = await deploySuite(connection, config, store);
    const saved = store.get("NameRegistry")!;
    expect(saved.address).to.equal(addresses.NameRegistry);
    expect(saved.args).to.deep.equal(["versatus", 2, 86_400, 31_536_000]);
    const registry = await connection.ethers.getContractAt("NameRegistry", addresses.NameRegistry);
    expect(await registry.suffix()).to.equal("versatus");
    expect(await registry.minCommitmentAge()).to.equal(2n);
    const block = await connection.ethers.provider.getBlockNumber();
    const again = await deploySuite(connection, config, store);
    expect(again.NameRegistry).to.equal(addresses.NameRegistry);
    expect(await connection.ethers.provider.getBlockNumber()).to.equal(block);
  });

  it("refuses name windows that cannot work, naming the field", () => {
    const raw = { operators: ["dev:1"], threshold: 1 };
    expect(() => parseDeployConfig({ ...raw, names: { minCommitmentAge: 60, maxCommitmentAge: 60 } })).to.throw(
      /names\.maxCommitmentAge: expected more than minCommitmentAge/,
    );
    expect(() => parseDeployConfig({ ...raw, names: { suffix: "Versatus" } })).to.throw(/names\.suffix/);
    expect(parseDeployConfig(raw).names).to.deep.equal({
      suffix: "versatus",
      minCommitmentAge: 60,
      maxCommitmentAge: 86_400,
      registrationPeriod: 31_536_000,
    });
  });
});

describe("versatus dns: config", () => {
  const chain = { chainId: 31337, rpcUrl: "http://127.0.0.1:8545", nameRegistry: `0x${"11".repeat(20)}` };

  it("fills the defaults (port 5353 on loopback, 60 s TTL, event watch on)", () => {
    const config = loadDnsConfig({ raw: { chain }, env: {} });
    expect(config.listen).to.deep.equal({ host: "127.0.0.1", port: 5353 });
    expect(config.ttlS).to.equal(60);
    expect(config.watch.enabled).to.equal(true);
    expect(config.upstream).to.equal(undefined);
  });

  it("names the field that is wrong", () => {
    expect(() => loadDnsConfig({ raw: { chain, upstream: { host: "dns.google" } }, env: {} })).to.throw(
      /upstream\.host: expected an IPv4 or IPv6 address/,
    );
    expect(() => loadDnsConfig({ raw: { chain: { ...chain, nameRegistry: "0x12" } }, env: {} })).to.throw(
      /chain\.nameRegistry/,
    );
    expect(() => loadDnsConfig({ raw: { chain, listen: { port: 70_000 } }, env: {} })).to.throw(/listen\.port/);
    expect(() => loadDnsConfig({ raw: { chain }, env: { VERSATUS_DNS_PORT: "x" } })).to.throw(/VERSATUS_DNS_PORT/);
    expect(loadDnsConfig({ raw: { chain }, env: { VERSATUS_DNS_PORT: "0" } }).listen.port).to.equal(0);
  });
});
