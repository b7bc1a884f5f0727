import type { BlockBroker, BlockRetrievalOptions } from "@helia/interface";
import type { Libp2p, Stream } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import type { FsBlockstore } from "blockstore-fs";
import type { MemoryBlockstore } from "blockstore-core";
import { CID } from "multiformats/cid";
import type { Logger } from "pino";
import { blockMatchesCid } from "../protocol/content.ts";
import { toHelia, type HeliaCid } from "./cid.ts";

/**
 * Block exchange with named peers (`/versatus/<network>/block/1.0.0`): ask one peer for one block
 * by CID, get its bytes or "not here". A Helia block broker asks the peers whose reports say they
 * hold content, live connections only, a few at a time (more when they are slow), and asks again
 * with a fresh list until the fetch's deadline.
 *
 * Why not bitswap alone: @helia/bitswap 4 never sends a want for a block again to a peer that once
 * sent it that block. The sender's ledger keeps the old entry as "sent" (it is only cleared after
 * the new want was read, and then the want is gone); the asker sends no cancels and marks the
 * want as sent. A node that had a block, dropped it (gc after a handover) and needs it again
 * (its gateway) waits until its deadline, so a gateway answered 502 after a holder was killed.
 * Bitswap stays as a second broker (plain IPFS peers speak it); the two race per block.
 */

/** A program package is one raw block, up to MAX_PACKAGE_BYTES (17 MiB): room for it. */
export const MAX_BLOCK_BYTES = 20 * 1024 * 1024;
const MAX_REQUEST_BYTES = 256;
const REQUEST_WAIT_MS = 10_000;
/** Peers asked at once for one block: each ask is a stream, and every node of a test shares one event loop. */
const PEERS_PER_WAVE = 2;
const HAVE = 1;
const DONT_HAVE = 0;

export const blockProtocol = (network: string) => `/versatus/${network}/block/1.0.0`;

/** One length-prefixed message: a 4-byte big-endian length, then the bytes. */
export const frame = (bytes: Uint8Array) => {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(bytes.length, 0);
  return Buffer.concat([header, bytes]);
};

/** Reads one length-prefixed message (see `frame`). */
export async function readMessage(stream: Stream, limit: number): Promise<Uint8Array> {
  let buffer = Buffer.alloc(0);
  for await (const chunk of stream) {
    buffer = Buffer.concat([buffer, chunk instanceof Uint8Array ? chunk : chunk.subarray()]);
    if (buffer.length >= 4) {
      const length = buffer.readUInt32BE(0);
      if (length > limit) throw new RangeError(`message larger than ${limit} bytes`);
      if (buffer.length >= 4 + length) return buffer.subarray(4, 4 + length);
    }
  }
  throw new Error("stream ended before a whole message");
}

type LocalStore = FsBlockstore | MemoryBlockstore;

/**
 * Answers block requests from the local store only (never from the network: a want must not
 * start a fetch on the answerer). The store is the hash-checking one, so a block changed on disk
 * is refused (and deleted) here and answered as "not here".
 */
export async function answerBlockRequest(stream: Stream, store: LocalStore, log: Logger): Promise<void> {
  // An asker that opens a stream and never sends its request must not keep it open.
  const timer = setTimeout(() => stream.abort(new Error("no block request in time")), REQUEST_WAIT_MS);
  try {
    const cid = CID.decode(await readMessage(stream, MAX_REQUEST_BYTES));
    clearTimeout(timer);
    let answer: Uint8Array = Uint8Array.of(DONT_HAVE);
    if (await store.has(toHelia(cid))) {
      try {
        const chunks: Uint8Array[] = [];
        for await (const chunk of store.get(toHelia(cid))) chunks.push(chunk);
        answer = Buffer.concat([Uint8Array.of(HAVE), ...chunks]);
      } catch (error) {
        // Deleted meanwhile (gc) or refused by the hash check: not here.
        log.debug({ cid: cid.toString(), err: String(error) }, "block request: not served");
      }
    }
    stream.send(frame(answer));
    // Closes our writable end once the bytes are out (the asker closed its own after the request).
    stream.close().catch(() => undefined);
  } catch (error) {
    stream.abort(error instanceof Error ? error : new Error(String(error)));
  } finally {
    clearTimeout(timer);
  }
}

/** A refusal of a block a peer sent whose bytes do not hash to the CID asked for. */
export class ForgedBlockError extends Error {
  readonly cid: string;
  readonly peers: string[];
  constructor(cid: string, peers: string[]) {
    super(`block ${cid} from ${peers.join(", ")} does not hash to its CID (refused)`);
    this.name = "ForgedBlockError";
    this.cid = cid;
    this.peers = peers;
  }
}

export type HolderBrokerOptions = {
  libp2p: Libp2p;
  network: string;
  /**
   * Peers to ask for `cid`, best first, each with a live connection now: read again before every
   * wave, so a peer that died drops out and one that came up joins.
   */
  candidates: (cid: string) => string[];
  /** One peer's answer is given up after this long (a hung peer must not hold the fetch). */
  perPeerTimeoutMs: number;
  /** Between two passes over the candidates when none had the block. */
  retryDelayMs: number;
  /** The next few peers are asked when the ones asked have not answered after this long. */
  hedgeMs: number;
  /** A peer sent a block that does not hash to its CID. */
  onForged?: (peer: string, cid: string) => void;
  log: Logger;
};

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });

/** The Helia block broker over `blockProtocol`. */
export function holderBlockBroker(options: HolderBrokerOptions): BlockBroker {
  const { libp2p, log } = options;
  const protocol = blockProtocol(options.network);

  /** The block from `peer`, or undefined (not there, gone, too slow). Throws ForgedBlockError. */
  const ask = async (peer: string, cid: CID, signal: AbortSignal): Promise<Uint8Array | undefined> => {
    const attempt = AbortSignal.any([signal, AbortSignal.timeout(options.perPeerTimeoutMs)]);
    let stream: Stream | undefined;
    const onAbort = () => stream?.abort(new Error("block request given up"));
    attempt.addEventListener("abort", onAbort, { once: true });
    try {
      stream = await libp2p.dialProtocol(peerIdFromString(peer), protocol, { signal: attempt });
      stream.send(frame(cid.bytes));
      // The request is all we send: our writable end closes once it is out.
      stream.close().catch(() => undefined);
      const answer = await readMessage(stream, MAX_BLOCK_BYTES + 1);
      if (answer[0] !== HAVE) return undefined;
      const bytes = answer.subarray(1);
      if (!blockMatchesCid(cid, bytes)) throw new ForgedBlockError(cid.toString(), [peer]);
      return bytes;
    } catch (error) {
      if (error instanceof ForgedBlockError) throw error;
      log.debug({ peer, cid: cid.toString(), err: String(error) }, "block request failed");
      stream?.abort(error instanceof Error ? error : new Error(String(error)));
      return undefined;
    } finally {
      attempt.removeEventListener("abort", onAbort);
    }
  };

  /**
   * The first block any of `peers` answers (the others are then given up), or undefined when all
   * said no. Asked a wave at a time, best first; the next wave starts when this one has answered
   * or after `hedgeMs` (a slow or hung peer must not hold back the rest).
   */
  const firstAnswer = (peers: string[], cid: CID, signal: AbortSignal, forgers: Set<string>) =>
    new Promise<Uint8Array | undefined>((resolve) => {
      const controller = new AbortController();
      const asking = AbortSignal.any([signal, controller.signal]);
      let next = 0;
      let pending = 0;
      let settled = false;
      const finish = (bytes: Uint8Array | undefined) => {
        if (settled) return;
        settled = true;
        clearInterval(hedge);
        controller.abort();
        resolve(bytes);
      };
      const launch = () => {
        const wave = peers.slice(next, next + PEERS_PER_WAVE);
        next += wave.length;
        for (const peer of wave) {
          pending++;
          ask(peer, cid, asking)
            .then(
              (bytes) => {
                if (bytes) finish(bytes);
              },
              (error: unknown) => {
                forgers.add(peer);
                options.onForged?.(peer, cid.toString());
                log.warn({ peer, cid: cid.toString(), err: String(error) }, "a peer sent a forged block: refused");
              },
            )
            .finally(() => {
              if (--pending > 0 || settled) return;
              if (next < peers.length) launch();
              else finish(undefined);
            });
        }
      };
      const hedge = setInterval(() => {
        if (next < peers.length) launch();
      }, options.hedgeMs);
      if (peers.length === 0) finish(undefined);
      else launch();
    });

  return {
    name: "versatus-holders",
    async retrieve(heliaCid: HeliaCid, retrieval: BlockRetrievalOptions = {}): Promise<Uint8Array> {
      const cid = CID.decode(heliaCid.bytes);
      const signal = retrieval.signal ?? new AbortController().signal;
      const forgers = new Set<string>();
      while (!signal.aborted) {
        const peers = options.candidates(cid.toString()).filter((p) => !forgers.has(p));
        const bytes = await firstAnswer(peers, cid, signal, forgers);
        if (bytes) {
          await retrieval.validateFn?.(bytes);
          return bytes;
        }
        await sleep(options.retryDelayMs, signal);
      }
      // Out of time: a forged answer is the reason worth naming (the gateway's 502), else the deadline.
      if (forgers.size > 0) throw new ForgedBlockError(cid.toString(), [...forgers]);
      throw signal.reason instanceof Error ? signal.reason : new Error("block fetch aborted");
    },
  };
}
