import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { encodePackage, DEFAULT_LIMITS } from "../../protocol/programPackage.ts";
import { ModuleRejectedError, RunAbandonedError } from "../../runtime/errors.ts";
import { NanoRuntime } from "../../runtime/executor.ts";
import { instrumentModule } from "../../runtime/instrument.ts";
import { LoadAbandonedError, ModuleLoader, type LoadParams } from "../../runtime/loader.ts";
import { LOAD_LIMITS } from "../../runtime/moduleShape.ts";
import { clearPreparedPrograms, prepareProgram } from "../../runtime/prepare.ts";
import { builtProgram, repoRoot, requestFor, text } from "../fixtures/programs.ts";
import { concat, hostileModules, repeat, wasmModule } from "./isolationWasm.ts";

/**
 * Issue 11, items 1, 7 and 8: the instrumenter cannot be broken by load count or by a hostile
 * module, every loader failure is a deterministic rejection or an abstention, and loading happens
 * off the caller's event loop within a time budget.
 */

const limits = DEFAULT_LIMITS;
const params = (name: string, bytes: Uint8Array): LoadParams => ({
  name,
  bytes,
  memoryPages: limits.memoryPages,
  metering: true,
});

function exampleModule(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(repoRoot, "programs", name, "build", `${name}.wasm`)));
}

async function verdictOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "loaded";
  } catch (error) {
    if (error instanceof ModuleRejectedError) return `rejected ${error.reason}: ${error.shortMessage}`;
    if (error instanceof RunAbandonedError) return `abandoned`;
    throw error;
  }
}

function syncVerdict(bytes: Uint8Array, name: string): string {
  clearPreparedPrograms();
  try {
    prepareProgram(bytes, { name, limits });
    return "loaded";
  } catch (error) {
    if (error instanceof ModuleRejectedError) return `rejected ${error.reason}: ${error.shortMessage}`;
    if (error instanceof RunAbandonedError) return `abandoned`;
    throw error;
  }
}

describe("runtime: loads are isolated (issue 11 items 1, 7, 8)", function () {
  this.timeout(600_000);

  before(() => {
    builtProgram("payout-splitter");
  });

  it("instruments an ordinary example 200 times in one binaryen, then still loads a legitimate program", async () => {
    // The leak was binaryen.js's: in this very thread, which has no loader in between.
    const payout = exampleModule("payout-splitter");
    const first = instrumentModule(payout, { maxMemoryPages: limits.memoryPages });
    for (let i = 0; i < 200; i++) instrumentModule(payout, { maxMemoryPages: limits.memoryPages });
    expect(Buffer.from(instrumentModule(payout, { maxMemoryPages: limits.memoryPages })).equals(first)).to.equal(true);
    const raffle = instrumentModule(exampleModule("raffle"), { maxMemoryPages: limits.memoryPages });
    expect(raffle.length).to.be.greaterThan(0);
  });

  it("keeps one loader thread serving 200 loads with the cache cleared, then runs a legitimate program", async () => {
    const loader = new ModuleLoader({ loadsPerThread: 1_000 });
    const runtime = new NanoRuntime({ size: 1 });
    try {
      const token = exampleModule("token-mover");
      const reference = await loader.load(params("token-mover", token));
      for (let i = 0; i < 200; i++) {
        const again = await loader.load(params("token-mover", token));
        if (!Buffer.from(again.instrumented).equals(Buffer.from(reference.instrumented)))
          expect.fail(`load ${i} instrumented the same bytes differently`);
      }
      expect(loader.threadsStarted).to.equal(1);
      clearPreparedPrograms();
      const pkg = builtProgram("payout-splitter").package;
      const program = await runtime.load(pkg);
      const outcome = await runtime.execute(program, requestFor({ recipients: [] }));
      expect(outcome.outcome).to.not.equal("abandoned");
      expect(text(outcome.stdout) + text(outcome.stderr) + outcome.message).to.not.contain("rejected");
    } finally {
      await loader.close();
      await runtime.close();
    }
  });

  describe("hostile modules get one verdict, sync and async, and leave the process unharmed", () => {
    const runtime = new NanoRuntime({ size: 1 });
    after(() => runtime.close());
    const cases: Array<[string, () => Uint8Array, RegExp]> = [
      ["50,001 empty functions", () => hostileModules.manyFunctions(), /^loaded$/],
      ["one function of 400,000 ifs", () => hostileModules.manyIfs(), /^rejected too_large: .*2000002-byte body/],
      ["table.copy", () => hostileModules.tableCopy(), /^rejected forbidden_feature: .*does not meter/],
      ["10,000 nested blocks", () => hostileModules.nestedBlocks(10_000), /^loaded$/],
      [
        `${LOAD_LIMITS.expressionDepth + 1} nested blocks`,
        () => hostileModules.nestedBlocks(LOAD_LIMITS.expressionDepth + 1),
        /^rejected too_large: .*nests expressions deeper than the limit/,
      ],
      ["100,000 imports", () => hostileModules.manyImports(), /^rejected too_large: .*100000 imports/],
      [
        "a global named versatus$fuel",
        () => hostileModules.namedGlobal("versatus$fuel"),
        /^rejected exports: .*"versatus\$fuel", a name reserved/,
      ],
      [
        "a global named versatus$depth",
        () => hostileModules.namedGlobal("versatus$depth"),
        /^rejected exports: .*"versatus\$depth", a name reserved/,
      ],
    ];
    for (const [label, make, expected] of cases) {
      it(label, async () => {
        const bytes = make();
        const pkg = encodePackage({ name: "hostile", version: "1.0.0", limits }, bytes);
        clearPreparedPrograms();
        const async = await verdictOf(runtime.load(pkg));
        const sync = syncVerdict(bytes, "hostile");
        expect(async).to.match(expected);
        expect(sync).to.equal(async);
        expect(process.exitCode ?? 0).to.equal(0);
      });
    }

    it("a legitimate program loads and runs after all of them", async () => {
      clearPreparedPrograms();
      const program = await runtime.load(builtProgram("token-mover").package);
      const outcome = await runtime.execute(program, requestFor({}));
      expect(["ok", "exit", "invalid_output"]).to.include(outcome.outcome);
    });
  });

  it("confirms a binaryen verdict from a used thread in a fresh one", async () => {
    const loader = new ModuleLoader({ loadsPerThread: 100 });
    try {
      await loader.load(params("token-mover", exampleModule("token-mover")));
      expect(loader.threadsStarted).to.equal(1);
      const verdict = await verdictOf(loader.load(params("table-copy", hostileModules.tableCopy())));
      expect(verdict).to.match(/^rejected forbidden_feature/);
      // one thread retired after the used thread's verdict, one confirmed it, one started for what comes next
      expect(loader.threadsStarted).to.be.greaterThanOrEqual(2);
      const fresh = new ModuleLoader();
      try {
        expect(await verdictOf(fresh.load(params("table-copy", hostileModules.tableCopy())))).to.equal(verdict);
      } finally {
        await fresh.close();
      }
    } finally {
      await loader.close();
    }
  });

  it("abandons a load past its time budget (no verdict, not cached) and keeps loading", async () => {
    // A cold thread's first load takes a few hundred ms (binaryen's code is not optimized yet).
    const loader = new ModuleLoader({ timeBudgetMs: 1_500 });
    const runtime = new NanoRuntime({ size: 1, loader: { timeBudgetMs: 1_500 } });
    try {
      const slow = hostileModules.manyFunctions(LOAD_LIMITS.functions); // several seconds even on a fast machine
      // warm the thread up first: the budget does not cover a thread's start-up
      await loader.load(params("token-mover", exampleModule("token-mover")));
      const error = await loader.load(params("slow", slow)).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(LoadAbandonedError);
      expect(error).to.be.instanceOf(RunAbandonedError);
      expect((error as LoadAbandonedError).permanent).to.equal(false);
      expect((error as Error).message).to.contain("time budget of 1500 ms");
      const ok = await loader.load(params("token-mover", exampleModule("token-mover")));
      expect(ok.instrumented.length).to.be.greaterThan(0);
      clearPreparedPrograms();
      const pkg = encodePackage({ name: "slow", version: "1.0.0", limits }, slow);
      await runtime.load(builtProgram("token-mover").package);
      expect(await verdictOf(runtime.load(pkg))).to.equal("abandoned");
      // not cached: a loader with room for it gives the verdict
      const patient = new NanoRuntime({ size: 1 });
      try {
        expect(await verdictOf(patient.load(pkg))).to.equal("loaded");
      } finally {
        await patient.close();
      }
    } finally {
      await loader.close();
      await runtime.close();
    }
  });

  it("abandons a load whose binaryen heap outgrows the budget", async () => {
    const loader = new ModuleLoader({ heapBudgetMb: 24 });
    try {
      const error = await loader.load(params("big", hostileModules.manyFunctions(30_000))).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(LoadAbandonedError);
      expect((error as Error).message).to.match(/binaryen needed more than|loader thread/);
      expect(process.exitCode ?? 0).to.equal(0);
    } finally {
      await loader.close();
    }
  });

  it("abandons a load whose loader thread runs out of JavaScript heap (no verdict)", async () => {
    const loader = new ModuleLoader({ jsHeapMb: 4, startupBudgetMs: 20_000 });
    try {
      const error = await loader.load(params("token-mover", exampleModule("token-mover"))).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(LoadAbandonedError);
      expect(error).to.not.be.instanceOf(ModuleRejectedError);
      expect(process.exitCode ?? 0).to.equal(0);
    } finally {
      await loader.close();
    }
  });

  it("closes a loader whose thread is still starting without aborting the process (nodejs/node#53238)", async () => {
    // binaryen awaits at top level; terminating a thread during that evaluation aborts the whole
    // process. close() right after a load starts the thread must wait for it to finish starting.
    const module = exampleModule("payout-splitter");
    for (let i = 0; i < 4; i++) {
      const loader = new ModuleLoader();
      const load = loader.load(params("payout-splitter", module)).then(
        () => "loaded",
        (error: unknown) => (error instanceof LoadAbandonedError ? "abandoned" : String(error)),
      );
      await loader.close();
      expect(await load).to.be.oneOf(["loaded", "abandoned"]);
    }
  });

  it("loads off the caller's event loop: timers keep firing during a multi-second load", async () => {
    const runtime = new NanoRuntime({ size: 1 });
    try {
      await runtime.load(builtProgram("token-mover").package); // the loader thread is up
      clearPreparedPrograms();
      const big = encodePackage(
        { name: "big", version: "1.0.0", limits },
        wasmModule({ functions: [{ type: 0, code: concat(repeat([0x41, 0x00, 0x04, 0x40, 0x0b], 150_000)) }] }),
      );
      let last = performance.now();
      let worstGap = 0;
      const ticker = setInterval(() => {
        const now = performance.now();
        worstGap = Math.max(worstGap, now - last);
        last = now;
      }, 10);
      const started = performance.now();
      try {
        await runtime.load(big);
      } finally {
        clearInterval(ticker);
      }
      const took = performance.now() - started;
      expect(took).to.be.greaterThan(500);
      expect(worstGap).to.be.lessThan(Math.min(400, took / 2));
    } finally {
      await runtime.close();
    }
  });
});
