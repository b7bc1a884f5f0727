import { getAddress, type Address } from "viem";
import type { Logger } from "pino";

/** The active set as the node last read it (StakingRegistry / operator set, through the callback). */
export type MembershipSource = () => Promise<{ operators: Address[]; watchers: Address[] }>;

export type MembershipView = {
  operators: Address[];
  watchers: Address[];
  /** Unix ms of the last successful read (null before the first). */
  loadedAt: number | null;
  /** Message of the last failed read while the previous view is kept (null after a success). */
  error: string | null;
};

export type Role = "operator" | "watcher";

/**
 * Re-reads the membership callback periodically (and on demand, throttled) and answers "is this
 * address an active operator / watcher". A failed read keeps the previous view and is logged:
 * an RPC outage must not make the node reject every peer.
 */
export class Membership {
  private readonly source: MembershipSource;
  private readonly log: Logger;
  private readonly minRefreshMs: number;
  private operators = new Set<string>();
  private watchers = new Set<string>();
  private view: MembershipView = { operators: [], watchers: [], loadedAt: null, error: null };
  private inflight: Promise<boolean> | undefined;
  private lastAttempt = 0;

  constructor(options: { source: MembershipSource; log: Logger; minRefreshMs: number }) {
    this.source = options.source;
    this.log = options.log;
    this.minRefreshMs = options.minRefreshMs;
  }

  /** Reads the set now (one read at a time); true on success. */
  refresh(): Promise<boolean> {
    this.inflight ??= (async () => {
      this.lastAttempt = Date.now();
      try {
        const next = await this.source();
        const operators = next.operators.map((a) => getAddress(a));
        const watchers = next.watchers.map((a) => getAddress(a));
        this.operators = new Set(operators.map((a) => a.toLowerCase()));
        this.watchers = new Set(watchers.map((a) => a.toLowerCase()));
        this.view = { operators, watchers, loadedAt: Date.now(), error: null };
        return true;
      } catch (error) {
        const message = error instanceof Error ? error.message.split("\n")[0]! : String(error);
        this.view = { ...this.view, error: message };
        this.log.warn({ err: message }, "membership read failed: keeping the previous active set");
        return false;
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }

  /** Refreshes unless a read happened in the last `minRefreshMs` (an unknown operator's binding asks for one). */
  refreshSoon(): void {
    if (Date.now() - this.lastAttempt >= this.minRefreshMs) void this.refresh();
  }

  get loaded(): boolean {
    return this.view.loadedAt !== null;
  }

  roleOf(address: Address): Role | null {
    const key = address.toLowerCase();
    if (this.operators.has(key)) return "operator";
    if (this.watchers.has(key)) return "watcher";
    return null;
  }

  snapshot(): MembershipView {
    return { ...this.view, operators: [...this.view.operators], watchers: [...this.view.watchers] };
  }
}
