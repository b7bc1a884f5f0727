// Runs a command as a child with the terminal inherited and mirrors its end: SIGINT, SIGTERM and
// SIGHUP are passed on (a process manager's SIGTERM stops the child, not only this parent), and
// this process exits with the child's exit code or dies of its signal. Plain JavaScript: cli/bin.js
// loads it on any Node before it knows it can run TypeScript (cli/node/heap.ts uses it too).
import { spawn } from "node:child_process";
import { constants } from "node:os";

const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP"];

/**
 * @param {string} node the Node binary
 * @param {string[]} args its arguments
 * @param {string} what how a failed start is reported ("<what>: <error>")
 */
export function relaunch(node, args, what) {
  const child = spawn(node, args, { stdio: "inherit" });
  const forward = (signal) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const signal of FORWARDED) process.on(signal, forward);
  child.once("error", (error) => {
    console.error(`${what}: ${error.message}`);
    process.exit(1);
  });
  child.once("exit", (code, signal) => {
    for (const s of FORWARDED) process.off(s, forward);
    if (signal) {
      // Die of the same signal, so our parent sees what the child's parent would have seen.
      process.kill(process.pid, signal);
      // Signals Node cannot re-raise on itself end here with the shell's convention.
      setTimeout(() => process.exit(128 + (constants.signals[signal] ?? 1)), 100);
      return;
    }
    process.exit(code ?? 1);
  });
}
