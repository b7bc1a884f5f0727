import {
  BaseError as ViemBaseError,
  type Account,
  type Address,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
  type WalletClient,
} from "viem";
import { BaseError } from "../protocol/errors.ts";
import type { Logger } from "../protocol/ops.ts";

export class TransactionStuckError extends BaseError {
  override name = "TransactionStuckError";
  constructor(nonce: number, hashes: Hex[]) {
    super(`Transaction with nonce ${nonce} not mined after ${hashes.length} fee bumps`, {
      details: hashes.join(", "),
      hints: ["raise poster.maxFeeBumps or poster.feeBumpPercent, or check the node's mempool"],
    });
  }
}

export type TxSenderOptions = {
  publicClient: PublicClient;
  walletClient: WalletClient;
  account: Account;
  receiptTimeoutMs: number;
  feeBumpPercent: number;
  maxFeeBumps: number;
  logger: Logger;
  onFeeBump?: () => void;
};

const NONCE_USED =
  /nonce too low|already known|replacement transaction underpriced|nonce has already been used|known transaction/i;

function messageOf(error: unknown): string {
  if (error instanceof ViemBaseError) return `${error.shortMessage} ${error.details ?? ""}`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Sends one poster key's transactions on one chain: its own nonce counter (read from the chain's
 * pending count at first use and after any error), EIP-1559 fees re-estimated per transaction,
 * and fee bumping: a transaction not mined within `receiptTimeoutMs` is re-sent with the same
 * nonce and fees raised by `feeBumpPercent`, up to `maxFeeBumps` times. Whichever of the versions
 * is mined, its receipt is returned.
 *
 * Several callers may share one sender (the poster and the activity-snapshot keeper share the
 * poster key): taking a nonce and broadcasting the first version of its transaction happen one
 * caller at a time, so no two transactions get the same nonce and no nonce is skipped (a failed
 * broadcast resyncs before the next caller takes one); waiting for receipts is not serialized, so
 * one caller's transaction being mined does not hold up another's broadcast.
 */
export class TxSender {
  readonly #o: TxSenderOptions;
  #nonce: number | undefined;
  /** Tail of the chain of nonce-taking broadcasts (see the class comment). */
  #broadcasting: Promise<unknown> = Promise.resolve();
  readonly address: Address;

  constructor(options: TxSenderOptions) {
    this.#o = options;
    this.address = options.account.address;
  }

  /** Forget the local nonce (after an error); the next send reads it from the chain. */
  resync(): void {
    this.#nonce = undefined;
  }

  async send(tx: { to: Address; data: Hex; gas: bigint }): Promise<TransactionReceipt> {
    const first = this.#broadcasting.then(() => this.#broadcastNew(tx));
    // the next caller waits for this broadcast only, whether it worked or not
    this.#broadcasting = first.catch(() => {});
    const broadcast = await first;
    const nonce = broadcast.nonce;
    let { maxFeePerGas, maxPriorityFeePerGas } = broadcast;
    const hashes: Hex[] = [broadcast.hash];
    for (let bump = 0; ; bump++) {
      let receipt: TransactionReceipt | undefined;
      try {
        receipt = await this.#waitAny(hashes);
      } catch (error) {
        // The transaction may or may not be in the node's pool: the next nonce comes from its pending count.
        this.resync();
        throw error;
      }
      if (receipt) return receipt;
      if (bump >= this.#o.maxFeeBumps) {
        // Keep the nonce when nothing was sent after it: the next transaction replaces whatever is
        // still pending with it. (When later nonces are out, they wait behind this one and bump too.)
        if (this.#nonce === nonce + 1) this.#nonce = nonce;
        throw new TransactionStuckError(nonce, hashes);
      }
      const factor = BigInt(100 + this.#o.feeBumpPercent);
      maxFeePerGas = (maxFeePerGas * factor) / 100n + 1n;
      maxPriorityFeePerGas = (maxPriorityFeePerGas * factor) / 100n + 1n;
      this.#o.onFeeBump?.();
      this.#o.logger.warn(
        { nonce, bump: bump + 1, maxFeePerGas: String(maxFeePerGas) },
        "transaction not mined: fee bumped",
      );
      try {
        hashes.push(await this.#sign(tx, nonce, maxFeePerGas, maxPriorityFeePerGas));
      } catch (error) {
        // The nonce is taken: by one of our earlier versions (then wait for it), or by something else.
        if (!NONCE_USED.test(messageOf(error))) {
          this.resync();
          throw error;
        }
      }
    }
  }

  /** Takes the next nonce and broadcasts the transaction's first version (one caller at a time). */
  async #broadcastNew(tx: { to: Address; data: Hex; gas: bigint }) {
    const { publicClient } = this.#o;
    try {
      this.#nonce ??= await publicClient.getTransactionCount({ address: this.address, blockTag: "pending" });
      const nonce = this.#nonce;
      const fees = await publicClient.estimateFeesPerGas();
      const hash = await this.#sign(tx, nonce, fees.maxFeePerGas, fees.maxPriorityFeePerGas);
      this.#nonce = nonce + 1;
      return { nonce, hash, maxFeePerGas: fees.maxFeePerGas, maxPriorityFeePerGas: fees.maxPriorityFeePerGas };
    } catch (error) {
      this.resync();
      throw error;
    }
  }

  #sign(
    tx: { to: Address; data: Hex; gas: bigint },
    nonce: number,
    maxFeePerGas: bigint,
    maxPriorityFeePerGas: bigint,
  ) {
    const { walletClient, account } = this.#o;
    return walletClient.sendTransaction({
      account,
      chain: walletClient.chain,
      to: tx.to,
      data: tx.data,
      gas: tx.gas,
      nonce,
      maxFeePerGas,
      maxPriorityFeePerGas,
    });
  }

  async #waitAny(hashes: Hex[]): Promise<TransactionReceipt | undefined> {
    const { publicClient, receiptTimeoutMs } = this.#o;
    try {
      return await publicClient.waitForTransactionReceipt({ hash: hashes.at(-1)!, timeout: receiptTimeoutMs });
    } catch (error) {
      if (!/timed out|could not be found/i.test(messageOf(error))) throw error;
    }
    for (const hash of hashes) {
      const receipt = await publicClient.getTransactionReceipt({ hash }).catch(() => undefined);
      if (receipt) return receipt;
    }
    return undefined;
  }
}
