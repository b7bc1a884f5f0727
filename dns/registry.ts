import { decodeEventLog, type Address, type PublicClient } from "viem";
import { nameRegistryAbi } from "../protocol/generated/abis.ts";
import type { NameRecords } from "./records.ts";

/**
 * Global state of names: reads a name's records from the NameRegistry, and follows the registry's
 * events so the facade can drop a changed name from its cache at once.
 */
export type NameSource = {
  /** The records of a live name, or undefined when it is not registered (or expired). */
  lookup(name: string): Promise<NameRecords | undefined>;
};

export function registryNameSource(
  client: PublicClient,
  registry: Address,
): NameSource & {
  suffix(): Promise<string>;
} {
  return {
    suffix: () => client.readContract({ address: registry, abi: nameRegistryAbi, functionName: "suffix" }),
    async lookup(name) {
      const r = await client.readContract({
        address: registry,
        abi: nameRegistryAbi,
        functionName: "records",
        args: [name],
      });
      if (r.owner === "0x0000000000000000000000000000000000000000") return undefined;
      return {
        owner: r.owner,
        expiresAt: Number(r.expiresAt),
        contentId: r.contentId,
        contentKind: r.contentKind,
        a: [...r.a],
        aaaa: [...r.aaaa],
        txt: [...r.txt],
        endpoints: r.endpoints.map((e) => ({ service: e.service, url: e.url })),
      };
    },
  };
}

/**
 * Polls the registry's logs from the current block on and calls `onChange(name)` for every name an
 * event touched (registration, renewal, transfer, any record). Returns a stop function.
 * `onError` hears a failed poll (the next poll retries from the same block).
 */
export async function watchNameChanges(options: {
  client: PublicClient;
  registry: Address;
  pollIntervalMs: number;
  onChange: (name: string) => void;
  onPoll?: () => void;
  onError?: (error: unknown) => void;
}): Promise<() => void> {
  const { client, registry } = options;
  let from = (await client.getBlockNumber()) + 1n;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const poll = async () => {
    try {
      const head = await client.getBlockNumber();
      if (head >= from) {
        const logs = await client.getLogs({ address: registry, fromBlock: from, toBlock: head });
        for (const log of logs) {
          try {
            const event = decodeEventLog({ abi: nameRegistryAbi, data: log.data, topics: log.topics });
            const args = event.args as { name?: unknown };
            if (typeof args.name === "string") options.onChange(args.name);
          } catch {
            // not one of the registry's events (cannot happen for its own address): nothing to drop
          }
        }
        from = head + 1n;
      }
      options.onPoll?.();
    } catch (error) {
      options.onError?.(error);
    }
    if (!stopped) timer = setTimeout(() => void poll(), options.pollIntervalMs);
  };
  timer = setTimeout(() => void poll(), options.pollIntervalMs);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
