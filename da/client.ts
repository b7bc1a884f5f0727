import { bytesToHex, type Hex } from "viem";
import { decodeDaPointer, encodeDaPointer, type DaKindName, type DaPointer } from "../protocol/daPointer.ts";
import { BaseError } from "../protocol/errors.ts";
import { decodeRecord, encodeRecord, recordBodyHash, type ExecutionRecord } from "../protocol/record.ts";
import { DaError, DaWriteFailedError, RecordTooLargeError } from "./errors.ts";
import { silentLogger, type DaLayer, type DaLogger } from "./types.ts";

export type PutResult = {
  pointer: DaPointer;
  /** The bytes posted on chain as `daPointer`. */
  pointerHex: Hex;
  bodyHash: Hex;
  /** Which layer holds the record (the pointer's kind says the same). */
  layer: DaKindName;
  recordBytes: number;
  /** True when the primary failed and the fallback took the record. */
  failedOver: boolean;
};

export type VerifyResult = {
  pointerHex: Hex;
  layer: DaKindName;
  /** The record was fetched, matched its pointer and decoded canonically. */
  available: boolean;
  /** Celestia only: the node's inclusion proof verified (undefined where the layer has none). */
  inclusionProven?: boolean;
  bodyHash?: Hex;
  /** Set when an expected bodyHash was given. */
  bodyHashMatches?: boolean;
  error?: string;
};

export type DaClientOptions = {
  primary: DaLayer;
  fallback?: DaLayer | undefined;
  /** Layers only read from: a reader must follow any pointer, whichever layer a writer chose. */
  readers?: DaLayer[];
  logger?: DaLogger;
};

/**
 * The DA interface the collector and the watchers use: `put(record) → daPointer`,
 * `get(daPointer) → record`, `verify`. Writes go to the primary layer and, when it cannot take
 * the record, to the fallback; the pointer's kind byte says which one holds it, and reads
 * simply follow the pointer to the layer of that kind.
 */
export class DaClient {
  readonly primary: DaLayer;
  readonly fallback: DaLayer | undefined;
  readonly #byKind = new Map<DaKindName, DaLayer>();
  readonly #logger: DaLogger;
  #closed = false;

  constructor(options: DaClientOptions) {
    this.primary = options.primary;
    this.fallback = options.fallback;
    this.#logger = options.logger ?? silentLogger;
    for (const layer of [options.primary, options.fallback, ...(options.readers ?? [])]) {
      if (layer && !this.#byKind.has(layer.kind)) this.#byKind.set(layer.kind, layer);
    }
  }

  async put(record: ExecutionRecord): Promise<PutResult> {
    const bytes = encodeRecord(record);
    const bodyHash = recordBodyHash(record.body);
    const layers = [this.primary, ...(this.fallback ? [this.fallback] : [])];
    const errors: unknown[] = [];
    for (const [index, layer] of layers.entries()) {
      try {
        if (bytes.length > layer.maxRecordBytes)
          throw new RecordTooLargeError(layer.kind, bytes.length, layer.maxRecordBytes);
        const pointer = await layer.put(bytes);
        return {
          pointer,
          pointerHex: bytesToHex(encodeDaPointer(pointer)),
          bodyHash,
          layer: layer.kind,
          recordBytes: bytes.length,
          failedOver: index > 0,
        };
      } catch (error) {
        errors.push(error);
        const canFailOver = error instanceof DaError && error.failover;
        const next = layers[index + 1];
        if (!canFailOver || !next) break;
        this.#logger.warn(
          { layer: layer.kind, fallback: next.kind, bodyHash, error: error.shortMessage },
          "DA primary could not take the record, failing over",
        );
      }
    }
    if (errors.length === 1) throw errors[0];
    throw new DaWriteFailedError(errors);
  }

  /** Fetches the record a pointer names from the layer of the pointer's kind, checked and decoded. */
  async get(pointer: DaPointer | Uint8Array | Hex): Promise<ExecutionRecord> {
    const decoded = normalizePointer(pointer);
    const bytes = await this.layerFor(decoded.kind).get(decoded);
    return decodeRecord(bytes);
  }

  /**
   * Checks that the record is available and (given `expectedBodyHash`) that it is the body the
   * operators signed. Never throws for an unavailable record: that is the answer.
   */
  async verify(pointer: DaPointer | Uint8Array | Hex, expectedBodyHash?: Hex): Promise<VerifyResult> {
    const decoded = normalizePointer(pointer);
    const result: VerifyResult = {
      pointerHex: bytesToHex(encodeDaPointer(decoded)),
      layer: decoded.kind,
      available: false,
    };
    try {
      const layer = this.layerFor(decoded.kind);
      const record = decodeRecord(await layer.get(decoded));
      result.available = true;
      result.bodyHash = recordBodyHash(record.body);
      if (expectedBodyHash !== undefined) result.bodyHashMatches = result.bodyHash === expectedBodyHash.toLowerCase();
      if (layer.verifyAvailable) result.inclusionProven = await layer.verifyAvailable(decoded);
    } catch (error) {
      result.error = error instanceof BaseError ? error.shortMessage : String(error);
    }
    return result;
  }

  layerFor(kind: DaKindName): DaLayer {
    const layer = this.#byKind.get(kind);
    if (!layer) {
      throw new DaError(kind, `No ${kind} layer is configured to read this pointer`, {
        permanent: true,
        failover: false,
        hints: [`Add a ${kind} entry to da.read (or as primary/fallback) so pointers of kind ${kind} can be followed.`],
      });
    }
    return layer;
  }

  /** Safe to call twice; closes every layer even if one fails. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const layers = new Set([this.primary, ...(this.fallback ? [this.fallback] : []), ...this.#byKind.values()]);
    await Promise.allSettled([...layers].map((layer) => layer.close()));
  }
}

function normalizePointer(pointer: DaPointer | Uint8Array | Hex): DaPointer {
  if (typeof pointer === "string" || pointer instanceof Uint8Array) return decodeDaPointer(pointer);
  return pointer;
}
