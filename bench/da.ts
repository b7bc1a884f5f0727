/**
 * DA benchmark: `npm run bench:da`. Prints a table and writes bench/results/da.json with
 * local_put_per_second, local_get_per_second (embedded store, every put fsynced) and
 * celestia_commitment_mb_per_second (share commitment of a max-size Celestia blob).
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_CELESTIA_MAX_RECORD_BYTES } from "../da/celestia/adapter.ts";
import { createCommitment } from "../da/celestia/commitment.ts";
import { parseNamespace } from "../da/celestia/namespace.ts";
import { LocalStore } from "../da/local.ts";
import type { DaPointer } from "../protocol/daPointer.ts";
import { encodeRecord } from "../protocol/record.ts";
import { createProgress } from "../protocol/progress.ts";
import { sampleRecord } from "../test/fakes/records.ts";

const RECORDS = Number(process.env.BENCH_DA_RECORDS ?? 2000);
const CONCURRENCY = 16;

async function timed<T>(run: () => Promise<T>): Promise<{ result: T; seconds: number }> {
  const start = process.hrtime.bigint();
  const result = await run();
  return { result, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

async function inBatches<T>(items: T[], size: number, each: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(each));
}

// No top-level await (issue 13, nodejs/node#53238): the script runs in main().
async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "versatus-bench-da-"));
  try {
    const progress = createProgress({ title: "DA benchmark", steps: 5 });
    const store = new LocalStore({ dir });
    const records = Array.from({ length: RECORDS }, (_, i) => encodeRecord(sampleRecord(i, 256)));
    const recordBytes = records[0]!.length;

    const sequentialPut = await progress.step(`local put, ${RECORDS} records, sequential`, () =>
      timed(async () => {
        const pointers: DaPointer[] = [];
        for (const bytes of records) pointers.push(await store.put(bytes));
        return pointers;
      }),
    );
    const pointers = sequentialPut.result;
    const sequentialGet = await progress.step("local get, sequential", () =>
      timed(async () => {
        for (const pointer of pointers) await store.get(pointer);
      }),
    );

    const concurrentStore = new LocalStore({ dir: join(dir, "concurrent") });
    const concurrentRecords = records.map((_, i) => encodeRecord(sampleRecord(RECORDS + i, 256)));
    const concurrentPut = await progress.step(`local put, ${CONCURRENCY} concurrent`, () =>
      timed(() => inBatches(concurrentRecords, CONCURRENCY, (bytes) => concurrentStore.put(bytes))),
    );
    const concurrentGet = await progress.step(`local get, ${CONCURRENCY} concurrent`, () =>
      timed(() => inBatches(pointers, CONCURRENCY, (pointer) => store.get(pointer))),
    );

    const namespace = parseNamespace("0x7665727361747573");
    const blob = Uint8Array.from({ length: DEFAULT_CELESTIA_MAX_RECORD_BYTES }, (_, i) => (i * 31 + 7) & 0xff);
    createCommitment({ namespace, data: blob, shareVersion: 0 }); // warm-up
    const iterations = 10;
    const commitment = await progress.step("Celestia share commitments", () =>
      timed(async () => {
        for (let i = 0; i < iterations; i++) createCommitment({ namespace, data: blob, shareVersion: 0 });
      }),
    );
    progress.done();

    const results = {
      local_put_per_second: Math.round(RECORDS / sequentialPut.seconds),
      local_get_per_second: Math.round(RECORDS / sequentialGet.seconds),
      local_put_per_second_concurrent16: Math.round(RECORDS / concurrentPut.seconds),
      local_get_per_second_concurrent16: Math.round(RECORDS / concurrentGet.seconds),
      celestia_commitment_mb_per_second: Number(((iterations * blob.length) / 1e6 / commitment.seconds).toFixed(2)),
      record_bytes: recordBytes,
      records: RECORDS,
      celestia_blob_bytes: blob.length,
      node: process.version,
      cpu: cpus()[0]?.model ?? "unknown",
      date: new Date().toISOString(),
    };

    console.table([
      {
        metric: "local put (fsync each, sequential)",
        value: `${results.local_put_per_second} records/s`,
        note: `${recordBytes} B records`,
      },
      {
        metric: "local get (sha256 checked, sequential)",
        value: `${results.local_get_per_second} records/s`,
        note: "",
      },
      {
        metric: `local put (${CONCURRENCY} concurrent)`,
        value: `${results.local_put_per_second_concurrent16} records/s`,
        note: "",
      },
      {
        metric: `local get (${CONCURRENCY} concurrent)`,
        value: `${results.local_get_per_second_concurrent16} records/s`,
        note: "",
      },
      {
        metric: "Celestia share commitment",
        value: `${results.celestia_commitment_mb_per_second} MB/s`,
        note: `${blob.length} B blob`,
      },
    ]);

    const out = join(dirname(fileURLToPath(import.meta.url)), "results", "da.json");
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`wrote ${out}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
