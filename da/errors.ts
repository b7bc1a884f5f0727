import { BaseError, type BaseErrorOptions } from "../protocol/errors.ts";
import type { DaKindName } from "../protocol/daPointer.ts";

/**
 * Errors of the DA layer. `permanent` follows protocol/errors.ts: retrying a permanent error
 * cannot help; a transient one may succeed later or on another layer. `failover` says the writer
 * should try its fallback layer (the primary could not take the record, nothing durable was made).
 */
export class DaError extends BaseError {
  override name = "DaError";
  readonly layer: DaKindName;
  readonly failover: boolean;
  constructor(layer: DaKindName, message: string, options: BaseErrorOptions & { failover?: boolean } = {}) {
    super(message, options);
    this.layer = layer;
    this.failover = options.failover ?? !this.permanent;
  }
}

/** The encoded record exceeds what the layer accepts; raised before anything is sent. */
export class RecordTooLargeError extends DaError {
  override name = "RecordTooLargeError";
  readonly bytes: number;
  readonly limit: number;
  constructor(layer: DaKindName, bytes: number, limit: number) {
    super(layer, `Record too large for ${layer}: ${bytes} bytes, the limit is ${limit} bytes`, {
      permanent: true,
      failover: true,
      hints: [`Raise da.${layer}.maxRecordBytes only if the ${layer} layer really accepts larger blobs.`],
    });
    this.bytes = bytes;
    this.limit = limit;
  }
}

/** The layer does not hold the record the pointer names. */
export class RecordNotFoundError extends DaError {
  override name = "RecordNotFoundError";
  constructor(layer: DaKindName, what: string, options: BaseErrorOptions = {}) {
    super(layer, `Record not found on ${layer}: ${what}`, { permanent: true, failover: false, ...options });
  }
}

/** The layer is down or asked us to go elsewhere (eigenda-proxy 503, connection refused, timeout, 5xx). */
export class DaUnavailableError extends DaError {
  override name = "DaUnavailableError";
  constructor(layer: DaKindName, message: string, options: BaseErrorOptions = {}) {
    super(layer, message, { ...options, permanent: false, failover: true });
  }
}

/** Celestia: the node has not synced to the height the pointer names yet. Retry later. */
export class HeightFromFutureError extends DaError {
  override name = "HeightFromFutureError";
  readonly height: bigint;
  constructor(height: bigint, networkHeight: bigint | undefined, options: BaseErrorOptions = {}) {
    super(
      "celestia",
      `Celestia height ${height} is in the future for this node` +
        (networkHeight === undefined ? "" : ` (its head is ${networkHeight})`),
      { ...options, permanent: false, failover: false, hints: ["Wait for the light node to sync, then read again."] },
    );
    this.height = height;
  }
}

/** EigenDA 418: the proxy judged the certificate invalid; the pointer is to be dropped, not retried. */
export class CertificateRejectedError extends DaError {
  override name = "CertificateRejectedError";
  constructor(message: string, options: BaseErrorOptions = {}) {
    super("eigenda", message, { ...options, permanent: true, failover: true });
  }
}

/** What came back does not match what the pointer or our local computation says it must be. */
export class IntegrityError extends DaError {
  override name = "IntegrityError";
  constructor(layer: DaKindName, message: string, options: BaseErrorOptions = {}) {
    super(layer, message, { ...options, permanent: true, failover: true });
  }
}

/** Primary and fallback both failed to take the record; `causes` has one error per layer. */
export class DaWriteFailedError extends BaseError {
  override name = "DaWriteFailedError";
  readonly causes: unknown[];
  constructor(causes: unknown[]) {
    const summary = causes.map((c) => (c instanceof BaseError ? c.shortMessage : String(c))).join("; ");
    super(`No DA layer took the record: ${summary}`, { cause: causes[causes.length - 1], permanent: false });
    this.causes = causes;
  }
}
