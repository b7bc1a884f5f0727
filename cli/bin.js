#!/usr/bin/env node
// Entry point of the `versatus` command. The project needs Node >= 22.18 (TypeScript type
// stripping, Hardhat 3); when started by an older system Node, re-run on the pinned Node 22 that
// `npm ci` installed under node_modules/node.
//
// The re-run is a child process: the launcher forwards SIGINT, SIGTERM and SIGHUP to it (so a
// process manager's SIGTERM or `kill -INT` stops the service, not just the launcher) and exits
// with the child's exit code, or dies of the child's signal. No top-level await here or in
// main.ts: a plain promise chain (a top-level await once ended a test run in a V8 fatal error).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { constants } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP"];

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  const pinned = join(root, "node_modules", "node", "bin", "node");
  if (!existsSync(pinned)) {
    console.error(
      `versatus needs Node >= 22.18 (found ${process.versions.node}). Run \`npx -y -p node@22 npm ci\` in ${root} first.`,
    );
    process.exit(2);
  }
  relaunch(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)]);
} else {
  // `versatus node`: V8 sizes its heap at start, so a node started without its config's heap
  // bound runs again as a child with it, before the CLI's modules load (cli/node/heap.ts)
  import("./node/heap.ts")
    .then((heap) => heap.relaunchNodeWithHeapBound(process.argv) || import("./main.ts"))
    .catch((error) => {
      console.error(error);
      process.exit(1);
    });
}

/**
 * Runs `node args` with the terminal inherited and mirrors its end. A terminal's Ctrl-C reaches
 * the whole process group (the child too) as well as the forwarded copy: the services treat a
 * second SIGINT within a second of the first as the same one.
 */
function relaunch(node, args) {
  const child = spawn(node, args, { stdio: "inherit" });
  const forward = (signal) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const signal of FORWARDED) process.on(signal, forward);
  child.once("error", (error) => {
    console.error(`versatus: could not start ${node}: ${error.message}`);
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
