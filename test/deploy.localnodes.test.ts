import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ethers as E } from "ethers";
import { LOCAL_CHAINS, startChain, type RunningChain } from "../scripts/localChains.ts";
import { devAccount } from "../deploy/context.ts";
import { Op, type Instruction } from "../protocol/instructions.ts";
import { makeResult, operatorWallets, signResult } from "./helpers/suite.ts";

const run = promisify(execFile);

describe("deploy to two running hardhat nodes (npx hardhat deploy) and serve a request", function () {
  this.timeout(240_000);
  const chains: RunningChain[] = [];
  const deploymentsDir = mkdtempSync(join(tmpdir(), "versatus-deployments-"));
  const env = { ...process.env, VERSATUS_DEPLOYMENTS_DIR: deploymentsDir };
  const deploy = (networkName: string) =>
    run(join("node_modules", ".bin", "hardhat"), ["deploy", "--network", networkName], { env, maxBuffer: 1 << 24 });
  const saved = (networkName: string, name: string) =>
    JSON.parse(readFileSync(join(deploymentsDir, networkName, `${name}.json`), "utf8")) as {
      address: string;
      abi: E.InterfaceAbi;
    };

  before(async () => {
    for (const chain of LOCAL_CHAINS) chains.push(await startChain(chain));
  });
  after(async () => {
    await Promise.all(chains.map((c) => c.stop()));
  });

  it("deploys the suite to both chains, idempotently, with the factory and token at one address", async () => {
    const first = await deploy("localhost");
    // each step's line is progress (stderr); the summary of addresses is the result (stdout)
    expect(first.stderr).to.contain("deployed ExecutableOracle");
    expect(first.stdout).to.contain("Versatus suite on localhost");
    await deploy("chainB");
    const again = await deploy("localhost");
    expect(again.stderr).to.not.contain("deployed ");
    expect(again.stderr).to.contain("reusing ExecutableOracle");
    expect(saved("localhost", "VersatusFactory").address).to.equal(saved("chainB", "VersatusFactory").address);
    expect(saved("localhost", "OmniToken").address).to.equal(saved("chainB", "OmniToken").address);
  });

  it("runs one request end to end: request -> 3-of-4 signed result -> dispersal", async () => {
    const provider = new E.JsonRpcProvider(chains[0]!.url, undefined, { staticNetwork: true, cacheTimeout: -1 });
    const requester = devAccount(7).connect(provider);
    const poster = devAccount(5).connect(provider);
    const owner = devAccount(0).connect(provider);
    const oracleInfo = saved("localhost", "ExecutableOracle");
    const oracle = new E.Contract(oracleInfo.address, oracleInfo.abi, provider);
    const ingestorInfo = saved("localhost", "InstructionIngestor");
    const ingestor = new E.Contract(ingestorInfo.address, ingestorInfo.abi, poster);
    const programId = E.sha256(E.toUtf8Bytes("e2e program"));
    await (await (oracle.connect(owner) as E.Contract).getFunction("publish")(programId, "e2e", "file://e2e")).wait();

    const requestId: string = await oracle.getFunction("nextRequestId")(requester.address, programId, "0x01");
    await (
      await (oracle.connect(requester) as E.Contract).getFunction("request")(programId, "0x01", 600n, {
        value: E.parseEther("1"),
      })
    ).wait();
    const payee = E.Wallet.createRandom().address as `0x${string}`;
    const instructions: Instruction[] = [{ op: Op.TRANSFER, target: payee, amount: E.parseEther("0.5"), data: "0x" }];
    const result = makeResult({ requestId, originChainId: 31337n, programId, input: "0x01", instructions });
    const sigs = await signResult(operatorWallets().slice(1, 4), 31337n, ingestorInfo.address, result);
    await (await ingestor.getFunction("ingest")(result, instructions, sigs, "0x00" + "22".repeat(32))).wait();
    expect(await provider.getBalance(payee)).to.equal(E.parseEther("0.5"));
    expect((await oracle.getFunction("escrowOf")(requestId)).status).to.equal(2n);
  });
});
