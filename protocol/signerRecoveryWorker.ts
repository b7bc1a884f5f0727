import { parentPort } from "node:worker_threads";
import { recoverAddress, type Address, type Hex } from "viem";

/**
 * A signer recovery thread (protocol/signerRecovery.ts): answers each request with exactly what
 * viem's `recoverAddress` answers on the main thread, so a signature accepted or refused in-thread
 * is accepted or refused here too. Requests are answered as they finish, not in order.
 */
export type RecoveryRequest = { id: number; digest: Hex; signature: Hex };

export type RecoveryReply = { id: number; signer: Address } | { id: number; error: { name: string; message: string } };

const port = parentPort;
if (!port) throw new Error("protocol/signerRecoveryWorker.ts must run as a worker thread");

port.on("message", (request: RecoveryRequest) => {
  recoverAddress({ hash: request.digest, signature: request.signature }).then(
    (signer) => port.postMessage({ id: request.id, signer } satisfies RecoveryReply),
    (error: unknown) => {
      const { name, message } = error instanceof Error ? error : { name: "Error", message: String(error) };
      port.postMessage({ id: request.id, error: { name, message } } satisfies RecoveryReply);
    },
  );
});
