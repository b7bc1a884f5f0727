import { expect } from "chai";
import { join } from "node:path";
import type { Hex } from "viem";
import { buildProgram } from "../../programs/toolchain.ts";
import { Op } from "../../protocol/instructions.ts";
import { canonicalManifest, DEFAULT_LIMITS, encodePackage, parseManifest } from "../../protocol/programPackage.ts";
import type { ProgramContext } from "../../protocol/programContext.ts";
import { ModuleRejectedError } from "../../runtime/errors.ts";
import { NanoRuntime } from "../../runtime/executor.ts";
import { ENGINE_ID, prepareEngine } from "../../runtime/js/engine.ts";
import { prepareJsProgram } from "../../runtime/js/program.ts";
import { JsRunner, type JsRunInput } from "../../runtime/js/runner.ts";
import type { RunOutcome } from "../../runtime/outcome.ts";
import { address, ORIGIN_CHAIN, OTHER_CHAIN, repoRoot, requestFor, requestIdOf, text } from "../fixtures/programs.ts";

/** A JavaScript program package from inline source. */
function jsPackage(source: string, limits: Partial<typeof DEFAULT_LIMITS> = {}, name = "inline-js") {
  const manifest = parseManifest({ name, version: "1.0.0", module: "build/x.js", engine: ENGINE_ID, limits });
  return encodePackage(canonicalManifest(manifest), new TextEncoder().encode(source));
}

function built(name: string) {
  return buildProgram(join(repoRoot, "programs", name)).package;
}

const recipients = (weights: number[]) => weights.map((weight, i) => ({ to: address(i + 1), weight }));

function transfers(outcome: RunOutcome, chain = ORIGIN_CHAIN) {
  return (outcome.instructions?.get(chain) ?? []).map((ix) => [ix.op, ix.target, ix.amount]);
}

describe("programs: TypeScript on the metered QuickJS engine", function () {
  this.timeout(300_000);
  let runtime: NanoRuntime;
  before(() => {
    runtime = new NanoRuntime({ size: 2 });
  });
  after(() => runtime.close());
  const run = async (pkg: ReturnType<typeof jsPackage>, input: unknown, overrides = {}) =>
    runtime.execute(await runtime.load(pkg), requestFor(input, overrides));

  describe("payout-splitter-ts", () => {
    it("splits like the C program: by weight, the dust to the first recipient", async () => {
      const input = { amount: "1000", recipients: recipients([1, 2]) };
      const ts = await run(built("payout-splitter-ts"), input);
      expect(ts.outcome, ts.message + text(ts.stderr)).to.equal("ok");
      expect(transfers(ts)).to.deep.equal([
        [Op.TRANSFER, address(1), 334n],
        [Op.TRANSFER, address(2), 666n],
      ]);
      const c = await run(buildProgram(join(repoRoot, "programs", "payout-splitter")).package, input);
      expect(transfers(c)).to.deep.equal(transfers(ts));
    });
    it("is exact for amounts near 2^256", async () => {
      const amount = 2n ** 256n - 1n;
      const weights = [3, 5, 7, 11];
      const outcome = await run(built("payout-splitter-ts"), {
        amount: amount.toString(),
        recipients: recipients(weights),
      });
      const paid = transfers(outcome).map(([, , value]) => value as bigint);
      expect(paid.reduce((a, b) => a + b)).to.equal(amount);
      weights.slice(1).forEach((weight, i) => expect(paid[i + 1]).to.equal((amount * BigInt(weight)) / 26n));
    });
    it("exits 2 with the reason on stderr for bad input", async () => {
      const outcome = await run(built("payout-splitter-ts"), { amount: "10", recipients: [{ to: "0x12", weight: 1 }] });
      expect(outcome.outcome).to.equal("exit");
      expect(outcome.exitCode).to.equal(2);
      expect(text(outcome.stderr)).to.contain("is not a 0x-prefixed 20-byte address");
      expect(outcome.instructions).to.equal(undefined);
      const noJson = await run(built("payout-splitter-ts"), "not json");
      expect([noJson.outcome, noJson.exitCode]).to.deep.equal(["exit", 2]);
    });
    it("splits the escrow minus the fee from the request context when the input has no amount", () => {
      const pkg = built("payout-splitter-ts");
      const program = prepareJsProgram(pkg);
      const context: ProgramContext = {
        requestId: requestIdOf("ctx"),
        originChainId: ORIGIN_CHAIN,
        oracle: address(9),
        requester: address(8),
        asset: "0x0000000000000000000000000000000000000000",
        amount: 1_000n,
        fee: 100n,
        blockNumber: 7n,
        timestamp: 1_700_000_000n,
        programId: pkg.programId,
      };
      const outcome = new JsRunner().run(
        { engine: program, script: program.script },
        jsInput(JSON.stringify({ recipients: recipients([1, 1]) }), { context }),
      );
      expect(outcome.outcome, text(outcome.stderr)).to.equal("ok");
      expect(transfers(outcome).map(([, , v]) => v)).to.deep.equal([450n, 450n]);
    });
  });

  describe("token-mover-ts", () => {
    it("burns on the origin chain and mints the same amount on the destination chain", async () => {
      const token = address(3);
      const outcome = await run(built("token-mover-ts"), {
        token,
        to: address(4),
        amount: "5",
        destinationChainId: Number(OTHER_CHAIN),
      });
      expect(outcome.outcome, text(outcome.stderr)).to.equal("ok");
      expect(transfers(outcome)).to.deep.equal([[Op.BURN, token, 5n]]);
      expect(transfers(outcome, OTHER_CHAIN)).to.deep.equal([[Op.MINT, address(4), 5n]]);
    });
    it("refuses an unknown field and a zero amount", async () => {
      const extra = await run(built("token-mover-ts"), {
        token: address(3),
        to: address(4),
        amount: "5",
        destinationChainId: 2,
        x: 1,
      });
      expect([extra.outcome, extra.exitCode]).to.deep.equal(["exit", 2]);
      expect(text(extra.stderr)).to.contain('unknown field "x"');
      const zero = await run(built("token-mover-ts"), {
        token: address(3),
        to: address(4),
        amount: "0",
        destinationChainId: 2,
      });
      expect([zero.outcome, zero.exitCode]).to.deep.equal(["exit", 2]);
    });
  });

  describe("determinism", () => {
    it("gives the same outcome and fuel on every run, in every pool worker and on a fresh runner", async () => {
      const pkg = built("payout-splitter-ts");
      const input = { amount: "123456789", recipients: recipients([1, 2, 3]) };
      const outcomes = await Promise.all(Array.from({ length: 8 }, () => run(pkg, input)));
      const program = prepareJsProgram(pkg);
      const fresh = new JsRunner().run(
        { engine: program, script: program.script },
        jsInput(JSON.stringify(input), { requestId: requestFor(input).requestId }),
      );
      for (const outcome of [...outcomes, fresh]) {
        expect(outcome.outcome).to.equal("ok");
        expect(outcome.fuelUsed).to.equal(outcomes[0]!.fuelUsed);
        expect(text(outcome.stdout)).to.equal(text(outcomes[0]!.stdout));
      }
    });
    it("starts every run from the same state: a global set by one run is gone in the next", async () => {
      const pkg = jsPackage(
        `globalThis.counter = (globalThis.counter || 0) + 1; versatus.output({ actions: [] }); console.log(counter);`,
      );
      const runner = new JsRunner();
      const program = prepareJsProgram(pkg);
      const a = runner.run({ engine: program, script: program.script }, jsInput("{}"));
      const b = runner.run({ engine: program, script: program.script }, jsInput("{}"));
      expect(text(a.stderr)).to.equal("1\n");
      expect(text(b.stderr)).to.equal("1\n");
      expect(a.fuelUsed).to.equal(b.fuelUsed);
    });
    it("restores the engine exactly after hostile runs (deep stack, big heap, traps)", () => {
      const payout = prepareJsProgram(built("payout-splitter-ts"));
      const input = jsInput(JSON.stringify({ amount: "777", recipients: recipients([2, 5]) }));
      const expected = new JsRunner().run({ engine: payout, script: payout.script }, input);
      const runner = new JsRunner();
      const hostile = [
        "function f(n) { return f(n + 1) + 1; } f(0);",
        "var a = []; for (var i = 0; i < 200; i++) a.push('y'.repeat(1000) + i); versatus.output({ actions: [] });",
        "for (;;) {}",
        "null.x;",
      ];
      for (const source of hostile) {
        const program = prepareJsProgram(jsPackage(source, { fuel: 30_000_000 }));
        runner.run({ engine: program, script: program.script }, { ...input, limits: program.limits });
        const after = runner.run({ engine: payout, script: payout.script }, input);
        expect([after.outcome, after.fuelUsed, text(after.stdout)]).to.deep.equal([
          expected.outcome,
          expected.fuelUsed,
          text(expected.stdout),
        ]);
      }
    });
    it("seeds Math.random from the request id and fixes Date to the request time", async () => {
      const pkg = jsPackage(
        `console.log(JSON.stringify([Math.random(), Date.now(), new Date().toISOString()])); versatus.output({ actions: [] });`,
      );
      const one = await run(pkg, {}, { requestId: requestIdOf("a") });
      const again = await run(pkg, {}, { requestId: requestIdOf("a") });
      const other = await run(pkg, {}, { requestId: requestIdOf("b") });
      const [random, now, iso] = JSON.parse(text(one.stderr)) as [number, number, string];
      expect(text(again.stderr)).to.equal(text(one.stderr));
      expect(JSON.parse(text(other.stderr))[0]).to.not.equal(random);
      expect(random).to.be.within(0, 1);
      expect(now).to.equal(1_700_000_000_000);
      expect(iso).to.equal("2023-11-14T22:13:20.000Z");
    });
  });

  describe("hostile JavaScript", () => {
    it("an infinite loop runs out of fuel, charged the whole limit", async () => {
      const outcome = await run(jsPackage("for (;;) {}", { fuel: 20_000_000 }), {});
      expect(outcome.outcome).to.equal("out_of_fuel");
      expect(outcome.fuelUsed).to.equal(20_000_000n);
    });
    it("deep recursion is too_deep: the call-depth budget fires before the engine's own stack check", async () => {
      const pkg = jsPackage("function f(n) { try { return f(n + 1) + 1; } catch (e) { return 0; } } f(0);");
      const first = await run(pkg, {});
      const second = await run(pkg, {});
      expect(first.outcome).to.equal("too_deep");
      expect([second.outcome, second.fuelUsed]).to.deep.equal([first.outcome, first.fuelUsed]);
      const shallow = await run(
        jsPackage("function g(n) { return n === 0 ? 0 : g(n - 1) + 1; } versatus.output({ actions: [] }); g(500);"),
        {},
      );
      expect(shallow.outcome).to.equal("ok");
    });
    it("memory growth stops at the page limit: the engine throws out of memory, a deterministic exit", async () => {
      const pkg = jsPackage("var a = []; for (;;) a.push('x'.repeat(65536) + a.length);", {
        memoryPages: 160,
        fuel: 2_000_000_000,
      });
      const first = await run(pkg, {});
      const second = await run(pkg, {});
      expect(first.outcome).to.equal("exit");
      expect(text(first.stderr)).to.contain("out of memory");
      expect(second.fuelUsed).to.equal(first.fuelUsed);
    });
    it("huge output is output_limit", async () => {
      const outcome = await run(jsPackage("for (;;) versatus.write('x'.repeat(1000));", { outputBytes: 4096 }), {});
      expect(outcome.outcome).to.equal("output_limit");
      expect(outcome.stdout.length).to.equal(0);
    });
    it("counts the output cap in UTF-8 bytes, exactly", async () => {
      const limits = { outputBytes: 4096 };
      const fits = await run(jsPackage(`versatus.write('{"actions":[]}' + " ".repeat(4096 - 14));`, limits), {});
      expect(fits.outcome).to.equal("ok");
      const twoByte = await run(jsPackage(`versatus.write("\u00e9".repeat(2048));`, limits), {});
      expect(twoByte.outcome).to.equal("invalid_output");
      expect(twoByte.stdout.length).to.equal(4096);
      const over = await run(jsPackage(`versatus.write("\u00e9".repeat(2048)); versatus.write("x");`, limits), {});
      expect(over.outcome).to.equal("output_limit");
    });
    it("finds no host: process, require, fetch, performance, timers, std/os are not there", async () => {
      const names = ["process", "require", "fetch", "performance", "setTimeout", "setInterval", "std", "os", "print"];
      const pkg = jsPackage(
        `console.log(JSON.stringify(${JSON.stringify(names)}.map(function (n) { return typeof globalThis[n]; }))); versatus.output({ actions: [] });`,
      );
      const outcome = await run(pkg, {});
      expect(JSON.parse(text(outcome.stderr))).to.deep.equal(names.map(() => "undefined"));
    });
    it("cannot replace the runtime's verdict function or call the set-up again", async () => {
      const pkg = jsPackage(
        `try { globalThis.__versatus_finish = function () { return '["ok",0,"{}",""]'; }; } catch (e) {}
         console.log(typeof globalThis.__versatus_setup); versatus.exit(3);`,
      );
      const outcome = await run(pkg, {});
      expect([outcome.outcome, outcome.exitCode]).to.deep.equal(["exit", 3]);
      expect(text(outcome.stderr)).to.contain("undefined");
    });
    it("an uncaught exception is exit code 1 with the error on stderr", async () => {
      const outcome = await run(jsPackage("null.x;"), {});
      expect([outcome.outcome, outcome.exitCode]).to.deep.equal(["exit", 1]);
      expect(text(outcome.stderr)).to.contain("TypeError");
    });
    it("a program naming another engine is rejected", async () => {
      const pkg = jsPackage("1");
      const other = encodePackage({ ...pkg.manifest, engine: `quickjs-0.0.1@sha256:${"0".repeat(64)}` }, pkg.module);
      const refused = await runtime.load(other).then(
        () => null,
        (error: unknown) => error,
      );
      expect(refused).to.be.instanceOf(ModuleRejectedError);
      expect((refused as Error).message).to.match(/engine/);
    });
  });

  it("compiles the engine once per page limit", () => {
    expect(prepareEngine(256)).to.equal(prepareEngine(256));
  });
});

function jsInput(stdin: string, overrides: Partial<JsRunInput> = {}): JsRunInput {
  return {
    stdin: new TextEncoder().encode(stdin),
    requestId: requestIdOf("ts") as Hex,
    timestamp: 1_700_000_000n,
    originChainId: ORIGIN_CHAIN,
    programName: "ts",
    limits: { ...DEFAULT_LIMITS },
    parseOutput: true,
    ...overrides,
  };
}
