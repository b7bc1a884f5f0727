#!/usr/bin/env node
// Entry point of the `versatus` command. The project needs Node >= 22.18 (TypeScript type
// stripping, Hardhat 3); when started by an older system Node, re-run on the pinned Node 22 that
// `npm ci` installed under node_modules/node.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

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
  const child = spawnSync(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: "inherit" });
  process.exit(child.status ?? 1);
}
await import("./main.ts");
