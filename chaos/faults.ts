/**
 * Beginning and end of each fault kind on a chaos world (chaos/world.ts). A window's `begin`
 * breaks something, its `end` heals it; `end` always runs, also when a run is cut short.
 *
 * Roles: in this network a node runs relay, compute, collect and post in one process, so
 * `kill_node` (SIGKILL to the node's process group) takes all four roles of one operator down at
 * once; the watch role runs in the watcher node, which `kill_watcher` kills.
 */
import { Redis } from "ioredis";
import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import type { FaultKind, FaultWindow } from "./schedule.ts";
import { devKey, OPERATOR_INDICES, type ChaosWorld } from "./world.ts";

export type ChainPause = {
  /** Stops the load driver sending to chain `chain` (its txs would fall into a reverted branch). */
  pause: (chain: number) => Promise<void>;
  /** Resends the driver's txs the chain no longer has (after a revert), then lets it send again. */
  resume: (chain: number) => Promise<void>;
};

export type ActiveFault = { window: FaultWindow; end: () => Promise<void>; detail: string };

/** One JSON-RPC call straight to a chain (never through the fault proxy). */
export async function chainRpc<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

const RPC_SETTINGS = {
  rpc_drop: { fault: "drop", rate: 0.3 },
  rpc_delay: { fault: "delay", rate: 0.5, delayMs: 2_500 },
  rpc_5xx: { fault: "http5xx", rate: 0.3 },
  rpc_truncated: { fault: "truncated", rate: 0.3 },
  rpc_stale_head: { fault: "staleHead", rate: 1 },
} as const;

const OPERATOR_ADDRESSES = OPERATOR_INDICES.map((i) => privateKeyToAccount(devKey(i)).address.toLowerCase());

type PendingTx = { from: string; nonce: Hex; maxFeePerGas?: Hex; gasPrice?: Hex };

/**
 * Replaces the operators' transactions waiting in `url`'s mempool with zero-value self-transfers
 * at the same nonce and a higher fee (what a wallet's "cancel" does): the poster's result
 * transaction is gone, and its nonce taken. Returns how many it replaced.
 */
async function replacePosterTxs(url: string, chainId: number): Promise<number> {
  const pending = await chainRpc<{ transactions: PendingTx[] } | null>(url, "eth_getBlockByNumber", [
    "pending",
    true,
  ]).catch(() => null);
  let replaced = 0;
  for (const tx of pending?.transactions ?? []) {
    const who = OPERATOR_INDICES[OPERATOR_ADDRESSES.indexOf(tx.from.toLowerCase())];
    if (who === undefined) continue;
    const account = privateKeyToAccount(devKey(who));
    const fee = BigInt(tx.maxFeePerGas ?? tx.gasPrice ?? "0x3b9aca00") * 3n + 10n ** 9n;
    const raw = await account.signTransaction({
      chainId,
      type: "eip1559",
      to: account.address,
      value: 0n,
      nonce: Number(tx.nonce),
      gas: 21_000n,
      maxFeePerGas: fee,
      maxPriorityFeePerGas: fee,
    });
    await chainRpc(url, "eth_sendRawTransaction", [raw]).then(
      () => replaced++,
      () => undefined,
    );
  }
  return replaced;
}

/** Mines until nothing is pending (blocks have a gas limit) or `rounds` blocks. */
export async function minePending(url: string, rounds = 50): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const pending = await chainRpc<{ transactions: unknown[] } | null>(url, "eth_getBlockByNumber", [
      "pending",
      false,
    ]).catch(() => null);
    if (!pending || pending.transactions.length === 0) return;
    await chainRpc(url, "evm_mine");
  }
}

/** Starts `window`'s fault on `world`; the returned `end` heals it. */
export async function beginFault(world: ChaosWorld, window: FaultWindow, driver: ChainPause): Promise<ActiveFault> {
  const kind: FaultKind = window.kind;
  const t = window.target;
  switch (kind) {
    case "kill_node": {
      const node = world.nodes[t]!;
      await node.kill();
      return { window, detail: `SIGKILL ${node.spec.name} (relay, compute, collect, post)`, end: () => node.restart() };
    }
    case "kill_watcher": {
      const node = world.watcher;
      if (!node) return { window, detail: "no watcher in this world", end: async () => {} };
      await node.kill();
      return { window, detail: `SIGKILL ${node.spec.name} (watch)`, end: () => node.restart() };
    }
    case "redis_restart": {
      await world.redisDown(t);
      return { window, detail: `redis-server of node-${t + 1} stopped`, end: () => world.redisUp(t) };
    }
    case "redis_flushall": {
      const redis = new Redis(world.redis[t]!.url, { maxRetriesPerRequest: 1, lazyConnect: true });
      redis.on("error", () => {});
      try {
        await redis.connect();
        await redis.flushall();
      } finally {
        redis.disconnect();
      }
      return { window, detail: `FLUSHALL on node-${t + 1}'s redis`, end: async () => {} };
    }
    case "rpc_drop":
    case "rpc_delay":
    case "rpc_5xx":
    case "rpc_truncated":
    case "rpc_stale_head": {
      const proxy = world.chains[t]!.proxy;
      proxy.set({ ...RPC_SETTINGS[kind] });
      return {
        window,
        detail: `${RPC_SETTINGS[kind].fault} on chain ${world.chains[t]!.chainId}'s RPC`,
        end: async () => proxy.set(undefined),
      };
    }
    case "reorg": {
      const chain = world.chains[t]!;
      const snapshot = await chainRpc<Hex>(chain.rpcUrl, "evm_snapshot");
      const from = Number(await chainRpc<Hex>(chain.rpcUrl, "eth_blockNumber"));
      return {
        window,
        detail: `reorg of chain ${chain.chainId} from block ${from}`,
        end: async () => {
          await driver.pause(t);
          try {
            const to = Number(await chainRpc<Hex>(chain.rpcUrl, "eth_blockNumber"));
            await chainRpc(chain.rpcUrl, "evm_revert", [snapshot]);
            // the other branch: a block of our own first (a different hash at height from+1), then
            // the requests the dropped branch held, sent again (as a node re-includes them)
            await chainRpc(chain.rpcUrl, "evm_mine");
            world.reorgDepths.push(to - from);
          } finally {
            await driver.resume(t);
          }
        },
      };
    }
    case "poster_stuck": {
      const chain = world.chains[t]!;
      await chainRpc(chain.rpcUrl, "evm_setAutomine", [false]);
      // after a moment the posters' result transactions wait in the mempool: take their nonces
      let replaced = 0;
      const taker = setTimeout(
        () => {
          void replacePosterTxs(chain.rpcUrl, chain.chainId).then((n) => (replaced += n));
        },
        (window.durationS * 1000) / 2,
      );
      return {
        window,
        detail: `chain ${chain.chainId} not mining; posters' pending transactions replaced`,
        end: async () => {
          clearTimeout(taker);
          replaced += await replacePosterTxs(chain.rpcUrl, chain.chainId);
          await chainRpc(chain.rpcUrl, "evm_setAutomine", [true]);
          await minePending(chain.rpcUrl);
          world.replacedPosterTxs.push(replaced);
        },
      };
    }
    case "da_primary_down": {
      world.da.proxy.set({ fault: "http5xx", rate: 1 });
      return {
        window,
        detail: "primary DA layer (eigenda) answers 503",
        end: async () => world.da.proxy.set(undefined),
      };
    }
  }
}
