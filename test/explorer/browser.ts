import { existsSync } from "node:fs";

/** Chromium for the browser tests: $CHROMIUM_PATH, or Debian's package (`apt-get install chromium`). */
export function findChromium(): string | undefined {
  const candidates = [
    process.env.CHROMIUM_PATH,
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
  ];
  return candidates.find((p): p is string => p !== undefined && p !== "" && existsSync(p));
}

/** Headless, no sandbox (containers, root), no GPU, and nothing phoning home. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-default-apps",
  "--disable-sync",
  "--disable-extensions",
  "--no-first-run",
  "--metrics-recording-only",
];
