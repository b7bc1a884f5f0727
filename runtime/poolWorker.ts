import { parentPort } from "node:worker_threads";
import { InstanceRunner, type RunInput } from "./runInstance.ts";
import type { MemoryShape } from "./memoryRecycler.ts";
import type { RunOutcome } from "./outcome.ts";

/**
 * A pool worker: keeps the compiled modules the pool sends it (the pool decides which to keep and
 * tells it to evict) and runs one job at a time, each in a fresh instance.
 */
export type WorkerRequest =
  | { type: "run"; id: number; key: string; memory: MemoryShape; module?: WebAssembly.Module; input: RunInput }
  | { type: "evict"; key: string };

export type WorkerReply =
  { id: number; outcome: RunOutcome } | { id: number; error: { message: string; abandon: boolean } };

const modules = new Map<string, WebAssembly.Module>();
const runner = new InstanceRunner();
const port = parentPort;
if (!port) throw new Error("runtime/poolWorker.ts must run as a worker thread");

port.on("message", (request: WorkerRequest) => {
  if (request.type === "evict") {
    modules.delete(request.key);
    runner.forget(request.key);
    return;
  }
  if (request.module) modules.set(request.key, request.module);
  const module = modules.get(request.key);
  let reply: WorkerReply;
  if (!module) {
    reply = { id: request.id, error: { message: `worker has no module ${request.key}`, abandon: true } };
  } else {
    try {
      reply = {
        id: request.id,
        outcome: runner.run({ key: request.key, module, memory: request.memory }, request.input),
      };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      reply = { id: request.id, error: { message, abandon: true } };
    }
  }
  port.postMessage(reply);
});
port.postMessage("ready");
