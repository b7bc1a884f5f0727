/**
 * The node's heap bound (config `heap.maxOldSpaceMb`). V8 sizes its heap when the process starts:
 * `v8.setFlagsFromString` later does not move the main thread's limit, so the bound has to be on
 * the command line (or in NODE_OPTIONS). Launchers that read the config first (cli/devnet/cluster.ts)
 * pass it; `versatus node` started without it runs itself again as a child with it.
 */
import { spawn } from "node:child_process";
import { constants } from "node:os";

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

const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * Runs this command again with the heap bound and mirrors the child: SIGINT/SIGTERM/SIGHUP are
 * passed on (a process manager stops the node, not only this parent), and this process ends with
 * the child's exit code or dies of its signal.
 */
export function relaunchWithHeapBound(mb: number): void {
  const child = spawn(process.execPath, argsWithHeapBound(mb), { stdio: "inherit" });
  const forward = (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const signal of FORWARDED) process.on(signal, forward);
  child.once("error", (error) => {
    console.error(`versatus node: could not start itself again with ${maxOldSpaceFlag(mb)}: ${error.message}`);
    process.exit(1);
  });
  child.once("exit", (code, signal) => {
    for (const s of FORWARDED) process.off(s, forward);
    if (signal) {
      process.kill(process.pid, signal);
      // signals Node cannot raise on itself end here with the shell's convention
      setTimeout(() => process.exit(128 + (constants.signals[signal] ?? 1)), 100);
      return;
    }
    process.exit(code ?? 1);
  });
}
