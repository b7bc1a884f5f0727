import { spawn, type ChildProcess } from "node:child_process";
import { delimiter, dirname, join } from "node:path";

/** The two local chains of the devnet: chain A (localhost) and chain B. */
export const LOCAL_CHAINS = [
  { name: "localhost", port: 8545, chainId: 31337 },
  { name: "chainB", port: 8546, chainId: 31338 },
] as const;

export type RunningChain = {
  name: string;
  url: string;
  chainId: number;
  process: ChildProcess | undefined;
  stop: () => Promise<void>;
};

/**
 * The command that runs Hardhat's CLI on this very Node (the `hardhat` shim would pick whatever
 * `node` is first on PATH, which may be a system Node too old for Hardhat 3).
 */
export function hardhatCommand(root: string, args: string[]): [string, string[]] {
  return [process.execPath, [join(root, "node_modules", "hardhat", "dist", "src", "cli.js"), ...args]];
}

/** Environment for Hardhat children: this Node first on PATH, since `hardhat node` re-spawns `node`. */
export function hardhatEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...extra, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}` };
}

/** Asks `url` for its chain id; undefined when nothing answers. */
export async function rpcChainId(url: string): Promise<number | undefined> {
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(1000),
    });
    const body = (await res.json()) as { result?: string };
    return body.result ? Number(body.result) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts `hardhat node` on `port` with `chainId` in its own process group (it re-spawns a child,
 * so stopping means signalling the group). Fails with a clear message if the port is taken by
 * something else; reuses a node of the same chain id when `reuse` is set.
 */
export async function startChain(opts: {
  name: string;
  port: number;
  chainId: number;
  reuse?: boolean;
  cwd?: string;
}): Promise<RunningChain> {
  const url = `http://127.0.0.1:${opts.port}`;
  const existing = await rpcChainId(url);
  if (existing !== undefined) {
    if (opts.reuse && existing === opts.chainId)
      return { name: opts.name, url, chainId: opts.chainId, process: undefined, stop: async () => {} };
    throw new Error(
      `port ${opts.port} is taken by a node of chain ${existing}; stop it (or the earlier \`npm run chains\`) first`,
    );
  }
  const cwd = opts.cwd ?? process.cwd();
  const [command, args] = hardhatCommand(cwd, [
    "node",
    "--port",
    String(opts.port),
    "--chain-id",
    String(opts.chainId),
  ]);
  const child = spawn(command, args, { cwd, env: hardhatEnv(), detached: true, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const stop = async () => {
    if (child.exitCode !== null || child.pid === undefined) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      return;
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`hardhat node on port ${opts.port} exited: ${stderr.trim()}`);
    if ((await rpcChainId(url)) === opts.chainId)
      return { name: opts.name, url, chainId: opts.chainId, process: child, stop };
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error(`hardhat node on port ${opts.port} did not answer within 60 s`);
}
