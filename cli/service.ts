import { constants } from "node:os";
import { BaseError } from "../protocol/errors.ts";
import { createLogger } from "../protocol/ops.ts";

/** Default bound on a service's graceful stop (env VERSATUS_SHUTDOWN_TIMEOUT_MS overrides it). */
export const SHUTDOWN_TIMEOUT_MS = 15_000;

/** A repeat of the stop signal within this long is the same signal (a terminal's Ctrl-C reaches the launcher and us). */
const REPEAT_WINDOW_MS = 1_000;

const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

export type ServiceRunOptions = {
  /** Service name for the log lines (relayer, worker, ingestor, watcher). */
  name: string;
  /** Everything that may fail before the service runs (config, keys) and the start itself. */
  start: () => Promise<{ close(): Promise<void> }>;
  /** Bound on the graceful stop; default VERSATUS_SHUTDOWN_TIMEOUT_MS or 15 s. */
  shutdownTimeoutMs?: number;
};

/** A failed start for people: our errors and system errors (ports, files) by message, bugs with their stack. */
function startError(error: unknown): string {
  if (error instanceof BaseError) return error.message;
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  if (code === "EADDRINUSE" || code === "EACCES")
    return `${error.message} (the /metrics + /healthz port: operations.httpPort or the service's *_HTTP_PORT / METRICS_PORT variable)`;
  if (typeof code === "string") return error.message;
  return error.stack ?? error.message;
}

/**
 * Runs one long-lived service the way every `versatus <service>` command does:
 *
 * - start is all-or-nothing: a failed start (the service's own start stops what it started)
 *   prints the reason and exits 1;
 * - SIGINT, SIGTERM or SIGHUP (also while it is still starting, e.g. waiting for Redis) stops it
 *   gracefully and exits 0; if the stop takes longer than the bound it exits 1 anyway, and a
 *   second signal (more than a second after the first) exits at once with 128 + the signal number;
 * - the process ends when the service has stopped, even if a library left a timer or socket open.
 *
 * Resolves never: it ends the process.
 */
export function runService(options: ServiceRunOptions): Promise<never> {
  const log = createLogger(options.name, (process.env.LOG_LEVEL as "info" | undefined) ?? "info").child({
    module: "lifecycle",
  });
  const fromEnv = Number(process.env.VERSATUS_SHUTDOWN_TIMEOUT_MS);
  const timeoutMs =
    options.shutdownTimeoutMs ?? (Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : SHUTDOWN_TIMEOUT_MS);
  let stopping: { signal: NodeJS.Signals; at: number } | undefined;
  let handle: { close(): Promise<void> } | undefined;

  const exit = (code: number) => {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
    // pino writes synchronously to stdout; nothing else is waited for.
    process.exit(code);
  };

  const stop = () => {
    if (!handle) {
      // Still starting (typically waiting for Redis or an RPC): closed once the start settles; a
      // start that is stuck is abandoned after a short wait (it has taken no work yet).
      setTimeout(
        () => {
          log.warn(`${options.name}: stopped while still starting`);
          exit(0);
        },
        Math.min(3_000, timeoutMs),
      );
      return;
    }
    handle.close().then(
      () => exit(0),
      (error: unknown) => {
        log.error({ err: error }, `${options.name}: stopping failed`);
        exit(1);
      },
    );
  };

  function onSignal(signal: NodeJS.Signals) {
    const now = Date.now();
    if (stopping) {
      if (now - stopping.at < REPEAT_WINDOW_MS) return;
      log.warn({ signal }, `${options.name}: second ${signal}: exiting now`);
      exit(128 + (constants.signals[signal] ?? 1));
      return;
    }
    stopping = { signal, at: now };
    log.info(
      { signal, timeoutMs },
      `${options.name}: ${signal} received, stopping (at most ${Math.round(timeoutMs / 1000)} s; send it again to exit at once)`,
    );
    setTimeout(() => {
      log.error({ timeoutMs }, `${options.name} did not stop within ${Math.round(timeoutMs / 1000)} s: exiting`);
      exit(1);
    }, timeoutMs);
    stop();
  }
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);

  options.start().then(
    (started) => {
      handle = started;
      if (stopping) stop();
    },
    (error: unknown) => {
      console.error(`${options.name} did not start: ${startError(error)}`);
      exit(1);
    },
  );
  return new Promise<never>(() => {});
}
