import { promisify } from "node:util";

/**
 * Names the timers a test run leaves open. `process.getActiveResourcesInfo()` says only
 * "Timeout"; to say whose, the global setTimeout/setInterval are wrapped for the mocha run and
 * each live timer keeps the stack that made it. Timers made through `node:timers` imports are not
 * seen (the suite's code uses the globals).
 */
const live = new Map<NodeJS.Timeout, string>();
let installed = false;

export function trackTimers(): void {
  if (installed) return;
  installed = true;
  const {
    setTimeout: originalTimeout,
    setInterval: originalInterval,
    clearTimeout: originalClear,
    clearInterval: originalClearInterval,
  } = globalThis;
  const where = () =>
    (new Error().stack ?? "")
      .split("\n")
      .slice(3, 9)
      .map((l) => l.trim())
      .join(" < ");
  globalThis.setTimeout = ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const timer: NodeJS.Timeout = originalTimeout(
      (...a: unknown[]) => {
        live.delete(timer);
        callback(...a);
      },
      ms,
      ...args,
    );
    live.set(timer, `setTimeout ${ms ?? 0} ms at ${where()}`);
    return timer;
  }) as typeof setTimeout;
  globalThis.setInterval = ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const timer: NodeJS.Timeout = originalInterval(callback, ms, ...args);
    live.set(timer, `setInterval ${ms ?? 0} ms at ${where()}`);
    return timer;
  }) as typeof setInterval;
  globalThis.clearTimeout = ((timer?: NodeJS.Timeout | string | number) => {
    if (timer && typeof timer === "object") live.delete(timer);
    originalClear(timer);
  }) as typeof clearTimeout;
  globalThis.clearInterval = ((timer?: NodeJS.Timeout | string | number) => {
    if (timer && typeof timer === "object") live.delete(timer);
    originalClearInterval(timer);
  }) as typeof clearInterval;
  keepPromisified(globalThis.setTimeout, originalTimeout);
  keepPromisified(globalThis.setInterval, originalInterval);
}

/** Keeps what `util.promisify` finds on the originals (`promisify(setTimeout)` must still work). */
function keepPromisified(wrapper: object, original: object): void {
  const custom = (original as Record<symbol, unknown>)[promisify.custom];
  if (custom !== undefined) Object.defineProperty(wrapper, promisify.custom, { value: custom });
}

/** The tracked timers still holding the process open (ref'd and not fired or cleared). */
export function openTimers(): string[] {
  return [...live].filter(([timer]) => timer.hasRef()).map(([, where]) => where);
}
