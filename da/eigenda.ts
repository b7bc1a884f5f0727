import { bytesToHex } from "viem";
import type { DaPointer, EigenDaPointer } from "../protocol/daPointer.ts";
import { MAX_EIGENDA_CERTIFICATE_BYTES } from "../protocol/daPointer.ts";
import { redactUrl } from "../protocol/errors.ts";
import {
  CertificateRejectedError,
  DaError,
  DaUnavailableError,
  IntegrityError,
  RecordNotFoundError,
  RecordTooLargeError,
} from "./errors.ts";
import { silentLogger, type DaLayer, type DaLogger } from "./types.ts";

/**
 * eigenda-proxy's default `--eigenda.max-blob-length` is 16 MiB of *blob*; the payload is encoded
 * into BN254 field elements (31 payload bytes per 32) plus a header, so stay safely under it.
 */
export const DEFAULT_EIGENDA_MAX_RECORD_BYTES = 15 * 1024 * 1024;

export type EigenDaLayerOptions = {
  url: string;
  maxRecordBytes?: number;
  /** Dispersal waits for confirmation on Ethereum: minutes, not seconds. */
  putTimeoutMs?: number;
  getTimeoutMs?: number;
  logger?: DaLogger;
};

/**
 * EigenDA through an eigenda-proxy (REST, standard commitment mode). The pointer keeps the
 * proxy's answer to POST /put byte for byte (version byte || certificate); GET /get/0x<that>
 * gives the payload back after the proxy has verified the certificate and the KZG commitment.
 *
 * Status codes: 503 is the proxy's failover signal (EigenDA is down or did not confirm in time),
 * so the writer should use its fallback layer; 418 means the certificate is invalid and must be
 * dropped (retrying the same certificate cannot succeed).
 */
export class EigenDaLayer implements DaLayer {
  readonly kind = "eigenda" as const;
  readonly maxRecordBytes: number;
  readonly #url: string;
  readonly #putTimeoutMs: number;
  readonly #getTimeoutMs: number;
  readonly #logger: DaLogger;

  constructor(options: EigenDaLayerOptions) {
    this.#url = options.url.replace(/\/+$/, "");
    this.maxRecordBytes = options.maxRecordBytes ?? DEFAULT_EIGENDA_MAX_RECORD_BYTES;
    this.#putTimeoutMs = options.putTimeoutMs ?? 20 * 60_000;
    this.#getTimeoutMs = options.getTimeoutMs ?? 60_000;
    this.#logger = options.logger ?? silentLogger;
  }

  get safeUrl(): string {
    return redactUrl(this.#url);
  }

  async put(data: Uint8Array): Promise<DaPointer> {
    if (data.length > this.maxRecordBytes) throw new RecordTooLargeError("eigenda", data.length, this.maxRecordBytes);
    const response = await this.#fetch("POST /put", `${this.#url}/put?commitment_mode=standard`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: data,
      signal: AbortSignal.timeout(this.#putTimeoutMs),
    });
    if (response.status === 503) {
      throw new DaUnavailableError("eigenda", `eigenda-proxy at ${this.safeUrl} signalled failover (HTTP 503) on put`, {
        details: await bodyText(response),
      });
    }
    if (response.status === 418) {
      throw new CertificateRejectedError(
        `eigenda-proxy at ${this.safeUrl} rejected the certificate it got for this put (HTTP 418)`,
        {
          details: await bodyText(response),
        },
      );
    }
    if (response.status === 413) throw new RecordTooLargeError("eigenda", data.length, this.maxRecordBytes);
    await this.#throwUnlessOk("put", response);
    const certificate = new Uint8Array(await response.arrayBuffer());
    if (certificate.length === 0 || certificate.length > MAX_EIGENDA_CERTIFICATE_BYTES) {
      throw new IntegrityError("eigenda", `eigenda-proxy returned a ${certificate.length}-byte certificate`);
    }
    this.#logger.info(
      { layer: "eigenda", certificateBytes: certificate.length, bytes: data.length },
      "record dispersed to EigenDA",
    );
    return { kind: "eigenda", certificate: bytesToHex(certificate) };
  }

  async get(pointer: DaPointer): Promise<Uint8Array> {
    const eigen = this.#asEigenDa(pointer);
    const response = await this.#fetch("GET /get", `${this.#url}/get/${eigen.certificate}?commitment_mode=standard`, {
      method: "GET",
      signal: AbortSignal.timeout(this.#getTimeoutMs),
    });
    if (response.status === 418) {
      throw new CertificateRejectedError(
        "eigenda-proxy says the certificate is invalid (HTTP 418): drop this pointer",
        {
          details: await bodyText(response),
          hints: [
            "A record behind an invalid certificate is unavailable; a watcher may raise a data-unavailable challenge.",
          ],
        },
      );
    }
    if (response.status === 404) {
      throw new RecordNotFoundError("eigenda", `certificate ${eigen.certificate.slice(0, 18)}… (HTTP 404)`, {
        details: await bodyText(response),
      });
    }
    if (response.status === 503) {
      throw new DaUnavailableError("eigenda", `eigenda-proxy at ${this.safeUrl} is unavailable (HTTP 503) on get`, {
        details: await bodyText(response),
      });
    }
    await this.#throwUnlessOk("get", response);
    return new Uint8Array(await response.arrayBuffer());
  }

  async close(): Promise<void> {}

  #asEigenDa(pointer: DaPointer): EigenDaPointer {
    if (pointer.kind !== "eigenda") {
      throw new DaError("eigenda", `The EigenDA layer cannot read a ${pointer.kind} pointer`, {
        permanent: true,
        failover: false,
      });
    }
    return pointer;
  }

  async #fetch(what: string, url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, init);
    } catch (cause) {
      throw new DaUnavailableError("eigenda", `eigenda-proxy at ${this.safeUrl} unreachable during ${what}`, { cause });
    }
  }

  async #throwUnlessOk(action: string, response: Response): Promise<void> {
    if (response.ok) return;
    const details = await bodyText(response);
    if (response.status >= 500 || response.status === 429) {
      throw new DaUnavailableError(
        "eigenda",
        `eigenda-proxy at ${this.safeUrl} answered HTTP ${response.status} on ${action}`,
        { details },
      );
    }
    throw new DaError("eigenda", `eigenda-proxy at ${this.safeUrl} refused the ${action} (HTTP ${response.status})`, {
      details,
      permanent: true,
      failover: true,
    });
  }
}

async function bodyText(response: Response): Promise<string> {
  return (await response.text().catch(() => "")).slice(0, 300);
}
