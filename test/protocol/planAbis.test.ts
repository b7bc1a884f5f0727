import { expect } from "chai";
import { encodeAbiParameters, keccak256, type AbiFunction } from "viem";
import { disputeManagerAbi } from "../../protocol/abis.ts";
import { challengeCommitment, disputeChallengeAbi } from "../../protocol/planAbis.ts";

describe("protocol/planAbis: the DisputeManager functions written against the plan", () => {
  it("match the generated ABI wherever the merged contract has them (else wait for wip-disputes)", function () {
    const generated = (disputeManagerAbi as readonly { type: string; name?: string }[]).filter(
      (item): item is AbiFunction => item.type === "function",
    );
    let compared = 0;
    for (const fragment of disputeChallengeAbi) {
      const candidates = generated.filter((f) => f.name === fragment.name);
      const same = candidates.find(
        (f) => JSON.stringify(f.inputs.map((i) => i.type)) === JSON.stringify(fragment.inputs.map((i) => i.type)),
      );
      if (candidates.length > 0 && fragment.name === "commitChallenge")
        expect(same, fragment.name).to.not.equal(undefined);
      if (same) compared++;
    }
    if (compared === 0) this.skip(); // DisputeManager of issue 10 not merged yet
  });

  it("challengeCommitment = keccak256(abi.encode(challenger, originChainId, requestId, kind, claimedBodyHash, salt))", () => {
    const p = {
      challenger: "0x1111111111111111111111111111111111111111" as const,
      originChainId: 31337n,
      requestId: `0x${"22".repeat(32)}` as const,
      kind: 1,
      claimedBodyHash: `0x${"33".repeat(32)}` as const,
      salt: `0x${"44".repeat(32)}` as const,
    };
    const expected = keccak256(
      encodeAbiParameters(
        [
          { type: "address" },
          { type: "uint256" },
          { type: "bytes32" },
          { type: "uint8" },
          { type: "bytes32" },
          { type: "bytes32" },
        ],
        [p.challenger, p.originChainId, p.requestId, p.kind, p.claimedBodyHash, p.salt],
      ),
    );
    expect(challengeCommitment(p)).to.equal(expected);
  });
});
