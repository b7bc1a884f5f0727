import { Worker } from "node:worker_threads";
import { recoverAddress, type Address, type Hex } from "viem";
import type { RecoveryReply, RecoveryRequest } from "./signerRecoveryWorker.ts";

/** Most recovery threads a process may ask for (`network.recoveryThreads` of the node config). */
export const MAX_RECOVERY_THREADS = 16;

/**
 * Threads that die before answering anything, in a row, after which the threads are given up:
 * a worker that cannot even load would otherwise be respawned forever.
 */
const STARTUP_FAILURES_TO_GIVE_UP = 3;

const WORKER_URL = new URL("./signerRecoveryWorker.ts", import.meta.url);

type Pending = { resolve: (signer: Address) => void; reject: (error: Error) => void };

type Thread = {
  worker: Worker;
  /** Requests sent to this thread and not answered yet, by message id. */
  pending: Map<number, Pending>;
  answered: boolean;
};

/**
 * secp256k1 signer recovery on worker threads (issue 14: recovery was ~13 % of a node's busy
 * main-thread time at saturation). Each request goes to the thread with the fewest unanswered
 * ones; any number may be in flight. A thread that dies is replaced and its unanswered requests
 * reject (they are never sent again: a request that kills a thread would kill the next one too).
 */
class RecoveryThreads {
  private readonly threads: Thread[] = [];
  private nextId = 1;
  private closed = false;
  private startupFailures = 0;
  /** Set when the threads were given up: recoveries then run on the calling thread. */
  private brokenReason: string | undefined;

  constructor(size: number) {
    for (let i = 0; i < size; i++) this.threads.push(this.spawn());
  }

  recover(digest: Hex, signature: Hex): Promise<Address> {
    if (this.closed) return Promise.reject(new Error("signer recovery is closed"));
    if (this.brokenReason !== undefined) return recoverAddress({ hash: digest, signature });
    const thread = this.threads.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      // Busy threads hold the process open (an awaited recovery must be answered); idle ones never do.
      if (thread.pending.size === 0) thread.worker.ref();
      thread.pending.set(id, { resolve, reject });
      thread.worker.postMessage({ id, digest, signature } satisfies RecoveryRequest);
    });
  }

  /** Terminates the threads; unanswered recoveries reject. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const threads = this.threads.splice(0);
    for (const thread of threads) this.rejectPending(thread, "signer recovery closed before answering");
    await Promise.all(threads.map((thread) => thread.worker.terminate()));
  }

  /** The live worker threads (tests terminate one to see its requests rejected). */
  workers(): readonly Worker[] {
    return this.threads.map((thread) => thread.worker);
  }

  private spawn(): Thread {
    const worker = new Worker(WORKER_URL);
    const thread: Thread = { worker, pending: new Map(), answered: false };
    worker.on("message", (reply: RecoveryReply) => this.onReply(thread, reply));
    worker.on("error", (error) => this.replace(thread, `failed: ${error.message}`));
    worker.on("exit", (code) => this.replace(thread, `exited with code ${code}`));
    // after the listeners: adding a "message" listener refs the worker's port again
    worker.unref();
    return thread;
  }

  private onReply(thread: Thread, reply: RecoveryReply): void {
    const pending = thread.pending.get(reply.id);
    if (!pending) return;
    thread.pending.delete(reply.id);
    thread.answered = true;
    this.startupFailures = 0;
    if (thread.pending.size === 0) thread.worker.unref();
    if ("signer" in reply) pending.resolve(reply.signer);
    else pending.reject(Object.assign(new Error(reply.error.message), { name: reply.error.name }));
  }

  /** Swaps a dead thread for a fresh one (the first of its two death events does it, the second finds nothing). */
  private replace(thread: Thread, how: string): void {
    const index = this.threads.indexOf(thread);
    if (index < 0 || this.closed) return;
    this.rejectPending(thread, `a signer recovery thread ${how} before answering`);
    void thread.worker.terminate();
    this.startupFailures = thread.answered ? 0 : this.startupFailures + 1;
    if (this.startupFailures < STARTUP_FAILURES_TO_GIVE_UP) {
      this.threads.splice(index, 1, this.spawn());
      return;
    }
    this.threads.splice(index, 1);
    if (this.brokenReason !== undefined) return;
    this.brokenReason = how;
    process.emitWarning(
      `${STARTUP_FAILURES_TO_GIVE_UP} signer recovery threads in a row died before answering (the last ${how}); ` +
        "recovering signatures on the main thread",
    );
    for (const other of this.threads.splice(0)) {
      this.rejectPending(other, "the signer recovery threads were given up");
      void other.worker.terminate();
    }
  }

  private rejectPending(thread: Thread, reason: string): void {
    const pending = [...thread.pending.values()];
    thread.pending.clear();
    thread.worker.unref();
    for (const request of pending) request.reject(new Error(reason));
  }
}

let threads: RecoveryThreads | undefined;
let users = 0;

/**
 * Sets how this process recovers signers: `threads` 0 (the default) on the calling thread, more
 * on that many worker threads. The process has one setting, shared by whoever configured it: the
 * first call decides it, later calls join it until each has called {@link closeSignerRecovery}
 * (in-process test nodes start and stop independently and must not close each other's threads).
 */
export function configureSignerRecovery(options: { threads: number }): void {
  const size = options.threads;
  if (!Number.isInteger(size) || size < 0 || size > MAX_RECOVERY_THREADS)
    throw new RangeError(`signer recovery threads must be an integer from 0 to ${MAX_RECOVERY_THREADS}, got ${size}`);
  users += 1;
  if (users === 1 && size > 0) threads = new RecoveryThreads(size);
}

/** Leaves the setting; the last one out terminates the threads (unanswered recoveries reject) and goes back to in-thread. */
export async function closeSignerRecovery(): Promise<void> {
  if (users === 0) return;
  users -= 1;
  if (users > 0 || !threads) return;
  const closing = threads;
  threads = undefined;
  await closing.close();
}

/**
 * The address that signed `digest` with `signature`: exactly viem's `recoverAddress`, on a
 * recovery thread when configured. A signature viem refuses rejects with viem's message.
 */
export function recoverDigestSigner(digest: Hex, signature: Hex): Promise<Address> {
  return threads ? threads.recover(digest, signature) : recoverAddress({ hash: digest, signature });
}

/** Test-only: the live recovery threads (none when recovering in-thread). */
export function signerRecoveryWorkersForTesting(): readonly Worker[] {
  return threads?.workers() ?? [];
}
