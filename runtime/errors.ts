import { BaseError } from "../protocol/errors.ts";

/** Why a module was refused before it ever ran. */
export type RejectionReason =
  | "too_large"
  | "malformed"
  | "forbidden_import"
  | "start_section"
  | "forbidden_feature"
  | "memory"
  | "table"
  | "exports";

/**
 * A module that breaks a load-time rule. Permanent: the same bytes are refused on every node, so
 * a request naming this program is a PROGRAM_ERROR, not something to retry.
 */
export class ModuleRejectedError extends BaseError {
  override name = "ModuleRejectedError";
  readonly reason: RejectionReason;
  constructor(reason: RejectionReason, message: string, details?: string) {
    super(`Module rejected (${reason}): ${message}`, { permanent: true, ...(details ? { details } : {}) });
    this.reason = reason;
  }
}

/**
 * The run produced no deterministic outcome (wall-clock backstop, V8's own stack limit, a worker
 * crash). The node must abstain from signing; another attempt may succeed, so it is transient.
 */
export class RunAbandonedError extends BaseError {
  override name = "RunAbandonedError";
  constructor(message: string, options: { cause?: unknown; details?: string } = {}) {
    super(`Run abandoned, node abstains: ${message}`, { ...options, permanent: false });
  }
}
