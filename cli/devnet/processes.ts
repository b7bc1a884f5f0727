import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";

export type Exit = { code: number | null; signal: NodeJS.Signals | null };

/** A child started in its own process group, stdout and stderr appended to `logFile`. */
export type ManagedProcess = {
  name: string;
  pid: number;
  child: ChildProcess;
  logFile: string;
  exited: Promise<Exit>;
  /** Still running (the group leader has not exited). */
  running: () => boolean;
  /** The log so far. */
  log: () => string;
  /** Resolves with the first log line matching `pattern`; rejects after `ms` or when the process exits first. */
  waitFor: (pattern: RegExp, ms?: number) => Promise<string>;
  /** SIGTERM to the group, SIGKILL to the group after `graceMs` if the leader is still there. */
  stop: (graceMs?: number) => Promise<Exit>;
  /** SIGKILL to the whole group at once (a crash, not a shutdown). */
  kill: () => Promise<Exit>;
  /** SIGSTOP / SIGCONT to the whole group (a frozen node). */
  pause: () => void;
  resume: () => void;
};

const live = new Set<ManagedProcess>();
let exitHookInstalled = false;

function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts `command args` detached, in a process group of its own, with its output appended to
 * `logFile` (the file descriptors are the child's: its log survives this process). Stopping
 * signals the group, so whatever the child spawned goes with it. If this process exits with
 * children still running, they are SIGKILLed (a last resort; `stop()` is the orderly way).
 */
export function spawnManaged(options: {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}): ManagedProcess {
  mkdirSync(dirname(options.logFile), { recursive: true });
  const fd = openSync(options.logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(options.command, options.args, {
      detached: true,
      stdio: ["ignore", fd, fd],
      env: options.env ?? process.env,
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined) throw new Error(`${options.name}: could not start ${options.command}`);
  const pid = child.pid;
  let exit: Exit | undefined;
  const exited = new Promise<Exit>((resolve) =>
    child.once("exit", (code, signal) => {
      exit = { code, signal };
      live.delete(managed);
      resolve(exit);
    }),
  );
  child.once("error", () => {});
  const log = () => {
    try {
      return readFileSync(options.logFile, "utf8");
    } catch {
      return "";
    }
  };
  const waitFor = async (pattern: RegExp, ms = 30_000): Promise<string> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const line = log()
        .split("\n")
        .find((l) => pattern.test(l));
      if (line !== undefined) return line;
      if (exit) throw new Error(`${options.name} exited (${exit.code ?? exit.signal}) before logging ${pattern}`);
      if (Date.now() > deadline) throw new Error(`${options.name} logged nothing matching ${pattern} within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const settle = async (ms: number) => {
    await Promise.race([exited, new Promise((r) => setTimeout(r, ms))]);
  };
  const stop = async (graceMs = 10_000): Promise<Exit> => {
    if (!exit) {
      signalGroup(pid, "SIGCONT");
      signalGroup(pid, "SIGTERM");
      await settle(graceMs);
    }
    // the leader may be gone while something it started still holds the group: always sweep it
    signalGroup(pid, "SIGKILL");
    return exited;
  };
  const kill = async (): Promise<Exit> => {
    signalGroup(pid, "SIGKILL");
    return exited;
  };
  const managed: ManagedProcess = {
    name: options.name,
    pid,
    child,
    logFile: options.logFile,
    exited,
    running: () => !exit,
    log,
    waitFor,
    stop,
    kill,
    pause: () => void signalGroup(pid, "SIGSTOP"),
    resume: () => void signalGroup(pid, "SIGCONT"),
  };
  live.add(managed);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const p of live) signalGroup(p.pid, "SIGKILL");
    });
  }
  return managed;
}

/** Every managed process still running in this process (for cleanups and checks). */
export function liveProcesses(): ManagedProcess[] {
  return [...live];
}

/**
 * Whether any process of group `pgid` is still there. A zombie does not count: it holds nothing
 * but its pid until its parent reaps it, and a grandchild SIGKILLed together with its parent is
 * reparented to an init that may never reap it (a container's PID 1 often does not).
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  const members = groupMembers(pgid);
  return members === undefined || members.some((m) => m.state !== "Z");
}

/** The processes of group `pgid` with their state letter, from /proc (undefined where there is none). */
function groupMembers(pgid: number): { pid: number; state: string; command: string }[] | undefined {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return undefined;
  }
  const members: { pid: number; state: string; command: string }[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ")"
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const command = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    if (Number(fields[2]) === pgid) members.push({ pid: Number(entry), state: fields[0] ?? "?", command });
  }
  return members;
}

/**
 * The groups of `pgids` still alive after waiting up to `ms` for them to go: a SIGKILLed process
 * takes a moment to be torn down (longer for a chain holding gigabytes), so a single look right
 * after a stop can see one on its way out.
 */
export async function groupsLeftBehind(pgids: number[], ms = 10_000): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = pgids.filter(groupAlive);
    if (left.length === 0 || Date.now() >= deadline) return left;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** "pgid: pid command (state), ..." for each group, so a leftover names what it is. */
export function describeGroups(pgids: number[]): string[] {
  return pgids.map((pgid) => {
    const members = groupMembers(pgid);
    if (members === undefined) return `${pgid}`;
    return `${pgid}: ${members.map((m) => `${m.pid} ${m.command} (${m.state})`).join(", ")}`;
  });
}
