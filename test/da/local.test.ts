import { expect } from "chai";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createHash } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { bytesToHex } from "viem";
import { IntegrityError, RecordNotFoundError } from "../../da/errors.ts";
import { LocalStore } from "../../da/local.ts";
import { DaClient } from "../../da/client.ts";
import { encodeRecord, recordToJson } from "../../protocol/record.ts";
import { sampleRecord } from "../fakes/records.ts";
import { rejection, tempDir } from "./helpers.ts";

describe("da/local store", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(async () => cleanup());

  it("addresses a record by the sha256 of its bytes and reads it back", async () => {
    const store = new LocalStore({ dir });
    const bytes = encodeRecord(sampleRecord());
    const pointer = await store.put(bytes);
    expect(pointer).to.deep.equal({ kind: "local", sha256: bytesToHex(createHash("sha256").update(bytes).digest()) });
    expect(bytesToHex(await store.get(pointer))).to.equal(bytesToHex(bytes));
  });

  it("survives a restart: a new store over the same directory reads what the old one wrote", async () => {
    const first = new DaClient({ primary: new LocalStore({ dir }) });
    const { pointerHex } = await first.put(sampleRecord(7));
    await first.close();
    const second = new DaClient({ primary: new LocalStore({ dir }) });
    expect(recordToJson(await second.get(pointerHex))).to.deep.equal(recordToJson(sampleRecord(7)));
  });

  it("writing the same record twice gives the same pointer and one file", async () => {
    const store = new LocalStore({ dir });
    const bytes = encodeRecord(sampleRecord());
    const [a, b] = await Promise.all([store.put(bytes), store.put(bytes)]);
    expect(a).to.deep.equal(b);
    const path = store.pathFor((a as { sha256: `0x${string}` }).sha256);
    expect(await readdir(dirname(path))).to.deep.equal([path.split("/").pop()]);
  });

  it("leaves no temporary files behind", async () => {
    const store = new LocalStore({ dir });
    for (let i = 0; i < 5; i++) await store.put(encodeRecord(sampleRecord(i)));
    const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith(".tmp"));
    expect(files).to.deep.equal([]);
  });

  it("reports a missing record as RecordNotFoundError", async () => {
    const store = new LocalStore({ dir });
    const error = await rejection(store.get({ kind: "local", sha256: `0x${"00".repeat(32)}` }));
    expect(error).to.be.instanceOf(RecordNotFoundError);
  });

  it("detects a file whose content no longer matches its name", async () => {
    const store = new LocalStore({ dir });
    const pointer = await store.put(encodeRecord(sampleRecord()));
    const path = store.pathFor((pointer as { sha256: `0x${string}` }).sha256);
    const bytes = await readFile(path);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    await writeFile(path, bytes);
    expect(await rejection(store.get(pointer))).to.be.instanceOf(IntegrityError);
  });
});

describe("da/local store group commit", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(async () => cleanup());

  it("resolves every one of many concurrent puts, each readable right after, no temporary files left", async () => {
    const store = new LocalStore({ dir });
    const records = Array.from({ length: 64 }, (_, i) => encodeRecord(sampleRecord(i)));
    const pointers = await Promise.all(records.map((bytes) => store.put(bytes)));
    for (const [i, pointer] of pointers.entries())
      expect(bytesToHex(await store.get(pointer))).to.equal(bytesToHex(records[i]!));
    expect((await readdir(dir, { recursive: true })).filter((f) => f.endsWith(".tmp"))).to.deep.equal([]);
  });

  it("a put that resolved survives the writer being killed mid-burst (SIGKILL right after the resolutions)", async () => {
    const child = spawn(process.execPath, [fileURLToPath(new URL("./putsThenWaits.ts", import.meta.url)), dir, "200"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const resolved: { index: number; sha256: `0x${string}` }[] = [];
    await new Promise<void>((done, fail) => {
      createInterface({ input: child.stdout! }).on("line", (line) => {
        const [index, sha256] = line.split(" ");
        resolved.push({ index: Number(index), sha256: sha256 as `0x${string}` });
        // kill while other puts of the burst are still being written or committed
        if (resolved.length === 50) child.kill("SIGKILL");
      });
      child.on("exit", () => done());
      child.on("error", fail);
    });
    expect(resolved.length).to.be.at.least(50);
    const reopened = new LocalStore({ dir });
    for (const { index, sha256 } of resolved) {
      const bytes = await reopened.get({ kind: "local", sha256 });
      expect(new TextDecoder().decode(bytes)).to.equal(`record ${index} ${"x".repeat(2_000 + index)}`);
    }
  });
});
