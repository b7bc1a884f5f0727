import { expect } from "chai";
import { encodeAbiParameters, getAddress, zeroAddress, type Address, type Hex } from "viem";
import {
  objectiveBreaches,
  bindBurnTargets,
  checkOutputRule,
  controllerKey,
  controllerQueries,
  enforceOutputRule,
  type RequestContext,
} from "../../protocol/conservation.ts";
import { Op, type Instruction } from "../../protocol/instructions.ts";
import { parseProgramOutput, type InstructionsByChain } from "../../protocol/programOutput.ts";

/**
 * The output rule (SPEC 3.4) against hostile program outputs, each parsed by the real parser and
 * checked by the one function worker, collector and watcher share.
 */
const ORIGIN = 31337n;
const DEST = 31338n;
const PROGRAM = `0x${"aa".repeat(32)}` as Hex;
const VOMNI = getAddress("0x3333333333333333333333333333333333333333");
const OTHER = getAddress("0x4444444444444444444444444444444444444444");
const ALICE = getAddress("0x1111111111111111111111111111111111111111");

const context: RequestContext = { originChainId: ORIGIN, programId: PROGRAM, token: VOMNI, amount: 1000n, fee: 10n };

/** VOMNI is controlled by PROGRAM on both chains; OTHER by nobody. */
const resolver = async (_chainId: bigint, token: Address, programId: Hex) => token === VOMNI && programId === PROGRAM;

function parse(actions: unknown[]): InstructionsByChain {
  return bindBurnTargets(parseProgramOutput(new TextEncoder().encode(JSON.stringify({ actions })), ORIGIN), VOMNI);
}

async function verdict(actions: unknown[], ctx: RequestContext = context) {
  return enforceOutputRule(parse(actions), ctx, resolver);
}

const burn = (amount: string, extra: object = {}) => ({ op: "burn", amount, ...extra });
const mint = (amount: string, extra: object = {}) => ({ op: "mint", token: VOMNI, to: ALICE, amount, ...extra });

describe("protocol/conservation: the output rule", () => {
  it("accepts a burn of the escrowed token and a mint of the same amount on another chain", async () => {
    expect(await verdict([burn("500"), mint("500", { chainId: 31338 })])).to.deep.equal({ ok: true });
  });

  it("binds a burn without a token to the escrowed token (its target is the token)", () => {
    const [ix] = parse([burn("5")]).get(ORIGIN)!;
    expect(ix).to.deep.equal({ op: Op.BURN, target: VOMNI, amount: 5n, data: "0x" });
  });

  it("refuses two mints that together exceed the burn (the 'tokens from nothing' case)", async () => {
    const v = await verdict([burn("100"), mint("100", { chainId: 31338 }), mint("100", { chainId: 31338 })]);
    expect(v.ok).to.equal(false);
    expect(v.ok === false && v.message).to.contain("total 200, more than this result burned of it (100)");
  });

  it("refuses a mint with no burn at all, on the origin or elsewhere", async () => {
    for (const chainId of [31337, 31338]) {
      const v = await verdict([mint("1", { chainId })]);
      expect(v.ok === false && v.message).to.contain("more than this result burned of it (0)");
    }
  });

  it("refuses a mint to another chain of more than was burned", async () => {
    const v = await verdict([burn("10"), mint("11", { chainId: 31338 })]);
    expect(v.ok === false && v.field).to.equal(`token ${VOMNI}`);
  });

  it("counts mints on every chain together", async () => {
    const v = await verdict([burn("10"), mint("6"), mint("6", { chainId: 31338 })]);
    expect(v.ok === false && v.message).to.contain("total 12");
  });

  it("refuses a mint of a token the program does not control, even when backed by a burn", async () => {
    const v = await verdict([burn("10"), mint("10", { chainId: 31338, token: OTHER })]);
    expect(v.ok === false && v.message).to.contain(`mint of ${OTHER}, whose controllers do not include program`);
  });

  it("refuses a burn of a token that is not the escrowed one", async () => {
    const v = await verdict([burn("10", { token: OTHER }), mint("10", { chainId: 31338, token: OTHER })]);
    expect(v.ok === false && v.message).to.contain(`burn of ${OTHER}, but the request escrowed ${VOMNI}`);
  });

  it("refuses a burn when the request escrowed ETH", async () => {
    const v = await enforceOutputRule(
      parseProgramOutput(new TextEncoder().encode(JSON.stringify({ actions: [burn("1")] })), ORIGIN),
      { ...context, token: zeroAddress },
      resolver,
    );
    expect(v.ok === false && v.message).to.contain("escrowed ETH");
  });

  it("refuses a burn by a program that does not control the escrowed token", async () => {
    const v = await enforceOutputRule(parse([burn("10")]), { ...context, programId: `0x${"bb".repeat(32)}` }, resolver);
    expect(v.ok === false && v.message).to.contain(`burn of ${VOMNI}, whose controllers do not include`);
  });

  it("refuses burns above escrow minus fee, and spending above it", async () => {
    expect((await verdict([burn("991")])).ok).to.equal(false);
    expect(await verdict([burn("990")])).to.deep.equal({ ok: true });
    const v = await verdict([burn("500"), { op: "transfer", to: ALICE, amount: "491" }]);
    expect(v.ok === false && v.field).to.equal("spending");
    // with the fee unknown (the collector), the bound is the escrow itself
    expect(await verdict([burn("995")], { ...context, fee: undefined })).to.deep.equal({ ok: true });
  });

  it("refuses a burn on a chain other than the origin, and transfers there", async () => {
    expect((await verdict([burn("1", { chainId: 31338 })])).ok).to.equal(false);
    const v = await verdict([{ op: "transfer", to: ALICE, amount: "1", chainId: 31338 }]);
    expect(v.ok === false && v.message).to.contain("only mint and create");
  });

  it("refuses a MINT whose data does not decode (a hostile worker's instruction)", () => {
    const bad: Instruction = { op: Op.MINT, target: ALICE, amount: 1n, data: "0x1234" };
    const v = checkOutputRule(new Map([[DEST, [bad]]]), context, new Map());
    expect(v.ok === false && v.message).to.contain("abi.encode(address token)");
  });

  it("treats a missing controller answer as 'not a controller'", () => {
    const ix: Instruction = {
      op: Op.MINT,
      target: ALICE,
      amount: 0n,
      data: encodeAbiParameters([{ type: "address" }], [VOMNI]),
    };
    expect(checkOutputRule(new Map([[DEST, [ix]]]), context, new Map()).ok).to.equal(false);
    const answers = new Map([[controllerKey(DEST, VOMNI), true]]);
    expect(checkOutputRule(new Map([[DEST, [ix]]]), context, answers)).to.deep.equal({ ok: true });
  });

  it("asks about each (chain, token) once", () => {
    const q = controllerQueries(
      parse([burn("2"), mint("1"), mint("1", { chainId: 31338 }), mint("0", { chainId: 31338 })]),
      context,
    );
    expect(q.map((x) => controllerKey(x.chainId, x.token))).to.deep.equal([
      controllerKey(ORIGIN, VOMNI),
      controllerKey(DEST, VOMNI),
    ]);
  });

  it("leaves transfers and calls within budget alone (ETH escrow)", async () => {
    const v = await verdict([{ op: "transfer", to: ALICE, amount: "990" }], { ...context, token: zeroAddress });
    expect(v).to.deep.equal({ ok: true });
  });

  describe("objectiveBreaches (what a watcher proves from signed Results)", () => {
    const mintIx = (token: Address, amount: bigint): Instruction => ({
      op: Op.MINT,
      target: ALICE,
      amount,
      data: encodeAbiParameters([{ type: "address" }], [token]),
    });
    const burnIx = (amount: bigint): Instruction => ({ op: Op.BURN, target: VOMNI, amount, data: "0x" });
    const answers = new Map([[controllerKey(DEST, VOMNI), true]]);

    it("flags a destination mint above the origin's burn of that token", () => {
      expect(
        objectiveBreaches(
          { chainId: DEST, instructions: [mintIx(VOMNI, 6n), mintIx(VOMNI, 5n)] },
          { chainId: ORIGIN, instructions: [burnIx(10n)] },
          answers,
        ),
      ).to.deep.equal([{ kind: "unbacked_mint", chainId: DEST, token: VOMNI, minted: 11n, burned: 10n }]);
    });

    it("counts the origin's own mints of the token against the burn", () => {
      const breaches = objectiveBreaches(
        { chainId: DEST, instructions: [mintIx(VOMNI, 6n)] },
        { chainId: ORIGIN, instructions: [burnIx(10n), mintIx(VOMNI, 5n)] },
        answers,
      );
      expect(breaches.map((b) => b.kind)).to.deep.equal(["unbacked_mint"]);
    });

    it("flags a mint of a token the program does not control, even without the origin's result", () => {
      expect(objectiveBreaches({ chainId: DEST, instructions: [mintIx(OTHER, 1n)] }, undefined, answers)).to.deep.equal(
        [{ kind: "foreign_mint", chainId: DEST, index: 0, token: OTHER }],
      );
    });

    it("finds nothing in a backed mint", () => {
      expect(
        objectiveBreaches(
          { chainId: DEST, instructions: [mintIx(VOMNI, 10n)] },
          { chainId: ORIGIN, instructions: [burnIx(10n)] },
          answers,
        ),
      ).to.deep.equal([]);
    });
  });
});
