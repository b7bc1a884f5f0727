import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { keccak256, recoverAddress, toHex, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import {
  closeSignerRecovery,
  configureSignerRecovery,
  recoverDigestSigner,
  signerRecoveryWorkersForTesting,
} from "../../protocol/signerRecovery.ts";
import { recoverResultSigner } from "../../protocol/result.ts";
import { INGESTOR, sampleResult, signResult } from "./resultFixture.ts";

const digest = (i: number): Hex => keccak256(toHex(`digest ${i}`));

async function signed(count: number): Promise<{ hash: Hex; signature: Hex; signer: Address }[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const account = privateKeyToAccount(generatePrivateKey());
      const hash = digest(i);
      return { hash, signature: await account.sign({ hash }), signer: account.address };
    }),
  );
}

/** What a promise settled to, or the message it rejected with. */
async function outcome<T>(promise: Promise<T>): Promise<{ value: T } | { error: string }> {
  try {
    return { value: await promise };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

const MALFORMED: Record<string, Hex> = {
  "wrong length": "0x1234",
  "r = 0": `0x${"00".repeat(32)}${"11".repeat(32)}1b`,
  "bad v": `0x${"11".repeat(64)}1f`,
};

const openPorts = () => process.getActiveResourcesInfo().filter((name) => name === "MessagePort").length;

describe("protocol/signerRecovery: secp256k1 signer recovery on worker threads, same answers as in-thread", () => {
  afterEach(async () => {
    // each test configures once; this leaves the process in-thread for the next test file
    await closeSignerRecovery();
  });

  it("with 2 threads, 200 random signatures recover to exactly what viem recovers in-thread", async () => {
    const cases = await signed(200);
    configureSignerRecovery({ threads: 2 });
    expect(signerRecoveryWorkersForTesting()).to.have.length(2);
    const recovered = await Promise.all(cases.map((c) => recoverDigestSigner(c.hash, c.signature)));
    const inThread = await Promise.all(cases.map((c) => recoverAddress({ hash: c.hash, signature: c.signature })));
    expect(recovered).to.deep.equal(inThread);
    expect(recovered).to.deep.equal(cases.map((c) => c.signer));
  });

  it("a malformed signature (wrong length, r = 0, bad v) rejects with the message viem throws in-thread", async () => {
    const hash = digest(0);
    const inThread = await Promise.all(
      Object.values(MALFORMED).map((signature) => outcome(recoverAddress({ hash, signature }))),
    );
    configureSignerRecovery({ threads: 2 });
    const threaded = await Promise.all(
      Object.values(MALFORMED).map((signature) => outcome(recoverDigestSigner(hash, signature))),
    );
    expect(threaded).to.deep.equal(inThread);
    Object.keys(MALFORMED).forEach((name, i) => expect(threaded[i], name).to.have.property("error").that.matches(/./));
  });

  it("recoverResultSigner on threads: the operator who signed, and a refusal for a signature that does not recover", async () => {
    configureSignerRecovery({ threads: 2 });
    const key = generatePrivateKey();
    const ingestor = INGESTOR;
    const result = sampleResult("threaded request");
    const signature = await signResult(key, result);
    expect(await recoverResultSigner(31337n, ingestor, result, signature)).to.equal(privateKeyToAccount(key).address);
    expect(await outcome(recoverResultSigner(31337n, ingestor, result, MALFORMED["r = 0"]!))).to.have.property("error");
  });

  it("a thread terminated mid-flight rejects its unanswered recoveries (none hangs); the next recovery works on its replacement", async () => {
    const cases = await signed(40);
    configureSignerRecovery({ threads: 2 });
    const settled = Promise.all(cases.map((c) => outcome(recoverDigestSigner(c.hash, c.signature))));
    const [victim] = signerRecoveryWorkersForTesting();
    await victim!.terminate();
    const outcomes = await settled;
    const rejected = outcomes.filter((o) => "error" in o);
    expect(rejected.length).to.be.greaterThan(0);
    for (const o of rejected)
      expect(o)
        .to.have.property("error")
        .that.matches(/^a signer recovery thread exited with code \d+ before answering$/);
    outcomes.forEach((o, i) => {
      if ("value" in o) expect(o.value).to.equal(cases[i]!.signer);
    });
    const workers = signerRecoveryWorkersForTesting();
    expect(workers).to.have.length(2);
    expect(workers).to.not.include(victim);
    const next = await Promise.all(cases.slice(0, 4).map((c) => recoverDigestSigner(c.hash, c.signature)));
    expect(next).to.deep.equal(cases.slice(0, 4).map((c) => c.signer));
  });

  it("close() rejects unanswered recoveries, terminates the threads and goes back to in-thread", async () => {
    const cases = await signed(20);
    const portsBefore = openPorts();
    configureSignerRecovery({ threads: 2 });
    const settled = Promise.all(cases.map((c) => outcome(recoverDigestSigner(c.hash, c.signature))));
    await closeSignerRecovery();
    for (const o of await settled) expect(o).to.deep.equal({ error: "signer recovery closed before answering" });
    expect(signerRecoveryWorkersForTesting()).to.have.length(0);
    expect(openPorts()).to.equal(portsBefore);
    expect(await recoverDigestSigner(cases[0]!.hash, cases[0]!.signature)).to.equal(cases[0]!.signer);
  });

  it("idle threads never hold a process open: a script that recovers once and never closes still exits", async function () {
    this.timeout(30_000);
    const [c] = await signed(1);
    const module = fileURLToPath(new URL("../../protocol/signerRecovery.ts", import.meta.url));
    // a file, not --eval: worker threads inherit the parent's flags, and --input-type breaks them
    const script = join(mkdtempSync(join(tmpdir(), "versatus-recovery-")), "recoverOnce.mjs");
    writeFileSync(
      script,
      `import { configureSignerRecovery, recoverDigestSigner } from ${JSON.stringify(module)};
      configureSignerRecovery({ threads: 2 });
      console.log(await recoverDigestSigner(${JSON.stringify(c!.hash)}, ${JSON.stringify(c!.signature)}));`,
    );
    const { stdout } = await promisify(execFile)(process.execPath, [script], {
      timeout: 20_000,
    });
    expect(stdout.trim()).to.equal(c!.signer);
  });

  it("threads that cannot even start are given up after 3 deaths in a row, with a warning; recoveries then run in-thread", async function () {
    this.timeout(30_000);
    const [c] = await signed(1);
    const module = fileURLToPath(new URL("../../protocol/signerRecovery.ts", import.meta.url));
    // worker threads inherit --input-type, which they refuse: every thread dies while loading
    const script = `
      import { configureSignerRecovery, recoverDigestSigner } from ${JSON.stringify(module)};
      configureSignerRecovery({ threads: 2 });
      for (let attempt = 0; attempt < 100; attempt++) {
        try {
          console.log(await recoverDigestSigner(${JSON.stringify(c!.hash)}, ${JSON.stringify(c!.signature)}));
          break;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }`;
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["--input-type=module", "--eval", script], {
      timeout: 20_000,
    });
    expect(stdout.trim()).to.equal(c!.signer);
    expect(stderr).to.match(/3 signer recovery threads in a row died before answering.*on the main thread/);
  });

  it("two users share one setting: the first close leaves the threads to the other, the last close ends them", async () => {
    const [c] = await signed(1);
    configureSignerRecovery({ threads: 2 });
    configureSignerRecovery({ threads: 2 });
    await closeSignerRecovery();
    expect(signerRecoveryWorkersForTesting()).to.have.length(2);
    expect(await recoverDigestSigner(c!.hash, c!.signature)).to.equal(c!.signer);
    await closeSignerRecovery();
    expect(signerRecoveryWorkersForTesting()).to.have.length(0);
  });

  it("0 threads (the default) recovers in-thread; a count that is not an integer from 0 to 16 is refused", async () => {
    const [c] = await signed(1);
    configureSignerRecovery({ threads: 0 });
    expect(signerRecoveryWorkersForTesting()).to.have.length(0);
    expect(await recoverDigestSigner(c!.hash, c!.signature)).to.equal(c!.signer);
    for (const threads of [-1, 17, 1.5, Number.NaN])
      expect(() => configureSignerRecovery({ threads })).to.throw(RangeError, /from 0 to 16/);
  });
});
