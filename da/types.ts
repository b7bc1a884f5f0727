import type { DaKindName, DaPointer } from "../protocol/daPointer.ts";

/**
 * One DA layer. Layers move opaque bytes (the canonical record encoding); the record codec and
 * the size check live in DaClient so every layer sees the same bytes. `put` must be durable when
 * it returns: the pointer goes on chain right after.
 */
export interface DaLayer {
  readonly kind: DaKindName;
  /** Largest encoded record this layer takes; checked before anything is sent. */
  readonly maxRecordBytes: number;
  put(data: Uint8Array): Promise<DaPointer>;
  /** The bytes the pointer names, checked against the pointer (hash, commitment) where the layer allows. */
  get(pointer: DaPointer): Promise<Uint8Array>;
  /** Whether the layer proves the record is available (Celestia: inclusion proof); fetch-and-check otherwise. */
  verifyAvailable?(pointer: DaPointer): Promise<boolean>;
  close(): Promise<void>;
}

/** Minimal logger (pino-compatible), so DA code works with or without one. */
export type DaLogger = {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  debug?(obj: object, msg?: string): void;
};

export const silentLogger: DaLogger = { info() {}, warn() {} };
