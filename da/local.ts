import { createHash, randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm, stat, type FileHandle } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { bytesToHex, type Hex } from "viem";
import type { DaPointer } from "../protocol/daPointer.ts";
import { DaError, IntegrityError, RecordNotFoundError } from "./errors.ts";
import type { DaLayer } from "./types.ts";

export const DEFAULT_LOCAL_DIR = ".versatus/da";
/** The local store has no protocol limit; this only keeps a runaway record from filling a disk. */
export const DEFAULT_LOCAL_MAX_RECORD_BYTES = 64 * 1024 * 1024;

export type LocalStoreOptions = { dir?: string; maxRecordBytes?: number };

/**
 * The embedded store: one file per record, named by its sha256 (`<dir>/ab/abcdef…`), so a
 * record has one name whoever writes it and a second write of it is a no-op. Writes go to a
 * temporary file in the same directory, are fsynced, then renamed into place: a crash leaves
 * either the whole record or nothing, never a torn file under the real name.
 *
 * Group commit: puts that arrive while a commit is running wait for the next one, which fsyncs
 * all their files side by side (the filesystem folds them into one journal commit), renames
 * them, and fsyncs each directory touched once. A put resolves only after its own file and
 * rename are durable; a put that fails (its fsync or rename) rejects alone.
 */
type PendingPut = {
  handle: FileHandle;
  tmp: string;
  path: string;
  resolve: () => void;
  reject: (cause: unknown) => void;
};

export class LocalStore implements DaLayer {
  readonly kind = "local" as const;
  readonly dir: string;
  readonly maxRecordBytes: number;

  constructor(options: LocalStoreOptions = {}) {
    this.dir = resolve(options.dir ?? DEFAULT_LOCAL_DIR);
    this.maxRecordBytes = options.maxRecordBytes ?? DEFAULT_LOCAL_MAX_RECORD_BYTES;
  }

  pathFor(sha256: Hex): string {
    const hex = sha256.slice(2).toLowerCase();
    return join(this.dir, hex.slice(0, 2), hex);
  }

  async put(data: Uint8Array): Promise<DaPointer> {
    const sha256 = bytesToHex(createHash("sha256").update(data).digest());
    const path = this.pathFor(sha256);
    if (await exists(path)) return { kind: "local", sha256 };
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      const handle = await open(tmp, "wx");
      try {
        await handle.writeFile(data);
      } catch (cause) {
        await handle.close();
        throw cause;
      }
      await new Promise<void>((resolve, reject) => {
        this.#queue.push({ handle, tmp, path, resolve, reject });
        this.#commitSoon();
      });
    } catch (cause) {
      await rm(tmp, { force: true });
      throw new DaError("local", `Could not write record ${sha256} under ${this.dir}`, { cause, permanent: false });
    }
    return { kind: "local", sha256 };
  }

  /** Puts waiting for the next group commit. */
  readonly #queue: PendingPut[] = [];
  #committing: Promise<void> | undefined;

  #commitSoon(): void {
    if (this.#committing) return; // the running commit starts the next one when it ends
    this.#committing = this.#commitGroup().finally(() => {
      this.#committing = undefined;
      if (this.#queue.length > 0) this.#commitSoon();
    });
  }

  async #commitGroup(): Promise<void> {
    const group = this.#queue.splice(0);
    const synced = await Promise.all(
      group.map(async (put) => {
        try {
          await put.handle.sync();
          await put.handle.close();
          await rename(put.tmp, put.path);
          return true;
        } catch (cause) {
          await put.handle.close().catch(() => undefined);
          put.reject(cause);
          return false;
        }
      }),
    );
    const done = group.filter((_, i) => synced[i]);
    await Promise.all([...new Set(done.map((put) => dirname(put.path)))].map(syncDir));
    for (const put of done) put.resolve();
  }

  async get(pointer: DaPointer): Promise<Uint8Array> {
    if (pointer.kind !== "local")
      throw new DaError("local", `The local store cannot read a ${pointer.kind} pointer`, { permanent: true });
    const path = this.pathFor(pointer.sha256);
    let data: Uint8Array;
    try {
      data = new Uint8Array(await readFile(path));
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === "ENOENT") {
        throw new RecordNotFoundError("local", `${pointer.sha256} (no file ${path})`);
      }
      throw new DaError("local", `Could not read record ${pointer.sha256} from ${path}`, { cause, permanent: false });
    }
    const actual = bytesToHex(createHash("sha256").update(data).digest());
    if (actual !== pointer.sha256.toLowerCase()) {
      throw new IntegrityError("local", `Record file ${path} is corrupt: its sha256 is ${actual}`);
    }
    return data;
  }

  async close(): Promise<void> {}
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** fsync the directory so the rename itself survives a power cut (no-op where unsupported). */
async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some platforms cannot open or fsync directories; the file itself is already synced.
  }
}
