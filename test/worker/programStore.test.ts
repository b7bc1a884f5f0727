import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_LIMITS, encodePackage, type ProgramPackage } from "../../protocol/programPackage.ts";
import {
  ProgramHashMismatchError,
  ProgramNotFoundError,
  ProgramStore,
  ProgramUnavailableError,
} from "../../worker/programStore.ts";

/**
 * Issue 11 item 9: program fetch has a size cap, tries the next URL when one stalls, fails, sends
 * too much or sends the wrong bytes, and wrong bytes from a URL are not fatal while another source
 * may serve the right ones.
 */

const module = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
const pkg: ProgramPackage = encodePackage({ name: "fetched", version: "1.0.0", limits: { ...DEFAULT_LIMITS } }, module);
const other = encodePackage({ name: "other", version: "1.0.0", limits: { ...DEFAULT_LIMITS } }, module);
const id = pkg.programId;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("worker: program store fetch (issue 11 item 9)", function () {
  this.timeout(60_000);
  let server: Server;
  let base: string;
  /** Bytes the endless routes managed to push before the client gave up. */
  const sent: Record<string, number> = {};
  const open = new Set<ServerResponse>();

  async function endless(route: string, res: ServerResponse, chunk: number, everyMs: number) {
    sent[route] = 0;
    open.add(res);
    while (!res.destroyed && open.has(res)) {
      res.write(new Uint8Array(chunk));
      sent[route] += chunk;
      await sleep(everyMs);
    }
  }

  before(async () => {
    server = createServer((req, res) => {
      const route = req.url!.split("/")[1]!;
      res.on("close", () => open.delete(res));
      switch (route) {
        case "good":
          res.end(pkg.bytes);
          return;
        case "maintenance":
          res.setHeader("content-type", "text/html");
          res.end("<html><body>down for maintenance</body></html>");
          return;
        case "other":
          res.end(other.bytes);
          return;
        case "error":
          res.statusCode = 503;
          res.end("try later");
          return;
        case "missing":
          res.statusCode = 404;
          res.end();
          return;
        case "stall":
          // headers and half the package, then nothing
          res.setHeader("content-length", String(pkg.bytes.length));
          res.write(pkg.bytes.subarray(0, 8));
          open.add(res);
          return;
        case "huge-declared":
          res.setHeader("content-length", String(1024 * 1024 * 1024));
          void endless(route, res, 64 * 1024, 1);
          return;
        case "huge-chunked":
          void endless(route, res, 64 * 1024, 1);
          return;
        case "trickle":
          void endless(route, res, 1, 20);
          return;
        default:
          res.statusCode = 500;
          res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    for (const res of open) res.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const store = (routes: string[], options: { dirs?: string[]; total?: number; max?: number } = {}) =>
    new ProgramStore({
      dirs: options.dirs ?? [],
      urls: routes.map((route) => `${base}/${route}`),
      httpTimeoutMs: 300,
      httpTotalTimeoutMs: options.total ?? 5_000,
      maxPackageBytes: options.max ?? 1024 * 1024,
    });

  it("tries the next URL after a stalled body", async () => {
    const started = Date.now();
    expect((await store(["stall", "good"]).get(id)).programId).to.equal(id);
    expect(Date.now() - started).to.be.lessThan(3_000);
  });

  it("tries the next URL after wrong bytes (a maintenance page, another package)", async () => {
    expect((await store(["maintenance", "other", "good"]).get(id)).programId).to.equal(id);
  });

  it("tries the next URL after an HTTP error", async () => {
    expect((await store(["error", "missing", "good"]).get(id)).programId).to.equal(id);
  });

  it("refuses a body declared over the cap without downloading it", async () => {
    expect((await store(["huge-declared", "good"]).get(id)).programId).to.equal(id);
    expect(sent["huge-declared"] ?? 0).to.be.lessThan(64 * 1024 * 1024);
  });

  it("stops reading an undeclared body at the cap", async () => {
    const error = await store(["huge-chunked"], { max: 256 * 1024 })
      .get(id)
      .catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ProgramUnavailableError);
    expect((error as ProgramUnavailableError).details).to.contain("over the 262144-byte cap");
    await sleep(100);
    expect(sent["huge-chunked"]).to.be.lessThan(32 * 1024 * 1024);
  });

  it("gives up on a body that trickles past the total timeout, and tries the next URL", async () => {
    const started = Date.now();
    expect((await store(["trickle", "good"], { total: 800 }).get(id)).programId).to.equal(id);
    expect(Date.now() - started).to.be.lessThan(3_000);
  });

  it("is transient when only wrong bytes, errors or stalls were found", async () => {
    for (const routes of [["maintenance"], ["error"], ["stall"], ["maintenance", "missing"]]) {
      const error = await store(routes)
        .get(id)
        .catch((e: unknown) => e);
      expect(error, routes.join(",")).to.be.instanceOf(ProgramUnavailableError);
      expect((error as ProgramUnavailableError).permanent).to.equal(false);
    }
  });

  it("is transient (not found) when every URL says it does not have the program", async () => {
    const error = await store(["missing"])
      .get(id)
      .catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ProgramNotFoundError);
    expect((error as ProgramNotFoundError).permanent).to.equal(false);
  });

  describe("with a local copy", () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "versatus-store-"));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("a bad local copy is permanent only when no URL may still serve the program", async () => {
      const tampered = Uint8Array.from(pkg.bytes);
      tampered[tampered.length - 1]! ^= 1;
      writeFileSync(join(dir, `${id}.vpkg`), tampered);
      const permanent = await store(["missing"], { dirs: [dir] })
        .get(id)
        .catch((e: unknown) => e);
      expect(permanent).to.be.instanceOf(ProgramHashMismatchError);
      expect((permanent as ProgramHashMismatchError).permanent).to.equal(true);
      const transient = await store(["maintenance"], { dirs: [dir] })
        .get(id)
        .catch((e: unknown) => e);
      expect(transient).to.be.instanceOf(ProgramUnavailableError);
      expect((await store(["maintenance", "good"], { dirs: [dir] }).get(id)).programId).to.equal(id);
    });

    it("does not read a local file over the cap", async () => {
      writeFileSync(join(dir, `${id}.vpkg`), new Uint8Array(2 * 1024 * 1024));
      const error = await store(["missing"], { dirs: [dir] })
        .get(id)
        .catch((e: unknown) => e);
      expect(error).to.be.instanceOf(ProgramNotFoundError);
      expect((await store(["good"], { dirs: [dir] }).get(id)).programId).to.equal(id);
    });
  });
});
