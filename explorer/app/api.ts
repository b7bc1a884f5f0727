import { useEffect, useState } from "react";

/** Shapes served by explorer/server.ts (bigints as decimal strings). */
export type Config = {
  network: string;
  devAccounts: boolean;
  queues: boolean;
  /** How many operator nodes' ops servers the Network page reads. */
  nodes: number;
  chains: {
    name: string;
    chainId: number;
    oracle: `0x${string}`;
    ingestor: `0x${string}`;
    omniToken: `0x${string}` | null;
    staking: { registry: `0x${string}`; adapter: `0x${string}`; disputeManager: `0x${string}` } | null;
  }[];
};

export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path);
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `${res.status} ${res.statusText}`);
  return body;
}

/** Fetches `path` now and every `everyMs` (live pages); `null` path = nothing to fetch. */
export function usePoll<T>(path: string | null, everyMs = 2000): { data: T | undefined; error: string | undefined } {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    if (!path) return;
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const next = await getJson<T>(path);
        if (!stop) {
          setData(next);
          setError(undefined);
        }
      } catch (e) {
        if (!stop) setError(e instanceof Error ? e.message : String(e));
      }
      if (!stop) timer = setTimeout(tick, everyMs);
    };
    void tick();
    return () => {
      stop = true;
      if (timer) clearTimeout(timer);
    };
  }, [path, everyMs]);
  return { data, error };
}

export const short = (h: string, n = 6) => (h.length > 2 * n + 2 ? `${h.slice(0, n + 2)}…${h.slice(-n)}` : h);

/** wei (decimal string) as ETH with up to 6 decimals. */
export function eth(wei: string | bigint): string {
  const v = BigInt(wei);
  const whole = v / 10n ** 18n;
  const frac = (v % 10n ** 18n).toString().padStart(18, "0").slice(0, 6).replace(/0+$/, "");
  return frac ? `${whole}.${frac}` : `${whole}`;
}
