import { expect } from "chai";
import { decodeAbiParameters, keccak256, stringToHex, zeroAddress } from "viem";
import { Op } from "../../protocol/instructions.ts";
import { FACTORY_KINDS, InvalidOutputError, parseProgramOutput } from "../../protocol/programOutput.ts";

const ORIGIN = 31337n;
const A = "0x1111111111111111111111111111111111111111";
const B = "0x2222222222222222222222222222222222222222";
const TOKEN = "0x3333333333333333333333333333333333333333";

function parse(output: unknown) {
  return parseProgramOutput(
    new TextEncoder().encode(typeof output === "string" ? output : JSON.stringify(output)),
    ORIGIN,
  );
}

function failure(output: unknown): InvalidOutputError {
  try {
    parse(output);
  } catch (error) {
    expect(error).to.be.instanceOf(InvalidOutputError);
    return error as InvalidOutputError;
  }
  expect.fail("the output was accepted");
}

describe("protocol/programOutput", () => {
  it("maps transfer to TRANSFER on the origin chain by default", () => {
    const byChain = parse({ actions: [{ op: "transfer", to: A, amount: "12" }] });
    expect([...byChain.entries()]).to.deep.equal([[ORIGIN, [{ op: Op.TRANSFER, target: A, amount: 12n, data: "0x" }]]]);
  });

  it("maps call to CALL with an optional amount", () => {
    const [first, second] = parse({
      actions: [
        { op: "call", target: A, data: "0xABCD" },
        { op: "call", target: B, amount: "7", data: "0x" },
      ],
    }).get(ORIGIN)!;
    expect(first).to.deep.equal({ op: Op.CALL, target: A, amount: 0n, data: "0xabcd" });
    expect(second).to.deep.equal({ op: Op.CALL, target: B, amount: 7n, data: "0x" });
  });

  it("maps mint to MINT with data = abi.encode(address token) on the named chain", () => {
    const byChain = parse({ actions: [{ op: "mint", chainId: 31338, token: TOKEN, to: B, amount: "5" }] });
    const [mint] = byChain.get(31338n)!;
    expect(mint!.op).to.equal(Op.MINT);
    expect(mint!.target).to.equal(B);
    expect(decodeAbiParameters([{ type: "address" }], mint!.data)).to.deep.equal([TOKEN]);
  });

  it("maps burn to BURN with the zero address as target (bound to the escrowed token by the output rule)", () => {
    expect(parse({ actions: [{ op: "burn", amount: "9" }] }).get(ORIGIN)).to.deep.equal([
      { op: Op.BURN, target: zeroAddress, amount: 9n, data: "0x" },
    ]);
  });

  it("maps burn with a token to BURN whose target is that token", () => {
    expect(parse({ actions: [{ op: "burn", token: TOKEN, amount: "9" }] }).get(ORIGIN)).to.deep.equal([
      { op: Op.BURN, target: TOKEN, amount: 9n, data: "0x" },
    ]);
  });

  it("maps create to CREATE with data = abi.encode(bytes32 kind, bytes32 salt, bytes init), kinds by name or bytes32", () => {
    const salt = `0x${"ab".repeat(32)}`;
    const [named, raw] = parse({
      actions: [
        { op: "create", kind: "ERC20", salt, init: "0x1234" },
        { op: "create", kind: `0x${"01".repeat(32)}`, salt, init: "0x" },
      ],
    }).get(ORIGIN)!;
    expect(named!.op).to.equal(Op.CREATE);
    expect(named!.target).to.equal(zeroAddress);
    expect(named!.amount).to.equal(0n);
    const decoded = decodeAbiParameters([{ type: "bytes32" }, { type: "bytes32" }, { type: "bytes" }], named!.data);
    expect(decoded).to.deep.equal([keccak256(stringToHex("ERC20")), salt, "0x1234"]);
    expect(FACTORY_KINDS.omnitoken).to.equal(keccak256(stringToHex("OMNITOKEN")));
    expect(decodeAbiParameters([{ type: "bytes32" }, { type: "bytes32" }, { type: "bytes" }], raw!.data)[0]).to.equal(
      `0x${"01".repeat(32)}`,
    );
  });

  it("groups by chain id, keeping each chain's actions in output order", () => {
    const byChain = parse({
      actions: [
        { op: "transfer", to: A, amount: "1" },
        { op: "mint", chainId: "31338", token: TOKEN, to: A, amount: "2" },
        { op: "transfer", to: B, amount: "3" },
        { op: "mint", chainId: 31338, token: TOKEN, to: B, amount: "4" },
      ],
    });
    expect([...byChain.keys()]).to.deep.equal([ORIGIN, 31338n]);
    expect(byChain.get(ORIGIN)!.map((ix) => ix.amount)).to.deep.equal([1n, 3n]);
    expect(byChain.get(31338n)!.map((ix) => ix.amount)).to.deep.equal([2n, 4n]);
  });

  it("accepts amounts up to 2^256-1 and an empty action list", () => {
    const max = (2n ** 256n - 1n).toString();
    expect(parse({ actions: [{ op: "burn", amount: max }] }).get(ORIGIN)![0]!.amount).to.equal(2n ** 256n - 1n);
    expect(parse({ actions: [] }).size).to.equal(0);
  });

  describe("rejects, naming the field", () => {
    const cases: Array<[string, unknown, string]> = [
      ["a number amount", { actions: [{ op: "transfer", to: A, amount: 5 }] }, "actions[0].amount"],
      ["a negative amount", { actions: [{ op: "transfer", to: A, amount: "-5" }] }, "actions[0].amount"],
      ["an amount over uint256", { actions: [{ op: "burn", amount: (2n ** 256n).toString() }] }, "actions[0].amount"],
      ["a leading-zero amount", { actions: [{ op: "burn", amount: "01" }] }, "actions[0].amount"],
      [
        "a bad address",
        {
          actions: [
            { op: "transfer", to: A, amount: "1" },
            { op: "transfer", to: "0x1234", amount: "1" },
          ],
        },
        "actions[1].to",
      ],
      [
        "a bad checksum",
        { actions: [{ op: "transfer", to: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", amount: "1" }] },
        "actions[0].to",
      ],
      ["an unknown op", { actions: [{ op: "steal", to: A }] }, "actions[0].op"],
      ["an unknown field", { actions: [{ op: "burn", amount: "1", to: A }] }, "actions[0].to"],
      ["a missing field", { actions: [{ op: "mint", token: TOKEN, amount: "1" }] }, "actions[0].to"],
      ["a chainId on call", { actions: [{ op: "call", target: A, data: "0x", chainId: 1 }] }, "actions[0].chainId"],
      ["a zero chainId", { actions: [{ op: "burn", amount: "1", chainId: 0 }] }, "actions[0].chainId"],
      ["odd-length data", { actions: [{ op: "call", target: A, data: "0x123" }] }, "actions[0].data"],
      ["a short salt", { actions: [{ op: "create", kind: "erc20", salt: "0x01", init: "0x" }] }, "actions[0].salt"],
      [
        "an unknown kind name",
        { actions: [{ op: "create", kind: "erc1155", salt: `0x${"00".repeat(32)}`, init: "0x" }] },
        "actions[0].kind",
      ],
      ["a top-level field besides actions", { actions: [], note: "hi" }, "note"],
      ["actions that are not an array", { actions: {} }, "actions"],
      ["an action that is not an object", { actions: ["transfer"] }, "actions[0]"],
      ["an array document", [], "stdout"],
      ["text that is not JSON", "all good!", "stdout"],
    ];
    for (const [what, output, field] of cases) {
      it(what, () => {
        const error = failure(output);
        expect(error.field).to.equal(field);
        expect(error.shortMessage).to.match(new RegExp(`^Invalid ${field.replace(/[[\]]/g, "\\$&")}: expected `));
      });
    }
    it("bytes that are not UTF-8", () => {
      expect(() => parseProgramOutput(Uint8Array.from([0xff, 0xfe]), ORIGIN)).to.throw(InvalidOutputError, "UTF-8");
    });
  });
});
