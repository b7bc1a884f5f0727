/**
 * The node's heap bound (config `heap.maxOldSpaceMb`). V8 sizes its heap when the process starts:
 * `v8.setFlagsFromString` later does not move the main thread's limit, so the bound has to be on
 * the command line (or in NODE_OPTIONS). Launchers that read the config first (cli/devnet/cluster.ts)
 * pass it; `versatus node` started without it runs itself again as a child with it, from cli/bin.js
 * before the CLI's modules load (a launcher that had loaded them would hold ~300 MB for nothing).
 * This module stays light for that reason: node built-ins only, the config read as plain JSON.
 */
import { existsSync, readFileSync } from "node:fs";
import { relaunch } from "../relaunch.js";

/**
 * Default old-space bound of a node process (MB). At 3 requests/s a node's live heap is 105–210 MB
 * (after a forced full GC, README "Faults at scale"); unbounded, V8 lets the heap grow towards its
 * own limit (about 4 GB here) between full collections, which reads as RSS growth.
 */
export const DEFAULT_MAX_OLD_SPACE_MB = 512;
export const MIN_MAX_OLD_SPACE_MB = 128;
export const MAX_MAX_OLD_SPACE_MB = 65_536;

const FLAG = /^--max[-_]old[-_]space[-_]size=(\d+)$/;

export const maxOldSpaceFlag = (mb: number): string => `--max-old-space-size=${mb}`;

/** The old-space bound (MB) this process was started with: the last flag of NODE_OPTIONS, then execArgv, wins. */
export function maxOldSpaceInEffect(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? "",
): number | undefined {
  let found: number | undefined;
  for (const arg of [...nodeOptions.split(/\s+/), ...execArgv]) {
    const m = FLAG.exec(arg);
    if (m) found = Number(m[1]);
  }
  return found;
}

/** The arguments that run this same command again with old space bounded at `mb`. */
export function argsWithHeapBound(
  mb: number,
  execArgv: readonly string[] = process.execArgv,
  argv: readonly string[] = process.argv,
): string[] {
  return [...execArgv.filter((a) => !FLAG.test(a)), maxOldSpaceFlag(mb), ...argv.slice(1)];
}

/** The `--config` file of a `versatus node` command line (`--config f` or `--config=f`). */
export function nodeConfigArg(argv: readonly string[]): string | undefined {
  if (argv[2] !== "node") return undefined;
  for (let i = 3; i < argv.length; i++) {
    if (argv[i] === "--config") return argv[i + 1];
    if (argv[i]!.startsWith("--config=")) return argv[i]!.slice("--config=".length);
  }
  return undefined;
}

/**
 * The bound a node config file asks for: its `heap.maxOldSpaceMb`, the default when absent;
 * undefined when the file or the field is not usable (the node's config check then fails the
 * start, naming the field).
 */
export function heapBoundOfConfigFile(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
  const heap = (raw as { heap?: unknown } | null)?.heap;
  if (heap === undefined) return DEFAULT_MAX_OLD_SPACE_MB;
  const mb = (heap as { maxOldSpaceMb?: unknown } | null)?.maxOldSpaceMb;
  if (mb === undefined) return DEFAULT_MAX_OLD_SPACE_MB;
  return Number.isInteger(mb) && (mb as number) >= MIN_MAX_OLD_SPACE_MB && (mb as number) <= MAX_MAX_OLD_SPACE_MB
    ? (mb as number)
    : undefined;
}

/**
 * cli/bin.js, before the CLI loads: for `versatus node --config <file>` started without the
 * config's bound, runs the node again as a child with it and returns true (this process then only
 * mirrors the child); false when there is nothing to do.
 */
export function relaunchNodeWithHeapBound(argv: readonly string[] = process.argv): boolean {
  const file = nodeConfigArg(argv);
  const mb = file === undefined ? undefined : heapBoundOfConfigFile(file);
  if (mb === undefined || maxOldSpaceInEffect() === mb) return false;
  relaunchWithHeapBound(mb);
  return true;
}

/**
 * Runs this command again with the heap bound and mirrors the child: SIGINT/SIGTERM/SIGHUP are
 * passed on (a process manager stops the node, not only this parent), and this process ends with
 * the child's exit code or dies of its signal.
 */
export function relaunchWithHeapBound(mb: number): void {
  relaunch(
    process.execPath,
    argsWithHeapBound(mb),
    `versatus node: could not start itself again with ${maxOldSpaceFlag(mb)}`,
  );
}
