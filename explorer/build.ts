/**
 * Builds the explorer page (explorer/app -> explorer/dist) with Vite: `npm run explorer:build`.
 * `ensureExplorerBuilt()` builds it only when dist is missing or older than a source file.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const EXPLORER_DIST_DIR = join(here, "dist");

function newest(dir: string): number {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

export function explorerBuildIsCurrent(): boolean {
  const index = join(EXPLORER_DIST_DIR, "index.html");
  if (!existsSync(index)) return false;
  return statSync(index).mtimeMs >= Math.max(newest(join(here, "app")), statSync(join(here, "vite.config.ts")).mtimeMs);
}

export async function buildExplorer(log: (line: string) => void = () => {}): Promise<void> {
  const { build } = await import("vite");
  log("building the explorer page (vite)");
  await build({ configFile: join(here, "vite.config.ts") });
  log(`explorer page built in ${EXPLORER_DIST_DIR}`);
}

export async function ensureExplorerBuilt(log: (line: string) => void = () => {}): Promise<void> {
  if (!explorerBuildIsCurrent()) await buildExplorer(log);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  buildExplorer(console.log).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
