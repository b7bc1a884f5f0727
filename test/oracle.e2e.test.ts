import { expect } from "chai";
import { network } from "hardhat";
import { Op, type Instruction } from "../protocol/instructions.ts";
import {
  deployTestSuite,
  ETH_FEE,
  makeResult,
  operatorWallets,
  requestEth,
  signResult,
  type Suite,
} from "./helpers/suite.ts";

describe("executable oracle: request -> signed result -> dispersal (in-process chain)", () => {
  let suite: Suite;
  beforeEach(async () => {
    suite = await deployTestSuite(await network.create());
  });

  it("pays the TRANSFER target, books the fee to the signers and refunds the rest", async () => {
    const { ethers, oracle, ingestor, poster, requester, other } = suite;
    const amount = ethers.parseEther("1");
    const requestId = await requestEth(suite, requester, amount, "0xabcd");
    const instructions: Instruction[] = [
      {
        op: Op.TRANSFER,
        target: (await other.getAddress()) as `0x${string}`,
        amount: ethers.parseEther("0.25"),
        data: "0x",
      },
    ];
    const result = makeResult({
      requestId,
      originChainId: suite.chainId,
      programId: suite.programId,
      input: "0xabcd",
      instructions,
    });
    const sigs = await signResult(operatorWallets().slice(0, 3), suite.chainId, await ingestor.getAddress(), result);

    const otherBefore = await ethers.provider.getBalance(other);
    const requesterBefore = await ethers.provider.getBalance(requester);
    await expect(ingestor.connect(poster).ingest(result, instructions, sigs, "0x00" + "11".repeat(32)))
      .to.emit(ingestor, "ResultIngested")
      .and.to.emit(oracle, "EscrowSettled");
    expect(await ethers.provider.getBalance(other)).to.equal(otherBefore + ethers.parseEther("0.25"));
    // the requester gets back everything but the payment and the fee
    const refunded = amount - ethers.parseEther("0.25") - ETH_FEE;
    expect(await ethers.provider.getBalance(requester)).to.equal(requesterBefore + refunded);
    expect((await oracle.escrowOf(requestId)).status).to.equal(2n);
    // the fee stays escrowed for the signers (split 3 ways; the 1 wei remainder is protocol dust)
    expect(await ethers.provider.getBalance(await oracle.getAddress())).to.equal(ETH_FEE);
    expect(await ingestor.isIngested(suite.chainId, requestId)).to.equal(true);
  });

  it("lets each signer claim exactly its fee share, once", async () => {
    const { ethers, oracle, ingestor, poster, requester } = suite;
    const requestId = await requestEth(suite, requester, ethers.parseEther("0.01"));
    const result = makeResult({
      requestId,
      originChainId: suite.chainId,
      programId: suite.programId,
      input: "0x1234",
      status: 1,
    });
    const signers = operatorWallets().slice(0, 3);
    await (
      await ingestor
        .connect(poster)
        .ingest(result, [], await signResult(signers, suite.chainId, await ingestor.getAddress(), result), "0x")
    ).wait();
    // fees are booked per operator set: the one the ingestor checks (the StakingRegistry when staked)
    const set = await ingestor.operatorSet();
    const share = ETH_FEE / 3n;
    const claimant = signers[0]!.connect(ethers.provider);
    // fees are counted per ledger epoch (LEDGER_EPOCH seconds); claims list the epochs they cover
    const now = (await ethers.provider.getBlock("latest"))!.timestamp;
    const epochs = [BigInt(Math.floor(now / Number(await oracle.LEDGER_EPOCH())))];
    await (await suite.owner.sendTransaction({ to: claimant.address, value: ethers.parseEther("1") })).wait();
    expect(await oracle.claimableShares(set, 0, share, epochs, claimant.address)).to.equal(1n);
    await expect(oracle.connect(claimant).claimFees(set, 0, share, epochs)).to.changeEtherBalance(
      ethers,
      claimant,
      share - 0n,
      { includeFee: false },
    );
    await expect(oracle.connect(claimant).claimFees(set, 0, share, epochs)).to.be.revertedWithCustomError(
      oracle,
      "Disperser_NothingToClaim",
    );
    const outsider = operatorWallets()[3]!.connect(ethers.provider);
    expect(await oracle.claimableShares(set, 0, share, epochs, outsider.address)).to.equal(0n);
  });
});
