import type { Transport } from "viem";
import { redactUrl } from "./errors.ts";
import { DependencyMonitor, isConnectionError, type DependencyHealth, type Logger } from "./ops.ts";

/**
 * A viem transport that reports to `monitor` whether the chain's RPC answers: a connection error
 * (refused, timed out, dropped, HTTP failure) marks it down, an answer marks it up (other errors,
 * such as a revert, change nothing). Every client built on it feeds the same monitor, so a service learns that its RPC is down
 * from whichever role asked first, logs it once per outage and shows it in /healthz, instead of
 * each job logging its own stack.
 *
 * @example
 * const rpc = new DependencyMonitor({ name: "rpc of chain 1", where: redactUrl(url), log });
 * const client = createPublicClient({ transport: monitoredTransport(http(url), rpc) });
 */
export function monitoredTransport(transport: Transport, monitor: DependencyMonitor): Transport {
  return ((parameters: Parameters<Transport>[0]) => {
    const inner = transport(parameters);
    const request = (async (
      args: Parameters<typeof inner.request>[0],
      options?: Parameters<typeof inner.request>[1],
    ) => {
      try {
        const answer: unknown = await inner.request(args, options);
        monitor.up();
        return answer;
      } catch (error) {
        // Only the connection says something about the RPC; a revert or a bad request does not.
        if (isConnectionError(error)) monitor.down(error);
        throw error;
      }
    }) as typeof inner.request;
    return { ...inner, request };
  }) as Transport;
}

/** One {@link DependencyMonitor} per configured chain's RPC (name "rpc of chain <id>"). */
export class RpcMonitors {
  private readonly byChain = new Map<number, DependencyMonitor>();

  constructor(
    chains: readonly { chainId: number; rpcUrl?: string | undefined }[],
    log: Logger,
    inProcess?: (chainId: number) => boolean,
  ) {
    for (const chain of chains)
      this.byChain.set(
        chain.chainId,
        new DependencyMonitor({
          name: `rpc of chain ${chain.chainId}`,
          where: inProcess?.(chain.chainId) || !chain.rpcUrl ? "an in-process client" : redactUrl(chain.rpcUrl),
          log,
        }),
      );
  }

  get(chainId: number | bigint | string): DependencyMonitor | undefined {
    return this.byChain.get(Number(chainId));
  }

  /** Whether every chain's RPC is up (a chain never asked yet counts as up). */
  get allUp(): boolean {
    return [...this.byChain.values()].every((m) => !m.isDown);
  }

  /** For /healthz `dependencies`: `rpc <chainId>` → its health. */
  health(): Record<string, DependencyHealth> {
    return Object.fromEntries([...this.byChain].map(([id, m]) => [`rpc ${id}`, m.health()]));
  }
}
