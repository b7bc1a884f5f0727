import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { bytesToHex } from "viem";
import { InvalidInputError } from "../../protocol/errors.ts";
import { canonicalManifest, encodePackage, parseManifest } from "../../protocol/programPackage.ts";
import { ModuleRejectedError } from "../../runtime/errors.ts";
import { MAX_INPUT_BYTES, MAX_TABLE_ENTRIES } from "../../runtime/limits.ts";
import { openProgramPath, readInputFile } from "../../runtime/programFiles.ts";
import { HOST_FUEL } from "../../runtime/wasiHost.ts";
import { runHere, runInChild, type RunReport } from "../fixtures/hostileRun.ts";
import { prepareWat, requestFor, useRuntime, watModule } from "../fixtures/programs.ts";

/**
 * Issue 11, items 2, 3 and 10: outcomes that depend only on the package, the input and the
 * request, whatever the V8 tier, the JavaScript stack left, or the arguments of host calls.
 * Every case is a WebAssembly text fixture in test/fixtures/hostile/ named after it.
 */

function rejection(load: () => unknown): ModuleRejectedError {
  try {
    load();
  } catch (error) {
    expect(error).to.be.instanceOf(ModuleRejectedError);
    return error as ModuleRejectedError;
  }
  expect.fail("the module was accepted");
}

const F64_NAN = "000000000000f87f"; // 0x7ff8000000000000, little-endian
const F32_NAN = "0000c07f"; // 0x7fc00000

/** What nan-payload.wat must print: every NaN canonical, numbers exact, bit operations exact. */
const NAN_PAYLOAD_STDOUT = `0x${[
  ...Array<string>(18).fill(F64_NAN), // 5 NaNs from numbers, 11 from NaN operands, 2 promotions
  ...Array<string>(10).fill(F32_NAN), // 2 demotions, 8 f32 operations
  "555555555555d53f", // 1/3
  "0000000000000080", // min(-0, 0) = -0
  "0000000000000000", // 2^-1074 * 0.5 rounds to +0
  "010000000000f4ff", // neg(signaling NaN, payload 1): only the sign flips
  "230100000000f87f", // abs(-NaN payload 0x123): only the sign clears
  "010000000000f4ff", // copysign(NaN, -1)
  "4500c07f", // neg(f32 -NaN payload 0x45)
  "00000000", // iterations whose bits differed from the first one's
].join("")}`;

describe("runtime: deterministic semantics under attack (issue 11)", function () {
  this.timeout(300_000);
  const runtime = useRuntime(2);

  describe("floats: NaN canonicalization", () => {
    it("gives one result cold, warm, in every pool worker, on this thread and in each V8 tier", async () => {
      const program = prepareWat("nan-payload");
      // Cold (first run of the compiled module) and warm, several per worker, concurrently.
      const pooled = await Promise.all(Array.from({ length: 6 }, () => runtime().execute(program, requestFor("{}"))));
      const reports: RunReport[] = pooled.map((outcome) => ({
        outcome: outcome.outcome,
        exitCode: outcome.exitCode,
        fuelUsed: outcome.fuelUsed.toString(),
        stdout: bytesToHex(outcome.stdout),
        message: outcome.message,
      }));
      reports.push(...runHere({ wat: "nan-payload", runs: 3 }));
      // Liftoff only, TurboFan only, and tier-up forced early in the run (tiny tiering budget).
      for (const flags of [["--liftoff-only"], ["--no-liftoff"], ["--wasm-tiering-budget=1000"]]) {
        reports.push(...runInChild({ wat: "nan-payload", runs: 2 }, flags));
      }
      const first = reports[0]!;
      expect(first).to.include({ outcome: "invalid_output", stdout: NAN_PAYLOAD_STDOUT });
      for (const report of reports) expect(report).to.deep.equal(first);
    });
  });

  describe("host calls cannot see the host's stack", () => {
    it("a stack overflow inside a host call abandons the run, never returns an errno", () => {
      // A depth budget far beyond the machine stack lets V8's own limit fire, at a point that
      // moves with the JavaScript stack already in use (stackPad): in the wasm code, at the host
      // call's entry or inside it. Before the fix, 7 of these 100 runs exited 21 (EFAULT).
      const seen = new Set<string>();
      for (let pad = 0; pad < 300; pad += 3) {
        const [report] = runHere({ wat: "host-call-stack", depthBudget: 100_000_000, stackPad: pad });
        seen.add("abandoned" in report! ? "abandoned" : `${report!.outcome} ${report!.exitCode}`);
        if (!("abandoned" in report!)) expect.fail(`stack pad ${pad}: ${JSON.stringify(report)}`);
        expect(report.abandoned).to.contain("V8 stopped the program before the runtime's limits did");
      }
      expect([...seen]).to.deep.equal(["abandoned"]);
    });
    it("with the runtime's depth budget, host calls at every level end too_deep in every tier", async () => {
      const expected = (await runtime().execute(prepareWat("host-call-stack"), requestFor("{}"))).outcome;
      expect(expected).to.equal("too_deep");
      const reports = [
        ...runHere({ wat: "host-call-stack" }),
        ...runInChild({ wat: "host-call-stack" }, ["--liftoff-only"]),
        ...runInChild({ wat: "host-call-stack" }, ["--no-liftoff"]),
      ];
      // The message's trap location names the function only when the assembled fixture kept its
      // name section, which depends on binaryen's global debug-info flag in that process: informative
      // text, outside the record body, so it is left out of the comparison.
      const bare = reports.map(({ message: _message, ...rest }: RunReport & { message?: string }) => rest);
      for (const report of bare) expect(report).to.deep.equal(bare[0]).and.include({ outcome: "too_deep" });
    });
  });

  describe("call depth counts operand-stack slots", () => {
    it("ends a recursion with large operand stacks too_deep, not abandoned, in every tier", async () => {
      const outcome = await runtime().execute(prepareWat("deep-operand-stack"), requestFor("{}"));
      expect(outcome.outcome).to.equal("too_deep");
      expect(outcome.message).to.match(/^call depth exceeded 8192 frame units/);
      // The main thread's stack (984 KiB) is a quarter of a pool worker's: still enough.
      const reports = [
        ...runHere({ wat: "deep-operand-stack" }),
        ...runInChild({ wat: "deep-operand-stack" }, ["--liftoff-only"]),
        ...runInChild({ wat: "deep-operand-stack" }, ["--no-liftoff"]),
      ];
      for (const report of reports) {
        expect(report).to.include({ outcome: "too_deep", fuelUsed: outcome.fuelUsed.toString() });
      }
    });
  });

  describe("host calls are charged by their real work, lengths validated first", () => {
    it("answers random_get's negative length with EINVAL and an out-of-memory one with EFAULT, never a credit", async () => {
      const outcome = await runtime().execute(prepareWat("random-negative-length"), requestFor("{}"));
      expect(outcome.outcome).to.equal("exit");
      expect(outcome.exitCode).to.equal(2821);
      // Three host calls' base price, the setup (one page) and a few instructions: no credit.
      expect(outcome.fuelUsed > 3n * HOST_FUEL.call).to.equal(true);
      expect(outcome.fuelUsed < 3n * HOST_FUEL.call + 1024n + 100n).to.equal(true);
    });
    it("charges random_get per byte before hashing: 16 MiB runs out of fuel at once", async () => {
      const started = performance.now();
      const outcome = await runtime().execute(prepareWat("random-huge"), requestFor("{}"));
      expect(outcome.outcome).to.equal("out_of_fuel");
      expect(outcome.message).to.contain("in a WASI call");
      expect(outcome.fuelUsed).to.equal(100_000_000n);
      expect(performance.now() - started).to.be.below(2_000);
    });
    it("charges fd_write per iovec before walking them: 2,000,000 empty iovecs run out of fuel", async () => {
      const outcome = await runtime().execute(prepareWat("empty-iovecs"), requestFor("{}"));
      expect(outcome.outcome).to.equal("out_of_fuel");
      expect(outcome.message).to.contain("in a WASI call");
      expect(outcome.stdout.length).to.equal(0);
    });
    it("charges each iovec walked: 400 iovecs cost 396 iovecs more than 4", async () => {
      const program = prepareWat("iovec-count");
      const run = (count: number) => runtime().execute(program, requestFor(String.fromCharCode(count)));
      const [small, large] = await Promise.all([run(1), run(100)]);
      expect(small.outcome).to.equal("ok");
      expect(large.outcome).to.equal("ok");
      expect(new TextDecoder().decode(large.stdout)).to.equal('{"actions":[]}');
      // Same code path; only the iovec count differs (4 vs 400).
      expect(large.fuelUsed - small.fuelUsed).to.equal(396n * HOST_FUEL.iovec);
    });
  });

  describe("tables are bounded and charged", () => {
    it(`refuses a table over ${MAX_TABLE_ENTRIES} entries at load`, () => {
      const error = rejection(() => prepareWat("table-huge"));
      expect(error.reason).to.equal("table");
      expect(error.shortMessage).to.contain(`1000000 entries, over the limit of ${MAX_TABLE_ENTRIES}`);
    });
    it("refuses a table over V8's own limit at load instead of abandoning the run", () => {
      const error = rejection(() => prepareWat("table-over-v8-limit"));
      expect(error.reason).to.equal("table");
      expect(error.shortMessage).to.contain("10000001 entries");
    });
    it("charges a table's entries on every run", async () => {
      const outcome = await runtime().execute(prepareWat("table-charged"), requestFor("{}"));
      expect(outcome.outcome).to.equal("invalid_output");
      // 60,000 entries + 1 initial page (1,024) + the empty _start itself.
      expect(outcome.fuelUsed >= 61_024n && outcome.fuelUsed < 61_030n, String(outcome.fuelUsed)).to.equal(true);
    });
  });

  describe("the smaller items", () => {
    it(`refuses an input over ${MAX_INPUT_BYTES} bytes with input_limit, before the program runs`, async () => {
      const program = prepareWat("open-file");
      const atLimit = await runtime().execute(program, { ...requestFor(""), input: new Uint8Array(MAX_INPUT_BYTES) });
      expect(atLimit.outcome).to.equal("exit");
      const over = await runtime().execute(program, { ...requestFor(""), input: new Uint8Array(MAX_INPUT_BYTES + 1) });
      expect(over).to.include({ outcome: "input_limit", exitCode: null, fuelUsed: 0n });
      expect(over.message).to.equal(
        `the input is ${MAX_INPUT_BYTES + 1} bytes, over the limit of ${MAX_INPUT_BYTES} bytes`,
      );
    });
    it("reads an input file at most one byte past the limit: /dev/zero is refused, not read to exhaustion", () => {
      const started = performance.now();
      const error = catchError(() => readInputFile("/dev/zero"));
      expect(error).to.be.instanceOf(InvalidInputError);
      expect(error.shortMessage).to.contain(`at most ${MAX_INPUT_BYTES} bytes`);
      expect(performance.now() - started).to.be.below(2_000);
      const dir = mkdtempSync(join(tmpdir(), "versatus-sem-"));
      try {
        writeFileSync(join(dir, "input.json"), '{"a":1}');
        expect(new TextDecoder().decode(readInputFile(join(dir, "input.json")))).to.equal('{"a":1}');
        writeFileSync(join(dir, "exact"), new Uint8Array(MAX_INPUT_BYTES));
        expect(readInputFile(join(dir, "exact")).length).to.equal(MAX_INPUT_BYTES);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
    it("does not charge a failed memory.grow for the pages it did not get", async () => {
      const outcome = await runtime().execute(prepareWat("memory-grow-failed", { memoryPages: 4 }), requestFor("{}"));
      expect(outcome.outcome).to.equal("exit");
      expect(outcome.exitCode).to.equal(1);
      // One page of setup and proc_exit's base price, but nothing like 100 pages × 1024.
      expect(outcome.fuelUsed < 1024n + HOST_FUEL.call + 50n).to.equal(true);
    });
    it("refuses a UTF-8 byte-order mark before the output JSON", async () => {
      const outcome = await runtime().execute(prepareWat("output-bom"), requestFor("{}"));
      expect(outcome.outcome).to.equal("invalid_output");
      expect(outcome.message).to.contain("byte-order mark");
    });
    it("answers negative fds with EBADF in fd_fdstat_get and fd_close", async () => {
      const outcome = await runtime().execute(prepareWat("negative-fd"), requestFor("{}"));
      expect(outcome.outcome).to.equal("exit");
      expect(outcome.exitCode).to.equal(808);
    });
    it("reports a program directory whose manifest or module disagrees with its built package", () => {
      const dir = mkdtempSync(join(tmpdir(), "versatus-sem-"));
      try {
        const manifestJson = { name: "drift", version: "1.0.0", module: "build/drift.wasm", limits: { fuel: 5000 } };
        const module = watModule("negative-fd");
        mkdirSync(join(dir, "build"));
        writeFileSync(join(dir, "versatus.json"), JSON.stringify(manifestJson));
        writeFileSync(join(dir, "build", "drift.wasm"), module);
        const pkg = encodePackage(canonicalManifest(parseManifest(manifestJson)), module);
        writeFileSync(join(dir, "build", "drift.vpkg"), pkg.bytes);
        expect(openProgramPath(dir).programId).to.equal(pkg.programId);

        writeFileSync(join(dir, "versatus.json"), JSON.stringify({ ...manifestJson, limits: { fuel: 9000 } }));
        let error = catchError(() => openProgramPath(dir));
        expect(error).to.be.instanceOf(InvalidInputError);
        expect(error.details).to.contain("limits.fuel is 5000 in the package, 9000 in versatus.json");
        expect(error.hints[0]).to.contain("versatus program build");

        writeFileSync(join(dir, "versatus.json"), JSON.stringify(manifestJson));
        writeFileSync(join(dir, "build", "drift.wasm"), watModule("output-bom"));
        error = catchError(() => openProgramPath(dir));
        expect(error.message).to.contain("a package holding the module");
        expect(readFileSync(join(dir, "build", "drift.vpkg"))).to.deep.equal(Buffer.from(pkg.bytes));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

function catchError(body: () => unknown): InvalidInputError {
  try {
    body();
  } catch (error) {
    return error as InvalidInputError;
  }
  expect.fail("no error");
}
