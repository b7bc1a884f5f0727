import { TopicValidatorResult, type GossipsubMessage } from "@libp2p/gossipsub";
import type { PeerId } from "@libp2p/interface";
import { peerIdFromPrivateKey, peerIdFromString } from "@libp2p/peer-id";
import { multiaddr } from "@multiformats/multiaddr";
import { pino, type Logger } from "pino";
import type { Registry } from "prom-client";
import type { Address, Hex, LocalAccount } from "viem";
import { getAddress } from "viem";
import { z } from "zod";
import { InvalidInputError } from "../protocol/errors.ts";
import {
  backpressureReportCodec,
  gossipTopics,
  MAX_BINDINGS_PER_EXCHANGE,
  NETWORK_NAME,
  peerBindingCodec,
  requestAnnouncementCodec,
  resultMessageCodec,
  shareOfferCodec,
  type BackpressureReportMessage,
  type GossipTopics,
  type RequestAnnouncement,
  type ResultMessage,
  type ShareOfferMessage,
} from "../protocol/gossip.ts";
import type { ResultJob } from "../protocol/jobs.ts";
import { DEFAULT_BINDING_LIFETIME_MS, signPeerBinding, type PeerBinding } from "../protocol/peerBinding.ts";
import { BINDING_PROTOCOL, BindingBook, exchangeBindings } from "./bindings.ts";
import { createVersatusLibp2p, type VersatusLibp2p } from "./libp2pNode.ts";
import { networkMetrics } from "./metrics.ts";
import { Membership, type MembershipSource, type MembershipView, type Role } from "./membership.ts";
import { generatePeerKey, parsePeerKey } from "./peerKey.ts";
import { RateLimiter } from "./rateLimit.ts";
import { Penalties, peerScoreParams, SCORE_THRESHOLDS, UNBOUND_PEER_SCORE } from "./scoring.ts";
import { validateMessage, type MessageKind, type SignatureCheck, type Verdict } from "./validation.ts";

export { generatePeerKey, loadOrCreatePeerKey, parsePeerKey } from "./peerKey.ts";
export { BINDING_PROTOCOL } from "./bindings.ts";
export type { MembershipSource, MembershipView, Role } from "./membership.ts";
export type { SignatureCheck } from "./validation.ts";
export type { RequestAnnouncement, BackpressureReportMessage, ShareOfferMessage } from "../protocol/gossip.ts";

/**
 * The peer-to-peer layer between operators (SPEC 6, docs/network.md): one libp2p node per operator
 * (or watcher) that announces requests, gossips signed results, backpressure reports and share
 * offers, and drops what peers without a valid binding to an active address send.
 */

export type NetworkLimits = {
  /** Messages per second one originating peer may send (token bucket); past it they are rejected. Default 200. */
  messagesPerSecondPerPeer?: number;
  /** Bucket size: a burst allowed on top of the rate. Default 2 × the rate. */
  burstPerPeer?: number;
  /** How long a message from a peer whose binding has not arrived yet waits for it. Default 2,000 ms. */
  bindingWaitMs?: number;
  /** After connecting, how long a peer may stay unbound before its score sinks. Default 5,000 ms. */
  bindingGraceMs?: number;
  /** How long a peer scored below the graylist threshold is disconnected and refused. Default 60,000 ms. */
  banMs?: number;
  /** Backpressure reports and share offers older than this are stale. Default 30,000 ms. */
  reportMaxAgeMs?: number;
};

export type NetworkTiming = {
  /** Gossipsub heartbeat. Default 500 ms. */
  heartbeatMs?: number;
  /** Membership re-read period. Default 30,000 ms. */
  membershipRefreshMs?: number;
  /** Own binding re-published on the bindings topic this often. Default 30,000 ms. */
  bindingRepublishMs?: number;
  /** Score checks, re-dials of the bootstrap list. Default 1,000 ms. */
  maintenanceMs?: number;
};

export type OperatorNetworkOptions = {
  /** Topic namespace, e.g. "devnet". */
  network: string;
  /** The operator (or watcher) key: signs the binding. */
  account: LocalAccount;
  /** libp2p identity (protobuf bytes or their hex; persisted by the caller); fresh if absent. */
  peerKey?: Uint8Array | string;
  /** Multiaddrs to listen on, e.g. ["/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/tcp/0/ws"]. */
  listen: string[];
  /** Multiaddrs with /p2p/<peerId>. */
  bootstrap: string[];
  /** Origin chains whose request and result topics this node joins. */
  chains: number[];
  /** The active set (StakingRegistry / operator set), re-read periodically. */
  membership: MembershipSource;
  logger?: Logger;
  limits?: NetworkLimits;
  timing?: NetworkTiming;
  /** Ingestor per chain id (decimal string): results signed under another domain are rejected. */
  ingestors?: ReadonlyMap<string, Address> | Record<string, Address>;
  /**
   * Signature checks of protocol/scheduling.ts (owned there): until given, received backpressure
   * reports and share offers are ignored (never delivered, never forwarded, nobody penalised).
   */
  verify?: { backpressure?: SignatureCheck<BackpressureReportMessage>; share?: SignatureCheck<ShareOfferMessage> };
  /** Deliver every valid result to onResult, not only watched requests' (a collector). Default false. */
  deliverAllResults?: boolean;
  /** Most connections kept. Default 64. */
  maxConnections?: number;
  /** Prometheus registry for versatus_network_* metrics (network/metrics.ts); none if absent. */
  registry?: Registry;
};

export type PeerInfo = { peerId: string; operator: Address };

export type NetworkPeerStatus = {
  peerId: string;
  operator: Address | null;
  role: Role | null;
  bound: boolean;
  score: number;
  addrs: string[];
};

export type NetworkStatus = {
  network: string;
  peerId: string;
  operator: Address;
  role: Role | null;
  addresses: string[];
  peers: NetworkPeerStatus[];
  topics: { topic: string; peers: number; mesh: number }[];
  membership: MembershipView;
  /** Peers (connected or not) whose valid binding this node holds. */
  bindings: number;
  banned: { peerId: string; until: number }[];
  /** The latest accepted report per operator. */
  lastReports: BackpressureReportMessage[];
  messages: { accepted: Record<string, number>; rejected: Record<string, number>; ignored: Record<string, number> };
  verifiers: { backpressure: boolean; share: boolean };
};

export interface OperatorNetwork {
  peerId: string;
  operator: Address;
  /** The libp2p node (metrics, tests, debugging); prefer the methods below. */
  libp2p: VersatusLibp2p;
  addresses(): string[];
  announceRequest(a: RequestAnnouncement): Promise<void>;
  onRequest(h: (a: RequestAnnouncement, from: PeerInfo) => void): () => void;
  /** Deliver results of this request to onResult (results travel on the origin chain's topic). */
  watchResults(chainId: number | bigint | string, requestId: Hex): void;
  unwatchResults(chainId: number | bigint | string, requestId: Hex): void;
  publishResult(r: ResultJob): Promise<void>;
  /** Only from bound active operators, each chain's signature recovering to `operator`. */
  onResult(h: (r: ResultJob, from: PeerInfo) => void): () => void;
  publishBackpressure(r: BackpressureReportMessage): Promise<void>;
  onBackpressure(h: (r: BackpressureReportMessage, from: PeerInfo) => void): () => void;
  publishShare(s: ShareOfferMessage): Promise<void>;
  onShare(h: (s: ShareOfferMessage, from: PeerInfo) => void): () => void;
  status(): NetworkStatus;
  /** Stops everything, running every step even when one fails; safe to call twice. */
  close(): Promise<void>;
}

const optionsSchema = z.object({
  network: z.string().regex(NETWORK_NAME, "lower-case letters, digits and dashes, at most 32"),
  listen: z.array(z.string().min(1)).min(1),
  bootstrap: z.array(z.string().regex(/\/p2p\/[1-9A-HJ-NP-Za-km-z]+$/, "a multiaddr ending in /p2p/<peerId>")),
  chains: z.array(z.number().int().positive()),
  limits: z
    .object({
      messagesPerSecondPerPeer: z.number().positive().optional(),
      burstPerPeer: z.number().min(1).optional(),
      bindingWaitMs: z.number().int().nonnegative().optional(),
      bindingGraceMs: z.number().int().nonnegative().optional(),
      banMs: z.number().int().nonnegative().optional(),
      reportMaxAgeMs: z.number().int().positive().optional(),
    })
    .optional(),
  timing: z
    .object({
      heartbeatMs: z.number().int().min(50).optional(),
      membershipRefreshMs: z.number().int().min(100).optional(),
      bindingRepublishMs: z.number().int().min(100).optional(),
      maintenanceMs: z.number().int().min(50).optional(),
    })
    .optional(),
  maxConnections: z.number().int().min(1).optional(),
});

function checkOptions(options: OperatorNetworkOptions): void {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InvalidInputError(`network options.${issue.path.join(".")}`, issue.message);
  }
  for (const [index, address] of [...options.listen.entries(), ...options.bootstrap.entries()]) {
    try {
      multiaddr(address);
    } catch {
      throw new InvalidInputError(`network options.listen/bootstrap.${index}`, "a multiaddr", { details: address });
    }
  }
  if (typeof options.membership !== "function") throw new InvalidInputError("network options.membership", "a function");
}

const resultKey = (chainId: number | bigint | string, requestId: string) =>
  `${BigInt(chainId)}:${requestId.toLowerCase()}`;

/**
 * Starts the operator's libp2p node, reads the active set, signs and announces its binding, joins
 * the topics of its chains and validates everything it receives.
 *
 * @example
 * const net = await startOperatorNetwork({
 *   network: "devnet", account, peerKey: await loadOrCreatePeerKey(".versatus/peer.key"),
 *   listen: ["/ip4/0.0.0.0/tcp/4001"], bootstrap: ["/ip4/10.0.0.2/tcp/4001/p2p/12D3Koo..."],
 *   chains: [31337], membership: async () => ({ operators: await registry.activeOperators(), watchers: [] }),
 * });
 * net.onRequest((a, from) => console.log("request", a.requestId, "from", from.operator));
 * await net.close();
 */
export async function startOperatorNetwork(options: OperatorNetworkOptions): Promise<OperatorNetwork> {
  checkOptions(options);
  const log = (options.logger ?? pino({ level: "silent" })).child({ module: "network" });
  const limits = {
    messagesPerSecondPerPeer: options.limits?.messagesPerSecondPerPeer ?? 200,
    burstPerPeer: options.limits?.burstPerPeer ?? 2 * (options.limits?.messagesPerSecondPerPeer ?? 200),
    bindingWaitMs: options.limits?.bindingWaitMs ?? 2_000,
    bindingGraceMs: options.limits?.bindingGraceMs ?? 5_000,
    banMs: options.limits?.banMs ?? 60_000,
    reportMaxAgeMs: options.limits?.reportMaxAgeMs ?? 30_000,
  };
  const timing = {
    heartbeatMs: options.timing?.heartbeatMs ?? 500,
    membershipRefreshMs: options.timing?.membershipRefreshMs ?? 30_000,
    bindingRepublishMs: options.timing?.bindingRepublishMs ?? 30_000,
    maintenanceMs: options.timing?.maintenanceMs ?? 1_000,
  };
  const operator = getAddress(options.account.address);
  const topics: GossipTopics = gossipTopics(options.network);
  const privateKey = parsePeerKey(options.peerKey ?? (await generatePeerKey()));
  const selfId = peerIdFromPrivateKey(privateKey).toString();

  const membership = new Membership({ source: options.membership, log, minRefreshMs: 5_000 });
  for (let attempt = 1; !(await membership.refresh()); attempt++) {
    if (attempt >= 3) {
      throw new InvalidInputError("network options.membership", "a callback that returns the active set", {
        details: membership.snapshot().error ?? undefined,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
  }

  // Topics and the kind of message each carries.
  const kinds = new Map<string, MessageKind>();
  for (const chainId of options.chains) {
    kinds.set(topics.requests(chainId), "request");
    kinds.set(topics.results(chainId), "result");
  }
  kinds.set(topics.backpressure, "backpressure");
  kinds.set(topics.shares, "share");
  kinds.set(topics.bindings, "binding");

  const bindings = new BindingBook(options.network);
  const banned = new Map<string, number>();
  const connectedAt = new Map<string, number>();
  const isBanned = (peer: PeerId | string) => {
    const key = peer.toString();
    const until = banned.get(key);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    banned.delete(key);
    return false;
  };
  const penalties = new Penalties();
  const appScore = (peerId: string): number => {
    const penalty = penalties.get(peerId);
    const known = bindings.get(peerId);
    if (known) return penalty + (membership.roleOf(known.operator) ? 0 : UNBOUND_PEER_SCORE);
    const since = connectedAt.get(peerId);
    return penalty + (since !== undefined && Date.now() - since > limits.bindingGraceMs ? UNBOUND_PEER_SCORE : 0);
  };

  const libp2p = await createVersatusLibp2p({
    network: options.network,
    privateKey,
    listen: options.listen,
    bootstrap: options.bootstrap,
    isBanned,
    maxConnections: options.maxConnections ?? 64,
    gossip: {
      asyncValidation: true,
      floodPublish: true,
      heartbeatInterval: timing.heartbeatMs,
      scoreParams: peerScoreParams([...kinds.keys()], appScore),
      scoreThresholds: SCORE_THRESHOLDS,
      doPX: true,
      // A smaller mesh than gossipsub's 6: with flood publishing the origin already reaches every
      // subscribed peer directly, the mesh only adds redundancy, and each extra copy costs every
      // node a decryption. 16 nodes in one process: p50 55 -> 16 ms, p99 420 -> 70 ms.
      D: 4,
      Dlo: 3,
      Dhi: 8,
      Dout: 2,
      Dlazy: 4,
      // Duplicates are dropped before their signature is checked: the id gossipsub uses anyway
      // (origin + sequence number), read straight from the frame. Without it every copy of a
      // message (up to one per mesh peer) paid an Ed25519 verification.
      fastMsgIdFn: (message) =>
        `${Buffer.from(message.from ?? []).toString("base64")}:${Buffer.from(message.seqno ?? []).toString("base64")}`,
    },
  });
  const pubsub = libp2p.services.pubsub;

  // ------------------------------------------------------------------ cleanup, registered as we go
  const timers: ReturnType<typeof setInterval>[] = [];
  const cleanups: [string, () => void | Promise<void>][] = [];
  let closing: Promise<void> | undefined;
  let closed = false;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      closed = true;
      const errors: unknown[] = [];
      const steps: [string, () => void | Promise<void>][] = [
        ["timers", () => timers.forEach((t) => clearInterval(t))],
        ["binding waiters", () => bindings.clear()],
        ...cleanups.reverse(),
        ["libp2p", () => libp2p.stop()],
      ];
      for (const [name, step] of steps) {
        try {
          await step();
        } catch (error) {
          errors.push(error);
          log.error({ step: name, err: String(error) }, "network close step failed");
        }
      }
      if (errors.length > 0) throw new AggregateError(errors, "network close: some steps failed");
    })();
    return closing;
  };

  try {
    // ---------------------------------------------------------------- own binding
    let own: PeerBinding = await signPeerBinding(options.account, { peerId: selfId, network: options.network });
    const ownBinding = async (): Promise<PeerBinding> => {
      if (own.expiresAt - Date.now() < DEFAULT_BINDING_LIFETIME_MS / 2) {
        own = await signPeerBinding(options.account, { peerId: selfId, network: options.network });
      }
      return own;
    };
    const publishBinding = async () => {
      if (closed) return;
      try {
        await pubsub.publish(topics.bindings, peerBindingCodec.encode(await ownBinding()));
      } catch (error) {
        log.debug({ err: String(error) }, "binding publish failed");
      }
    };

    // ---------------------------------------------------------------- binding exchange over a stream
    const takeBindings = async (list: PeerBinding[], peerId: string) => {
      for (const binding of list) {
        if (binding.peerId === selfId) continue;
        const verdict = await bindings.offer(binding, binding.peerId);
        if (!verdict.ok) {
          log.info(
            { peer: peerId, bound: binding.peerId, reason: verdict.reason, detail: verdict.detail },
            "peer binding refused",
          );
        } else if (!membership.roleOf(verdict.operator)) membership.refreshSoon();
      }
    };
    /** Ours first, then every unexpired one we know (bounded). */
    const bindingList = async (): Promise<PeerBinding[]> => {
      const now = Date.now();
      const others = bindings
        .entries()
        .map(([, known]) => known.binding)
        .filter((b) => b.expiresAt > now && membership.roleOf(b.operator) !== null)
        .slice(0, MAX_BINDINGS_PER_EXCHANGE - 1);
      return [await ownBinding(), ...others];
    };
    await libp2p.handle(
      BINDING_PROTOCOL,
      async (stream, connection) => {
        const signal = AbortSignal.timeout(5_000);
        try {
          await takeBindings(
            await exchangeBindings(stream, await bindingList(), signal),
            connection.remotePeer.toString(),
          );
        } catch (error) {
          log.debug({ err: String(error) }, "binding exchange (inbound) failed");
          stream.abort(error instanceof Error ? error : new Error(String(error)));
        }
      },
      { maxInboundStreams: 8 },
    );
    cleanups.push(["binding protocol", () => libp2p.unhandle(BINDING_PROTOCOL)]);
    const exchangeWith = async (peer: PeerId) => {
      const signal = AbortSignal.timeout(5_000);
      try {
        const stream = await libp2p.dialProtocol(peer, BINDING_PROTOCOL, { signal });
        await takeBindings(await exchangeBindings(stream, await bindingList(), signal), peer.toString());
      } catch (error) {
        if (!closed) log.debug({ peer: peer.toString(), err: String(error) }, "binding exchange (outbound) failed");
      }
    };
    const onConnect = (event: CustomEvent<PeerId>) => {
      const peer = event.detail;
      connectedAt.set(peer.toString(), Date.now());
      if (!bindings.get(peer.toString())) void exchangeWith(peer);
    };
    const onDisconnect = (event: CustomEvent<PeerId>) => connectedAt.delete(event.detail.toString());
    libp2p.addEventListener("peer:connect", onConnect);
    libp2p.addEventListener("peer:disconnect", onDisconnect);
    cleanups.push([
      "peer listeners",
      () => {
        libp2p.removeEventListener("peer:connect", onConnect);
        libp2p.removeEventListener("peer:disconnect", onDisconnect);
      },
    ]);

    // ---------------------------------------------------------------- discovery: dial what we learn of
    const maxPeers = options.maxConnections ?? 64;
    const onDiscovery = (event: CustomEvent<{ id: PeerId }>) => {
      const peer = event.detail.id;
      if (closed || peer.toString() === selfId || isBanned(peer) || libp2p.getConnections(peer).length > 0) return;
      if (libp2p.getConnections().length >= maxPeers) return;
      libp2p
        .dial(peer)
        .catch((error: unknown) => log.debug({ peer: peer.toString(), err: String(error) }, "dial failed"));
    };
    libp2p.addEventListener("peer:discovery", onDiscovery);
    cleanups.push(["discovery listener", () => libp2p.removeEventListener("peer:discovery", onDiscovery)]);
    // A DHT lookup of our own id walks to the peers closest to us and tells us of everyone it met
    // on the way: in a network of tens of nodes, all of them. Run often while under-connected.
    let lookup: AbortController | undefined;
    let lastLookup = 0;
    const lookupPeers = async () => {
      if (lookup || closed || libp2p.getConnections().length === 0) return;
      lookup = new AbortController();
      lastLookup = Date.now();
      const signal = AbortSignal.any([lookup.signal, AbortSignal.timeout(10_000)]);
      try {
        for await (const event of libp2p.services.dht.getClosestPeers(libp2p.peerId.toMultihash().bytes, { signal })) {
          const found = event.name === "PEER_RESPONSE" ? event.closer : event.name === "FINAL_PEER" ? [event.peer] : [];
          for (const peer of found) {
            if (peer.multiaddrs.length === 0 || peer.id.toString() === selfId) continue;
            await libp2p.peerStore.merge(peer.id, { multiaddrs: peer.multiaddrs }).catch(() => undefined);
            onDiscovery(new CustomEvent("peer:discovery", { detail: { id: peer.id } }));
          }
        }
      } catch (error) {
        if (!closed) log.debug({ err: String(error) }, "peer lookup failed");
      } finally {
        lookup = undefined;
      }
    };
    cleanups.push(["peer lookup", () => lookup?.abort()]);

    // ---------------------------------------------------------------- validation and delivery
    const counters = {
      accepted: {} as Record<string, number>,
      rejected: {} as Record<string, number>,
      ignored: {} as Record<string, number>,
    };
    const count = (bucket: Record<string, number>, key: string) => (bucket[key] = (bucket[key] ?? 0) + 1);
    const handlers = {
      request: new Set<(a: RequestAnnouncement, from: PeerInfo) => void>(),
      result: new Set<(r: ResultJob, from: PeerInfo) => void>(),
      backpressure: new Set<(r: BackpressureReportMessage, from: PeerInfo) => void>(),
      share: new Set<(s: ShareOfferMessage, from: PeerInfo) => void>(),
    };
    const watched = new Set<string>();
    const lastReports = new Map<string, BackpressureReportMessage>();
    const ingestors =
      options.ingestors instanceof Map
        ? options.ingestors
        : options.ingestors
          ? new Map(Object.entries(options.ingestors))
          : undefined;
    const metrics = options.registry ? networkMetrics(options.registry) : undefined;
    const validatorContext = {
      kindOf: (topic: string) => kinds.get(topic),
      bindings,
      membership,
      rate: new RateLimiter({ ratePerSecond: limits.messagesPerSecondPerPeer, burst: limits.burstPerPeer }),
      bindingWaitMs: limits.bindingWaitMs,
      maxWaitingPerPeer: 32,
      reportMaxAgeMs: limits.reportMaxAgeMs,
      ingestors,
      verifyBackpressure: options.verify?.backpressure,
      verifyShare: options.verify?.share,
    };
    if (!options.verify?.backpressure || !options.verify?.share) {
      log.warn("no backpressure/share signature check given: those messages are ignored until one is");
    }
    const deliver = <T>(set: Set<(value: T, from: PeerInfo) => void>, value: T, from: PeerInfo) => {
      for (const handler of set) {
        try {
          handler(value, from);
        } catch (error) {
          log.error({ err: String(error) }, "network message handler threw");
        }
      }
    };
    const onMessage = (event: CustomEvent<GossipsubMessage>) => {
      const { msg, msgId, propagationSource } = event.detail;
      const source = propagationSource.toString();
      void validateMessage(validatorContext, msg, source)
        .catch((error: unknown): Verdict => ({ result: "ignore", reason: "validator_error", detail: String(error) }))
        .then((verdict) => {
          if (closed) return;
          metrics?.messages.inc({
            kind: kinds.get(msg.topic) ?? "unknown",
            verdict: verdict.result,
            reason: verdict.result === "accept" ? "" : verdict.reason,
          });
          if (verdict.result !== "accept") {
            count(verdict.result === "reject" ? counters.rejected : counters.ignored, verdict.reason);
            if (verdict.penalize) penalties.add(source);
            log.debug({ topic: msg.topic, source, ...verdict }, `gossip message ${verdict.result}ed`);
            pubsub.reportMessageValidationResult(
              msgId,
              source,
              verdict.result === "reject" ? TopicValidatorResult.Reject : TopicValidatorResult.Ignore,
            );
            return;
          }
          pubsub.reportMessageValidationResult(msgId, source, TopicValidatorResult.Accept);
          const { decoded } = verdict;
          count(counters.accepted, decoded.kind);
          const from: PeerInfo = { peerId: verdict.origin, operator: verdict.operator };
          switch (decoded.kind) {
            case "request":
              return deliver(handlers.request, decoded.value, from);
            case "result":
              if (
                options.deliverAllResults ||
                watched.has(resultKey(decoded.value.originChainId, decoded.value.requestId))
              ) {
                deliver(handlers.result, decoded.value, from);
              }
              return;
            case "backpressure":
              lastReports.set(decoded.value.operator, decoded.value);
              return deliver(handlers.backpressure, decoded.value, from);
            case "share":
              return deliver(handlers.share, decoded.value, from);
            case "binding":
              return;
          }
        });
    };
    pubsub.addEventListener("gossipsub:message", onMessage);
    cleanups.push(["message listener", () => pubsub.removeEventListener("gossipsub:message", onMessage)]);

    // Our binding reaches peers we are not connected to by gossip: while this node is new (its
    // first 10 s, when peers appear on the bindings topic, at most once a second) and then every
    // `bindingRepublishMs`. Existing nodes do not answer a newcomer's subscription with theirs
    // (that would cost O(nodes²) messages per join): the newcomer gets them all from its first
    // peer's binding exchange.
    const startedAt = Date.now();
    let bindingSoon: ReturnType<typeof setTimeout> | undefined;
    let lastBindingPublish = 0;
    const onSubscription = (event: CustomEvent<{ subscriptions: { topic: string; subscribe: boolean }[] }>) => {
      if (Date.now() - startedAt > 10_000 || bindingSoon) return;
      if (!event.detail.subscriptions.some((s) => s.subscribe && s.topic === topics.bindings)) return;
      bindingSoon = setTimeout(
        () => {
          bindingSoon = undefined;
          lastBindingPublish = Date.now();
          void publishBinding();
        },
        Math.max(50, lastBindingPublish + 1_000 - Date.now()),
      );
    };
    pubsub.addEventListener("subscription-change", onSubscription);
    cleanups.push([
      "subscription listener",
      () => {
        pubsub.removeEventListener("subscription-change", onSubscription);
        if (bindingSoon) clearTimeout(bindingSoon);
      },
    ]);
    for (const topic of kinds.keys()) pubsub.subscribe(topic);

    // ---------------------------------------------------------------- periodic work
    timers.push(setInterval(() => void membership.refresh(), timing.membershipRefreshMs));
    timers.push(setInterval(() => void publishBinding(), timing.bindingRepublishMs));
    const bootstrapAddrs = options.bootstrap.map((a) => multiaddr(a));
    timers.push(
      setInterval(() => {
        if (closed) return;
        const now = Date.now();
        for (const connection of libp2p.getConnections()) {
          const peer = connection.remotePeer.toString();
          if (pubsub.getScore(peer) <= SCORE_THRESHOLDS.graylistThreshold && !isBanned(peer)) {
            banned.set(peer, now + limits.banMs);
            log.warn(
              { peer, score: pubsub.getScore(peer), operator: bindings.get(peer)?.operator ?? null },
              "peer graylisted: disconnected and banned",
            );
            libp2p.hangUp(connection.remotePeer).catch(() => undefined);
          }
        }
        if (metrics) {
          const peers = libp2p.getPeers().map((p) => p.toString());
          const bound = peers.filter((p) => {
            const known = bindings.get(p, now);
            return known !== undefined && membership.roleOf(known.operator) !== null;
          }).length;
          metrics.peers.set({ state: "bound" }, bound);
          metrics.peers.set({ state: "unbound" }, peers.length - bound);
          metrics.peers.set({ state: "banned" }, [...banned.values()].filter((until) => until > now).length);
        }
        const connections = libp2p.getConnections().length;
        if (connections > 0 && now - lastLookup > (connections < Math.min(8, maxPeers) ? 1_000 : 30_000))
          void lookupPeers();
        // Under-connected: re-dial the bootstrap list (it may have started after us, or restarted).
        if (libp2p.getConnections().length < Math.min(3, bootstrapAddrs.length)) {
          for (const address of bootstrapAddrs) {
            const id = address.getComponents().findLast((c) => c.name === "p2p")?.value;
            if (!id || id === selfId || isBanned(id) || libp2p.getConnections(peerIdFromString(id)).length > 0)
              continue;
            libp2p.dial(address).catch(() => undefined);
          }
        }
      }, timing.maintenanceMs),
    );
    void publishBinding();

    // ---------------------------------------------------------------- the interface
    const publish = async (topic: string, bytes: Uint8Array) => {
      if (closed) throw new InvalidInputError("network", "an open network (close() was called)");
      await pubsub.publish(topic, bytes);
    };
    const requireOwn = (claimed: Address, field: string) => {
      if (getAddress(claimed) !== operator) {
        throw new InvalidInputError(field, `this node's operator ${operator}`, { details: `got ${claimed}` });
      }
    };
    const subscribeHandler = <T>(set: Set<T>, handler: T) => {
      set.add(handler);
      return () => void set.delete(handler);
    };
    const chainJoined = (chainId: number | bigint | string, field: string) => {
      if (!kinds.has(topics.results(chainId))) {
        throw new InvalidInputError(field, `one of the network's chains (${options.chains.join(", ")})`, {
          details: `got ${chainId}`,
        });
      }
    };

    const network: OperatorNetwork = {
      peerId: selfId,
      operator,
      libp2p,
      addresses: () => libp2p.getMultiaddrs().map((a) => a.toString()),
      async announceRequest(a) {
        chainJoined(a.chainId, "RequestAnnouncement.chainId");
        await publish(topics.requests(a.chainId), requestAnnouncementCodec.encode(a));
      },
      onRequest: (h) => subscribeHandler(handlers.request, h),
      watchResults(chainId, requestId) {
        chainJoined(chainId, "chainId");
        watched.add(resultKey(chainId, requestId));
      },
      unwatchResults(chainId, requestId) {
        watched.delete(resultKey(chainId, requestId));
      },
      async publishResult(r) {
        requireOwn(r.operator, "ResultMessage.operator");
        chainJoined(r.originChainId, "ResultMessage.originChainId");
        await publish(topics.results(r.originChainId), resultMessageCodec.encode(r as ResultMessage));
      },
      onResult: (h) => subscribeHandler(handlers.result, h),
      async publishBackpressure(r) {
        requireOwn(r.operator, "BackpressureReport.operator");
        await publish(topics.backpressure, backpressureReportCodec.encode(r));
      },
      onBackpressure: (h) => subscribeHandler(handlers.backpressure, h),
      async publishShare(s) {
        requireOwn(s.from, "ShareOffer.from");
        await publish(topics.shares, shareOfferCodec.encode(s));
      },
      onShare: (h) => subscribeHandler(handlers.share, h),
      status() {
        const known = new Map(bindings.entries());
        const peers = libp2p.getPeers().map((id): NetworkPeerStatus => {
          const peerId = id.toString();
          const binding = known.get(peerId);
          return {
            peerId,
            operator: binding?.operator ?? null,
            role: binding ? membership.roleOf(binding.operator) : null,
            bound: binding !== undefined,
            score: pubsub.getScore(peerId),
            addrs: libp2p.getConnections(id).map((c) => c.remoteAddr.toString()),
          };
        });
        const now = Date.now();
        return {
          network: options.network,
          peerId: selfId,
          operator,
          role: membership.roleOf(operator),
          addresses: network.addresses(),
          peers,
          topics: [...kinds.keys()].map((topic) => ({
            topic,
            peers: pubsub.getSubscribers(topic).length,
            mesh: pubsub.getMeshPeers(topic).length,
          })),
          membership: membership.snapshot(),
          bindings: bindings.entries().filter(([, known]) => known.binding.expiresAt > now).length,
          banned: [...banned.entries()]
            .filter(([, until]) => until > now)
            .map(([peerId, until]) => ({ peerId, until })),
          lastReports: [...lastReports.values()],
          messages: structuredClone(counters),
          verifiers: { backpressure: Boolean(options.verify?.backpressure), share: Boolean(options.verify?.share) },
        };
      },
      close,
    };
    log.info({ peerId: selfId, operator, addresses: network.addresses(), chains: options.chains }, "network started");
    return network;
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}
