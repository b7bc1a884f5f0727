import type { Address, Hex, LocalAccount } from "viem";
import type { ResultJob } from "../../protocol/jobs.ts";
import type { Logger } from "../../protocol/ops.ts";
import type { Announcement as RequestAnnouncement } from "../../relayer/index.ts";
import type { BackpressureReport, ShareOffer } from "../../protocol/scheduling.ts";

/**
 * What the node uses of the peer-to-peer layer: the plan's `OperatorNetwork` (network/, helper
 * "net"), narrowed to the calls the roles make. `startOperatorNetwork` is reached through
 * {@link startNodeNetwork} only, so the rest of the node does not depend on where it lives;
 * {@link createMemoryHub} gives an in-process stand-in with the same shape (tests of the roles'
 * logic, and a node started with `network: false`).
 */
export type { Announcement as RequestAnnouncement } from "../../relayer/index.ts";
export type PeerInfo = { peerId: string; operator: Address };
type Off = () => void;

export interface NodeNetwork {
  peerId: string;
  operator: Address;
  addresses(): string[];
  announceRequest(a: RequestAnnouncement): Promise<void>;
  onRequest(h: (a: RequestAnnouncement, from: PeerInfo) => void): Off;
  watchResults(chainId: string | number | bigint, requestId: Hex): void;
  unwatchResults(chainId: string | number | bigint, requestId: Hex): void;
  publishResult(r: ResultJob): Promise<void>;
  onResult(h: (r: ResultJob, from: PeerInfo) => void): Off;
  publishBackpressure(r: BackpressureReport): Promise<void>;
  onBackpressure(h: (r: BackpressureReport, from: PeerInfo) => void): Off;
  publishShare(s: ShareOffer): Promise<void>;
  onShare(h: (s: ShareOffer, from: PeerInfo) => void): Off;
  status(): unknown;
  close(): Promise<void>;
}

export type NodeNetworkOptions = {
  network: string;
  account: LocalAccount;
  peerKey?: Uint8Array | string;
  listen: string[];
  bootstrap: string[];
  chains: number[];
  membership: () => Promise<{ operators: Address[]; watchers: Address[] }>;
  logger?: Logger;
};

/** Starts the libp2p node of network/ (helper "net"). */
export async function startNodeNetwork(options: NodeNetworkOptions): Promise<NodeNetwork> {
  // A variable specifier: network/ lands on its own branch; until then the error says what is missing.
  const specifier = "../../network/index.ts";
  let module: { startOperatorNetwork?: (o: NodeNetworkOptions) => Promise<NodeNetwork> };
  try {
    module = (await import(specifier)) as typeof module;
  } catch (error) {
    throw new Error(`the peer-to-peer layer (network/index.ts) could not be loaded: ${String(error)}`, {
      cause: error,
    });
  }
  if (typeof module.startOperatorNetwork !== "function")
    throw new Error("network/index.ts does not export startOperatorNetwork");
  return module.startOperatorNetwork(options);
}

type Listener = { kind: string; handler: (payload: never, from: PeerInfo) => void };

/**
 * An in-process gossip hub: every member hears what the others publish (never its own messages,
 * as gossipsub), asynchronously. Result topics are per request, as on the wire: a member hears a
 * result only while it watches that request. No signature or membership checks (network/ does
 * those); tests of the node's roles only.
 */
export function createMemoryHub() {
  const members = new Set<{
    operator: Address;
    peerId: string;
    listeners: Listener[];
    watching: Set<string>;
    closed: boolean;
  }>();
  const topicOf = (chainId: string | number | bigint, requestId: Hex) => `${chainId}:${requestId.toLowerCase()}`;
  let counter = 0;
  return {
    join(operator: Address): NodeNetwork {
      const me = {
        operator,
        peerId: `memory-${++counter}`,
        listeners: [] as Listener[],
        watching: new Set<string>(),
        closed: false,
      };
      members.add(me);
      const on =
        <T>(kind: string) =>
        (handler: (payload: T, from: PeerInfo) => void): Off => {
          const entry: Listener = { kind, handler: handler as Listener["handler"] };
          me.listeners.push(entry);
          return () => {
            me.listeners = me.listeners.filter((l) => l !== entry);
          };
        };
      const publish = async (kind: string, payload: unknown, topic?: string) => {
        if (me.closed) throw new Error("network closed");
        const copy = JSON.parse(JSON.stringify(payload)) as never;
        for (const other of members) {
          if (other === me || other.closed) continue;
          if (topic !== undefined && !other.watching.has(topic)) continue;
          for (const l of other.listeners)
            if (l.kind === kind) setImmediate(() => l.handler(copy, { peerId: me.peerId, operator: me.operator }));
        }
      };
      return {
        peerId: me.peerId,
        operator,
        addresses: () => [],
        announceRequest: (a) => publish("request", a),
        onRequest: on<RequestAnnouncement>("request"),
        watchResults: (chainId, requestId) => void me.watching.add(topicOf(chainId, requestId)),
        unwatchResults: (chainId, requestId) => void me.watching.delete(topicOf(chainId, requestId)),
        publishResult: (r) => publish("result", r, topicOf(r.originChainId, r.requestId)),
        onResult: on<ResultJob>("result"),
        publishBackpressure: (r) => publish("backpressure", r),
        onBackpressure: on<BackpressureReport>("backpressure"),
        publishShare: (s) => publish("share", s),
        onShare: on<ShareOffer>("share"),
        status: () => ({
          peerId: me.peerId,
          memory: true,
          peers: [...members]
            .filter((m) => m !== me && !m.closed)
            .map((m) => ({ peerId: m.peerId, operator: m.operator })),
          watching: me.watching.size,
        }),
        close: async () => {
          me.closed = true;
          members.delete(me);
        },
      };
    },
  };
}
export type MemoryHub = ReturnType<typeof createMemoryHub>;
