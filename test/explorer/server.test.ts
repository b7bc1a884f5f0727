import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { network } from "hardhat";
import { custom, zeroAddress, type Address } from "viem";
import { resolveExplorerChains } from "../../explorer/command.ts";
import { startExplorer, type ExplorerHandle } from "../../explorer/server.ts";
import { deployTestSuite, type Suite } from "../helpers/suite.ts";

/** The explorer's own HTTP surface: what the page may ask of the chain, and what it may not. */
describe("explorer server: read-only JSON-RPC pass-through and API (in-process chain)", function () {
  this.timeout(60_000);
  let local: ExplorerHandle;
  let remote: ExplorerHandle;
  let suite: Suite;
  const dist = mkdtempSync(join(tmpdir(), "versatus-explorer-dist-"));
  writeFileSync(join(dist, "index.html"), "<!doctype html><title>page</title>");

  before(async () => {
    const connection = await network.create("chainA");
    suite = await deployTestSuite(connection);
    const chain = {
      name: "chainA",
      chainId: 31337,
      oracle: suite.addresses.ExecutableOracle as Address,
      ingestor: zeroAddress,
      transport: custom(connection.provider),
    };
    local = await startExplorer({ chains: [chain], distDir: dist, devAccounts: true });
    remote = await startExplorer({ chains: [chain], distDir: dist, devAccounts: false });
  });
  after(async () => {
    await local?.close();
    await remote?.close();
  });

  const rpc = (e: ExplorerHandle, method: string, params: unknown[] = []) =>
    fetch(`${e.url}rpc/31337`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    }).then((r) => r.json() as Promise<{ result?: unknown; error?: { message: string } }>);

  it("answers chain reads through /rpc/<chainId>", async () => {
    expect((await rpc(remote, "eth_chainId")).result).to.equal("0x7a69");
    expect((await rpc(remote, "eth_blockNumber")).result).to.match(/^0x/);
  });

  it("refuses node administration and signing methods whatever the network", async () => {
    for (const method of ["hardhat_setBalance", "evm_mine", "eth_sign", "personal_sign", "debug_traceTransaction"]) {
      const answer = await rpc(local, method, []);
      expect(answer.error?.message, method).to.equal(`${method} is not served here`);
    }
  });

  it("lets the page use the chain's unlocked dev accounts only on local chains (devAccounts)", async () => {
    expect((await rpc(remote, "eth_accounts")).error?.message).to.equal("eth_accounts is not served here");
    expect((await rpc(remote, "eth_sendTransaction", [{}])).error?.message).to.equal(
      "eth_sendTransaction is not served here",
    );
    const accounts = (await rpc(local, "eth_accounts")).result as string[];
    expect(accounts.length).to.be.greaterThan(0);
  });

  it("serves the page for any route, the network config without keys, and 404s for unknown chains and APIs", async () => {
    expect(await fetch(`${local.url}requests/31337`).then((r) => r.text())).to.contain("<title>page</title>");
    const config = await fetch(`${local.url}api/config`).then((r) => r.text());
    expect(config).to.contain('"chainId":31337');
    expect(config).to.not.match(/key|mnemonic|0x[0-9a-f]{64}/i);
    expect((await fetch(`${local.url}api/requests/1`)).status).to.equal(404);
    expect((await fetch(`${local.url}api/nothing`)).status).to.equal(404);
    expect((await fetch(`${local.url}api/requests/31337/0x12`)).status).to.equal(400);
    expect((await fetch(`${local.url}queues/`)).status).to.equal(404); // no Redis given
    expect((await fetch(`${local.url}%E0%A4%A`)).status).to.equal(400); // and the server is still up
    expect(await fetch(`${local.url}..%2F..%2Fpackage.json`).then((r) => r.text())).to.contain("<title>page</title>");
  });

  it("`versatus explorer --network` reads every other address from the oracle (ingestor, registry, adapter, disputes)", async () => {
    // the explorer's own pass-through stands in for an HTTP RPC in front of the in-process chain
    const [chain] = await resolveExplorerChains(
      {
        name: "test",
        source: "test",
        chains: [
          {
            name: "chainA",
            chainId: 31337,
            rpcUrl: `${remote.url}rpc/31337`,
            oracle: suite.addresses.ExecutableOracle as Address,
          },
        ],
        programs: { dirs: [], urls: [] },
        devAccounts: false,
      },
      mkdtempSync(join(tmpdir(), "versatus-no-deployments-")),
    );
    expect(chain!.ingestor).to.equal(suite.addresses.InstructionIngestor);
    expect(chain!.staking).to.deep.equal({
      registry: suite.addresses.StakingRegistry,
      adapter: suite.addresses.NativeStakeAdapter,
      disputeManager: suite.addresses.DisputeManager,
    });
    expect(chain!.omniToken).to.equal(undefined); // no deployments/chainA/OmniToken.json there
  });

  it("fails on a taken port, or takes a free one when asked to (the devnet)", async () => {
    const chains = [
      { name: "x", chainId: 1, oracle: zeroAddress, ingestor: zeroAddress, rpcUrl: "http://127.0.0.1:1" },
    ];
    let error: unknown;
    await startExplorer({ chains, distDir: dist, port: remote.port }).catch((e: unknown) => (error = e));
    expect((error as NodeJS.ErrnoException | undefined)?.code).to.equal("EADDRINUSE");
    const other = await startExplorer({ chains, distDir: dist, port: remote.port, anyPortIfTaken: true });
    try {
      expect(other.port).to.not.equal(remote.port);
    } finally {
      await other.close();
    }
  });
});
