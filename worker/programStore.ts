import { createHash } from "node:crypto";
import { open, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Hex } from "viem";
import { BaseError, redactUrl } from "../protocol/errors.ts";
import { decodePackage, type ProgramPackage } from "../protocol/programPackage.ts";
import { MAX_MODULE_BYTES } from "../runtime/limits.ts";

/**
 * Where a worker gets program packages, by content address (SPEC 4: `programId = sha256(package)`).
 *
 * Sources, in order: each directory in `dirs` (first `<dir>/<programId>.vpkg`, then an index of
 * every `*.vpkg` below the directory keyed by the sha256 of its bytes, so `programs/<name>/build/
 * <name>.vpkg` is found by name-free content hash), then each HTTP store in `urls`
 * (`GET <url>/<programId>`). Bytes are always hashed and checked before use, and nothing larger
 * than `maxPackageBytes` is read or downloaded (a package of a loadable module cannot be larger).
 *
 * A source that fails is skipped and the next one tried: an HTTP error, a connection or body that
 * stalls past `httpTimeoutMs` (headers, then each chunk of the body), a download longer than
 * `httpTotalTimeoutMs`, a body over the size cap, or bytes of another hash. When no source has the
 * right bytes:
 * - if a URL failed in any of those ways, the failure is transient (ProgramUnavailableError): the
 *   store may be down or serving a maintenance page, and the right bytes may come back;
 * - else if a local file under the program's name had wrong bytes, it is permanent
 *   (ProgramHashMismatchError: this node's copy is bad until its operator replaces it);
 * - else it is transient (ProgramNotFoundError: it may be published later).
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

/** Every URL that could have served the program failed; another attempt may find it. */
export class ProgramUnavailableError extends BaseError {
  override name = "ProgramUnavailableError";
  readonly failures: string[];
  constructor(programId: Hex, failures: string[]) {
    super(`Program ${programId} could not be fetched`, { details: failures.join("; "), permanent: false });
    this.failures = failures;
  }
}

/** Largest package accepted from any source: the largest loadable module plus room for its manifest. */
export const MAX_PACKAGE_BYTES = MAX_MODULE_BYTES + 1024 * 1024;

export type ProgramStoreOptions = {
  dirs?: string[];
  urls?: string[];
  /** Longest wait for response headers, and between two chunks of a body. Default 5 s. */
  httpTimeoutMs?: number;
  /** Longest download of one package from one URL. Default 60 s. */
  httpTotalTimeoutMs?: number;
  /** Largest package read or downloaded. Default MAX_PACKAGE_BYTES. */
  maxPackageBytes?: number;
  cacheSize?: number;
  /** Minimum time between two directory re-indexes triggered by a miss. */
  reindexAfterMs?: number;
  /**
   * The content network (persist nodes, content/): a package is one raw block whose CID carries its
   * programId. `first`: asked before the directories and URLs; otherwise after them (a fallback).
   */
  network?: ProgramNetworkSource;
};

/** Fetches a package's bytes by content address: undefined when no peer had it in time. */
export type ProgramNetworkSource = { first: boolean; fetch(programId: Hex): Promise<Uint8Array | undefined> };

const sha256Hex = (bytes: Uint8Array): Hex => `0x${createHash("sha256").update(bytes).digest("hex")}`;

export class ProgramStore {
  private readonly dirs: string[];
  private readonly urls: string[];
  private readonly network: ProgramNetworkSource | undefined;
  private readonly timeoutMs: number;
  private readonly totalTimeoutMs: number;
  private readonly maxBytes: number;
  private readonly cacheSize: number;
  private readonly reindexAfterMs: number;
  private readonly cache = new Map<string, ProgramPackage>();
  private index = new Map<string, string>();
  private indexedAt = 0;
  private indexing: Promise<void> | undefined;

  constructor(options: ProgramStoreOptions) {
    this.dirs = options.dirs ?? [];
    this.urls = (options.urls ?? []).map((u) => u.replace(/\/+$/, ""));
    this.network = options.network;
    if (this.dirs.length + this.urls.length === 0 && !this.network)
      throw new RangeError("a program store needs a directory, a URL or the content network");
    this.timeoutMs = options.httpTimeoutMs ?? 5_000;
    this.totalTimeoutMs = options.httpTotalTimeoutMs ?? 60_000;
    this.maxBytes = options.maxPackageBytes ?? MAX_PACKAGE_BYTES;
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
    const failures: string[] = [];
    const accept = (bytes: Uint8Array | undefined, source: string, remote = false): ProgramPackage | undefined => {
      if (!bytes) return undefined;
      const actual = sha256Hex(bytes);
      if (actual !== id) {
        if (remote) failures.push(`${source}: bytes hash to ${actual}`);
        else mismatches.push(new ProgramHashMismatchError(id, source, actual));
        return undefined;
      }
      // format and manifest checks; a malformed package under the right hash is permanent too
      return decodePackage(bytes, id);
    };

    let pkg: ProgramPackage | undefined;
    const fromNetwork = async () => {
      if (pkg || !this.network) return;
      try {
        pkg = accept(await this.network.fetch(id), "content network", true);
      } catch (error) {
        failures.push(`content network: ${String(error).split("\n")[0]}`);
      }
    };
    if (this.network?.first) await fromNetwork();
    for (const dir of this.dirs) {
      for (const name of [`${id}.vpkg`, `${id.slice(2)}.vpkg`]) {
        pkg ??= accept(await this.readIfExists(join(dir, name)), join(dir, name));
      }
    }
    if (!pkg) {
      await this.reindex(false);
      let path = this.index.get(id);
      if (!path) {
        await this.reindex(true);
        path = this.index.get(id);
      }
      if (path) pkg = accept(await this.readIfExists(path), path);
    }
    for (const url of this.urls) {
      if (pkg) break;
      const source = redactUrl(`${url}/${id}`);
      const fetched = await this.fetch(`${url}/${id}`);
      if (typeof fetched === "string") {
        if (fetched !== "absent") failures.push(`${source}: ${fetched}`);
      } else pkg = accept(fetched, source, true);
    }
    if (!this.network?.first) await fromNetwork();
    if (!pkg) {
      if (failures.length > 0) throw new ProgramUnavailableError(id, failures);
      if (mismatches.length > 0) throw mismatches[0]!;
      throw new ProgramNotFoundError(id, [
        ...this.dirs,
        ...this.urls.map(redactUrl),
        ...(this.network ? ["content network"] : []),
      ]);
    }
    this.cache.set(id, pkg);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    return pkg;
  }

  /**
   * The body of `url`, or why not: "absent" (404/410: the store answered that it does not have it)
   * or a failure to note. Never throws, never buffers more than the size cap, never waits more
   * than the stall timeout for the next byte or the total timeout for the whole body.
   */
  private async fetch(url: string): Promise<Uint8Array | string> {
    const controller = new AbortController();
    let why = "";
    const abort = (reason: string) => {
      why ||= reason;
      controller.abort();
    };
    const total = setTimeout(() => abort(`no complete body within ${this.totalTimeoutMs} ms`), this.totalTimeoutMs);
    let stall = setTimeout(() => abort(`no response within ${this.timeoutMs} ms`), this.timeoutMs);
    const progress = () => {
      clearTimeout(stall);
      stall = setTimeout(() => abort(`the body stalled for ${this.timeoutMs} ms`), this.timeoutMs);
    };
    try {
      const response = await fetch(url, { signal: controller.signal });
      if (response.status === 404 || response.status === 410) {
        await response.body?.cancel().catch(() => undefined);
        return "absent";
      }
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        return `HTTP ${response.status}`;
      }
      const declared = Number(response.headers.get("content-length") ?? NaN);
      if (declared > this.maxBytes) {
        abort("");
        return `declares ${declared} bytes, over the ${this.maxBytes}-byte cap`;
      }
      progress();
      const chunks: Uint8Array[] = [];
      let size = 0;
      const reader = response.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.length;
        if (size > this.maxBytes) {
          abort("");
          return `body over the ${this.maxBytes}-byte cap`;
        }
        chunks.push(value);
        progress();
      }
      const bytes = new Uint8Array(size);
      let offset = 0;
      for (const chunk of chunks) {
        bytes.set(chunk, offset);
        offset += chunk.length;
      }
      return bytes;
    } catch (error) {
      return why || `fetch failed: ${error instanceof Error ? error.message : String(error)}`;
    } finally {
      clearTimeout(total);
      clearTimeout(stall);
    }
  }

  /** A local package, unless it is missing, unreadable or over the size cap. */
  private async readIfExists(path: string): Promise<Uint8Array | undefined> {
    try {
      const file = await open(path, "r");
      try {
        const { size } = await file.stat();
        if (!(size <= this.maxBytes)) return undefined;
        const bytes = new Uint8Array(size);
        const { bytesRead } = await file.read(bytes, 0, size, 0);
        return bytesRead === size ? bytes : undefined;
      } finally {
        await file.close();
      }
    } catch {
      return undefined;
    }
  }

  /** Rebuilds the content index of the directories (at most every reindexAfterMs unless forced by a miss). */
  private async reindex(missed: boolean): Promise<void> {
    if (this.indexedAt !== 0 && !(missed && Date.now() - this.indexedAt >= this.reindexAfterMs)) return;
    this.indexing ??= (async () => {
      const index = new Map<string, string>();
      for (const dir of this.dirs) {
        for (const path of await findPackages(dir, 4)) {
          const bytes = await this.readIfExists(path);
          if (bytes) index.set(sha256Hex(bytes), path);
        }
      }
      this.index = index;
      this.indexedAt = Date.now();
    })().finally(() => (this.indexing = undefined));
    await this.indexing;
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
