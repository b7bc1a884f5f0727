import { expect } from "chai";
import { Worker } from "node:worker_threads";
import type { RunOutcome } from "../../runtime/outcome.ts";
import { clearPreparedPrograms } from "../../runtime/prepare.ts";
import { InstanceRunner } from "../../runtime/runInstance.ts";
import { address, prepareWat, preparedProgram, requestFor, requestIdOf, useRuntime } from "../fixtures/programs.ts";

/** What every node must agree on, byte for byte. */
function fingerprint(outcome: RunOutcome): string {
  return JSON.stringify({
    outcome: outcome.outcome,
    exitCode: outcome.exitCode,
    fuelUsed: outcome.fuelUsed.toString(),
    stdout: Buffer.from(outcome.stdout).toString("hex"),
    stderr: Buffer.from(outcome.stderr).toString("hex"),
  });
}

const raffleInput = { prize: "1000", winners: 3, entries: [1, 2, 3, 4, 5, 6, 7].map(address) };
const splitInput = {
  amount: "1000000000000000000",
  recipients: [
    { to: address(1), weight: 3 },
    { to: address(2), weight: 7 },
  ],
};

describe("runtime: determinism", function () {
  this.timeout(120_000);
  const runtime = useRuntime(2);

  it("gives the same outcome and fuel on every run and on every pool worker", async () => {
    for (const [name, input] of [
      ["payout-splitter", splitInput],
      ["raffle", raffleInput],
    ] as const) {
      const program = preparedProgram(name);
      const outcomes = await Promise.all(
        Array.from({ length: 16 }, () => runtime().execute(program, requestFor(input))),
      );
      expect(outcomes[0]!.outcome, name).to.equal("ok");
      expect(new Set(outcomes.map(fingerprint)).size, name).to.equal(1);
    }
  });

  it("gives the same outcome in the pool as on this thread, and after re-instrumenting", async () => {
    const request = requestFor(raffleInput);
    const pooled = fingerprint(await runtime().execute(preparedProgram("raffle"), request));
    const local = new InstanceRunner();
    const input = {
      stdin: request.input,
      requestId: request.requestId,
      timestamp: request.timestamp,
      originChainId: request.originChainId,
    };
    const program = preparedProgram("raffle");
    expect(
      fingerprint(local.run(program, { ...input, programName: "raffle", limits: program.limits, parseOutput: true })),
    ).to.equal(pooled);
    clearPreparedPrograms();
    const fresh = preparedProgram("raffle");
    expect(
      fingerprint(local.run(fresh, { ...input, programName: "raffle", limits: fresh.limits, parseOutput: true })),
    ).to.equal(pooled);
  });

  it("gives the same outcome while the other core is busy", async () => {
    const program = preparedProgram("payout-splitter");
    const quiet = fingerprint(await runtime().execute(program, requestFor(splitInput)));
    const busy = new Worker("const end = Date.now() + 1500; while (Date.now() < end) {}", { eval: true });
    try {
      const outcomes = await Promise.all(
        Array.from({ length: 8 }, () => runtime().execute(program, requestFor(splitInput))),
      );
      expect(outcomes.map(fingerprint)).to.deep.equal(Array(8).fill(quiet));
    } finally {
      await busy.terminate();
    }
  });

  it("gives the same fuel when a run ends out of fuel, too deep or over the output cap", async () => {
    for (const program of [
      prepareWat("infinite-loop", { fuel: 200_000 }),
      prepareWat("deep-recursion"),
      prepareWat("huge-output", { outputBytes: 9000 }),
    ]) {
      const outcomes = await Promise.all([1, 2, 3, 4].map(() => runtime().execute(program, requestFor("{}"))));
      expect(new Set(outcomes.map(fingerprint)).size, program.name).to.equal(1);
    }
  });

  it("derives the clock from the request timestamp and fuel, and randomness from the request id", async () => {
    const program = prepareWat("clock-and-random");
    const read = async (label: string, timestamp: bigint) => {
      const outcome = await runtime().execute(program, requestFor("{}", { requestId: requestIdOf(label), timestamp }));
      const view = new DataView(outcome.stdout.buffer, outcome.stdout.byteOffset, outcome.stdout.byteLength);
      return {
        realtime: view.getBigUint64(0, true),
        monotonic: view.getBigUint64(8, true),
        random: Buffer.from(outcome.stdout.subarray(16, 32)).toString("hex"),
      };
    };
    const first = await read("a", 1_700_000_000n);
    expect(await read("a", 1_700_000_000n)).to.deep.equal(first);
    expect(first.realtime / 1_000_000_000n).to.equal(1_700_000_000n);
    expect(first.monotonic > first.realtime - 1_700_000_000_000_000_000n).to.equal(true);
    const other = await read("b", 1_800_000_000n);
    expect(other.random).to.not.equal(first.random);
    expect(other.realtime / 1_000_000_000n).to.equal(1_800_000_000n);
  });
});
