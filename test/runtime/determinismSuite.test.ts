import { expect } from "chai";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { DEFAULT_LIMITS, type ProgramLimits } from "../../protocol/programPackage.ts";
import { ModuleRejectedError, RunAbandonedError } from "../../runtime/errors.ts";
import { ModuleLoader } from "../../runtime/loader.ts";
import type { RunOutcome } from "../../runtime/outcome.ts";
import { RuntimePool } from "../../runtime/pool.ts";
import { clearPreparedPrograms, prepareProgramAsync, type PreparedProgram } from "../../runtime/prepare.ts";
import type { RunInput } from "../../runtime/runInstance.ts";
import { address, builtPrograms, repoRoot, requestFor, watModule } from "../fixtures/programs.ts";

/**
 * Issue 11 item 6, the determinism suite: every example program and every hostile case of
 * test/fixtures/hostile/ ends with the same verdict (load rejection or outcome, fuel, exit code,
 * stdout, stderr, message) byte for byte
 * - cold (each load in a fresh loader thread, nothing cached),
 * - warm (again and again on the same worker),
 * - on every pool worker,
 * - after 1,000 other loads in the same loader thread,
 * - with the other core busy.
 */

type Case = { name: string; module: Uint8Array; input: Uint8Array; limits: ProgramLimits };

const POOL_SIZE = 2;
const OTHER_LOADS = 1_000;

function cases(): Case[] {
  const examples: Record<string, unknown> = {
    "payout-splitter": {
      amount: "1000000000000000000",
      recipients: [
        { to: address(1), weight: 3 },
        { to: address(2), weight: 7 },
      ],
    },
    raffle: { prize: "1000", winners: 3, entries: [1, 2, 3, 4, 5, 6, 7].map(address) },
    "token-mover": { to: address(3), amount: "5" },
  };
  const built = builtPrograms();
  const list: Case[] = [];
  for (const dir of readdirSync(join(repoRoot, "programs"), { withFileTypes: true })) {
    const program = dir.isDirectory() ? built.get(dir.name) : undefined;
    if (!program) continue;
    list.push({
      name: dir.name,
      module: program.package.module,
      input: requestFor(examples[dir.name] ?? {}).input,
      limits: program.package.manifest.limits,
    });
  }
  for (const file of readdirSync(join(repoRoot, "test", "fixtures", "hostile")).sort()) {
    if (!file.endsWith(".wat")) continue;
    const name = file.slice(0, -4);
    list.push({
      name: `hostile/${name}`,
      module: watModule(name),
      input: requestFor("{}").input,
      limits: DEFAULT_LIMITS,
    });
  }
  return list;
}

/** What every node must agree on, byte for byte. */
function fingerprint(outcome: RunOutcome): string {
  return JSON.stringify({
    outcome: outcome.outcome,
    exitCode: outcome.exitCode,
    fuelUsed: outcome.fuelUsed.toString(),
    stdout: Buffer.from(outcome.stdout).toString("hex"),
    stderr: Buffer.from(outcome.stderr).toString("hex"),
    message: outcome.message,
  });
}

function runInput(c: Case, program: PreparedProgram): RunInput {
  const request = requestFor("");
  return {
    stdin: c.input,
    requestId: request.requestId,
    timestamp: request.timestamp,
    originChainId: request.originChainId,
    programName: c.name,
    limits: program.limits,
    parseOutput: true,
  };
}

async function load(c: Case, loader: ModuleLoader): Promise<PreparedProgram | string> {
  try {
    return await prepareProgramAsync(c.module, { name: c.name, limits: c.limits }, loader);
  } catch (error) {
    if (error instanceof ModuleRejectedError) return `rejected: ${error.shortMessage} | ${error.details ?? ""}`;
    throw error;
  }
}

async function run(pool: RuntimePool, c: Case, program: PreparedProgram | string, worker: number): Promise<string> {
  if (typeof program === "string") return program;
  try {
    return fingerprint(await pool.run(program, runInput(c, program), worker));
  } catch (error) {
    // The wall-clock backstop is not a verdict; no case here should come near it.
    if (error instanceof RunAbandonedError) return `abandoned: ${error.shortMessage}`;
    throw error;
  }
}

describe("runtime: determinism suite (issue 11 item 6)", function () {
  this.timeout(1_200_000);
  let pool: RuntimePool;
  let all: Case[];
  /** The cold verdict of each case, which every other condition must reproduce. */
  const reference = new Map<string, string>();
  const loaders: ModuleLoader[] = [];

  before(() => {
    all = cases();
    pool = new RuntimePool({ size: POOL_SIZE });
  });
  after(async () => {
    await pool.close();
    await Promise.all(loaders.map((l) => l.close()));
  });

  function loader(options: ConstructorParameters<typeof ModuleLoader>[0]): ModuleLoader {
    const made = new ModuleLoader(options);
    loaders.push(made);
    return made;
  }

  it("covers every example and every hostile case", () => {
    const names = all.map((c) => c.name);
    expect(names).to.include.members(["payout-splitter", "raffle", "token-mover", "hostile/infinite-loop"]);
    expect(names.filter((n) => n.startsWith("hostile/")).length).to.be.greaterThanOrEqual(16);
  });

  it("cold: each case loaded in a fresh loader thread, nothing cached", async () => {
    const cold = loader({ loadsPerThread: 1 });
    for (const c of all) {
      clearPreparedPrograms();
      const program = await load(c, cold);
      reference.set(c.name, await run(pool, c, program, 0));
      expect(reference.get(c.name), c.name).to.not.match(/^abandoned/);
    }
  });

  it("warm: the same verdict run after run on one worker, and on every worker", async () => {
    const warm = loader({});
    for (const c of all) {
      const program = await load(c, warm);
      for (let worker = 0; worker < POOL_SIZE; worker++) {
        for (let i = 0; i < 3; i++)
          expect(await run(pool, c, program, worker), `${c.name} on worker ${worker}`).to.equal(reference.get(c.name));
      }
    }
  });

  it(`after ${OTHER_LOADS} other loads in the same loader thread: same instrumented code, same verdicts`, async () => {
    const fresh = loader({ loadsPerThread: 1 });
    const used = loader({ loadsPerThread: OTHER_LOADS + 1_000 });
    // Modules the loader accepts: a rejection that went through binaryen is confirmed in a fresh
    // thread, which would end the run of loads in one thread this test is about.
    const others = all
      .filter((c) => !reference.get(c.name)!.startsWith("rejected") && c.module.length < 64 * 1024)
      .map((c) => c.module);
    for (let i = 0; i < OTHER_LOADS; i++) {
      const module = others[i % others.length]!;
      await used
        .load({ name: "other", bytes: module, memoryPages: DEFAULT_LIMITS.memoryPages, metering: true })
        .catch((error: unknown) => {
          if (!(error instanceof ModuleRejectedError)) throw error;
        });
    }
    expect(used.threadsStarted, "one thread did the other loads").to.equal(1);
    for (const c of all) {
      const params = { name: c.name, bytes: c.module, memoryPages: c.limits.memoryPages, metering: true };
      const [a, b] = await Promise.all([
        used.load(params).then(
          (l) => Buffer.from(l.instrumented).toString("hex"),
          (e: Error) => e.message,
        ),
        fresh.load(params).then(
          (l) => Buffer.from(l.instrumented).toString("hex"),
          (e: Error) => e.message,
        ),
      ]);
      expect(a === b, `${c.name}: instrumented code after ${OTHER_LOADS} loads`).to.equal(true);
      clearPreparedPrograms();
      const program = await load(c, used);
      expect(await run(pool, c, program, 1), c.name).to.equal(reference.get(c.name));
    }
  });

  it("with the other core busy", async () => {
    const busy = new Worker("const end = Date.now() + 600_000; while (Date.now() < end) {}", { eval: true });
    try {
      const cold = loader({ loadsPerThread: 4 });
      for (const c of all) {
        clearPreparedPrograms();
        const program = await load(c, cold);
        const outcomes = await Promise.all(
          Array.from({ length: POOL_SIZE * 2 }, (_, i) => run(pool, c, program, i % POOL_SIZE)),
        );
        for (const outcome of outcomes) expect(outcome, c.name).to.equal(reference.get(c.name));
      }
    } finally {
      await busy.terminate();
    }
  });
});
