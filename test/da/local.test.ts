import { expect } from "chai";
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
