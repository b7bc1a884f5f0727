import { expect } from "chai";
import { encodeAbiParameters, keccak256, type Hex } from "viem";
import { isRequestIdOf, nonceOfRequestId, requestIdOf } from "../../protocol/requestIds.ts";

describe("protocol/requestIds", () => {
  const base = {
    chainId: 31337n,
    oracle: "0x5FbDB2315678afecb367f032d93F642f64180aa3" as const,
    requester: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" as const,
    nonce: 7n,
    programId: `0x${"ab".repeat(32)}` as Hex,
    input: "0x1234" as Hex,
  };

  it("is nonce << 192 | uint192(keccak256(abi.encode(chainId, oracle, requester, nonce, programId, keccak256(input))))", () => {
    const digest = keccak256(
      encodeAbiParameters(
        [
          { type: "uint256" },
          { type: "address" },
          { type: "address" },
          { type: "uint64" },
          { type: "bytes32" },
          { type: "bytes32" },
        ],
        [base.chainId, base.oracle, base.requester, base.nonce, base.programId, keccak256(base.input)],
      ),
    );
    const expected = (7n << 192n) | (BigInt(digest) & ((1n << 192n) - 1n));
    expect(BigInt(requestIdOf(base))).to.equal(expected);
    expect(requestIdOf(base)).to.have.length(66);
    expect(nonceOfRequestId(requestIdOf(base))).to.equal(7n);
  });

  it("binds the program and the input", () => {
    const id = requestIdOf(base);
    expect(isRequestIdOf(id, base)).to.equal(true);
    expect(isRequestIdOf(id, { ...base, input: "0x1235" })).to.equal(false);
    expect(isRequestIdOf(id, { ...base, programId: `0x${"ac".repeat(32)}` })).to.equal(false);
    expect(isRequestIdOf(id, { ...base, input: undefined, inputHash: keccak256("0x1234") })).to.equal(true);
  });

  it("refuses a nonce outside uint64", () => {
    expect(() => requestIdOf({ ...base, nonce: 1n << 64n })).to.throw(RangeError);
  });
});
