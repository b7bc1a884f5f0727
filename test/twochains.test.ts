import { expect } from "chai";
import { network } from "hardhat";
import { ethers as E } from "ethers";
import { Op, type Instruction } from "../protocol/instructions.ts";
import { deployTestSuite, makeResult, operatorWallets, signResult } from "./helpers/suite.ts";

describe("two chains (in-process): burn on chain A, mint on chain B", () => {
  it("conserves the omni token's total supply across both chains", async () => {
    const a = await deployTestSuite(await network.create("chainA"));
    const b = await deployTestSuite(await network.create("chainBSim"));
    expect(a.chainId).to.equal(31337n);
    expect(b.chainId).to.equal(31338n);
    // same factory and token address on both chains
    expect(await a.omniToken.getAddress()).to.equal(await b.omniToken.getAddress());
    const total = async () => (await a.omniToken.totalSupply()) + (await b.omniToken.totalSupply());
    const before = await total();
    expect(before).to.equal(E.parseEther("1000000")); // minted on the home chain (A) only

    // Chain A: the requester escrows 40 VOMNI; the result burns them.
    const requesterA = a.requester;
    await (await a.omniToken.connect(a.owner).transfer(requesterA, E.parseEther("40"))).wait();
    await (await a.omniToken.connect(requesterA).approve(await a.oracle.getAddress(), E.parseEther("40"))).wait();
    const requestId = await a.oracle.nextRequestId(requesterA, a.programId, "0x");
    await (
      await a.oracle
        .connect(requesterA)
        .requestWithToken(a.programId, "0x", 3600n, await a.omniToken.getAddress(), E.parseEther("40"))
    ).wait();
    const burn: Instruction[] = [
      {
        op: Op.BURN,
        target: (await a.omniToken.getAddress()) as `0x${string}`,
        amount: E.parseEther("40"),
        data: "0x",
      },
    ];
    const recipient = (await b.other.getAddress()) as `0x${string}`;
    const mint: Instruction[] = [
      {
        op: Op.MINT,
        target: recipient,
        amount: E.parseEther("40"),
        data: E.AbiCoder.defaultAbiCoder().encode(["address"], [await b.omniToken.getAddress()]) as `0x${string}`,
      },
    ];
    const signers = operatorWallets().slice(0, 3);
    const resultA = makeResult({ requestId, originChainId: 31337n, programId: a.programId, instructions: burn });
    await (
      await a.ingestor
        .connect(a.poster)
        .ingest(resultA, burn, await signResult(signers, 31337n, await a.ingestor.getAddress(), resultA), "0x")
    ).wait();
    expect(await total()).to.equal(before - E.parseEther("40")); // burned, not yet minted

    // Chain B: the same request's result for chain B mints them, once.
    const resultB = makeResult({ requestId, originChainId: 31337n, programId: a.programId, instructions: mint });
    const sigsB = await signResult(signers, 31338n, await b.ingestor.getAddress(), resultB);
    await (await b.ingestor.connect(b.poster).ingest(resultB, mint, sigsB, "0x")).wait();
    expect(await b.omniToken.balanceOf(recipient)).to.equal(E.parseEther("40"));
    expect(await total()).to.equal(before);
    await expect(b.ingestor.connect(b.poster).ingest(resultB, mint, sigsB, "0x")).to.be.revertedWithCustomError(
      b.ingestor,
      "Ingestor_AlreadyIngested",
    );
    // a result signed for chain B does not verify on chain A
    await expect(a.ingestor.connect(a.poster).ingest(resultB, mint, sigsB, "0x")).to.be.revert(a.ethers);
  });
});
