import { connectRedis, describeRedis } from "../../protocol/redis.ts";
import type { Registry } from "prom-client";
import { createPublicClient, http, type Address, type Hex, type PublicClient, type Transport } from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import type { DaClient } from "../../da/index.ts";
import { loadIngestorConfig, startIngestor, type IngestorHandle } from "../../ingestor/index.ts";
import { latestBlockClock } from "../../protocol/chainClock.ts";
import { Closer } from "../../protocol/closer.ts";
import { redactUrl } from "../../protocol/errors.ts";
import { closeSignerRecovery, configureSignerRecovery } from "../../protocol/signerRecovery.ts";
import {
  closeRedis,
  createLogger,
  createRegistry,
  DependencyMonitor,
  retryWhileUnreachable,
  startOpsServer,
  watchRedis,
  type Health,
  type Logger,
  type OpsServer,
} from "../../protocol/ops.ts";
import { LeaderlessScheduler } from "../../relayer/leaderless.ts";
import { loadRelayerConfig, startRelayer, type RelayerHandle } from "../../relayer/index.ts";
import {
  attributeWork,
  posterSchedule,
  verifyBackpressureReport,
  verifyShareOffer,
} from "../../protocol/scheduling.ts";
import type { NanoRuntime } from "../../runtime/executor.ts";
import { loadWatcherConfig } from "../../watcher/config.ts";
import { startWatcher, type WatcherHandle } from "../../watcher/index.ts";
import { loadWorkerConfig, startWorker, type WorkerHandle } from "../../worker/index.ts";
import type { OutcomeTamper } from "../../worker/execute.ts";
import { nodeKeysFromEnv, type NodeConfig, type NodeKeys, type NodeRole } from "./config.ts";
import { NodeAutoscale } from "./autoscale.ts";
import { GossipBridge } from "./gossip.ts";
import { Membership } from "./membership.ts";
import { loadOrCreatePeerKey } from "../../network/index.ts";
import { startNodeNetwork, type NodeNetwork, type NodeNetworkOptions } from "./network.ts";
import { startNodeContent, type NodeContent } from "./content.ts";

export { loadNodeConfig, nodeConfigSchema, NODE_ROLES, type NodeConfig, type NodeRole } from "./config.ts";

export type OperatorNodeOptions = {
  /** Keys (default: from the environment, nodeKeysFromEnv). */
  keys?: NodeKeys;
  logger?: Logger;
  registry?: Registry;
  /** viem transports by chain id instead of http(rpcUrl) (in-process chains of tests). */
  transports?: Record<number, Transport>;
  /**
   * The peer-to-peer layer: a started network, or a factory (tests pass an in-process hub's
   * member). Default: network/ `startOperatorNetwork` with the config's listen/bootstrap/peer key.
   */
  network?: NodeNetwork | ((options: NodeNetworkOptions) => Promise<NodeNetwork>);
  /** Share a runtime pool between in-process nodes (not closed by close()). */
  runtime?: NanoRuntime;
  /** A DA client instead of one built from config.da (not closed by close()). */
  da?: DaClient;
  /** false: no ops server (/metrics, /healthz, /network). Default true. */
  opsServer?: boolean;
  /** A lying operator (devnet demo, tests): its runs go through this before signing. */
  tamper?: OutcomeTamper;
};

export type OperatorNodeStatus = {
  operator: Address | null;
  roles: NodeRole[];
  network: unknown;
  membership: { source: { chainId: number; address: Address }; operators: Address[] };
  quorum: number;
  /** Recent requests: the quorum this node derived and what it decided (relay role). */
  requests: unknown[];
  /** Latest valid backpressure report per operator. */
  backpressure: unknown[];
  watching: number;
  /** Auto-scaling: quorums per program, streaks, fee quote multiplier, recent events (cli/node/autoscale.ts). */
  autoscale: ReturnType<NodeAutoscale["status"]>;
  /** Content caching (persist/gateway roles): held resources, holders, events; null without them. */
  content: unknown;
};

export type OperatorNode = {
  operator: Address | null;
  network: NodeNetwork;
  relayer: RelayerHandle | undefined;
  worker: WorkerHandle | undefined;
  ingestor: IngestorHandle | undefined;
  watcher: WatcherHandle | undefined;
  ops: OpsServer | undefined;
  /** The node's auto-scaling state (its compute role's samples feed it; GET /network shows it). */
  autoscale: NodeAutoscale;
  status(): OperatorNodeStatus;
  /** Stops every role (each step runs even when another fails), the network, Redis. Safe to call twice. */
  close(): Promise<void>;
};

/**
 * One operator's node (SPEC 6, docs/node.md): the roles the config names, in one process,
 * talking to each other through the operator's own Redis or Redis Cluster (protocol/queues.ts) and
 * to other operators only through the peer-to-peer network. Start is all-or-nothing: a role that
 * fails to start stops the ones already running and the error is thrown.
 *
 * - relay: follows the chains, announces confirmed requests, decides for this operator alone
 *   (LeaderlessScheduler: compute, share, steal, wait), reconciles from chain state;
 * - compute: the worker on this operator's work queue; its results go to the domain's results
 *   queue and to the network; its backpressure reports are signed and gossiped;
 * - collect: results from the network and the domain, threshold, DA record, post jobs;
 * - post: posts, in a per-request rotation over the active set (first poster at once, the next
 *   one `postFallbackMs` later if the result is still not ingested; a duplicate is a skip);
 * - watch: the watcher (HoneSTake).
 */
export async function startOperatorNode(config: NodeConfig, options: OperatorNodeOptions = {}): Promise<OperatorNode> {
  const keys = options.keys ?? nodeKeysFromEnv(config);
  const roles = new Set(config.roles);
  const has = (role: NodeRole) => roles.has(role);
  const operatorAccount: PrivateKeyAccount | undefined = keys.operatorKey
    ? privateKeyToAccount(keys.operatorKey)
    : undefined;
  const identity = operatorAccount ?? (keys.watcherKey ? privateKeyToAccount(keys.watcherKey) : undefined);
  if (!identity) throw new Error("a node needs VERSATUS_OPERATOR_KEY (or, for a watch-only node, the watcher key)");
  const baseLog = options.logger ?? createLogger("node", config.ops.logLevel);
  const log = baseLog.child({ module: "node", operator: identity.address });
  const registry = options.registry ?? createRegistry("node");
  const closer = new Closer(log);
  const node: OperatorNode = {
    operator: operatorAccount?.address ?? null,
    network: undefined as unknown as NodeNetwork,
    relayer: undefined,
    worker: undefined,
    ingestor: undefined,
    watcher: undefined,
    ops: undefined,
    autoscale: undefined as unknown as NodeAutoscale,
    status: () => status(),
    close: async () => {
      await closer.close();
      log.info("node stopped");
    },
  };
  // While it starts (the operator set needs the chain), /healthz says what it waits for.
  const starting: Record<string, DependencyMonitor> = {};
  let health = (): Health | Promise<Health> => ({
    ok: false,
    details: {
      starting: true,
      dependencies: Object.fromEntries(Object.entries(starting).map(([name, m]) => [name, m.health()])),
    },
  });
  let status = (): OperatorNodeStatus => {
    throw new Error("the node is still starting");
  };
  try {
    // The ops server first: a port that is taken fails the start before anything runs.
    if (options.opsServer ?? true) {
      node.ops = await startOpsServer({
        port: config.ops.port,
        host: config.ops.host,
        registry,
        health: () => health(),
        routes: { "/network": () => status() },
      });
      const ops = node.ops;
      closer.add("ops server", () => ops.close());
    }
    const clients = new Map<number, PublicClient>(
      config.chains.map((c) => [
        c.chainId,
        createPublicClient({ transport: options.transports?.[c.chainId] ?? http(c.rpcUrl) }) as PublicClient,
      ]),
    );
    const clock = latestBlockClock((chainId) => clients.get(Number(chainId)));

    const redisHealth = new DependencyMonitor({ name: "redis", where: describeRedis(config.redis), log });
    const redis = connectRedis(config.redis);
    watchRedis(redis, redisHealth);
    closer.add("redis", () => closeRedis(redis));
    starting.redis = redisHealth;

    // The operator set is read from a chain: with its RPC down the node waits (and says so)
    // rather than exiting on a stack trace; a stop signal ends the wait.
    const setChain = config.operators?.operatorSet?.chainId ?? config.chains[0]!.chainId;
    const setRpc = new DependencyMonitor({
      name: `rpc of chain ${setChain}`,
      where: redactUrl(config.chains.find((c) => c.chainId === setChain)?.rpcUrl ?? "in-process"),
      log,
    });
    starting[`rpc ${setChain}`] = setRpc;
    const membership = await retryWhileUnreachable(
      () => Membership.open(config, (id) => clients.get(id)!, log),
      setRpc,
    );
    membership.start(config.timing.membershipRefreshMs);
    closer.add("membership", () => membership.stop());

    // auto-scaling (SPEC 6): samples from this node's compute role, routing for the relay role's
    // scheduler and for checking share offers of a scaled program's requests
    const autoscale = new NodeAutoscale({
      size: config.timing.quorum,
      activeSet: membership.operators,
      registry,
      log: log.child({ module: "autoscale" }),
    });
    node.autoscale = autoscale;

    // --- the network ------------------------------------------------------------------------------
    // Before the network: the first gossiped result may need its signer recovered.
    configureSignerRecovery({ threads: config.network.recoveryThreads });
    closer.add("signer recovery", () => closeSignerRecovery());
    const networkOptions = async (): Promise<NodeNetworkOptions> => ({
      network: config.network.name,
      account: identity,
      peerKey: await loadOrCreatePeerKey(config.network.peerKeyFile),
      listen: config.network.listen,
      bootstrap: config.network.bootstrap,
      chains: config.chains.map((c) => c.chainId),
      membership: async () => ({
        operators: await membership.refresh(),
        watchers: membership.watchers(),
      }),
      ingestors: Object.fromEntries(config.chains.map((c) => [String(c.chainId), c.ingestor as Address])),
      verify: {
        backpressure: (r, opts) => verifyBackpressureReport(r, opts),
        share: async (s, opts) => {
          const quorum = config.autoscale.route
            ? await autoscale.quorumOfFollowed(redis, s.chainId, s.requestId, membership.operators())
            : undefined;
          return verifyShareOffer(s, {
            chainId: s.chainId,
            requestId: s.requestId,
            activeSet: membership.operators(),
            quorumSize: config.timing.quorum,
            maxAgeMs: opts.maxAgeMs,
            now: opts.now,
            ...(quorum ? { quorum } : {}),
          });
        },
      },
      // a collector takes every result of its chains; other roles only those of requests they follow
      deliverAllResults: has("collect"),
      limits: { reportMaxAgeMs: config.timing.staleAfterMs },
      timing: { membershipRefreshMs: config.timing.membershipRefreshMs },
      logger: baseLog.child({ module: "network" }),
    });
    const given = options.network;
    node.network =
      given === undefined
        ? await startNodeNetwork(await networkOptions())
        : typeof given === "function"
          ? await given(await networkOptions())
          : given;
    const network = node.network;
    closer.add("network", () => network.close());

    // --- content caching (persist, gateway) ---------------------------------------------------------
    // A compute node on libp2p also fetches programs by content address (config.programs.network).
    let content: NodeContent | undefined;
    const libp2p = (network as { libp2p?: Parameters<typeof startNodeContent>[0]["libp2p"] }).libp2p;
    if (has("persist") || has("gateway") || (has("compute") && libp2p && config.programs.network !== "off")) {
      content = await startNodeContent({
        config,
        libp2p,
        clients,
        registry,
        log,
        // holdings reports are believed only from peers bound to active operators
        network,
      });
      const started = content;
      closer.add("content", () => started.close());
    }

    let scheduler: LeaderlessScheduler | undefined;
    const gossip = new GossipBridge({
      network,
      account: operatorAccount,
      redis,
      log: log.child({ module: "gossip" }),
      staleAfterMs: config.timing.staleAfterMs,
      activeSet: membership.operators,
      quorumSize: config.timing.quorum,
      collect: has("collect"),
      trackSigners: has("relay"),
      ...(has("relay") ? { onAnnouncement: async (a) => node.relayer?.acceptAnnouncement(a) } : {}),
      onShareToMe: (chainId, requestId) => scheduler?.poke(chainId, requestId) ?? Promise.resolve(),
      chainNow: (chainId) => clock.nowSeconds(chainId),
    });
    gossip.start();
    closer.add("gossip", () => gossip.close());

    const chains = config.chains.map((c) => ({
      chainId: c.chainId,
      ...(c.name ? { name: c.name } : {}),
      rpcUrl: c.rpcUrl,
      oracle: c.oracle,
      ingestor: c.ingestor,
      confirmations: c.confirmations,
      startBlock: c.startBlock,
      pollIntervalMs: c.pollIntervalMs,
      subscribe: c.subscribe,
      ...(c.wsUrl ? { wsUrl: c.wsUrl } : {}),
    }));
    const clientsByChain = Object.fromEntries([...clients.entries()].map(([id, c]) => [id, c]));
    const transportsByChain = options.transports
      ? Object.fromEntries(Object.entries(options.transports).map(([id, t]) => [String(id), t]))
      : undefined;
    const { timing } = config;

    // --- relay --------------------------------------------------------------------------------------
    if (has("relay")) {
      if (!operatorAccount) throw new Error("the relay role needs VERSATUS_OPERATOR_KEY");
      const relayerConfig = loadRelayerConfig({
        raw: {
          chains: config.chains.map((c) => ({
            ...chains.find((x) => x.chainId === c.chainId),
            maxBlockRange: c.maxBlockRange,
            ...(c.reorgDepth === undefined ? {} : { reorgDepth: c.reorgDepth }),
          })),
          operators: { operatorSet: membership.source },
          scheduler: {
            quorum: timing.quorum,
            sweepIntervalMs: timing.sweepIntervalMs,
            staleAfterMs: timing.staleAfterMs,
          },
          redis: config.redis,
          reconcile: {
            intervalMs: timing.reconcileIntervalMs,
            lookbackBlocks: timing.reconcileLookbackBlocks,
            graceMs: timing.reconcileGraceMs,
          },
        },
        env: {},
      });
      node.relayer = await startRelayer(relayerConfig, {
        logger: baseLog.child({ service: "relay" }),
        registry,
        opsServer: false,
        clients: clientsByChain,
        operators: { current: membership.operators, refresh: membership.refresh },
        createScheduler: (context) => {
          scheduler = new LeaderlessScheduler({
            redis: context.redis,
            self: operatorAccount.address,
            quorum: timing.quorum,
            timing: {
              stealAfterMs: timing.stealAfterMs,
              stealStepMs: timing.stealStepMs,
              staleAfterMs: timing.staleAfterMs,
            },
            operators: context.operators,
            requestStatus: context.requestStatus,
            chainNow: context.chainNow,
            reports: gossip.reportsView,
            shares: gossip.sharesFor,
            share: (request, to) => gossip.offer(request, to),
            onNew: (request) => {
              gossip.watch(request.chainId, request.requestId, request.deadline);
              node.ingestor?.collector?.prefetchRequest(
                BigInt(request.chainId),
                request.requestId,
                BigInt(request.blockNumber),
              );
              void clients
                .get(Number(request.chainId))
                ?.getBlock({ blockNumber: BigInt(request.blockNumber) })
                .then((block) => gossip.announce(request, block.hash))
                .catch((err: unknown) => log.debug({ err, requestId: request.requestId }, "could not announce"));
            },
            onDropped: (chainId, requestId) => gossip.unwatch(chainId, requestId),
            log: context.log,
            metrics: context.metrics,
            ...(config.autoscale.route ? { quorumFor: autoscale.quorumFor } : {}),
          });
          return scheduler;
        },
      });
      const relayer = node.relayer;
      closer.add("relay", () => relayer.close(), 15_000);
    }

    // --- compute ------------------------------------------------------------------------------------
    if (has("compute")) {
      if (!keys.operatorKey) throw new Error("the compute role needs VERSATUS_OPERATOR_KEY");
      const workerConfig = loadWorkerConfig({
        raw: {
          chains,
          programs: config.programs,
          accept: config.accepts,
          concurrency: config.compute.concurrency,
          capacity: config.compute.capacity,
          ...(config.compute.runtimeThreads ? { runtimeThreads: config.compute.runtimeThreads } : {}),
          reportIntervalMs: timing.reportIntervalMs,
          redis: config.redis,
        },
        env: {},
      });
      const programNetwork = content?.content;
      node.worker = await startWorker(workerConfig, {
        ...(programNetwork ? { programNetwork: (id: Hex) => programNetwork.getProgramPackage(id) } : {}),
        privateKey: keys.operatorKey,
        logger: baseLog.child({ service: "compute" }),
        registry,
        opsServer: false,
        ...(options.runtime ? { runtime: options.runtime } : {}),
        ...(options.tamper ? { tamper: options.tamper } : {}),
        clients: Object.fromEntries([...clients.entries()].map(([id, c]) => [String(id), c])),
        onResult: async (result) => {
          await gossip.recordSigner(result);
          await network.publishResult(result);
        },
        onReport: (report) =>
          void gossip.publishReport(report).catch((err: unknown) => log.debug({ err }, "could not publish a report")),
      });
      const worker = node.worker;
      autoscale.measure(worker.worker, redis);
      closer.add("compute", () => worker.close(), 15_000);
    }

    // --- collect / post -----------------------------------------------------------------------------
    if (has("collect") || has("post")) {
      const ingestorConfig = loadIngestorConfig({
        raw: {
          chains,
          redis: config.redis,
          da: config.da,
          ...(has("post") && keys.posterKey ? { posterKey: keys.posterKey } : {}),
          collector: { enabled: has("collect") },
          poster: { ...config.poster, enabled: has("post") },
          reconcile: {
            // the relay role reconciles itself; a node without it hands orphans to the domain's relay
            enabled: !has("relay"),
            intervalMs: timing.reconcileIntervalMs,
            lookbackBlocks: timing.reconcileLookbackBlocks,
            graceMs: timing.reconcileGraceMs,
          },
        },
        env: {},
      });
      const self = operatorAccount?.address;
      node.ingestor = await startIngestor(ingestorConfig, {
        logger: baseLog.child({ service: "collect" }),
        registry,
        opsServer: false,
        ...(transportsByChain ? { transports: transportsByChain } : {}),
        ...(options.da ? { da: options.da } : {}),
        postDelayMs: ({ target, requestId }) => postDelay(target, requestId, self),
        attribute: ({ originChainId, requestId, signers }) =>
          attributeWork({
            chainId: originChainId,
            requestId,
            activeSet: membership.operators(),
            quorumSize: timing.quorum,
            signers,
            shares: gossip.sharesFor(originChainId, requestId),
            maxAgeMs: timing.staleAfterMs,
          }),
      });
      const ingestor = node.ingestor;
      closer.add("collect/post", () => ingestor.close(), 15_000);
    }

    /** This node's place in the request's posting rotation on `target` (over the active set), as a delay. */
    function postDelay(target: string, requestId: Hex, self: Address | undefined): number {
      const order = posterSchedule({
        chainId: target,
        requestId,
        posters: membership.operators(),
        fallbackDelayMs: timing.postFallbackMs,
      });
      const mine = self ? order.find((p) => p.poster.toLowerCase() === self.toLowerCase()) : undefined;
      return mine ? mine.notBefore : order.length * timing.postFallbackMs;
    }

    // --- watch --------------------------------------------------------------------------------------
    if (has("watch")) {
      const watcherConfig = loadWatcherConfig({
        raw: {
          chains: config.chains.map((c) => ({
            ...chains.find((x) => x.chainId === c.chainId),
            disputeManager: c.disputeManager,
            registry: c.registry,
          })),
          watcher: { privateKey: keys.watcherKey },
          da: config.da,
          programs: config.programs,
          options: config.watch.options,
          redis: config.redis,
        },
        env: {},
      });
      node.watcher = await startWatcher(watcherConfig, {
        logger: baseLog.child({ service: "watch" }),
        registry,
        opsServer: false,
        ...(options.runtime ? { runtime: options.runtime } : {}),
        ...(options.da ? { da: options.da } : {}),
        ...(options.transports ? { transports: options.transports } : {}),
      });
      const watcher = node.watcher;
      closer.add("watch", () => watcher.close(), 15_000);
    }

    status = () => ({
      operator: operatorAccount?.address ?? null,
      roles: config.roles,
      network: network.status(),
      membership: { source: membership.source, operators: membership.operators() },
      quorum: timing.quorum,
      requests: scheduler?.recent() ?? [],
      backpressure: [...gossip.reportsView().values()],
      watching: gossip.watching(),
      autoscale: autoscale.status(),
      content: content ? { ...content.content.status(), gateway: content.gateway?.url ?? null } : null,
    });
    health = async () => {
      const parts: Record<string, unknown> = { redis: redis.status, dependencies: { redis: redisHealth.health() } };
      let ok = redis.status === "ready";
      if (node.worker) {
        const running = node.worker.worker.isRunning();
        parts.compute = running;
        ok &&= running;
      }
      if (node.relayer)
        parts.relay = node.relayer.followers.map((f) => ({ chainId: f.chainId, lastPollAt: f.lastPollAt }));
      if (node.ingestor) parts.collect = { collector: !!node.ingestor.collector, poster: !!node.ingestor.poster };
      return { ok, details: { operator: identity.address, roles: config.roles, ...parts } };
    };
    log.info(
      {
        roles: config.roles,
        peerId: network.peerId,
        addresses: network.addresses(),
        operators: membership.operators().length,
        ops: node.ops?.url,
      },
      "node started",
    );
    return node;
  } catch (error) {
    await closer.close();
    throw error;
  }
}
