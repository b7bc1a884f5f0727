import { expect } from "chai";
import { getAddress, keccak256, toHex, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { recoverResultSigner } from "../../protocol/result.ts";
import { INGESTOR, sampleResult, signResult } from "./resultFixture.ts";

const result = sampleResult();
const sign = signResult;

describe("protocol/result recoverResultSigner: one recovery per (digest, signature), shared by gossip and collector", () => {
  it("recovers the operator who signed, again on the second check of the same signature", async () => {
    const key = generatePrivateKey();
    const signature = await sign(key, result);
    const operator = privateKeyToAccount(key).address;
    expect(await recoverResultSigner(31337n, INGESTOR, result, signature)).to.equal(operator);
    expect(await recoverResultSigner(31337n, INGESTOR, result, signature)).to.equal(operator);
    // hex case of the signature does not matter
    expect(
      await recoverResultSigner(31337n, INGESTOR, result, signature.toUpperCase().replace("0X", "0x") as Hex),
    ).to.equal(operator);
  });

  it("a kept recovery never answers for another result, chain or ingestor signed with the same signature", async () => {
    const key = generatePrivateKey();
    const operator = privateKeyToAccount(key).address;
    const signature = await sign(key, result);
    expect(await recoverResultSigner(31337n, INGESTOR, result, signature)).to.equal(operator);
    const forged = { ...result, bodyHash: keccak256(toHex("another body")) };
    expect(await recoverResultSigner(31337n, INGESTOR, forged, signature)).to.not.equal(operator);
    expect(await recoverResultSigner(31338n, INGESTOR, result, signature)).to.not.equal(operator);
    expect(
      await recoverResultSigner(31337n, getAddress("0x00000000000000000000000000000000000000bb"), result, signature),
    ).to.not.equal(operator);
  });

  it("a signature that does not recover throws every time (failures are not kept)", async () => {
    const bad = `0x${"11".repeat(64)}1f` as Hex;
    for (let i = 0; i < 2; i++) {
      let threw = false;
      try {
        await recoverResultSigner(31337n, INGESTOR, result, bad);
      } catch {
        threw = true;
      }
      expect(threw).to.equal(true);
    }
  });
});
