import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { withBitswap } from "@helia/bitswap";
import type { Helia, Provider, Router } from "@helia/interface";
import { unixfs, type UnixFS } from "@helia/unixfs";
import type { Libp2p, Stream } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import { MemoryDatastore } from "datastore-core";
import { createHeliaLight } from "helia";
import { CID } from "multiformats/cid";
import type { Logger } from "pino";
import type { Hex } from "viem";
import { contentHolders, mayDrop, placementEpoch, programCid } from "../protocol/content.ts";
import { toHelia } from "./cid.ts";
import { BlockHashMismatchError, openBlockstore, type HashCheckCounter } from "./blockstore.ts";
import { answerBlockRequest, blockProtocol, frame, holderBlockBroker, readMessage } from "./blockExchange.ts";
import { importBundle, rawCid, type BundleEntry } from "./bundle.ts";

/**
 * The content layer of a node (issue 17 item 3, docs/content.md): Helia (the JavaScript IPFS) on
 * the node's own libp2p, with bitswap for block exchange and a blockstore that checks every
 * block's hash. Every node with it can fetch by CID; a `persist` node also holds the resources the
 * placement rule (protocol/content.ts) gives it, and rotates them.
 *
 * Who holds what travels on a small request/response protocol, `/versatus/<network>/content/1.0.0`:
 * each node asks its connected peers every `reportIntervalMs` for their report (persist or not,
 * the CIDs they hold). Not gossip: network/ validates every gossip topic against operator bindings,
 * and a report is only useful to the peers one is connected to anyway.
 *
 * Blocks come from the peers those reports name, over `/versatus/<network>/block/1.0.0`
 * (content/blockExchange.ts: why bitswap alone lost re-fetches), raced against bitswap.
 */

export type ContentNodeOptions = {
  libp2p: Libp2p;
  network: string;
  /** Blocks and the list of held resources live here; absent: in memory (a node that only fetches). */
  dataDir?: string;
  /** Hold resources by the placement rule (the persist role). */
  persist: boolean;
  /** R: persist nodes holding each resource. */
  replicas: number;
  /** The placement epoch length: holders change every epoch. */
  rotationMs: number;
  /** How often peers' reports are read and holdings reconciled. */
  reportIntervalMs: number;
  /** A fetch of one resource gives up after this long (retried next round). */
  fetchTimeoutMs: number;
  /** Reports counted only from these peers (the node: bound active operators). Default: all. */
  isTrusted?: (peerId: string) => boolean;
  log: Logger;
  /** The clock of the placement epoch (tests move it); report ages use the real clock. */
  now?: () => number;
  /** false only for attack tests: a peer that serves whatever its store holds. */
  verifyBlocks?: boolean;
  onHashMismatch?: HashCheckCounter;
};

type PeerReport = { persist: boolean; holds: Set<string>; seenAt: number; addrs: string[] };

export type ContentEvent = {
  at: number;
  kind: "acquired" | "dropped" | "fetch-failed" | "published";
  cid: string;
  detail?: string;
};

export type ContentStatus = {
  peerId: string;
  persist: boolean;
  replicas: number;
  rotationMs: number;
  epoch: number;
  persistNodes: string[];
  held: { cid: string; holder: boolean; holders: string[] }[];
  peers: { peerId: string; persist: boolean; holds: number; ageMs: number }[];
  events: ContentEvent[];
  hashMismatches: number;
};

const MAX_REPORT_BYTES = 4 * 1024 * 1024;
const MAX_EVENTS = 50;
const HOLDINGS_FILE = "holdings.json";

export const contentProtocol = (network: string) => `/versatus/${network}/content/1.0.0`;

export class ContentNode {
  readonly helia: Helia;
  readonly fs: UnixFS;
  readonly peerId: string;
  private readonly options: ContentNodeOptions;
  private readonly now: () => number;
  private readonly holdings = new Set<string>();
  private readonly reports = new Map<string, PeerReport>();
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly events: ContentEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private closed = false;
  private readonly stopping = new AbortController();
  private mismatches = 0;

  private constructor(options: ContentNodeOptions, helia: Helia) {
    this.options = options;
    this.helia = helia;
    this.fs = unixfs(helia);
    this.peerId = options.libp2p.peerId.toString();
    this.now = options.now ?? Date.now;
  }

  static async start(options: ContentNodeOptions): Promise<ContentNode> {
    const blocksDir = options.dataDir === undefined ? undefined : join(options.dataDir, "blocks");
    if (blocksDir) await mkdir(blocksDir, { recursive: true });
    // The mismatch counter needs the node, which needs the blockstore first.
    const counter = { node: undefined as ContentNode | undefined };
    const blockstore = await openBlockstore({
      ...(blocksDir === undefined ? {} : { dir: blocksDir }),
      verify: options.verifyBlocks ?? true,
      onMismatch: (where) => {
        if (counter.node) counter.node.mismatches++;
        options.onHashMismatch?.(where);
      },
    });
    const helia = createHeliaLight({
      blockstore,
      datastore: new MemoryDatastore(),
      routers: [],
    });
    // Helia's libp2p mixin creates its own libp2p; the node already has one, so bitswap and the
    // router below use it directly.
    Object.defineProperty(helia, "libp2p", { value: options.libp2p, enumerable: true });
    const node = new ContentNode(options, helia);
    counter.node = node;
    helia.addRouter(node.router());
    helia.addBlockBroker(
      holderBlockBroker({
        libp2p: options.libp2p,
        network: options.network,
        candidates: (cid) => node.blockCandidates(cid),
        // Slow peers do not hold back the others (hedging); this only ends a hung one's request so
        // that a last pass with fresh candidates still fits. On a busy machine a tiny block took 2 s.
        perPeerTimeoutMs: Math.max(1_000, (options.fetchTimeoutMs * 3) / 4),
        retryDelayMs: Math.min(500, options.reportIntervalMs),
        hedgeMs: 500,
        onForged: () => {
          node.mismatches++;
          options.onHashMismatch?.("put");
        },
        log: options.log,
      }),
    );
    withBitswap(helia as never, {
      // A program package is one raw block, up to MAX_PACKAGE_BYTES (17 MiB).
      maxIncomingMessageSize: 20 * 1024 * 1024,
      maxOutgoingMessageSize: 20 * 1024 * 1024,
    });
    await helia.start();
    await node.loadHoldings();
    await options.libp2p.handle(contentProtocol(options.network), (stream) => node.answer(stream), {
      maxInboundStreams: 64,
    });
    await options.libp2p.handle(
      blockProtocol(options.network),
      (stream) => answerBlockRequest(stream, blockstore, options.log),
      // A DAG walk asks for many blocks of one peer at once.
      { maxInboundStreams: 256, maxOutboundStreams: 256 },
    );
    node.timer = setInterval(() => void node.tick(), options.reportIntervalMs);
    node.timer.unref();
    void node.tick();
    return node;
  }

  // ------------------------------------------------------------------ resources

  /** Imports a static bundle, holds it, returns its CID. */
  async addBundle(entries: BundleEntry[]): Promise<CID> {
    const cid = await importBundle(this.helia.blockstore, entries);
    await this.hold(cid, "published");
    return cid;
  }

  /** Stores one raw block (a program package), holds it, returns its CID. */
  async addRaw(bytes: Uint8Array): Promise<CID> {
    const cid = rawCid(bytes);
    await this.helia.blockstore.put(toHelia(cid), bytes);
    await this.hold(cid, "published");
    return cid;
  }

  /** The bytes of a raw block (local, else fetched from peers), hash-checked. */
  async getRaw(cid: CID, signal?: AbortSignal): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    for await (const chunk of this.helia.blockstore.get(toHelia(cid), { signal: signal ?? this.fetchSignal() }))
      chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  /** A program package by its id (a raw block whose CID carries the id), or undefined when no peer had it in time. */
  async getProgramPackage(programId: Hex): Promise<Uint8Array | undefined> {
    try {
      return await this.getRaw(programCid(programId));
    } catch (error) {
      if (error instanceof BlockHashMismatchError) throw error;
      return undefined;
    }
  }

  holds(cid: CID | string): boolean {
    return this.holdings.has(cid.toString());
  }

  fetchSignal(): AbortSignal {
    return AbortSignal.any([AbortSignal.timeout(this.options.fetchTimeoutMs), this.stopping.signal]);
  }

  private async hold(cid: CID, kind: "published" | "acquired"): Promise<void> {
    await this.pin(cid);
    this.holdings.add(cid.toString());
    this.event(kind, cid.toString());
    await this.saveHoldings();
  }

  private async pin(cid: CID, signal?: AbortSignal): Promise<void> {
    if (await this.helia.pins.isPinned(toHelia(cid))) return;
    for await (const _ of this.helia.pins.add(toHelia(cid), { ...(signal ? { signal } : {}) })) void _;
  }

  // ------------------------------------------------------------------ reports

  private report(): Uint8Array {
    return Buffer.from(JSON.stringify({ persist: this.options.persist, holds: [...this.holdings] }));
  }

  private async answer(stream: Stream): Promise<void> {
    try {
      stream.send(frame(this.report()));
      // Both ends close their writable side once the report is through; not awaited (it waits for the asker).
      stream.close().catch(() => undefined);
    } catch (error) {
      stream.abort(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private async readReport(peerId: string): Promise<void> {
    const signal = AbortSignal.timeout(Math.max(1_000, this.options.reportIntervalMs));
    const stream = await this.options.libp2p.dialProtocol(
      peerIdFromString(peerId),
      contentProtocol(this.options.network),
      {
        signal,
      },
    );
    const onAbort = () => stream.abort(new Error("content report timed out"));
    signal.addEventListener("abort", onAbort, { once: true });
    let bytes: Uint8Array;
    try {
      bytes = await readMessage(stream, MAX_REPORT_BYTES);
    } finally {
      signal.removeEventListener("abort", onAbort);
      // The request is empty: our writable end closes once the answer is in (the answerer's close waits for it).
      stream.close().catch(() => undefined);
    }
    const parsed = JSON.parse(Buffer.from(bytes).toString("utf8")) as { persist?: unknown; holds?: unknown };
    const holds = Array.isArray(parsed.holds)
      ? parsed.holds.filter((c): c is string => typeof c === "string" && CID.parse(c) !== undefined)
      : [];
    const addrs = this.options.libp2p.getConnections(peerIdFromString(peerId)).map((c) => c.remoteAddr.toString());
    this.reports.set(peerId, { persist: parsed.persist === true, holds: new Set(holds), seenAt: Date.now(), addrs });
  }

  private async readReports(): Promise<void> {
    const peers = [...new Set(this.options.libp2p.getConnections().map((c) => c.remotePeer.toString()))];
    await Promise.all(
      peers.map(async (peer) => {
        if (this.options.isTrusted && !this.options.isTrusted(peer)) return;
        let timer: NodeJS.Timeout | undefined;
        try {
          // A peer that never answers must not hold up the round.
          await Promise.race([
            this.readReport(peer),
            new Promise((_, reject) => {
              timer = setTimeout(
                () => reject(new Error("report timeout")),
                2 * Math.max(1_000, this.options.reportIntervalMs),
              );
            }),
          ]);
        } catch (error) {
          // Not a content node (no such protocol), or gone: its old report ages out.
          this.options.log.debug({ peer, err: String(error) }, "content report not read");
        } finally {
          clearTimeout(timer);
        }
      }),
    );
  }

  /** Whether `peer`'s report counts (isTrusted, read each time: operator bindings change). */
  private isBelieved(peer: string): boolean {
    return !this.options.isTrusted || this.options.isTrusted(peer);
  }

  /** Reports younger than three periods, trusted peers only. */
  private freshReports(): Map<string, PeerReport> {
    const maxAge = 3 * this.options.reportIntervalMs;
    const fresh = new Map<string, PeerReport>();
    for (const [peer, report] of this.reports)
      if (Date.now() - report.seenAt <= maxAge && this.isBelieved(peer)) fresh.set(peer, report);
    return fresh;
  }

  // ------------------------------------------------------------------ placement

  private persistNodes(reports: Map<string, PeerReport>): string[] {
    const nodes = [...reports.entries()].filter(([, r]) => r.persist).map(([peer]) => peer);
    if (this.options.persist) nodes.push(this.peerId);
    return nodes;
  }

  epoch(): number {
    return placementEpoch(this.now(), this.options.rotationMs);
  }

  /** One round: read reports, acquire what this node must hold, drop what the new holders have. */
  async tick(): Promise<void> {
    if (this.closed) return;
    this.round ??= (async () => {
      try {
        await this.readReports();
        if (!this.closed) await this.reconcile();
      } catch (error) {
        this.options.log.warn({ err: String(error) }, "content round failed");
      } finally {
        this.round = undefined;
      }
    })();
    return this.round;
  }

  private async reconcile(): Promise<void> {
    const reports = this.freshReports();
    const persistNodes = this.persistNodes(reports);
    const epoch = this.epoch();
    const known = new Set<string>(this.holdings);
    for (const report of reports.values()) for (const cid of report.holds) known.add(cid);
    const { replicas } = this.options;
    let dropped = false;
    for (const cid of known) {
      const holders = contentHolders(cid, persistNodes, epoch, replicas);
      const mine = this.options.persist && holders.includes(this.peerId);
      if (mine && !this.holdings.has(cid)) this.acquire(cid);
      if (!mine && this.holdings.has(cid)) {
        const may = mayDrop({
          cid,
          self: this.peerId,
          persistNodes,
          epoch,
          replicas,
          has: (peer) => (peer === this.peerId ? this.holdings.has(cid) : reports.get(peer)?.holds.has(cid) === true),
        });
        if (may) {
          for await (const _ of this.helia.pins.rm(toHelia(CID.parse(cid)))) void _;
          this.holdings.delete(cid);
          this.event("dropped", cid, `epoch ${epoch}`);
          dropped = true;
        }
      }
    }
    if (dropped) {
      await this.saveHoldings();
      await this.helia
        .gc()
        .catch((error: unknown) => this.options.log.warn({ err: String(error) }, "content gc failed"));
    }
  }

  /** Fetches and holds `cid` (one fetch per CID at a time; a failure is retried next round). */
  private acquire(cid: string): void {
    if (this.inflight.has(cid)) return;
    const run = (async () => {
      try {
        await this.pin(CID.parse(cid), this.fetchSignal());
        if (this.closed) return;
        this.holdings.add(cid);
        this.event("acquired", cid);
        await this.saveHoldings();
      } catch (error) {
        const detail = error instanceof BlockHashMismatchError ? error.message : String(error).split("\n")[0]!;
        this.event("fetch-failed", cid, detail);
        this.options.log.warn({ cid, err: detail }, "content fetch failed: retried next round");
      } finally {
        this.inflight.delete(cid);
      }
    })();
    this.inflight.set(cid, run);
  }

  /** Waits for the fetches started so far (tests, shutdown). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.inflight.values()]);
  }

  private connected(peer: string): boolean {
    return this.options.libp2p.getConnections(peerIdFromString(peer)).some((c) => c.status === "open");
  }

  /**
   * The peers to ask for a block, best first, connected now (a stopped holder has no open
   * connection, so it is never asked): those whose fresh report holds `cid` itself (a resource
   * root or a program package), then those holding any resource (a block's resource is not known
   * here), then every other content peer that ever reported (stale reports, caches).
   */
  blockCandidates(cid: string): string[] {
    const fresh = this.freshReports();
    const ranked = (peer: string) => {
      const report = fresh.get(peer);
      if (report?.holds.has(cid)) return 0;
      if (report && report.holds.size > 0) return 1;
      return 2;
    };
    return [...this.reports.keys()]
      .filter((peer) => peer !== this.peerId && this.isBelieved(peer) && this.connected(peer))
      .sort((a, b) => ranked(a) - ranked(b));
  }

  /**
   * Routing for Helia: the providers of a CID are the connected peers whose report says they hold
   * it (a bitswap want also goes to every connected peer).
   */
  private router(): Router {
    const freshReports = () => this.freshReports();
    const connected = (peer: string) => this.connected(peer);
    const connectionsOf = (peer: string) => this.options.libp2p.getConnections(peerIdFromString(peer));
    return {
      name: "versatus-content-reports",
      async *findProviders(cid: { toString(): string }): AsyncGenerator<Provider> {
        for (const [peer, report] of freshReports()) {
          if (!report.holds.has(cid.toString()) || !connected(peer)) continue;
          yield {
            id: peerIdFromString(peer).toCID(),
            multiaddrs: connectionsOf(peer).map((c) => c.remoteAddr),
            router: "versatus-content-reports",
          } as unknown as Provider;
        }
      },
    } as Router;
  }

  // ------------------------------------------------------------------ persistence, status, close

  private async loadHoldings(): Promise<void> {
    if (!this.options.dataDir) return;
    let list: unknown;
    try {
      list = JSON.parse(await readFile(join(this.options.dataDir, HOLDINGS_FILE), "utf8"));
    } catch {
      return;
    }
    if (!Array.isArray(list)) return;
    for (const cid of list) {
      if (typeof cid !== "string") continue;
      try {
        // The blocks are on disk: pinning walks them locally (a missing one is fetched).
        await this.pin(CID.parse(cid), this.fetchSignal());
        this.holdings.add(cid);
      } catch (error) {
        this.options.log.warn(
          { cid, err: String(error) },
          "a held resource could not be restored: fetched again if still placed here",
        );
      }
    }
  }

  private async saveHoldings(): Promise<void> {
    if (!this.options.dataDir) return;
    const file = join(this.options.dataDir, HOLDINGS_FILE);
    await writeFile(`${file}.tmp`, JSON.stringify([...this.holdings]));
    await rename(`${file}.tmp`, file);
  }

  private event(kind: ContentEvent["kind"], cid: string, detail?: string): void {
    this.events.push({ at: Date.now(), kind, cid, ...(detail === undefined ? {} : { detail }) });
    if (this.events.length > MAX_EVENTS) this.events.shift();
  }

  status(): ContentStatus {
    const reports = this.freshReports();
    const persistNodes = this.persistNodes(reports);
    const epoch = this.epoch();
    return {
      peerId: this.peerId,
      persist: this.options.persist,
      replicas: this.options.replicas,
      rotationMs: this.options.rotationMs,
      epoch,
      persistNodes,
      held: [...this.holdings].map((cid) => {
        const holders = contentHolders(cid, persistNodes, epoch, this.options.replicas);
        return { cid, holder: holders.includes(this.peerId), holders };
      }),
      peers: [...this.reports.entries()].map(([peerId, r]) => ({
        peerId,
        persist: r.persist,
        holds: r.holds.size,
        ageMs: Date.now() - r.seenAt,
      })),
      events: [...this.events],
      hashMismatches: this.mismatches,
    };
  }

  /** Stops the rounds, the protocol handler and Helia (not the libp2p node: its owner stops it). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.stopping.abort();
    const steps: [string, () => Promise<unknown>][] = [
      ["round", async () => this.round],
      ["fetches", () => this.settled()],
      ["handler", () => this.options.libp2p.unhandle(contentProtocol(this.options.network))],
      ["block handler", () => this.options.libp2p.unhandle(blockProtocol(this.options.network))],
      ["helia", () => this.helia.stop()],
    ];
    for (const [name, step] of steps) {
      try {
        await step();
      } catch (error) {
        this.options.log.warn({ step: name, err: String(error) }, "content close step failed");
      }
    }
  }
}
