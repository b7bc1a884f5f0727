import { existsSync, readFileSync } from "node:fs";
import type { Address, Hex } from "viem";
import type { OutcomeTamper } from "../../worker/execute.ts";
import { redirectPayouts } from "./flows.ts";

/**
 * The devnet's lying operators as separate processes: `versatus node` started with
 * VERSATUS_DEVNET_COLLUDE=<file> reads `{ "attacker": "0x…", "lies": "<file of request ids, one a line>" }`
 * and rewrites the payouts of the listed requests to the attacker before signing (the faulty-quorum
 * flow: the watcher must catch it). Refused on any chain that is not a local dev chain.
 */
export function devnetTamperFromEnv(env: NodeJS.ProcessEnv, chainIds: readonly number[]): OutcomeTamper | undefined {
  const file = env.VERSATUS_DEVNET_COLLUDE;
  if (!file) return undefined;
  const local = new Set([31337, 31338, 1337]);
  if (!chainIds.every((id) => local.has(id)))
    throw new Error("VERSATUS_DEVNET_COLLUDE is a devnet demo: refused on a non-local chain");
  const { attacker, lies } = JSON.parse(readFileSync(file, "utf8")) as { attacker: Address; lies: string };
  const read = (): Set<Hex> =>
    new Set(
      existsSync(lies)
        ? (readFileSync(lies, "utf8")
            .split("\n")
            .map((l) => l.trim().toLowerCase())
            .filter(Boolean) as Hex[])
        : [],
    );
  return (job, outcome) => {
    const current = read();
    const id = job.context.requestId.toLowerCase() as Hex;
    return current.has(id) ? redirectPayouts(new Set([job.context.requestId]), attacker)(job, outcome) : outcome;
  };
}
