import { Buffer } from "node:buffer";
import { bytesToHex, hexToBytes, type Hex } from "viem";
import type { CelestiaPointer, DaPointer } from "../../protocol/daPointer.ts";
import { DaError, HeightFromFutureError, IntegrityError, RecordNotFoundError, RecordTooLargeError } from "../errors.ts";
import { silentLogger, type DaLayer, type DaLogger } from "../types.ts";
import { createCommitment } from "./commitment.ts";
import { heightFromFuture, isBlobNotFound, isSequenceMismatch } from "./errors.ts";
import { validateNamespace } from "./namespace.ts";
import { b64, CelestiaRpcClient, CelestiaRpcError, fromB64, type BlobJson, type NmtProofJson } from "./rpc.ts";

/**
 * Largest blob a default Celestia network takes: a 64x64 square (4096 shares) minus the share the
 * PayForBlobs transaction needs, as celestia-app documents (~1.97 MB). Networks with a larger
 * max square size may raise it in the config.
 */
export const DEFAULT_CELESTIA_MAX_RECORD_BYTES = 1_973_786;

export type CelestiaLayerOptions = {
  url: string;
  authToken?: string | undefined;
  namespace: Uint8Array;
  maxRecordBytes?: number;
  timeoutMs?: number;
  /** Submit attempts after an account-sequence mismatch, beyond the first. */
  submitRetries?: number;
  retryDelayMs?: number;
  /** Passed as TxConfig gas_price; the node estimates it when absent. */
  gasPrice?: number | undefined;
  logger?: DaLogger;
};

/**
 * Celestia over a celestia-node (light, full or bridge) JSON-RPC endpoint. The share commitment is
 * computed here before submitting, so the pointer does not depend on trusting the node, and what
 * the node stored is checked against it; reads recompute the commitment of the returned data.
 * Submits are serialized: one account cannot have two PayForBlobs in flight without racing for
 * the same sequence number.
 */
export class CelestiaLayer implements DaLayer {
  readonly kind = "celestia" as const;
  readonly maxRecordBytes: number;
  readonly namespace: Uint8Array;
  readonly rpc: CelestiaRpcClient;
  readonly #submitRetries: number;
  readonly #retryDelayMs: number;
  readonly #gasPrice: number | undefined;
  readonly #logger: DaLogger;
  #submitQueue: Promise<unknown> = Promise.resolve();

  constructor(options: CelestiaLayerOptions) {
    validateNamespace(options.namespace, "da.celestia.namespace");
    this.namespace = options.namespace;
    this.maxRecordBytes = options.maxRecordBytes ?? DEFAULT_CELESTIA_MAX_RECORD_BYTES;
    this.rpc = new CelestiaRpcClient({
      url: options.url,
      authToken: options.authToken,
      timeoutMs: options.timeoutMs ?? 60_000,
    });
    this.#submitRetries = options.submitRetries ?? 5;
    this.#retryDelayMs = options.retryDelayMs ?? 1_000;
    this.#gasPrice = options.gasPrice;
    this.#logger = options.logger ?? silentLogger;
  }

  commitmentOf(data: Uint8Array): Hex {
    return bytesToHex(createCommitment({ namespace: this.namespace, data, shareVersion: 0 }));
  }

  async put(data: Uint8Array): Promise<DaPointer> {
    if (data.length > this.maxRecordBytes) throw new RecordTooLargeError("celestia", data.length, this.maxRecordBytes);
    const commitment = this.commitmentOf(data);
    const blob: BlobJson = {
      namespace: b64(this.namespace),
      data: b64(data),
      share_version: 0,
      commitment: b64(hexToBytes(commitment)),
      index: -1,
    };
    const height = await this.#serialized(() => this.#submitWithRetry(blob));
    const pointer: CelestiaPointer = { kind: "celestia", height, commitment };
    // The node recomputes the commitment itself; read back what it stored to make sure the pointer
    // we are about to post on chain addresses it.
    const stored = await this.#readBack(pointer);
    const nodeCommitment = bytesToHex(fromB64(stored.commitment));
    if (nodeCommitment !== commitment) {
      throw new IntegrityError(
        "celestia",
        `Celestia node computed share commitment ${nodeCommitment} for the blob at height ${height}, we computed ${commitment}`,
      );
    }
    if (!Buffer.from(fromB64(stored.data)).equals(data)) {
      throw new IntegrityError("celestia", `Celestia node returned other data than submitted at height ${height}`);
    }
    this.#logger.info(
      { layer: "celestia", height: height.toString(), commitment, bytes: data.length },
      "record submitted to Celestia",
    );
    return pointer;
  }

  async get(pointer: DaPointer): Promise<Uint8Array> {
    const celestia = this.#asCelestia(pointer);
    const blob = await this.#getBlob(celestia);
    const data = fromB64(blob.data);
    const actual = this.commitmentOf(data);
    if (actual !== celestia.commitment.toLowerCase()) {
      throw new IntegrityError(
        "celestia",
        `Data returned for height ${celestia.height} has share commitment ${actual}, the pointer says ${celestia.commitment}`,
      );
    }
    return data;
  }

  /** Asks the node for the blob's inclusion proof and whether it verifies against the block's data root. */
  async verifyAvailable(pointer: DaPointer): Promise<boolean> {
    const celestia = this.#asCelestia(pointer);
    const ns = b64(this.namespace);
    const commitment = b64(hexToBytes(celestia.commitment));
    const proof = await this.#mapReadErrors(celestia, () =>
      this.rpc.call<NmtProofJson[]>("blob.GetProof", [celestia.height, ns, commitment]),
    );
    return this.#mapReadErrors(celestia, () =>
      this.rpc.call<boolean>("blob.Included", [celestia.height, ns, proof, commitment]),
    );
  }

  /** All blobs of our namespace at a height (a watcher's scan); empty when there are none. */
  async getAll(height: bigint): Promise<{ commitment: Hex; data: Uint8Array }[]> {
    const pointer: CelestiaPointer = { kind: "celestia", height, commitment: `0x${"00".repeat(32)}` };
    try {
      // Newer nodes answer null for "none", older ones the blob-not-found error.
      const blobs = await this.#mapReadErrors(pointer, () =>
        this.rpc.call<BlobJson[] | null>("blob.GetAll", [height, [b64(this.namespace)]]),
      );
      return (blobs ?? []).map((b) => ({ commitment: bytesToHex(fromB64(b.commitment)), data: fromB64(b.data) }));
    } catch (error) {
      if (error instanceof RecordNotFoundError) return [];
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.#submitQueue.catch(() => {});
  }

  #asCelestia(pointer: DaPointer): CelestiaPointer {
    if (pointer.kind !== "celestia") {
      throw new DaError("celestia", `The Celestia layer cannot read a ${pointer.kind} pointer`, {
        permanent: true,
        failover: false,
      });
    }
    return pointer;
  }

  #serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#submitQueue.then(task, task);
    this.#submitQueue = run.catch(() => {});
    return run;
  }

  async #submitWithRetry(blob: BlobJson): Promise<bigint> {
    const options: Record<string, unknown> = {};
    if (this.#gasPrice !== undefined) Object.assign(options, { gas_price: this.#gasPrice, is_gas_price_set: true });
    for (let attempt = 0; ; attempt++) {
      try {
        const height = await this.rpc.call<number>("blob.Submit", [[blob], options]);
        if (!Number.isSafeInteger(height) || height < 1) {
          throw new DaError(
            "celestia",
            `Celestia node returned an invalid height ${JSON.stringify(height)} for blob.Submit`,
          );
        }
        return BigInt(height);
      } catch (error) {
        const retryable = error instanceof CelestiaRpcError && isSequenceMismatch(error.rpcMessage);
        if (!retryable || attempt >= this.#submitRetries) throw error;
        // Another transaction of this account (maybe from another process) took the sequence:
        // wait for it to land so the node's next signature uses a fresh sequence.
        this.#logger.warn(
          { layer: "celestia", attempt: attempt + 1, error: error.rpcMessage },
          "account sequence mismatch, retrying submit",
        );
        await sleep(this.#retryDelayMs * (attempt + 1));
      }
    }
  }

  /** A light node may include the blob before its own header store has synced that height. */
  async #readBack(pointer: CelestiaPointer): Promise<BlobJson> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#getBlob(pointer);
      } catch (error) {
        if (!(error instanceof HeightFromFutureError) || attempt >= this.#submitRetries) throw error;
        await sleep(this.#retryDelayMs);
      }
    }
  }

  async #getBlob(pointer: CelestiaPointer): Promise<BlobJson> {
    const blob = await this.#mapReadErrors(pointer, () =>
      this.rpc.call<BlobJson | null>("blob.Get", [
        pointer.height,
        b64(this.namespace),
        b64(hexToBytes(pointer.commitment)),
      ]),
    );
    if (!blob) throw new RecordNotFoundError("celestia", `no blob ${pointer.commitment} at height ${pointer.height}`);
    return blob;
  }

  async #mapReadErrors<T>(pointer: CelestiaPointer, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if (!(error instanceof CelestiaRpcError)) throw error;
      if (isBlobNotFound(error.rpcMessage)) {
        throw new RecordNotFoundError(
          "celestia",
          `no blob ${pointer.commitment} at height ${pointer.height} in namespace 0x${Buffer.from(this.namespace).toString("hex")}`,
          {
            cause: error,
          },
        );
      }
      const future = heightFromFuture(error.rpcMessage);
      if (future) throw new HeightFromFutureError(pointer.height, future.networkHeight, { cause: error });
      throw error;
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
