import { expect } from "chai";
import { encodeAbiParameters, getAddress, keccak256, type Address, type Hex } from "viem";
import { deriveQuorum, operatorId, rankOperators, requestKey } from "../../protocol/quorum.ts";
import * as relayerScheduler from "../../relayer/scheduler.ts";

const OPERATORS: Address[] = Array.from({ length: 8 }, (_, i) => getAddress(`0x${String(i + 1).repeat(40)}`));
const REQUEST = keccak256("0xabcd");

function byHand(chainId: bigint, requestId: Hex, operators: readonly Address[]): Address[] {
  const key = BigInt(keccak256(encodeAbiParameters([{ type: "uint256" }, { type: "bytes32" }], [chainId, requestId])));
  return [...operators].sort((a, b) => {
    const da = key ^ BigInt(keccak256(a.toLowerCase() as Hex));
    const db = key ^ BigInt(keccak256(b.toLowerCase() as Hex));
    return da < db ? -1 : 1;
  });
}

describe("protocol/quorum: leaderless quorum derivation", () => {
  it("ids are keccak256 of the address bytes and the request key is keccak256(abi.encode(chainId, requestId))", () => {
    expect(operatorId(OPERATORS[0]!)).to.equal(keccak256(OPERATORS[0]!.toLowerCase() as Hex));
    expect(requestKey("31337", REQUEST)).to.equal(
      keccak256(encodeAbiParameters([{ type: "uint256" }, { type: "bytes32" }], [31337n, REQUEST])),
    );
    expect(requestKey(31337, REQUEST)).to.not.equal(requestKey(31338, REQUEST));
  });

  it("members are the quorumSize closest operators by XOR distance and standby the rest, in the same order", () => {
    const ranked = byHand(31337n, REQUEST, OPERATORS);
    const quorum = deriveQuorum({ chainId: 31337, requestId: REQUEST, activeSet: OPERATORS, size: 3 });
    expect(quorum.members).to.deep.equal(ranked.slice(0, 3));
    expect(quorum.standby).to.deep.equal(ranked.slice(3));
    expect(rankOperators(31337, REQUEST, OPERATORS)).to.deep.equal(ranked);
  });

  it("every node derives the same quorum whatever order, case or duplicates its view of the active set has", () => {
    const expected = deriveQuorum({ chainId: 31337n, requestId: REQUEST, activeSet: OPERATORS, size: 4 });
    const messy = [...OPERATORS].reverse().flatMap((op) => [op.toLowerCase() as Address, op]);
    expect(deriveQuorum({ chainId: "31337", requestId: REQUEST, activeSet: messy, size: 4 })).to.deep.equal(expected);
  });

  it("an active set smaller than the quorum makes everyone a member, and a size below 1 is refused", () => {
    const small = OPERATORS.slice(0, 2);
    const quorum = deriveQuorum({ chainId: 1, requestId: REQUEST, activeSet: small, size: 4 });
    expect(quorum.members).to.have.members(small);
    expect(quorum.standby).to.deep.equal([]);
    expect(() => deriveQuorum({ chainId: 1, requestId: REQUEST, activeSet: small, size: 0 })).to.throw(RangeError);
    expect(() => deriveQuorum({ chainId: 1, requestId: REQUEST, activeSet: small, size: 1.5 })).to.throw(RangeError);
  });

  it("spreads requests over the operators: the first member varies from request to request", () => {
    const firsts = new Map<string, number>();
    for (let i = 0; i < 200; i++) {
      const requestId = keccak256(`0x${i.toString(16).padStart(4, "0")}`);
      const first = deriveQuorum({ chainId: 31337, requestId, activeSet: OPERATORS, size: 3 }).members[0]!;
      firsts.set(first, (firsts.get(first) ?? 0) + 1);
    }
    expect(firsts.size).to.equal(OPERATORS.length);
    // 200 draws over 8 operators: no operator is first for more than a third of them
    for (const count of firsts.values()) expect(count).to.be.lessThan(200 / 3);
  });

  it("removing one operator from the active set moves only the slots it held", () => {
    const before = deriveQuorum({ chainId: 31337, requestId: REQUEST, activeSet: OPERATORS, size: 3 });
    const gone = before.members[1]!;
    const after = deriveQuorum({
      chainId: 31337,
      requestId: REQUEST,
      activeSet: OPERATORS.filter((op) => op !== gone),
      size: 3,
    });
    expect(after.members).to.deep.equal([before.members[0], before.members[2], before.standby[0]]);
  });

  it("the relayer's scheduler uses the same functions (moved, re-exported)", () => {
    expect(relayerScheduler.rankOperators).to.equal(rankOperators);
    expect(relayerScheduler.operatorId).to.equal(operatorId);
    expect(relayerScheduler.requestKey).to.equal(requestKey);
  });
});
