import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Hex } from "viem";
import { BaseError, redactUrl } from "../protocol/errors.ts";
import { decodePackage, type ProgramPackage } from "../protocol/programPackage.ts";

/**
 * Where a worker gets program packages, by content address (SPEC 4: `programId = sha256(package)`).
 *
 * Sources, in order: each directory in `dirs` (first `<dir>/<programId>.vpkg`, then an index of
 * every `*.vpkg` below the directory keyed by the sha256 of its bytes, so `programs/<name>/build/
 * <name>.vpkg` is found by name-free content hash), then each HTTP store in `urls`
 * (`GET <url>/<programId>`). Bytes are always hashed and checked before use: a source that returns
 * bytes of another hash is skipped, and if no source has the right bytes but one had wrong ones,
 * the failure is permanent (ProgramHashMismatchError); if none has the program at all it is
 * transient (ProgramNotFoundError: it may be published later).
 */

export class ProgramNotFoundError extends BaseError {
  override name = "ProgramNotFoundError";
  constructor(programId: Hex, sources: string[]) {
    super(`Program ${programId} not found`, {
      details: `looked in ${sources.join(", ") || "no source"}`,
      hints: ["build or download the package into a programs.dirs directory, or add a store to programs.urls"],
      permanent: false,
    });
  }
}

export class ProgramHashMismatchError extends BaseError {
  override name = "ProgramHashMismatchError";
  constructor(programId: Hex, source: string, actual: Hex) {
    super(`Program package from ${source} does not hash to ${programId}`, {
      details: `sha256 of the bytes is ${actual}`,
      permanent: true,
    });
  }
}

export type ProgramStoreOptions = {
  dirs?: string[];
  urls?: string[];
  httpTimeoutMs?: number;
  cacheSize?: number;
  /** Minimum time between two directory re-indexes triggered by a miss. */
  reindexAfterMs?: number;
};

const sha256Hex = (bytes: Uint8Array): Hex => `0x${createHash("sha256").update(bytes).digest("hex")}`;

export class ProgramStore {
  private readonly dirs: string[];
  private readonly urls: string[];
  private readonly timeoutMs: number;
  private readonly cacheSize: number;
  private readonly reindexAfterMs: number;
  private readonly cache = new Map<string, ProgramPackage>();
  private index = new Map<string, string>();
  private indexedAt = 0;
  private indexing: Promise<void> | undefined;

  constructor(options: ProgramStoreOptions) {
    this.dirs = options.dirs ?? [];
    this.urls = (options.urls ?? []).map((u) => u.replace(/\/+$/, ""));
    if (this.dirs.length + this.urls.length === 0) throw new RangeError("a program store needs a directory or a URL");
    this.timeoutMs = options.httpTimeoutMs ?? 5_000;
    this.cacheSize = options.cacheSize ?? 64;
    this.reindexAfterMs = options.reindexAfterMs ?? 500;
  }

  /** The verified, decoded package of `programId`. */
  async get(programId: Hex): Promise<ProgramPackage> {
    const id = programId.toLowerCase() as Hex;
    const cached = this.cache.get(id);
    if (cached) {
      this.cache.delete(id);
      this.cache.set(id, cached);
      return cached;
    }
    const mismatches: ProgramHashMismatchError[] = [];
    const accept = (bytes: Uint8Array | undefined, source: string): ProgramPackage | undefined => {
      if (!bytes) return undefined;
      const actual = sha256Hex(bytes);
      if (actual !== id) {
        mismatches.push(new ProgramHashMismatchError(id, source, actual));
        return undefined;
      }
      // format and manifest checks; a malformed package under the right hash is permanent too
      return decodePackage(bytes, id);
    };

    let pkg: ProgramPackage | undefined;
    for (const dir of this.dirs) {
      for (const name of [`${id}.vpkg`, `${id.slice(2)}.vpkg`]) {
        pkg ??= accept(await readIfExists(join(dir, name)), join(dir, name));
      }
    }
    if (!pkg) {
      await this.reindex(false);
      let path = this.index.get(id);
      if (!path) {
        await this.reindex(true);
        path = this.index.get(id);
      }
      if (path) pkg = accept(await readIfExists(path), path);
    }
    for (const url of this.urls) {
      if (pkg) break;
      pkg = accept(await this.fetch(`${url}/${id}`), redactUrl(`${url}/${id}`));
    }
    if (!pkg) {
      if (mismatches.length > 0) throw mismatches[0]!;
      throw new ProgramNotFoundError(id, [...this.dirs, ...this.urls.map(redactUrl)]);
    }
    this.cache.set(id, pkg);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    return pkg;
  }

  private async fetch(url: string): Promise<Uint8Array | undefined> {
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch {
      return undefined;
    }
    if (!response.ok) return undefined;
    return new Uint8Array(await response.arrayBuffer());
  }

  /** Rebuilds the content index of the directories (at most every reindexAfterMs unless forced by a miss). */
  private async reindex(missed: boolean): Promise<void> {
    if (this.indexedAt !== 0 && !(missed && Date.now() - this.indexedAt >= this.reindexAfterMs)) return;
    this.indexing ??= (async () => {
      const index = new Map<string, string>();
      for (const dir of this.dirs) {
        for (const path of await findPackages(dir, 4)) {
          const bytes = await readIfExists(path);
          if (bytes) index.set(sha256Hex(bytes), path);
        }
      }
      this.index = index;
      this.indexedAt = Date.now();
    })().finally(() => (this.indexing = undefined));
    await this.indexing;
  }
}

async function readIfExists(path: string): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(await readFile(path));
  } catch {
    return undefined;
  }
}

async function findPackages(dir: string, depth: number): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isFile() && entry.name.endsWith(".vpkg")) found.push(path);
    else if (entry.isDirectory() && depth > 0 && entry.name !== "node_modules" && !entry.name.startsWith(".")) {
      found.push(...(await findPackages(path, depth - 1)));
    } else if (
      entry.isSymbolicLink() &&
      entry.name.endsWith(".vpkg") &&
      (await stat(path).catch(() => null))?.isFile()
    ) {
      found.push(path);
    }
  }
  return found;
}
