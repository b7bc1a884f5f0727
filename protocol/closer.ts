import { settleWithin, type Logger } from "./ops.ts";

/**
 * The stop of a service as a list of steps (BullMQ's `Worker.close` is the model): `close()`
 * runs every step, in reverse order of `add` (what started last stops first), each bounded by
 * its timeout, and a step that throws or hangs does not stop the ones after it. Safe to call
 * twice (the second call returns the first one's promise).
 *
 * @example
 * const closer = new Closer(log);
 * closer.add("redis", () => closeRedis(redis));
 * closer.add("worker", () => worker.close(), 8_000);
 * await closer.close(); // worker, then redis, whatever the worker did
 */
export class Closer {
  private readonly steps: { name: string; run: () => unknown; timeoutMs: number | (() => number) }[] = [];
  private readonly log: Logger | undefined;
  private closing: Promise<CloseReport> | undefined;

  constructor(log?: Logger) {
    this.log = log;
  }

  /** Adds a step; `timeoutMs` bounds it (default 5 s; a function is read when the step runs). */
  add(name: string, run: () => unknown, timeoutMs: number | (() => number) = 5_000): void {
    if (this.closing) throw new Error(`cannot add step ${name}: already closing`);
    this.steps.push({ name, run, timeoutMs });
  }

  get isClosing(): boolean {
    return this.closing !== undefined;
  }

  close(): Promise<CloseReport> {
    this.closing ??= (async () => {
      const report: CloseReport = { failed: [], timedOut: [] };
      for (const step of [...this.steps].reverse()) {
        let failed = false;
        const finished = await settleWithin(
          Promise.resolve()
            .then(step.run)
            .then(
              () => true,
              (err: unknown) => {
                failed = true;
                report.failed.push({ step: step.name, error: err });
                this.log?.error({ err, step: step.name }, "a stop step failed; continuing with the others");
                return true;
              },
            ),
          typeof step.timeoutMs === "function" ? step.timeoutMs() : step.timeoutMs,
        );
        if (finished === undefined && !failed) {
          report.timedOut.push(step.name);
          this.log?.warn({ step: step.name, timeoutMs: step.timeoutMs }, "a stop step did not finish in time");
        }
      }
      return report;
    })();
    return this.closing;
  }
}

export type CloseReport = { failed: { step: string; error: unknown }[]; timedOut: string[] };
