import { expect } from "chai";
import { getAddress, type Address, type Hex } from "viem";
import { enforceOutputRule } from "../../protocol/conservation.ts";
import { Op } from "../../protocol/instructions.ts";
import type { RunOutcome } from "../../runtime/outcome.ts";
import {
  address,
  ORIGIN_CHAIN,
  OTHER_CHAIN,
  preparedProgram,
  requestFor,
  requestIdOf,
  text,
  useRuntime,
} from "../fixtures/programs.ts";

function amounts(outcome: RunOutcome, chain = ORIGIN_CHAIN): bigint[] {
  return (outcome.instructions?.get(chain) ?? []).map((ix) => ix.amount);
}

describe("programs: the examples, compiled from source", function () {
  this.timeout(120_000);
  const runtime = useRuntime(2);
  const run = (name: string, input: unknown, requestId = requestIdOf("examples")) =>
    runtime().execute(preparedProgram(name), requestFor(input, { requestId }));

  describe("payout-splitter (C)", () => {
    it("splits by weight, giving the rounding dust to the first recipient", async () => {
      const outcome = await run("payout-splitter", {
        amount: "1000",
        recipients: [
          { to: address(1), weight: 1 },
          { to: address(2), weight: 2 },
        ],
      });
      expect(outcome.outcome).to.equal("ok");
      expect(outcome.instructions!.get(ORIGIN_CHAIN)!.map((ix) => [ix.op, ix.target, ix.amount])).to.deep.equal([
        [Op.TRANSFER, address(1), 334n],
        [Op.TRANSFER, address(2), 666n],
      ]);
    });
    it("is exact for amounts near 2^256", async () => {
      const amount = 2n ** 256n - 1n;
      const weights = [3, 5, 7, 11];
      const outcome = await run("payout-splitter", {
        amount: amount.toString(),
        recipients: weights.map((weight, i) => ({ to: address(i + 1), weight })),
      });
      const paid = amounts(outcome);
      expect(paid.reduce((a, b) => a + b)).to.equal(amount);
      weights.slice(1).forEach((weight, i) => expect(paid[i + 1]).to.equal((amount * BigInt(weight)) / 26n));
    });
    it("exits 2 with the reason on stderr for bad input", async () => {
      const outcome = await run("payout-splitter", { amount: "10", recipients: [{ to: "0x12", weight: 1 }] });
      expect(outcome.outcome).to.equal("exit");
      expect(outcome.exitCode).to.equal(2);
      expect(text(outcome.stderr)).to.contain("is not a 0x-prefixed 20-byte address");
      expect(outcome.instructions).to.equal(undefined);
    });
  });

  describe("token-mover (AssemblyScript)", () => {
    const input = { token: address(3), to: address(4), amount: "5000", destinationChainId: Number(OTHER_CHAIN) };
    it("burns on the origin chain and mints the same amount to the recipient on the destination", async () => {
      const outcome = await run("token-mover", input);
      expect(outcome.outcome).to.equal("ok");
      const [burn] = outcome.instructions!.get(ORIGIN_CHAIN)!;
      const [mint] = outcome.instructions!.get(OTHER_CHAIN)!;
      expect([burn!.op, burn!.target, burn!.amount]).to.deep.equal([Op.BURN, getAddress(address(3)), 5000n]);
      expect([mint!.op, mint!.target, mint!.amount]).to.deep.equal([Op.MINT, address(4), 5000n]);
      expect(mint!.data.toLowerCase()).to.equal(`0x${"00".repeat(12)}${address(3).slice(2)}`);
    });

    // The output rule as every node applies it: token-mover controls address(3) only.
    const programId = `0x${"77".repeat(32)}` as Hex;
    const controls = async (_chain: bigint, token: Address, id: Hex) =>
      token === getAddress(address(3)) && id === programId;
    const check = (outcome: RunOutcome, escrowedToken: string, amount: bigint) =>
      enforceOutputRule(
        outcome.instructions!,
        { originChainId: ORIGIN_CHAIN, programId, token: getAddress(escrowedToken), amount, fee: 0n },
        controls,
      );

    it("moves exactly what it burned: the output keeps the rule for the escrowed token", async () => {
      expect(await check(await run("token-mover", input), address(3), 5000n)).to.deep.equal({ ok: true });
    });
    it("cannot be made to mint another token or more than the escrow: the rule refuses such inputs", async () => {
      // input naming another token than the escrowed one: its burn names that token
      const other = await check(await run("token-mover", { ...input, token: address(5) }), address(3), 5000n);
      expect(other.ok === false && other.message).to.contain("but the request escrowed");
      // input asking for more than escrowed
      const more = await check(await run("token-mover", input), address(3), 4999n);
      expect(more.ok === false && more.message).to.contain("more than the escrow minus fee");
    });
    it("refuses a zero amount, a bad address and unknown fields with exit code 2", async () => {
      for (const [bad, message] of [
        [{ ...input, amount: "0" }, '"amount" must be'],
        [{ ...input, to: "0xnothex" }, '"to" is not'],
        [{ ...input, memo: "hi" }, 'unknown field "memo"'],
      ] as const) {
        const outcome = await run("token-mover", bad);
        expect(outcome.exitCode, message).to.equal(2);
        expect(text(outcome.stderr)).to.contain(message);
      }
    });
  });

  describe("raffle (Rust)", () => {
    const entries = [1, 2, 3, 4, 5, 6, 7, 8].map(address);
    it("pays distinct winners, the prize adding up exactly", async () => {
      const outcome = await run("raffle", { prize: "1001", winners: 3, entries });
      expect(outcome.outcome).to.equal("ok");
      const winners = outcome.instructions!.get(ORIGIN_CHAIN)!;
      expect(new Set(winners.map((ix) => ix.target)).size).to.equal(3);
      expect(winners.every((ix) => entries.includes(ix.target.toLowerCase() as `0x${string}`))).to.equal(true);
      expect(amounts(outcome)).to.deep.equal([335n, 333n, 333n]);
    });
    it("draws the same winners for the same request id and different ones across request ids", async () => {
      const draw = async (label: string) =>
        (await run("raffle", { prize: "8", winners: 4, entries }, requestIdOf(label)))
          .instructions!.get(ORIGIN_CHAIN)!
          .map((ix) => ix.target)
          .join();
      expect(await draw("request 1")).to.equal(await draw("request 1"));
      const draws = new Set(await Promise.all(["a", "b", "c", "d", "e"].map(draw)));
      expect(draws.size).to.be.greaterThan(1);
    });
    it("exits 2 when asked for more winners than entries", async () => {
      const outcome = await run("raffle", { prize: "1", winners: 9, entries });
      expect(outcome.exitCode).to.equal(2);
      expect(text(outcome.stderr)).to.contain('"winners" must be between 1 and the number of entries');
    });
  });
});
