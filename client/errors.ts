import type { Hex } from "viem";
import { BaseError } from "../protocol/errors.ts";

export class MissingWalletError extends BaseError {
  override name = "MissingWalletError";
  constructor(action: string) {
    super(`${action} needs a wallet client with an account`, {
      hints: ["pass walletClient (and account) to createVersatusClient"],
      permanent: true,
    });
  }
}

export class ProgramNotFoundError extends BaseError {
  override name = "ProgramNotFoundError";
  constructor(name: string) {
    super(`No program named "${name}" is published on this oracle`, {
      hints: ["publish it with oracle.publish(programId, name, uri), or pass programId"],
      permanent: true,
    });
  }
}

export class RequestNotFoundError extends BaseError {
  override name = "RequestNotFoundError";
  constructor(requestId: Hex) {
    super(`No request ${requestId} on this oracle`, { permanent: true });
  }
}

export class WaitForResultTimeoutError extends BaseError {
  override name = "WaitForResultTimeoutError";
  constructor(requestId: Hex, timeoutMs: number) {
    super(`Request ${requestId} not settled within ${timeoutMs} ms`, {
      hints: ["the request may still settle; call waitForResult again or check status()"],
    });
  }
}
