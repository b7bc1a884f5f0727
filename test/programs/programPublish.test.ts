import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { network } from "hardhat";
import { createPublicClient, custom, type Hex, type Transport } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { devAccount } from "../../deploy/context.ts";
import { loadNetwork, publishProgram, type Network } from "../../cli/programPublish.ts";
import { canonicalManifest, encodePackage, parseManifest } from "../../protocol/programPackage.ts";
import { executableOracleAbi } from "../../protocol/generated/abis.ts";
import { assembleWatText } from "../../programs/toolchain.ts";
import { ProgramStore } from "../../worker/programStore.ts";
import { builtProgram, repoRoot } from "../fixtures/programs.ts";
import { deployTestSuite, type Suite } from "../helpers/suite.ts";

const account = (index: number) => privateKeyToAccount(devAccount(index).privateKey as Hex);

/** A small valid program named `name` (prints no actions). */
function packageNamed(name: string, version = "1.0.0") {
  const module = assembleWatText(`(module
    (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 16) "{\\"actions\\":[]}")
    (func (export "_start")
      (i32.store (i32.const 0) (i32.const 16))
      (i32.store (i32.const 4) (i32.const 14))
      (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))`);
  return encodePackage(canonicalManifest(parseManifest({ name, version, module: "m.wasm" })), module);
}

describe("versatus program publish", function () {
  this.timeout(300_000);
  let chainA: Suite;
  let chainB: Suite;
  let transports: Record<number, Transport>;
  let work: string;
  let net: Network;

  before(async () => {
    const [a, b] = [await network.create("chainA"), await network.create("chainBSim")];
    chainA = await deployTestSuite(a);
    chainB = await deployTestSuite(b);
    transports = { 31337: custom(a.provider), 31338: custom(b.provider) };
    work = mkdtempSync(join(tmpdir(), "versatus-publish-"));
    mkdirSync(join(work, "networks"));
    writeFileSync(
      join(work, "networks", "twochains.json"),
      JSON.stringify({
        chains: [
          {
            name: "chainA",
            chainId: 31337,
            rpcUrl: "http://in-process.invalid",
            oracle: chainA.addresses.ExecutableOracle,
          },
          {
            name: "chainBSim",
            chainId: 31338,
            rpcUrl: "http://in-process.invalid",
            oracle: chainB.addresses.ExecutableOracle,
          },
        ],
        programs: { dirs: ["store"] },
      }),
    );
    net = loadNetwork("twochains", { cwd: work });
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  const registry = (suite: Suite, chainId: number) => {
    const client = createPublicClient({ transport: transports[chainId]! });
    const read = (functionName: string, args: readonly unknown[]) =>
      client.readContract({
        address: suite.addresses.ExecutableOracle as Hex,
        abi: executableOracleAbi,
        functionName,
        args,
      } as never);
    return { client, read };
  };

  it("stores the package where operators fetch it and publishes it on every chain, then is a no-op", async () => {
    const pkg = builtProgram("payout-splitter").package;
    const report = await publishProgram({ pkg, network: net, account: account(0), transports });
    expect(report.changed).to.equal(true);
    expect(report.store).to.deep.equal([{ where: join(work, "store", `${pkg.programId}.vpkg`), state: "written" }]);
    expect(report.chains.map((c) => [c.chainId, c.state, c.transactions.length])).to.deep.equal([
      [31337, "published", 1],
      [31338, "published", 1],
    ]);
    for (const [suite, chainId] of [
      [chainA, 31337],
      [chainB, 31338],
    ] as const) {
      const { read } = registry(suite, chainId);
      expect(await read("isPublished", [pkg.programId])).to.equal(true);
      expect(await read("resolve", ["payout-splitter"])).to.equal(pkg.programId);
      expect(await read("nameOwner", ["payout-splitter"])).to.equal(account(0).address);
    }
    // an operator's program store (programs.dirs = the network's dir) serves it
    const fetched = await new ProgramStore({ dirs: [join(work, "store")] }).get(pkg.programId);
    expect(fetched.bytes).to.deep.equal(pkg.bytes);

    // again: nothing written, nothing sent
    const blocks = await Promise.all([
      registry(chainA, 31337).client.getBlockNumber(),
      registry(chainB, 31338).client.getBlockNumber(),
    ]);
    const again = await publishProgram({ pkg, network: net, account: account(0), transports });
    expect(again.changed).to.equal(false);
    expect(again.store.map((s) => s.state)).to.deep.equal(["present"]);
    expect(again.chains.map((c) => c.state)).to.deep.equal(["already published", "already published"]);
    expect(
      await Promise.all([
        registry(chainA, 31337).client.getBlockNumber(),
        registry(chainB, 31338).client.getBlockNumber(),
      ]),
    ).to.deep.equal(blocks);
  });

  it("publishes a TypeScript program (a script on the QuickJS engine, not a WebAssembly module)", async () => {
    const pkg = builtProgram("payout-splitter-ts").package;
    expect(pkg.manifest.engine, "a JavaScript package names its engine").to.be.a("string");
    const report = await publishProgram({ pkg, network: net, account: account(0), transports });
    expect(report.chains.map((c) => [c.chainId, c.state])).to.deep.equal([
      [31337, "published"],
      [31338, "published"],
    ]);
    for (const [suite, chainId] of [
      [chainA, 31337],
      [chainB, 31338],
    ] as const) {
      expect(await registry(suite, chainId).read("resolve", ["payout-splitter-ts"])).to.equal(pkg.programId);
    }
  });

  it("reserves the name first for a publisher who is not the registry's admin, and moves the name to a new version", async () => {
    const v1 = packageNamed("my-first-program", "1.0.0");
    const first = await publishProgram({ pkg: v1, network: net, account: account(8), transports });
    // reserveName + publish on each chain
    expect(first.chains.map((c) => c.transactions.length)).to.deep.equal([2, 2]);
    const v2 = packageNamed("my-first-program", "1.1.0");
    const second = await publishProgram({ pkg: v2, network: net, account: account(8), transports });
    // the owner of a name publishes new versions without a reservation
    expect(second.chains.map((c) => c.transactions.length)).to.deep.equal([1, 1]);
    for (const [suite, chainId] of [
      [chainA, 31337],
      [chainB, 31338],
    ] as const) {
      expect(await registry(suite, chainId).read("resolve", ["my-first-program"])).to.equal(v2.programId);
      expect(await registry(suite, chainId).read("isPublished", [v1.programId])).to.equal(true);
    }
    expect(readdirSync(join(work, "store")).sort()).to.include.members([
      `${v1.programId}.vpkg`,
      `${v2.programId}.vpkg`,
    ]);
  });

  it("refuses a name owned by someone else, naming the owner, before writing anything", async () => {
    const pkg = packageNamed("my-first-program", "2.0.0"); // owned by dev account 8 (previous test)
    let error: Error | undefined;
    try {
      await publishProgram({ pkg, network: net, account: account(9), transports });
    } catch (caught) {
      error = caught as Error;
    }
    expect(error?.message).to.contain('The name "my-first-program" belongs to someone else on twochains');
    expect(error?.message).to.contain(`owned by ${account(8).address}, you are ${account(9).address}`);
    expect(existsSync(join(work, "store", `${pkg.programId}.vpkg`))).to.equal(false);
    expect(await registry(chainA, 31337).read("isPublished", [pkg.programId])).to.equal(false);
  });

  it("refuses a package the runtime refuses, before writing anything", async () => {
    const module = assembleWatText(`(module (memory (export "memory") 1) (func (export "main")))`);
    const pkg = encodePackage(
      canonicalManifest(parseManifest({ name: "no-start", version: "1.0.0", module: "m.wasm" })),
      module,
    );
    let error: Error | undefined;
    try {
      await publishProgram({ pkg, network: net, account: account(0), transports });
    } catch (caught) {
      error = caught as Error;
    }
    expect(error?.message).to.match(/^The runtime refuses no-start 1\.0\.0/);
    expect(error?.message).to.contain("_start");
    expect(existsSync(join(work, "store", `${pkg.programId}.vpkg`))).to.equal(false);
  });

  it("refuses a network whose RPC is another chain, or whose store URL does not serve the package", async () => {
    const pkg = packageNamed("url-program");
    const swapped = { ...net, chains: [{ ...net.chains[0]!, chainId: 31338 }] };
    const wrongChain = await publishProgram({
      pkg,
      network: swapped,
      account: account(0),
      transports: { 31338: transports[31337]! },
    }).catch((e: Error) => e);
    expect((wrongChain as Error).message).to.contain("Wrong chain for chain 31338 (chainA)");

    const withUrl = { ...net, programs: { dirs: [], urls: ["http://store.invalid/programs"] } };
    const notServed = await publishProgram({
      pkg,
      network: withUrl,
      account: account(0),
      transports,
      fetch: (async () => new Response("not found", { status: 404 })) as typeof fetch,
    }).catch((e: Error) => e);
    expect((notServed as Error).message).to.contain("does not serve url-program yet");
    expect(await registry(chainA, 31337).read("isPublished", [pkg.programId])).to.equal(false);

    const served = await publishProgram({
      pkg,
      network: withUrl,
      account: account(0),
      transports,
      fetch: (async (url: string) =>
        url === `http://store.invalid/programs/${pkg.programId}`
          ? new Response(pkg.bytes)
          : new Response("", { status: 404 })) as typeof fetch,
    });
    expect(served.store).to.deep.equal([{ where: `http://store.invalid/programs/${pkg.programId}`, state: "serving" }]);
    expect(served.chains.map((c) => c.state)).to.deep.equal(["published", "published"]);
  });

  it("the command: an unknown network is a clear usage error listing the known ones", () => {
    const result = spawnSync(
      process.execPath,
      [join(repoRoot, "cli", "bin.js"), "program", "publish", "programs/payout-splitter", "--network", "nowhere"],
      { cwd: work, encoding: "utf8" },
    );
    expect(result.status).to.equal(1);
    expect(result.stderr).to.contain("Invalid --network: expected one of devnet, twochains");
    expect(result.stderr).to.contain('no network named "nowhere"');
  });
});
