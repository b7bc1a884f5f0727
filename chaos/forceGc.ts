/**
 * A full garbage collection forced in a running node from outside, to tell heap V8 has not given
 * back from memory still in use: SIGUSR1 opens the node's inspector (on a free port: the chaos
 * world starts its nodes with `--inspect-port=0`), the port is read from the "Debugger listening"
 * line of its log, then `HeapProfiler.collectGarbage` runs and `process.memoryUsage()` is read.
 */
import { readFileSync, statSync } from "node:fs";

export type AfterGc = { heapUsedMb: number; heapTotalMb: number; rssMb: number };

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/**
 * Inspector URLs opened so far, by pid: a node whose inspector is open ignores another SIGUSR1 and
 * prints no second "Debugger listening" line, so a second GC in the same process reuses the first URL.
 */
const inspectors = new Map<number, string>();

/** Forces a full GC in process `pid` (its stderr goes to `logFile`); the memory it reports after. */
export async function forceFullGc(pid: number, logFile: string, timeoutMs = 30_000): Promise<AfterGc> {
  const until = Date.now() + timeoutMs;
  let url = inspectors.get(pid);
  if (!url) process.kill(pid, "SIGUSR1");
  const from = url ? 0 : statSync(logFile).size;
  while (!url) {
    if (Date.now() > until) throw new Error(`no inspector of pid ${pid} in ${logFile} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
    url = /Debugger listening on (ws:\/\/\S+)/.exec(readFileSync(logFile).subarray(from).toString("utf8"))?.[1];
  }
  inspectors.set(pid, url);
  const ws = new WebSocket(url);
  try {
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve());
      ws.addEventListener("error", () => reject(new Error(`inspector of pid ${pid} at ${url}: connection failed`)));
    });
    let next = 0;
    const call = (method: string, params: Record<string, unknown> = {}) =>
      new Promise<{ result?: { result?: { value?: unknown } } }>((resolve, reject) => {
        const id = ++next;
        const timer = setTimeout(() => reject(new Error(`inspector ${method}: no answer`)), timeoutMs);
        ws.addEventListener("message", (m: MessageEvent) => {
          const reply = JSON.parse(String(m.data)) as { id?: number };
          if (reply.id !== id) return;
          clearTimeout(timer);
          resolve(reply as { result?: { result?: { value?: unknown } } });
        });
        ws.send(JSON.stringify({ id, method, params }));
      });
    // twice: objects freed by the first collection's finalizers go in the second
    await call("HeapProfiler.collectGarbage");
    await call("HeapProfiler.collectGarbage");
    const reply = await call("Runtime.evaluate", {
      expression: "JSON.stringify(process.memoryUsage())",
      returnByValue: true,
    });
    const usage = JSON.parse(String(reply.result?.result?.value)) as {
      heapUsed: number;
      heapTotal: number;
      rss: number;
    };
    return { heapUsedMb: mb(usage.heapUsed), heapTotalMb: mb(usage.heapTotal), rssMb: mb(usage.rss) };
  } finally {
    ws.close();
  }
}
