/**
 * One error tree for every service (after viem's BaseError): a short message a user can act on,
 * optional details, hints and a `cause` chain. `permanent` says whether retrying can help: a bad
 * signature or invalid output is permanent, a dropped connection is not.
 */
export type BaseErrorOptions = {
  details?: string;
  hints?: string[];
  cause?: unknown;
  permanent?: boolean;
};

export class BaseError extends Error {
  override name = "VersatusError";
  readonly shortMessage: string;
  readonly details: string | undefined;
  readonly hints: string[];
  readonly permanent: boolean;

  constructor(shortMessage: string, options: BaseErrorOptions = {}) {
    const lines = [shortMessage];
    if (options.details) lines.push("", `Details: ${options.details}`);
    for (const hint of options.hints ?? []) lines.push(`Hint: ${hint}`);
    super(lines.join("\n"), options.cause === undefined ? undefined : { cause: options.cause });
    this.shortMessage = shortMessage;
    this.details = options.details;
    this.hints = options.hints ?? [];
    this.permanent = options.permanent ?? false;
  }
}

/** Input or configuration that does not match what is expected: names the field. Never retried. */
export class InvalidInputError extends BaseError {
  override name = "InvalidInputError";
  readonly field: string;
  constructor(field: string, expected: string, options: Omit<BaseErrorOptions, "permanent"> = {}) {
    super(`Invalid ${field}: expected ${expected}`, { ...options, permanent: true });
    this.field = field;
  }
}

/** Removes credentials from a URL before it is logged or shown (user:pass@ and ?token= style). */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username || parsed.password) {
      parsed.username = "***";
      parsed.password = "";
    }
    for (const key of [...parsed.searchParams.keys()]) {
      if (/key|token|secret|auth/i.test(key)) parsed.searchParams.set(key, "***");
    }
    return parsed.toString();
  } catch {
    return "<invalid url>";
  }
}
