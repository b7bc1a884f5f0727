import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { pino, type Logger } from "pino";
import { Registry, collectDefaultMetrics } from "prom-client";

/**
 * Operations helpers every service shares (SPEC 6): a pino JSON logger, a prom-client registry of
 * its own (so several services can run in one process, as the devnet does), and one small HTTP
 * server with `/metrics` (Prometheus text format) and `/healthz` (200 when healthy, 503 when not,
 * JSON body with the details).
 */

export type Health = { ok: boolean; details?: Record<string, unknown> };

export type OpsServerOptions = {
  /** 0 picks a free port (the bound port is in the returned handle). */
  port: number;
  host?: string;
  registry: Registry;
  /** Called on every GET /healthz; a throw counts as unhealthy. */
  health: () => Health | Promise<Health>;
};

export type OpsServer = {
  port: number;
  url: string;
  /** Stops listening; safe to call twice. */
  close: () => Promise<void>;
};

/**
 * Starts the `/metrics` + `/healthz` endpoint of one service.
 *
 * @example
 * const registry = createRegistry("relayer");
 * const ops = await startOpsServer({ port: 9464, registry, health: () => ({ ok: true }) });
 * // curl http://127.0.0.1:9464/healthz
 * await ops.close();
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET") {
      res.writeHead(405).end();
      return;
    }
    if (path === "/metrics") {
      options.registry
        .metrics()
        .then((text) => res.writeHead(200, { "content-type": options.registry.contentType }).end(text))
        .catch((error: unknown) => res.writeHead(500).end(String(error)));
      return;
    }
    if (path === "/healthz") {
      Promise.resolve()
        .then(() => options.health())
        .catch((error: unknown): Health => ({ ok: false, details: { error: String(error) } }))
        .then((health) =>
          res
            .writeHead(health.ok ? 200 : 503, { "content-type": "application/json" })
            .end(JSON.stringify({ ok: health.ok, ...(health.details ?? {}) })),
        );
      return;
    }
    res.writeHead(404).end();
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    port,
    url: `http://${host}:${port}`,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** A registry of one service, with the Node process metrics and a `service` label on everything. */
export function createRegistry(service: string, options: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: "versatus_" });
  return registry;
}

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/** The JSON logger of one service; modules take a child logger with `{ module }`. */
export function createLogger(service: string, level: LogLevel = "info"): Logger {
  return pino({ name: service, level, base: { service, pid: process.pid } });
}

export type { Logger };
