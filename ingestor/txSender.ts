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
 * Sends one poster key's transactions on one chain, one at a time: its own nonce counter (read
 * from the chain's pending count at first use and after any error), EIP-1559 fees re-estimated
 * per transaction, and fee bumping: a transaction not mined within `receiptTimeoutMs` is re-sent
 * with the same nonce and fees raised by `feeBumpPercent`, up to `maxFeeBumps` times. Whichever
 * of the versions is mined, its receipt is returned.
 */
export class TxSender {
  readonly #o: TxSenderOptions;
  #nonce: number | undefined;
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
    const { publicClient, walletClient, account } = this.#o;
    this.#nonce ??= await publicClient.getTransactionCount({ address: this.address, blockTag: "pending" });
    const nonce = this.#nonce;
    const fees = await publicClient.estimateFeesPerGas();
    let maxFeePerGas = fees.maxFeePerGas;
    let maxPriorityFeePerGas = fees.maxPriorityFeePerGas;
    const hashes: Hex[] = [];
    for (let bump = 0; ; bump++) {
      try {
        const hash = await walletClient.sendTransaction({
          account,
          chain: walletClient.chain,
          to: tx.to,
          data: tx.data,
          gas: tx.gas,
          nonce,
          maxFeePerGas,
          maxPriorityFeePerGas,
        });
        hashes.push(hash);
      } catch (error) {
        // The nonce is taken: by one of our earlier versions (then wait for it), or by something else.
        if (!(hashes.length > 0 && NONCE_USED.test(messageOf(error)))) {
          this.resync();
          throw error;
        }
      }
      const receipt = await this.#waitAny(hashes);
      if (receipt) {
        this.#nonce = nonce + 1;
        return receipt;
      }
      if (bump >= this.#o.maxFeeBumps) {
        // Keep the nonce: the next transaction replaces whatever is still pending with it.
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
    }
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
