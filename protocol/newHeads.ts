import { createPublicClient, webSocket } from "viem";
import type { Logger } from "pino";

/**
 * New-block push for the chain followers (issue 14): where the chain's RPC serves WebSocket
 * (`hardhat node` and anvil serve it on their HTTP port; most providers on a wss:// URL) a
 * follower is woken by `eth_subscribe newHeads` instead of waiting out its poll interval. The
 * followers keep polling either way, so a chain without WebSocket, or a subscription that drops,
 * costs latency, never events (a dropped subscription is not re-opened: polling carries on).
 *
 * `subscribe` (per chain config): "auto" tries the WebSocket and falls back to polling alone;
 * "websocket" requires it (start fails when it cannot connect); "polling" never tries.
 */
export const SUBSCRIBE_MODES = ["auto", "websocket", "polling"] as const;
export type SubscribeMode = (typeof SUBSCRIBE_MODES)[number];

export type HeadSubscription = {
  /** What wakes the follower now: pushed heads, or only its poll timer. */
  readonly mode: () => "websocket" | "polling";
  close: () => void;
};

/** The WebSocket URL of an RPC: `wsUrl` when configured, else `rpcUrl` with http(s) → ws(s). */
export function webSocketUrlOf(chain: { rpcUrl?: string | undefined; wsUrl?: string | undefined }): string | undefined {
  if (chain.wsUrl) return chain.wsUrl;
  return chain.rpcUrl?.replace(/^http(s?):\/\//, "ws$1://");
}

const POLLING_ONLY: HeadSubscription = { mode: () => "polling", close: () => {} };

/**
 * Calls `onHead` for every block the RPC pushes. Resolves once the subscription is live, or, in
 * "auto" mode, with a polling-only handle when the WebSocket cannot be reached within `timeoutMs`.
 */
export async function subscribeNewHeads(options: {
  chainId: number;
  subscribe: SubscribeMode;
  url: string | undefined;
  onHead: (blockNumber: bigint) => void;
  log?: Logger;
  timeoutMs?: number;
}): Promise<HeadSubscription> {
  const { chainId, subscribe, url, log } = options;
  if (subscribe === "polling") return POLLING_ONLY;
  if (!url || !/^wss?:\/\//.test(url)) {
    if (subscribe === "websocket")
      throw new Error(`chain ${chainId}: subscribe is "websocket" but there is no ws:// or wss:// URL (got ${url})`);
    return POLLING_ONLY;
  }
  let client: ReturnType<typeof createPublicClient>;
  try {
    client = createPublicClient({
      transport: webSocket(url, {
        retryCount: 0,
        timeout: options.timeoutMs ?? 2_000,
        keepAlive: false,
        reconnect: false,
      }),
    });
    await client.getBlockNumber({ cacheTime: 0 });
  } catch (cause) {
    if (subscribe === "websocket")
      throw new Error(`chain ${chainId}: no WebSocket at ${url} (subscribe is "websocket")`, { cause });
    log?.info({ chainId, url }, "no WebSocket on this RPC: following the chain by polling");
    return POLLING_ONLY;
  }
  let live = true;
  const unwatch = client.watchBlockNumber({
    emitMissed: false,
    onBlockNumber: (blockNumber) => options.onHead(blockNumber),
    onError: (error) => {
      if (live) log?.warn({ chainId, url, err: error }, "new-head subscription failed: polling until it is back");
      live = false;
    },
  });
  log?.debug({ chainId, url }, "following new heads over WebSocket");
  return {
    mode: () => (live ? "websocket" : "polling"),
    close: () => {
      live = false;
      unwatch();
      void client.transport
        .getRpcClient?.()
        .then((rpc: { close: () => void }) => rpc.close())
        .catch(() => {});
    },
  };
}
