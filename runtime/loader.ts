import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import { ModuleRejectedError, RunAbandonedError } from "./errors.ts";
import type { LoadReply, LoadRequest } from "./loadModule.ts";
import type { LoaderWorkerData } from "./loaderWorker.ts";

/**
 * Where modules are checked, instrumented and compiled: a loader thread, never the caller's
 * thread. binaryen is a C++ library compiled to WebAssembly with one heap and one stack per
 * thread; a hostile module (or an accumulation of ordinary ones) can leave that state broken, make
 * it abort, or make it run for minutes. So:
 *
 * - each load runs in a loader thread that is retired after `loadsPerThread` loads and after any
 *   load that did not end cleanly; nothing a load does outlives its thread;
 * - a load has a time budget (the thread is terminated when it is spent), binaryen's heap a byte
 *   budget, the thread's JavaScript heap and stack fixed sizes;
 * - a verdict that went through binaryen (a rejection by binaryen, or the engine refusing the
 *   instrumented code) counts only from a thread that had run no earlier load; one from a used
 *   thread is checked again in a fresh thread;
 * - anything else (time or memory spent, a crash, an unexpected exception) is no verdict: the load
 *   throws LoadAbandonedError and the node abstains from the request (it never signs an outcome
 *   another node would not reach).
 *
 * `load` keeps the caller's event loop free; `loadSync` (tools, tests, the build) blocks the
 * calling thread on Atomics.wait but still runs binaryen in a loader thread.
 */
export type LoaderOptions = {
  /** Wall-clock budget of one load, thread start-up excluded. Default 120 s. */
  timeBudgetMs?: number;
  /** Loads a thread runs before it is replaced. Default 32. */
  loadsPerThread?: number;
  /** binaryen's heap (its WebAssembly memory) in MiB. Default 2048. */
  heapBudgetMb?: number;
  /** The loader thread's JavaScript heap (old generation) in MiB. Default 1024. */
  jsHeapMb?: number;
  /** The loader thread's machine stack in MiB; the instrumenter recurses over expression depth. Default 64. */
  stackMb?: number;
  /** How long a new loader thread may take to start (binaryen compiles at start-up). Default 60 s. */
  startupBudgetMs?: number;
};

/** A load that produced no verdict (time, memory, a crash): the node abstains, another attempt may succeed. */
export class LoadAbandonedError extends RunAbandonedError {
  override name = "LoadAbandonedError";
  constructor(name: string, reason: string) {
    super(`loading "${name}" gave no verdict: ${reason}`);
  }
}

export type LoadedModule = Extract<LoadReply, { kind: "ok" }>;
export type LoadParams = Omit<LoadRequest, "id"> & { name: string };

const WORKER_URL = new URL("./loaderWorker.ts", import.meta.url);

type Settled = LoadReply | { kind: "timeout" } | { kind: "crashed"; message: string };

/** One try of a load, and how many loads its thread had run before it. */
type Attempt = { previousLoads: number; settled: Settled };

/**
 * A verdict that went through binaryen, or a failure, from a thread that had run earlier loads is
 * tried again in a fresh thread: only a fresh binaryen is known to be in the state every node's is.
 * Time budgets are not retried (the load would take as long again).
 */
function needsFreshThread({ previousLoads, settled }: Attempt): boolean {
  if (previousLoads === 0) return false;
  if (settled.kind === "rejected") return settled.stage === "binaryen";
  return settled.kind === "failed" || settled.kind === "crashed";
}

/** One loader thread. `sync` threads are read with receiveMessageOnPort, never with listeners. */
class LoaderThread {
  readonly worker: Worker;
  readonly port: MessagePort;
  /** Slot 0: bumped on every answer (see loaderWorker.ts). Slot 1: 1 once the thread's module graph has evaluated. */
  readonly signal = new Int32Array(new SharedArrayBuffer(8));
  /** Loads answered so far; 0 means binaryen in this thread is as fresh as on any other node. */
  loads = 0;
  dead = false;
  private exited = false;
  private readonly startupBudgetMs: number;
  private ready: Promise<boolean> | undefined;
  private pending: ((settled: Settled) => void) | undefined;

  constructor(options: Required<LoaderOptions>, sync: boolean) {
    this.startupBudgetMs = options.startupBudgetMs;
    const channel = new MessageChannel();
    this.port = channel.port1;
    const data: LoaderWorkerData = {
      port: channel.port2,
      signal: this.signal,
      heapBudgetBytes: options.heapBudgetMb * 1024 * 1024,
    };
    this.worker = new Worker(WORKER_URL, {
      workerData: data,
      transferList: [channel.port2],
      resourceLimits: {
        maxOldGenerationSizeMb: options.jsHeapMb,
        maxYoungGenerationSizeMb: 64,
        stackSizeMb: options.stackMb,
      },
      stdout: false,
      stderr: false,
    });
    this.worker.unref();
    let startFailed: (() => void) | undefined;
    const died = (message: string) => {
      this.dead = true;
      startFailed?.();
      this.pending?.({ kind: "crashed", message });
      this.pending = undefined;
    };
    this.worker.on("error", (error) => died(`the loader thread failed: ${error.message}`));
    this.worker.on("exit", (code) => {
      this.exited = true;
      died(`the loader thread exited with code ${code}`);
    });
    if (!sync) {
      this.ready = new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), options.startupBudgetMs).unref();
        startFailed = () => {
          clearTimeout(timer);
          resolve(false);
        };
        this.port.on("message", (reply: LoadReply | { kind: "ready" }) => {
          if (reply.kind === "ready") {
            clearTimeout(timer);
            resolve(true);
          } else this.pending?.(reply);
        });
        this.port.unref();
      });
    }
  }

  async call(request: LoadRequest, timeBudgetMs: number): Promise<Settled> {
    this.worker.ref();
    this.port.ref();
    try {
      if (!(await this.ready)) return { kind: "crashed", message: "the loader thread did not start in time" };
      if (this.dead) return { kind: "crashed", message: "the loader thread is gone" };
      return await new Promise<Settled>((resolve) => {
        const timer = setTimeout(() => resolve({ kind: "timeout" }), timeBudgetMs);
        this.pending = (settled) => {
          if ("id" in settled && settled.id !== request.id) return;
          clearTimeout(timer);
          this.pending = undefined;
          resolve(settled);
        };
        this.port.postMessage(request);
      });
    } finally {
      this.worker.unref();
      this.port.unref();
    }
  }

  callSync(request: LoadRequest, timeBudgetMs: number, startupBudgetMs: number): Settled {
    if (this.dead) return { kind: "crashed", message: "the loader thread is gone" };
    this.port.postMessage(request);
    // The budget starts once the thread has said it is ready (binaryen's start-up is not the load's).
    let started = this.loads > 0;
    let deadline = Date.now() + (started ? timeBudgetMs : startupBudgetMs);
    for (;;) {
      const seen = Atomics.load(this.signal, 0);
      const received = receiveMessageOnPort(this.port) as { message: LoadReply | { kind: "ready" } } | undefined;
      if (received) {
        const reply = received.message;
        if (reply.kind === "ready") {
          started = true;
          deadline = Date.now() + timeBudgetMs;
          continue;
        }
        if (reply.id === request.id) return reply;
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0)
        return started ? { kind: "timeout" } : { kind: "crashed", message: "the loader thread did not start in time" };
      Atomics.wait(this.signal, 0, seen, Math.min(left, 250));
    }
  }

  retire(): Promise<void> {
    this.dead = true;
    this.pending = undefined;
    return this.terminate();
  }

  /**
   * Ends the thread, but never while its module graph is still evaluating: binaryen's module
   * awaits at top level, and terminating a thread during that evaluation aborts the whole process
   * (V8 `Check failed: (location_) != nullptr`, nodejs/node#53238, #43182). Waits for the
   * evaluated flag (or the thread's own exit), then terminates; a thread that never finishes
   * starting is terminated after `startupBudgetMs` regardless.
   */
  async terminate(): Promise<void> {
    const deadline = Date.now() + this.startupBudgetMs;
    while (Atomics.load(this.signal, 1) !== 1 && !this.exited && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (!this.exited) await this.worker.terminate();
  }
}

/** Runs loads in loader threads; see the module comment. */
export class ModuleLoader {
  private readonly options: Required<LoaderOptions>;
  private asyncThread: LoaderThread | undefined;
  private syncThread: LoaderThread | undefined;
  /** Async loads run one at a time, in order. */
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private closed = false;

  constructor(options: LoaderOptions = {}) {
    this.options = {
      timeBudgetMs: options.timeBudgetMs ?? 120_000,
      loadsPerThread: options.loadsPerThread ?? 32,
      heapBudgetMb: options.heapBudgetMb ?? 2048,
      jsHeapMb: options.jsHeapMb ?? 1024,
      stackMb: options.stackMb ?? 64,
      startupBudgetMs: options.startupBudgetMs ?? 60_000,
    };
    if (!(this.options.loadsPerThread >= 1)) throw new RangeError("loadsPerThread must be at least 1");
  }

  /** Threads started so far (tests watch recycling with it). */
  threadsStarted = 0;

  /** Loads a module off the caller's thread. Throws ModuleRejectedError or LoadAbandonedError. */
  load(params: LoadParams): Promise<LoadedModule> {
    const run = this.queue.then(() => this.loadNow(params));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The same load, blocking the calling thread until it ends (never the binaryen work itself). */
  loadSync(params: LoadParams): LoadedModule {
    if (this.closed) throw new LoadAbandonedError(params.name, "the loader is closed");
    let attempt = this.attemptSync(params);
    if (needsFreshThread(attempt)) attempt = this.attemptSync(params);
    return this.verdict(params.name, attempt.settled);
  }

  /** Terminates the loader threads; later loads are abandoned. */
  async close(): Promise<void> {
    this.closed = true;
    const threads = [this.asyncThread, this.syncThread].filter((t): t is LoaderThread => t !== undefined);
    this.asyncThread = this.syncThread = undefined;
    await Promise.all(threads.map((t) => t.terminate()));
  }

  private async loadNow(params: LoadParams): Promise<LoadedModule> {
    if (this.closed) throw new LoadAbandonedError(params.name, "the loader is closed");
    let attempt = await this.attempt(params);
    if (needsFreshThread(attempt)) attempt = await this.attempt(params);
    return this.verdict(params.name, attempt.settled);
  }

  private async attempt(params: LoadParams): Promise<Attempt> {
    if (this.closed) return { previousLoads: 0, settled: { kind: "crashed", message: "the loader is closed" } };
    if (this.asyncThread?.dead) this.asyncThread = undefined;
    this.asyncThread ??= this.spawn(false);
    const thread = this.asyncThread;
    const previousLoads = thread.loads;
    const settled = await thread.call(this.request(params), this.options.timeBudgetMs);
    this.afterLoad(thread, settled, false);
    return { previousLoads, settled };
  }

  private attemptSync(params: LoadParams): Attempt {
    if (this.closed) return { previousLoads: 0, settled: { kind: "crashed", message: "the loader is closed" } };
    if (this.syncThread?.dead) this.syncThread = undefined;
    this.syncThread ??= this.spawn(true);
    const thread = this.syncThread;
    const previousLoads = thread.loads;
    const settled = thread.callSync(this.request(params), this.options.timeBudgetMs, this.options.startupBudgetMs);
    this.afterLoad(thread, settled, true);
    return { previousLoads, settled };
  }

  private request(params: LoadParams): LoadRequest {
    return { id: this.nextId++, bytes: params.bytes, memoryPages: params.memoryPages, metering: params.metering };
  }

  /** Counts the load and retires the thread when it is used up or did not end cleanly. */
  private afterLoad(thread: LoaderThread, settled: Settled, sync: boolean): void {
    if (settled.kind !== "crashed" && settled.kind !== "timeout") thread.loads += 1;
    const clean = settled.kind === "ok" || (settled.kind === "rejected" && settled.stage === "rules");
    if (clean && thread.loads < this.options.loadsPerThread && !thread.dead) return;
    void thread.retire();
    // The next thread starts with the next load, not now: a thread still evaluating binaryen's
    // module must not be terminated (LoaderThread.terminate), and an idle pre-started one would be
    // exactly that when the service closes or the process exits.
    if (sync) {
      if (this.syncThread === thread) this.syncThread = undefined;
    } else if (this.asyncThread === thread) {
      this.asyncThread = undefined;
    }
  }

  private spawn(sync: boolean): LoaderThread {
    this.threadsStarted += 1;
    return new LoaderThread(this.options, sync);
  }

  private verdict(name: string, settled: Settled): LoadedModule {
    const budget = this.options.timeBudgetMs;
    switch (settled.kind) {
      case "ok":
        return settled;
      case "rejected":
        throw new ModuleRejectedError(settled.reason, settled.message, settled.details);
      case "timeout":
        throw new LoadAbandonedError(name, `its load ran past the time budget of ${budget} ms`);
      case "failed":
      case "crashed":
        throw new LoadAbandonedError(name, settled.message);
    }
  }
}
