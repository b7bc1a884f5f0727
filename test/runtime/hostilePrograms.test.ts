import { expect } from "chai";
import binaryen from "binaryen";
import { ModuleRejectedError, RunAbandonedError } from "../../runtime/errors.ts";
import { MAX_MODULE_BYTES } from "../../runtime/limits.ts";
import { prepareProgram } from "../../runtime/prepare.ts";
import { DEFAULT_LIMITS } from "../../protocol/programPackage.ts";
import { prepareWat, preparedProgram, requestFor, text, watModule, useRuntime } from "../fixtures/programs.ts";

function rejection(load: () => unknown): ModuleRejectedError {
  try {
    load();
  } catch (error) {
    expect(error).to.be.instanceOf(ModuleRejectedError);
    return error as ModuleRejectedError;
  }
  expect.fail("the module was accepted");
}

describe("runtime: hostile programs are contained", function () {
  this.timeout(120_000);
  const runtime = useRuntime(2);

  describe("refused at load time", () => {
    it("refuses a socket import, naming it", () => {
      const error = rejection(() => prepareWat("socket-import"));
      expect(error.reason).to.equal("forbidden_import");
      expect(error.shortMessage)
        .to.contain("wasi_snapshot_preview1.sock_accept")
        .and.contain("sockets are not available");
    });
    it("refuses an import outside WASI", () => {
      const error = rejection(() => prepareWat("env-import"));
      expect(error.reason).to.equal("forbidden_import");
      expect(error.shortMessage).to.contain("env.system");
    });
    it("refuses a WASI import with the wrong signature", () => {
      const error = rejection(() => prepareWat("wrong-signature"));
      expect(error.shortMessage).to.contain(
        "fd_write has type (i32, i32) -> (i32), expected (i32, i32, i32, i32) -> (i32)",
      );
    });
    it("refuses a start section", () => {
      expect(rejection(() => prepareWat("start-section")).reason).to.equal("start_section");
    });
    it("refuses a disallowed feature (SIMD), naming it", () => {
      const error = rejection(() => prepareWat("simd"));
      expect(error.reason).to.equal("forbidden_feature");
      expect(error.shortMessage).to.contain('"simd128"');
    });
    it("refuses a shared memory", () => {
      const error = rejection(() => prepareWat("shared-memory"));
      expect(error.reason).to.equal("memory");
      expect(error.shortMessage).to.contain("shared");
    });
    it("refuses a module without _start", () => {
      expect(rejection(() => prepareWat("no-start")).reason).to.equal("exports");
    });
    it("refuses malformed modules with the reason", () => {
      const limits = DEFAULT_LIMITS;
      expect(
        rejection(() => prepareProgram(new TextEncoder().encode("#!/bin/sh\nrm -rf /"), { name: "x", limits }))
          .shortMessage,
      ).to.contain("magic");
      const truncated = watModule("infinite-loop").slice(0, 30);
      expect(rejection(() => prepareProgram(truncated, { name: "x", limits })).reason).to.equal("malformed");
      const component = Uint8Array.from([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0]);
      expect(rejection(() => prepareProgram(component, { name: "x", limits })).shortMessage).to.contain("version");
    });
    it("refuses a module over the size limit before parsing it", () => {
      const error = rejection(() =>
        prepareProgram(new Uint8Array(MAX_MODULE_BYTES + 1), { name: "x", limits: DEFAULT_LIMITS }),
      );
      expect(error.reason).to.equal("too_large");
    });
    it("refuses a module whose initial memory is over the page limit", () => {
      const module = binaryen.parseText('(module (memory (export "memory") 10) (func (export "_start")))');
      const bytes = module.emitBinary();
      module.dispose();
      const error = rejection(() =>
        prepareProgram(bytes, { name: "x", limits: { ...DEFAULT_LIMITS, memoryPages: 4 } }),
      );
      expect(error.reason).to.equal("memory");
      expect(error.shortMessage).to.contain("starts at 10 pages, over the limit of 4 pages");
    });
  });

  describe("contained at run time", () => {
    it("stops an infinite loop with out_of_fuel, charging exactly the limit", async () => {
      const program = prepareWat("infinite-loop", { fuel: 1_000_000 });
      const outcome = await runtime().execute(program, requestFor("{}"));
      expect(outcome.outcome).to.equal("out_of_fuel");
      expect(outcome.fuelUsed).to.equal(1_000_000n);
      expect(outcome.message).to.contain("ran out of fuel (limit 1000000)");
    });
    it("stops unbounded recursion with too_deep before V8's stack limit (WAT and C)", async () => {
      for (const program of [prepareWat("deep-recursion"), preparedProgram("hostile-deep-recursion")]) {
        const outcome = await runtime().execute(program, requestFor("{}"));
        expect(outcome.outcome, program.name).to.equal("too_deep");
        expect(outcome.message).to.match(/call depth exceeded \d+ frame units in \S+/);
      }
    });
    it("caps memory growth at the page limit (WAT memory.grow loop)", async () => {
      const outcome = await runtime().execute(prepareWat("memory-bomb", { memoryPages: 40 }), requestFor("{}"));
      expect(outcome.outcome).to.equal("exit");
      expect(outcome.exitCode).to.equal(40);
    });
    it("refuses a 4 GiB grow and charges a bulk fill by its size", async () => {
      const outcome = await runtime().execute(prepareWat("memory-bomb-bulk", { memoryPages: 4 }), requestFor("{}"));
      expect(outcome.outcome).to.equal("exit");
      expect(outcome.exitCode).to.equal(1);
      expect(outcome.fuelUsed > 1024n).to.equal(true);
    });
    it("lets a C memory bomb see malloc fail instead of exhausting the host", async () => {
      const outcome = await runtime().execute(preparedProgram("hostile-memory-bomb"), requestFor("{}"));
      expect(outcome.outcome).to.equal("exit");
      expect(outcome.exitCode).to.equal(4);
      expect(text(outcome.stderr)).to.match(/allocated [0-3] MiB before malloc failed/);
    });
    it("stops endless output with output_limit (WAT and C)", async () => {
      for (const program of [
        prepareWat("huge-output", { outputBytes: 10_000 }),
        preparedProgram("hostile-huge-output"),
      ]) {
        const outcome = await runtime().execute(program, requestFor("{}"));
        expect(outcome.outcome, program.name).to.equal("output_limit");
        expect(outcome.stdout.length).to.be.at.most(program.limits.outputBytes);
        expect(outcome.message).to.contain(`stdout exceeded its limit of ${program.limits.outputBytes} bytes`);
      }
    });
    it("refuses path_open with ENOTCAPABLE", async () => {
      const outcome = await runtime().execute(prepareWat("open-file"), requestFor("{}"));
      expect(outcome.outcome).to.equal("exit");
      expect(outcome.exitCode).to.equal(76);
    });
    it("gives a C program no file system: fopen fails for reading and writing", async () => {
      const outcome = await runtime().execute(preparedProgram("hostile-open-file"), requestFor("{}"));
      expect(outcome.exitCode).to.equal(3);
      expect(text(outcome.stderr)).to.contain("fopen /etc/passwd:").and.contain("fopen dropped.txt:");
      expect(text(outcome.stdout)).to.equal("");
    });
    it("gives a program an empty environment", async () => {
      const outcome = await runtime().execute(preparedProgram("hostile-read-env"), requestFor("{}"));
      expect(outcome.outcome).to.equal("ok");
      expect(text(outcome.stderr)).to.equal("");
    });
    it("reports a trap with the V8 message and the function", async () => {
      const outcome = await runtime().execute(prepareWat("divide-by-zero"), requestFor("{}"));
      expect(outcome.outcome).to.equal("trap");
      expect(outcome.message).to.match(/^trapped: divide by zero in \S*divide/);
    });
    it("abandons a run past its wall-clock backstop, replaces the worker and keeps serving", async () => {
      const stuck = prepareWat("infinite-loop", { fuel: 10_000_000_000, wallTimeMs: 200 });
      let error: unknown;
      try {
        await runtime().execute(stuck, requestFor("{}"));
      } catch (caught) {
        error = caught;
      }
      expect(error).to.be.instanceOf(RunAbandonedError);
      expect((error as RunAbandonedError).shortMessage).to.contain("wall-clock backstop of 200 ms");
      const after = await Promise.all(
        [1, 2, 3].map(() => runtime().execute(prepareWat("open-file"), requestFor("{}"))),
      );
      expect(after.map((o) => o.exitCode)).to.deep.equal([76, 76, 76]);
    });
  });
});
