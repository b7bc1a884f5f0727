import { expect } from "chai";
import { instructionsHash, Op } from "../../protocol/instructions.ts";

describe("protocol/instructions", () => {
  it("hashes an empty instruction list as keccak256 of abi.encode(Instruction[])", () => {
    // abi.encode of an empty dynamic array: offset 0x20 then length 0
    expect(instructionsHash([])).to.equal("0x569e75fc77c1a856f6daaf9e69d8a9566ca34aa47f9133711ce065a571af0cfd");
  });
  it("changes when any field changes", () => {
    const base = {
      op: Op.TRANSFER,
      target: "0x0000000000000000000000000000000000000001",
      amount: 1n,
      data: "0x",
    } as const;
    expect(instructionsHash([base])).to.not.equal(instructionsHash([{ ...base, amount: 2n }]));
  });
});
