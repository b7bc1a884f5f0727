import { expect } from "chai";
import hre from "hardhat";
import { ethers as E } from "ethers";
import { concat, keccak256, size, slice, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  batchDigest,
  batchEvidence,
  batchResultsHash,
  orderBatchSignatures,
  recoverBatchSigner,
  resultStructHash,
  signBatch,
} from "../../protocol/attestation.ts";
import { Op, type Instruction } from "../../protocol/instructions.ts";
import { resultTypes, type Result } from "../../protocol/result.ts";
import { deployTestSuite, makeResult, operatorWallets } from "../helpers/suite.ts";

const accounts = () => operatorWallets().map((w) => privateKeyToAccount(w.privateKey as Hex));

describe("protocol/attestation (batch attestation, issue 14)", function () {
  this.timeout(120_000);
  const ingestor = "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address;
  const result = (n: number): Result =>
    makeResult({ requestId: E.id(`r${n}`), originChainId: 31337n, programId: E.id("p"), input: "0x12" });

  it("signs ResultBatch(Result[] results) and recovers the signer; another order is another digest", async () => {
    const [a] = accounts();
    const rs = [result(1), result(2)];
    const sig = await signBatch(a!, 31337n, ingestor, rs);
    expect(await recoverBatchSigner(31337n, ingestor, rs, sig)).to.equal(a!.address);
    expect(batchDigest(31337n, ingestor, rs)).to.not.equal(batchDigest(31337n, ingestor, [rs[1]!, rs[0]!]));
    expect(batchDigest(31337n, ingestor, rs)).to.not.equal(batchDigest(31338n, ingestor, rs));
    expect(batchResultsHash(rs)).to.equal(keccak256(concat(rs.map(resultStructHash))));
  });

  it("writes evidence as the 65-byte signature followed by every struct hash, in order", async () => {
    const [a] = accounts();
    const rs = [result(1), result(2), result(3)];
    const sig = await signBatch(a!, 31337n, ingestor, rs);
    const evidence = batchEvidence(sig, rs);
    expect(size(evidence)).to.equal(65 + 32 * 3);
    expect(slice(evidence, 0, 65)).to.equal(sig);
    expect(slice(evidence, 65 + 32, 65 + 64)).to.equal(resultStructHash(rs[1]!));
  });

  it("refuses an empty batch, a malformed signature and two signatures by one signer", async () => {
    const [a, b] = accounts();
    expect(() => batchDigest(31337n, ingestor, [])).to.throw(/at least one result/);
    expect(() => batchEvidence("0x1234", [result(1)])).to.throw(/65 bytes/);
    const sa = await signBatch(a!, 31337n, ingestor, [result(1)]);
    const sb = await signBatch(b!, 31337n, ingestor, [result(1)]);
    expect(() =>
      orderBatchSignatures([
        { signer: a!.address, signature: sa },
        { signer: a!.address, signature: sb },
      ]),
    ).to.throw(/signed twice/);
    const ordered = orderBatchSignatures([
      { signer: b!.address, signature: sb },
      { signer: a!.address, signature: sa },
    ]);
    expect(ordered).to.deep.equal(BigInt(a!.address) < BigInt(b!.address) ? [sa, sb] : [sb, sa]);
  });

  it("matches the deployed ingestor: its batchDigest, ingestAttested settling each result, and a batch-attested equivocation slashed", async () => {
    const connection = await hre.network.create();
    const suite = await deployTestSuite(connection);
    const { oracle, ingestor: ing, poster, requester, other, chainId, programId, ethers } = suite;
    const ingestorAddress = (await ing.getAddress()) as Address;
    const input = "0x1234";
    const rs: Result[] = [];
    const ixs: Instruction[][] = [];
    for (let i = 0; i < 3; i++) {
      const requestId = await oracle.nextRequestId(await requester.getAddress(), programId, input);
      await (await oracle.connect(requester).request(programId, input, 3600n, { value: E.parseEther("0.01") })).wait();
      const ix: Instruction[] = [
        { op: Op.TRANSFER, target: (await other.getAddress()) as Address, amount: E.parseEther("0.005"), data: "0x" },
      ];
      rs.push(makeResult({ requestId, originChainId: chainId, programId, input, instructions: ix }));
      ixs.push(ix);
    }
    expect(await ing.batchDigest(rs)).to.equal(batchDigest(chainId, ingestorAddress, rs));
    const signers = accounts().slice(0, 3);
    const signatures = orderBatchSignatures(
      await Promise.all(
        signers.map(async (a) => ({ signer: a.address, signature: await signBatch(a, chainId, ingestorAddress, rs) })),
      ),
    );
    const before = await ethers.provider.getBalance(await other.getAddress());
    const receipt = (await (
      await ing.connect(poster).ingestAttested(
        rs,
        ixs,
        rs.map(() => "0x00"),
        signatures,
        // each result runs in a frame whose failure the batch survives, so eth_estimateGas settles
        // on a limit that skips results for want of gas: give the batch room (as the poster does)
        { gasLimit: 3_000_000n },
      )
    ).wait())!;
    const names = receipt.logs.map((l) => ing.interface.parseLog(l)?.name).filter(Boolean);
    expect(names.filter((n) => n === "ResultIngested")).to.have.length(3);
    expect(names).to.include("BatchAttested");
    expect((await ethers.provider.getBalance(await other.getAddress())) - before).to.equal(E.parseEther("0.015"));
    for (const r of rs) expect((await oracle.escrowOf(r.requestId)).status).to.equal(2n);

    // the batch signature is evidence: the same operator signing another result for rs[0] is slashed
    const registry = await ethers.getContractAt("StakingRegistry", suite.addresses.StakingRegistry!);
    const conflicting: Result = { ...rs[0]!, bodyHash: E.id("another body") as Hex };
    const domain = { name: "Versatus", version: "1", chainId, verifyingContract: ingestorAddress };
    const conflictingSig = await signers[0]!.signTypedData({
      domain,
      types: resultTypes,
      primaryType: "Result",
      message: conflicting,
    });
    const evidence = batchEvidence(await signBatch(signers[0]!, chainId, ingestorAddress, rs), rs);
    await (
      await registry
        .connect(other)
        .proveEquivocation(rs[0]!, evidence, conflicting, conflictingSig, chainId, ingestorAddress)
    ).wait();
    expect(await registry.equivocationSlashed(signers[0]!.address, chainId, rs[0]!.requestId)).to.equal(true);
    await connection.close();
  });
});
