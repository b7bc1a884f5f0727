import type { Address, Hex } from "viem";
import {
  startOperatorNetwork,
  type BackpressureReportMessage,
  type OperatorNetwork,
  type OperatorNetworkOptions,
  type PeerInfo,
  type RequestAnnouncement,
  type ShareOfferMessage,
} from "../../network/index.ts";
import type { ResultJob } from "../../protocol/jobs.ts";

/**
 * What the node uses of the peer-to-peer layer: network/'s `OperatorNetwork` (helper "net")
 * without its libp2p handle, so {@link createMemoryHub} (an in-process stand-in with the same
 * shape, for tests of the roles' logic) fits too.
 */
export type NodeNetwork = Omit<OperatorNetwork, "libp2p" | "status"> & { status(): unknown };
export type NodeNetworkOptions = OperatorNetworkOptions;
export type { PeerInfo, RequestAnnouncement };
type Off = () => void;

/** Starts the libp2p node of network/. */
export function startNodeNetwork(options: NodeNetworkOptions): Promise<NodeNetwork> {
  return startOperatorNetwork(options);
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
    deliverAll: boolean;
    closed: boolean;
  }>();
  const topicOf = (chainId: string | number | bigint, requestId: Hex) => `${chainId}:${requestId.toLowerCase()}`;
  let counter = 0;
  return {
    /** A member; `deliverAllResults` as network/ takes it (a collector hears every result). */
    join(operator: Address, options: { deliverAllResults?: boolean } = {}): NodeNetwork {
      const me = {
        operator,
        peerId: `memory-${++counter}`,
        listeners: [] as Listener[],
        watching: new Set<string>(),
        deliverAll: options.deliverAllResults ?? false,
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
          if (topic !== undefined && !other.deliverAll && !other.watching.has(topic)) continue;
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
        onBackpressure: on<BackpressureReportMessage>("backpressure"),
        publishShare: (s) => publish("share", s),
        onShare: on<ShareOfferMessage>("share"),
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
