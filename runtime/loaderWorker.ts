import { workerData, type MessagePort } from "node:worker_threads";
import { loadModule, type LoadReply, type LoadRequest } from "./loadModule.ts";

/**
 * A loader thread (runtime/loader.ts): runs loads one at a time and answers on the port it was
 * given. After each answer (and once when ready) it bumps slot 0 of `signal` and wakes whoever
 * waits on it, so a caller that cannot return to the event loop (prepareProgram's synchronous
 * form) can block on Atomics.wait and then read the answer with receiveMessageOnPort.
 *
 * binaryen's heap is a WebAssembly.Memory that grows on demand up to 4 GiB; growing it past
 * `heapBudgetBytes` is refused here, which makes binaryen fail the load (the loader abstains).
 */
export type LoaderWorkerData = { port: MessagePort; signal: Int32Array; heapBudgetBytes: number };

const { port, signal, heapBudgetBytes } = workerData as LoaderWorkerData;

let heapBudgetHit = false;
const grow = WebAssembly.Memory.prototype.grow;
WebAssembly.Memory.prototype.grow = function (this: WebAssembly.Memory, delta: number): number {
  if (this.buffer.byteLength + delta * 65_536 > heapBudgetBytes) {
    heapBudgetHit = true;
    throw new RangeError(`the loader's heap budget of ${heapBudgetBytes} bytes is spent`);
  }
  return grow.call(this, delta);
};

function answer(reply: LoadReply | { kind: "ready" }): void {
  port.postMessage(reply, reply.kind === "ok" ? [reply.instrumented.buffer as ArrayBuffer] : []);
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
}

port.on("message", (request: LoadRequest) => {
  let reply: LoadReply;
  try {
    reply = loadModule(request);
  } catch (error) {
    reply = { id: request.id, kind: "failed", message: error instanceof Error ? error.message : String(error) };
  }
  // binaryen fails in its own ways when its heap is refused (a read error, an abort): not a verdict.
  if (heapBudgetHit && !(reply.kind === "rejected" && reply.stage === "rules")) {
    reply = { id: request.id, kind: "failed", message: `binaryen needed more than ${heapBudgetBytes} bytes` };
  }
  answer(reply);
});
answer({ kind: "ready" });
// Once this module's evaluation has surely completed (the next turn of the event loop), the thread
// may be terminated (runtime/loader.ts LoaderThread.terminate).
setImmediate(() => Atomics.store(signal, 1, 1));
