import type { Stream } from "@libp2p/interface";
import type { Address } from "viem";
import { GossipDecodeError, peerBindingListCodec } from "../protocol/gossip.ts";
import { verifyPeerBinding, type PeerBinding, type PeerBindingVerdict } from "../protocol/peerBinding.ts";

/** The request-response protocol two connected peers swap their bindings over (both directions, one stream). */
export const BINDING_PROTOCOL = "/versatus/binding/1";

export type KnownBinding = { binding: PeerBinding; operator: Address; receivedAt: number };

/**
 * The bindings this node has verified (protocol/peerBinding.ts decides validity), one per peer id,
 * the latest `issuedAt` winning. Validation that finds no binding for a message's origin can wait
 * briefly for one (`waitFor`): the binding and the first message of a fresh peer race.
 */
export class BindingBook {
  private readonly network: string;
  private readonly byPeer = new Map<string, KnownBinding>();
  private readonly waiters = new Map<string, Set<(known: KnownBinding) => void>>();

  constructor(network: string) {
    this.network = network;
  }

  /** Verifies `binding` (as coming from `peerId`) and keeps it when valid and newer. */
  async offer(binding: PeerBinding, peerId: string, now = Date.now()): Promise<PeerBindingVerdict> {
    // A binding is re-announced often and recovering its signer costs milliseconds: the same
    // signed statement, already verified, only needs its expiry checked again.
    const same = this.byPeer.get(peerId);
    if (
      same &&
      same.binding.signature === binding.signature &&
      same.binding.peerId === binding.peerId &&
      same.binding.operator === binding.operator &&
      same.binding.network === binding.network &&
      same.binding.issuedAt === binding.issuedAt &&
      same.binding.expiresAt === binding.expiresAt &&
      binding.expiresAt > now
    ) {
      return { ok: true, operator: same.operator };
    }
    const verdict = await verifyPeerBinding(binding, { network: this.network, now, peerId });
    if (!verdict.ok) return verdict;
    const current = this.byPeer.get(peerId);
    if (!current || current.binding.issuedAt <= binding.issuedAt) {
      const known = { binding, operator: verdict.operator, receivedAt: now };
      this.byPeer.set(peerId, known);
      const waiting = this.waiters.get(peerId);
      if (waiting) {
        this.waiters.delete(peerId);
        for (const resolve of waiting) resolve(known);
      }
    }
    return verdict;
  }

  /** The peer's binding if it is still unexpired. */
  get(peerId: string, now = Date.now()): KnownBinding | undefined {
    const known = this.byPeer.get(peerId);
    if (known && known.binding.expiresAt <= now) {
      this.byPeer.delete(peerId);
      return undefined;
    }
    return known;
  }

  /** The binding of `peerId`, waiting at most `ms` for one to arrive. */
  waitFor(peerId: string, ms: number): Promise<KnownBinding | undefined> {
    const known = this.get(peerId);
    if (known || ms <= 0) return Promise.resolve(known);
    return new Promise((resolve) => {
      let set = this.waiters.get(peerId);
      if (!set) this.waiters.set(peerId, (set = new Set()));
      const done = (value: KnownBinding | undefined) => {
        clearTimeout(timer);
        set!.delete(done);
        if (set!.size === 0 && this.waiters.get(peerId) === set) this.waiters.delete(peerId);
        resolve(value);
      };
      const timer = setTimeout(() => done(undefined), ms);
      set.add(done);
    });
  }

  /** Messages waiting for `peerId`'s binding (bounds what an unbound peer can make us hold). */
  waiting(peerId: string): number {
    return this.waiters.get(peerId)?.size ?? 0;
  }

  entries(): [string, KnownBinding][] {
    return [...this.byPeer.entries()];
  }

  /** Resolves every waiter with nothing (close()). */
  clear(): void {
    for (const set of this.waiters.values()) for (const done of [...set]) done(undefined as never);
    this.waiters.clear();
  }
}

/**
 * One side of the binding exchange: sends `own` followed by the other bindings this node knows
 * (so a fresh node learns the whole network's bindings from its first peer, not only that peer's),
 * closes its write side, and reads the other side's list (bounded by peerBindingListCodec;
 * nothing when the peer sends none). Both the dialer and the handler run it. Each binding is a
 * self-contained signed statement: the receiver verifies every one (BindingBook.offer).
 */
export async function exchangeBindings(
  stream: Stream,
  own: PeerBinding[],
  signal: AbortSignal,
): Promise<PeerBinding[]> {
  const reading = (async () => {
    const chunks: Uint8Array[] = [];
    let length = 0;
    for await (const chunk of stream) {
      const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray();
      length += bytes.length;
      if (length > peerBindingListCodec.maxBytes) {
        throw new GossipDecodeError("PeerBindingList", "$", `at most ${peerBindingListCodec.maxBytes} bytes`);
      }
      chunks.push(bytes);
      if (signal.aborted) break;
    }
    if (length === 0) return [];
    const all = new Uint8Array(length);
    let offset = 0;
    for (const chunk of chunks) {
      all.set(chunk, offset);
      offset += chunk.length;
    }
    return peerBindingListCodec.decode(all);
  })();
  reading.catch(() => undefined); // awaited below; this only keeps an early failure from being unhandled
  const onAbort = () => stream.abort(new Error("binding exchange timed out"));
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    stream.send(peerBindingListCodec.encode(own));
    await stream.close({ signal });
    return await reading;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}
