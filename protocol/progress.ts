/**
 * Progress for long work (deploys, program builds, benchmarks, the devnet): numbered steps and
 * bars that redraw in place in a terminal, and plain, complete lines when the output is not a TTY
 * or `CI=true` (logs stay readable and grep-able; nothing is ever overwritten there).
 *
 * @example
 * const progress = createProgress({ title: "deploy localhost", steps: DEPLOY_STEPS.length });
 * for (const step of steps) await progress.step(step.name, () => step.run());
 * const bar = progress.bar("requests sent", 2000);
 * for (...) bar.tick();
 * bar.done();
 * progress.done();
 */

export type ProgressStream = { write(chunk: string): unknown; isTTY?: boolean; columns?: number };

export type ProgressOptions = {
  /** Printed once at the start. */
  title?: string;
  /** Number of steps, when known ("[2/7]"). */
  steps?: number;
  /** Default process.stderr (stdout stays clean for results and JSON). */
  stream?: ProgressStream;
  /** Force interactive (redrawn) or plain output; default: a TTY and not CI. */
  interactive?: boolean;
  /** Clock (tests). */
  now?: () => number;
};

export type ProgressBar = {
  /** Advances by `n` (default 1). */
  tick(n?: number): void;
  /** Sets the position. */
  update(done: number): void;
  /** Ends the bar (prints its final line). */
  done(note?: string): void;
};

export type StepHandle = {
  /** Ends the step: ✔ (or "done:") and how long it took. */
  done(note?: string): void;
  /** Ends the step as failed. */
  fail(note?: string): void;
};

export type Progress = {
  readonly interactive: boolean;
  /** Starts the next numbered step (for synchronous work); end it with done() or fail(). */
  start(label: string): StepHandle;
  /** Runs `work` as the next numbered step: its label, then ✔/✖ and how long it took. */
  step<T>(label: string, work: () => T | Promise<T>): Promise<T>;
  /** A bar of `total` units (plain mode: a line at every quarter). */
  bar(label: string, total: number): ProgressBar;
  /** A line of its own (above a bar being drawn). */
  log(line: string): void;
  /** The summary line: steps run and the total time. */
  done(note?: string): void;
};

/** Interactive only in a terminal, and never in CI (`CI=true`), where output is a log file. */
export function isInteractive(stream: ProgressStream, env: Record<string, string | undefined> = process.env): boolean {
  const ci = env.CI !== undefined && env.CI !== "" && env.CI !== "false" && env.CI !== "0";
  return stream.isTTY === true && !ci;
}

const seconds = (ms: number) => (ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`);
const CLEAR = "\r\x1b[2K";

export function createProgress(options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const interactive = options.interactive ?? isInteractive(stream);
  const now = options.now ?? (() => Date.now());
  const started = now();
  let index = 0;
  /** The line currently drawn in place (interactive), redrawn after a log line. */
  let live: string | undefined;
  const write = (s: string) => void stream.write(s);
  const draw = (line: string) => {
    live = line;
    write(`${CLEAR}${line}`);
  };
  const settle = (line: string) => {
    if (interactive && live !== undefined) write(CLEAR);
    live = undefined;
    write(`${line}\n`);
  };
  const counter = () => (options.steps ? `[${index}/${options.steps}]` : `[${index}]`);
  if (options.title) write(`${options.title}\n`);

  const api: Progress = {
    interactive,
    start(label) {
      index++;
      const tag = counter();
      const t0 = now();
      if (interactive) draw(`${tag} ${label} …`);
      else write(`${tag} ${label}\n`);
      const took = (note?: string) => `(${seconds(now() - t0)}${note ? `, ${note}` : ""})`;
      return {
        done: (note) => settle(interactive ? `${tag} ✔ ${label} ${took(note)}` : `${tag} done: ${label} ${took(note)}`),
        fail: (note) => settle(`${tag} ${interactive ? "✖" : "failed:"} ${label} ${took(note)}`),
      };
    },
    async step(label, work) {
      const handle = api.start(label);
      try {
        const result = await work();
        handle.done();
        return result;
      } catch (error) {
        handle.fail();
        throw error;
      }
    },
    bar(label, total) {
      let done = 0;
      let lastQuarter = -1;
      const t0 = now();
      const width = 24;
      const render = () => {
        const ratio = total > 0 ? Math.min(1, done / total) : 1;
        if (interactive) {
          const full = Math.round(ratio * width);
          draw(
            `${label} [${"█".repeat(full)}${"░".repeat(width - full)}] ${done}/${total} ${Math.floor(ratio * 100)}%`,
          );
        } else {
          const quarter = Math.floor(ratio * 4);
          if (quarter > lastQuarter) {
            lastQuarter = quarter;
            write(`${label}: ${done}/${total} (${quarter * 25}%)\n`);
          }
        }
      };
      render();
      return {
        tick(n = 1) {
          done += n;
          render();
        },
        update(position) {
          done = position;
          render();
        },
        done(note) {
          const line = `${label}: ${done}/${total} in ${seconds(now() - t0)}${note ? ` (${note})` : ""}`;
          if (interactive) settle(`✔ ${line}`);
          else write(`${line}\n`);
        },
      };
    },
    log(line) {
      if (interactive && live !== undefined) {
        const current = live;
        write(`${CLEAR}${line}\n`);
        draw(current);
      } else write(`${line}\n`);
    },
    done(note) {
      settle(`${index} step${index === 1 ? "" : "s"} in ${seconds(now() - started)}${note ? `: ${note}` : ""}`);
    },
  };
  return api;
}
