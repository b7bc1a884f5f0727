#!/usr/bin/env node
// Entry point of the `versatus` command. The project needs Node >= 22.18 (TypeScript type
// stripping, Hardhat 3); when started by an older system Node, re-run on the pinned Node 22 that
// `npm ci` installed under node_modules/node.
//
// The re-run is a child process: the launcher forwards SIGINT, SIGTERM and SIGHUP to it (so a
// process manager's SIGTERM or `kill -INT` stops the service, not just the launcher) and exits
// with the child's exit code, or dies of the child's signal. No top-level await here or in
// main.ts: a plain promise chain (a top-level await once ended a test run in a V8 fatal error).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { relaunch } from "./relaunch.js";

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
  // a terminal's Ctrl-C reaches the child too, as well as the forwarded copy: the services treat a
  // second SIGINT within a second of the first as the same one
  relaunch(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], `versatus: could not start ${pinned}`);
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
