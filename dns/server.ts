import { createSocket, type Socket } from "node:dgram";
import { createServer, isIPv6, type Server, type Socket as TcpSocket } from "node:net";
import { createPublicClient, http, type PublicClient, type Transport } from "viem";
import { Counter, Gauge } from "prom-client";
import { redactUrl } from "../protocol/errors.ts";
import { createLogger, createRegistry, DependencyMonitor, startOpsServer, type Logger } from "../protocol/ops.ts";
import type { DnsConfig } from "./config.ts";
import { registryNameSource, watchNameChanges } from "./registry.ts";
import { DnsResolver, type Resolution } from "./resolver.ts";

export type DnsFacade = {
  /** The UDP and TCP port (the same one). */
  port: number;
  host: string;
  /** The registry's suffix, read from the chain at start. */
  suffix: string;
  opsUrl: string;
  resolver: DnsResolver;
  /** Stops the sockets, the event watch and the ops server; safe to call twice. */
  close(): Promise<void>;
};

/** How many times a free UDP port is tried for TCP too when `listen.port` is 0 (TCP may have it taken). */
const FREE_PORT_ATTEMPTS = 10;

/**
 * `versatus dns`: a DNS server on UDP and TCP answering names in global state (the NameRegistry)
 * and forwarding the rest to the upstream resolver (docs/dns.md). `transport` replaces the RPC
 * transport (tests pass an in-process chain's provider).
 *
 * @example
 * const dns = await startDnsFacade(loadDnsConfig({ file: "dns.json" }));
 * // dig @127.0.0.1 -p 5353 hello.versatus TXT
 * await dns.close();
 */
export async function startDnsFacade(
  config: DnsConfig,
  options: { transport?: Transport; log?: Logger } = {},
): Promise<DnsFacade> {
  const log = (options.log ?? createLogger("dns", config.ops.logLevel)).child({ module: "dns" });
  const client = createPublicClient({ transport: options.transport ?? http(config.chain.rpcUrl) }) as PublicClient;
  const chainHealth = new DependencyMonitor({
    name: `rpc ${config.chain.chainId}`,
    where: options.transport ? "in-process" : redactUrl(config.chain.rpcUrl),
    log,
  });
  const upstream = config.upstream;
  const upstreamHealth = upstream
    ? new DependencyMonitor({ name: "upstream resolver", where: `${upstream.host}:${upstream.port}`, log })
    : undefined;

  const names = registryNameSource(client, config.chain.nameRegistry);
  let suffix: string;
  try {
    suffix = await names.suffix();
    chainHealth.up();
  } catch (error) {
    throw new Error(
      `cannot read the NameRegistry at ${config.chain.nameRegistry} on chain ${config.chain.chainId} (${chainHealth.where}): ${(error as Error).message.split("\n")[0]}`,
      { cause: error },
    );
  }
  const resolver = new DnsResolver({
    suffix,
    names,
    ...(upstream ? { upstream } : {}),
    ttlS: config.ttlS,
    negativeTtlS: config.negativeTtlS,
    maxEntries: config.cache.maxEntries,
    maxUpstreamTtlS: config.cache.maxUpstreamTtlS,
    onChainError: (e) => chainHealth.down(e),
    onChainOk: () => chainHealth.up(),
    onUpstreamError: (e) => upstreamHealth?.down(e),
    onUpstreamOk: () => upstreamHealth?.up(),
  });

  const registry = createRegistry("dns");
  const queries = new Counter({
    name: "versatus_dns_queries_total",
    help: "DNS queries answered, by transport, where the answer came from, and response code",
    labelNames: ["transport", "source", "rcode"],
    registers: [registry],
  });
  const truncations = new Counter({
    name: "versatus_dns_truncated_total",
    help: "UDP answers sent with TC set (too big for the client's UDP size; full answer over TCP)",
    registers: [registry],
  });
  const malformed = new Counter({
    name: "versatus_dns_malformed_total",
    help: "Messages that could not be parsed (answered FORMERR, or dropped without a header)",
    registers: [registry],
  });
  const invalidations = new Counter({
    name: "versatus_dns_cache_invalidations_total",
    help: "Names dropped from the cache because a NameRegistry event changed them",
    registers: [registry],
  });
  new Gauge({
    name: "versatus_dns_cache_entries",
    help: "Entries in the node cache (registry names and upstream answers)",
    registers: [registry],
    collect() {
      this.set(resolver.cacheSize);
    },
  });

  const count = (transport: "udp" | "tcp", resolution: Resolution | undefined) => {
    if (!resolution) {
      malformed.inc();
      return;
    }
    queries.inc({ transport, source: resolution.source, rcode: resolution.rcode });
    if (resolution.truncated) truncations.inc();
    if (resolution.malformed) malformed.inc();
  };

  const cleanups: (() => Promise<void> | void)[] = [];
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
    })();
    return closing;
  };

  try {
    const { udp, tcp, port } = await bindBoth(config.listen.host, config.listen.port);
    cleanups.push(() => new Promise<void>((resolve) => udp.close(() => resolve())));
    const connections = new Set<TcpSocket>();
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const c of connections) c.destroy();
          tcp.close(() => resolve());
        }),
    );

    udp.on("message", (message, from) => {
      resolver.resolve(message, "udp").then(
        (resolution) => {
          count("udp", resolution);
          if (resolution) udp.send(resolution.response, from.port, from.address);
        },
        (error: unknown) => log.error({ err: error }, "dns: resolving a UDP query failed"),
      );
    });
    udp.on("error", (error) => log.warn({ err: error }, "dns: UDP socket error"));

    tcp.on("connection", (socket) => {
      connections.add(socket);
      socket.setTimeout(config.tcp.idleTimeoutMs, () => socket.destroy());
      socket.on("close", () => connections.delete(socket));
      socket.on("error", () => socket.destroy());
      // RFC 1035 4.2.2: each message is preceded by its 2-byte length; several may share a connection
      let pending = Buffer.alloc(0);
      let chain = Promise.resolve();
      socket.on("data", (data) => {
        pending = Buffer.concat([pending, data]);
        while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
          const message = pending.subarray(2, 2 + pending.readUInt16BE(0));
          pending = pending.subarray(2 + message.length);
          // answers go out in the order the queries came
          chain = chain.then(async () => {
            const resolution = await resolver.resolve(Buffer.from(message), "tcp");
            count("tcp", resolution);
            if (!resolution) {
              socket.destroy();
              return;
            }
            const length = Buffer.alloc(2);
            length.writeUInt16BE(resolution.response.length);
            if (!socket.destroyed) socket.write(Buffer.concat([length, resolution.response]));
          });
          chain = chain.catch((error: unknown) => log.error({ err: error }, "dns: resolving a TCP query failed"));
        }
      });
    });

    if (config.watch.enabled) {
      const stop = await watchNameChanges({
        client,
        registry: config.chain.nameRegistry,
        pollIntervalMs: config.watch.pollIntervalMs,
        onChange: (name) => {
          resolver.invalidate(name);
          invalidations.inc();
          log.debug({ name }, "dns: name changed on chain, dropped from the cache");
        },
        onPoll: () => chainHealth.up(),
        onError: (error) => chainHealth.down(error),
      });
      cleanups.push(stop);
    }

    const ops = await startOpsServer({
      port: config.ops.port,
      host: config.ops.host,
      registry,
      health: () => {
        const chain = chainHealth.health();
        const up = upstreamHealth?.health();
        return {
          // the upstream only serves other names: the facade is healthy while the chain answers
          ok: chain.ok,
          details: {
            listen: `${config.listen.host}:${port}`,
            suffix,
            dependencies: { chain, ...(up ? { upstream: up } : {}) },
          },
        };
      },
    });
    cleanups.push(() => ops.close());
    log.info(
      {
        port,
        host: config.listen.host,
        suffix,
        ops: ops.url,
        upstream: upstream ? `${upstream.host}:${upstream.port}` : null,
      },
      `dns: serving *.${suffix} from NameRegistry ${config.chain.nameRegistry} on chain ${config.chain.chainId}, UDP+TCP ${config.listen.host}:${port} (ops ${ops.url})`,
    );
    return { port, host: config.listen.host, suffix, opsUrl: ops.url, resolver, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Binds UDP and TCP on the same port (a free one for port 0). */
async function bindBoth(host: string, port: number): Promise<{ udp: Socket; tcp: Server; port: number }> {
  for (let attempt = 0; ; attempt += 1) {
    const udp = createSocket(isIPv6(host) ? "udp6" : "udp4");
    await listen((done) => {
      udp.once("error", done);
      udp.bind(port, host, () => {
        udp.off("error", done);
        done();
      });
    });
    const bound = udp.address().port;
    const tcp = createServer();
    try {
      await listen((done) => {
        tcp.once("error", done);
        tcp.listen(bound, host, () => {
          tcp.off("error", done);
          done();
        });
      });
      return { udp, tcp, port: bound };
    } catch (error) {
      udp.close();
      if (port !== 0 || attempt + 1 >= FREE_PORT_ATTEMPTS) throw error;
    }
  }
}

function listen(start: (done: (error?: Error) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => start((error) => (error ? reject(error) : resolve())));
}
