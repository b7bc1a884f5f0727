import { expect } from "chai";
import { network } from "hardhat";
import { ethers as E } from "ethers";
import { parseDeployConfig } from "../../deploy/config.ts";
import { devAccount } from "../../deploy/context.ts";
import { deploySuite } from "../../deploy/run.ts";
import { DeploymentStore } from "../../deploy/store.ts";
import { localDeployConfig } from "../helpers/suite.ts";
import { readFileSync } from "node:fs";

const localRaw = () =>
  JSON.parse(readFileSync(new URL("../../config/deploy/localhost.json", import.meta.url), "utf8")) as Record<
    string,
    unknown
  > & { staking: Record<string, unknown> };

describe("deploy: staking (in-process)", function () {
  this.timeout(120_000);

  it("deploys the adapter, registry and dispute manager, stakes and registers, and a re-run changes nothing", async () => {
    const connection = await network.create("chainA");
    const { ethers } = connection;
    const store = new DeploymentStore(undefined);
    const config = localDeployConfig();
    const logs: string[] = [];
    const addresses = await deploySuite(connection, config, store, (m) => logs.push(m));
    expect(addresses.StakingRegistry).to.be.a("string");
    expect(logs).to.include("ingestor -> operator set is the StakingRegistry");

    const registry = await ethers.getContractAt("StakingRegistry", addresses.StakingRegistry!);
    const adapter = await ethers.getContractAt("NativeStakeAdapter", addresses.NativeStakeAdapter!);
    const disputes = await ethers.getContractAt("DisputeManager", addresses.DisputeManager!);
    const ingestor = await ethers.getContractAt("InstructionIngestor", addresses.InstructionIngestor);
    expect(await ingestor.operatorSet()).to.equal(addresses.StakingRegistry);
    expect(await adapter.slasher()).to.equal(addresses.StakingRegistry);
    expect(await registry.disputeModule()).to.equal(addresses.DisputeManager);
    expect(await disputes.ingestor()).to.equal(addresses.InstructionIngestor);
    expect(await registry.watcherMinStake()).to.equal(E.parseEther("0.5"));
    expect(await registry.threshold()).to.equal(3n);
    expect(await registry.registeredCount()).to.equal(4n);
    for (const [i, n] of [1, 2, 3, 4].entries()) {
      const op = devAccount(n).address;
      expect(await registry.isActive(op)).to.equal(true);
      expect((await registry.indexOf(op)).index).to.equal(BigInt(i)); // same indices as the OwnedOperatorSet
      expect((await adapter.stakeOf(op)).bonded).to.equal(E.parseEther("2"));
    }
    const watcher = devAccount(9).address;
    expect(await registry.isWatcher(watcher)).to.equal(true);
    expect(await registry.watcherWeight(watcher)).to.equal(E.parseEther("1"));
    expect(Object.keys(store.all())).to.include.members(["NativeStakeAdapter", "StakingRegistry", "DisputeManager"]);

    const block = await ethers.provider.getBlockNumber();
    const again: string[] = [];
    const second = await deploySuite(connection, config, store, (m) => again.push(m));
    expect(second).to.deep.equal(addresses);
    expect(await ethers.provider.getBlockNumber()).to.equal(block); // no transaction sent
    expect(again.filter((m) => !m.startsWith("reusing "))).to.deep.equal([]);
  });

  it('keeps the OwnedOperatorSet with operatorSet "owned", and no staking without the section', async () => {
    const owned = await network.create("chainA");
    const raw = localRaw();
    const a = await deploySuite(
      owned,
      parseDeployConfig({ ...raw, staking: { ...raw.staking, operatorSet: "owned" } }),
      new DeploymentStore(undefined),
    );
    const ingestor = await owned.ethers.getContractAt("InstructionIngestor", a.InstructionIngestor);
    expect(await ingestor.operatorSet()).to.equal(a.OwnedOperatorSet);
    expect(a.StakingRegistry).to.be.a("string");

    const none = await network.create("chainA");
    const b = await deploySuite(
      none,
      parseDeployConfig({ ...raw, staking: undefined }),
      new DeploymentStore(undefined),
    );
    expect(b.StakingRegistry).to.equal(undefined);
  });

  it("rejects inconsistent staking configs with the field path", () => {
    const raw = localRaw();
    const bad = (staking: Record<string, unknown>) => () =>
      parseDeployConfig({ ...raw, staking: { ...raw.staking, ...staking } });
    expect(bad({ slashableWindow: 300 })).to.throw(
      /staking\.slashableWindow: expected at most unbondingPeriod \(240\), got 300/,
    );
    // 12 + (40 + 6) * (1 + 2) = 150 s of dispute could outlast the 120 s the stake stays slashable
    expect(bad({ dispute: { ...(raw.staking.dispute as object), commitPeriod: 40 } })).to.throw(
      /staking\.slashableWindow: expected more than dispute\.challengeWindow \+ \(commitPeriod \+ revealPeriod\) \* \(1 \+ maxExtensions\) \(150\), got 120/,
    );
    expect(bad({ floor: "2000000000000000000" })).to.throw(/staking\.floor: expected at most base/);
    expect(bad({ watchers: ["dev:1"] })).to.throw(
      /staking\.watchers\.0: expected a watcher that is not also an operator \(dev:1 is in operators\)/,
    );
    expect(bad({ operatorSet: "mine" })).to.throw(/staking\.operatorSet/);
    expect(bad({ extra: 1 })).to.throw(/staking/);
    expect(bad({ alphaBps: 10_001 })).to.throw(/staking\.alphaBps: expected at most 10000 basis points/);
  });
});
