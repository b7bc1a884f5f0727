import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { RunAbandonedError } from "./errors.ts";
import { WORKER_STACK_MB } from "./limits.ts";
import { LruMap } from "./lru.ts";
import type { RunOutcome } from "./outcome.ts";
import type { PreparedProgram } from "./prepare.ts";
import type { RunInput } from "./runInstance.ts";
import type { WorkerReply, WorkerRequest } from "./poolWorker.ts";

export type PoolOptions = {
  /** Worker threads; default: one per available core. */
  size?: number;
  /** Compiled modules each worker keeps. */
  modulesPerWorker?: number;
};

type Job = {
  id: number;
  program: PreparedProgram;
  input: RunInput;
  /** Only this worker may run it (tests that compare workers). */
  worker: number | undefined;
  resolve: (outcome: RunOutcome) => void;
  reject: (error: Error) => void;
};

type Slot = {
  worker: Worker;
  /** The pool's mirror of the worker's module cache: it decides evictions and sends them. */
  modules: LruMap<string, true>;
  /** Jobs sent to the worker, in the order it runs them; the first one is running. */
  jobs: Job[];
  /** Wall-clock backstop of the running job. */
  timer: NodeJS.Timeout | undefined;
  /** Set once the worker has loaded its code: the wall-clock limit must not include start-up. */
  ready: boolean;
};

/**
 * Jobs a worker holds at once: the running one and the next, so a worker never waits for a
 * message round trip between two runs.
 */
const JOBS_PER_WORKER = 2;

const WORKER_URL = new URL("./poolWorker.ts", import.meta.url);

/**
 * Worker threads that run programs. A job goes to the least busy worker, preferring one that
 * already holds the compiled module; a worker runs its jobs one at a time, in order. A job that
 * outlives its wall-clock limit gets its worker terminated and replaced and rejects with
 * RunAbandonedError (the node abstains); the job queued behind it is sent to another worker. Fuel,
 * not time, is what ends runaway programs deterministically.
 */
export class RuntimePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly modulesPerWorker: number;
  private nextId = 1;
  private closed = false;

  constructor(options: PoolOptions = {}) {
    const size = options.size ?? availableParallelism();
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`pool size must be a positive integer, got ${size}`);
    this.modulesPerWorker = options.modulesPerWorker ?? 64;
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
    this.dispatch();
  }

  get size(): number {
    return this.slots.length;
  }

  /** Runs a job; `worker` pins it to one worker (0 ≤ worker < size), which tests use to compare workers. */
  run(program: PreparedProgram, input: RunInput, worker?: number): Promise<RunOutcome> {
    if (this.closed) return Promise.reject(new RunAbandonedError("the runtime pool is closed"));
    if (worker !== undefined && !(Number.isInteger(worker) && worker >= 0 && worker < this.slots.length))
      return Promise.reject(new RangeError(`no worker ${worker} in a pool of ${this.slots.length}`));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, program, input, worker, resolve, reject });
      this.dispatch();
    });
  }

  /** Terminates every worker; pending jobs are abandoned. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const closing = new RunAbandonedError("the runtime pool closed");
    for (const job of this.queue.splice(0)) job.reject(closing);
    await Promise.all(
      this.slots.map(async (slot) => {
        clearTimeout(slot.timer);
        for (const job of slot.jobs.splice(0)) job.reject(closing);
        await slot.worker.terminate();
      }),
    );
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_URL, { resourceLimits: { stackSizeMb: WORKER_STACK_MB } });
    const slot: Slot = { worker, modules: new LruMap(this.modulesPerWorker), jobs: [], timer: undefined, ready: false };
    worker.on("message", (reply: WorkerReply | "ready") => {
      if (reply !== "ready") return this.onReply(slot, reply);
      slot.ready = true;
      this.dispatch();
    });
    worker.on("error", (error) => this.replace(slot, `the worker failed: ${error.message}`));
    worker.on("exit", (code) => {
      if (!this.closed && this.slots.includes(slot)) this.replace(slot, `the worker exited with code ${code}`);
    });
    return slot;
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const pinned = this.queue[0]!.worker;
      const open = this.slots.filter(
        (slot, index) => slot.ready && slot.jobs.length < JOBS_PER_WORKER && (pinned === undefined || index === pinned),
      );
      if (open.length === 0) break;
      const job = this.queue.shift()!;
      const fewest = Math.min(...open.map((slot) => slot.jobs.length));
      const candidates = open.filter((slot) => slot.jobs.length === fewest);
      this.send(candidates.find((slot) => slot.modules.has(job.program.key)) ?? candidates[0]!, job);
    }
    // Workers keep the process alive only while there is work: an idle pool never blocks exit.
    const waiting = this.queue.length > 0;
    for (const slot of this.slots) {
      if (waiting || slot.jobs.length > 0) slot.worker.ref();
      else slot.worker.unref();
    }
  }

  private send(slot: Slot, job: Job): void {
    slot.jobs.push(job);
    const key = job.program.key;
    const request: WorkerRequest = { type: "run", id: job.id, key, memory: job.program.memory, input: job.input };
    if (slot.modules.has(key)) slot.modules.get(key);
    else {
      request.module = job.program.module;
      for (const evicted of slot.modules.set(key, true))
        slot.worker.postMessage({ type: "evict", key: evicted } satisfies WorkerRequest);
    }
    slot.worker.postMessage(request);
    if (slot.jobs.length === 1) this.startTimer(slot);
  }

  private startTimer(slot: Slot): void {
    const running = slot.jobs[0];
    if (!running) return;
    slot.timer = setTimeout(() => this.onTimeout(slot, running), running.input.limits.wallTimeMs);
  }

  private onReply(slot: Slot, reply: WorkerReply): void {
    const job = slot.jobs[0];
    if (!job || job.id !== reply.id) return;
    clearTimeout(slot.timer);
    slot.jobs.shift();
    this.startTimer(slot);
    if ("outcome" in reply) job.resolve(reply.outcome);
    else job.reject(new RunAbandonedError(reply.error.message));
    this.dispatch();
  }

  private onTimeout(slot: Slot, job: Job): void {
    if (slot.jobs[0] !== job) return;
    this.replace(slot, `"${job.program.name}" ran past its wall-clock backstop of ${job.input.limits.wallTimeMs} ms`);
  }

  /**
   * Swaps a dead or stuck worker for a fresh one: its running job is abandoned, the jobs queued
   * behind it (which never started) go back to the front of the queue.
   */
  private replace(slot: Slot, reason: string): void {
    const index = this.slots.indexOf(slot);
    if (index < 0 || this.closed) return;
    clearTimeout(slot.timer);
    const [running, ...waiting] = slot.jobs.splice(0);
    running?.reject(new RunAbandonedError(reason));
    this.queue.unshift(...waiting);
    this.slots.splice(index, 1, this.spawn());
    void slot.worker.terminate();
    this.dispatch();
  }
}
