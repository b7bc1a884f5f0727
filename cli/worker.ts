import type { Command } from "commander";
import type { Hex } from "viem";
import { BaseError, InvalidInputError } from "../protocol/errors.ts";
import { loadWorkerConfig, startWorker } from "../worker/index.ts";
import { untilSignal } from "./relayer.ts";

/**
 * `versatus worker --config <file> [--key-env OPERATOR_KEY]`: the compute agent of one operator.
 * The private key is read from the environment variable (never from the file or the command line).
 * On SIGTERM/SIGINT it stops taking jobs and finishes the running ones before exiting.
 */
export function registerWorkerCommand(root: Command): void {
  root
    .command("worker")
    .description("Run programs assigned to one operator, sign the results and push them to the results queue")
    .requiredOption("--config <file>", "worker config (JSON, see docs/offchain.md)")
    .option("--key-env <name>", "environment variable holding the operator's private key (default: operator.keyEnv)")
    .action(async (options: { config: string; keyEnv?: string }) => {
      try {
        const config = loadWorkerConfig({ file: options.config });
        if (options.keyEnv) config.operator.keyEnv = options.keyEnv;
        const privateKey = process.env[config.operator.keyEnv];
        if (!privateKey)
          throw new InvalidInputError(`environment variable ${config.operator.keyEnv}`, "the operator's private key");
        const worker = await startWorker(config, { privateKey: privateKey as Hex });
        await untilSignal();
        await worker.close();
      } catch (error) {
        console.error(error instanceof BaseError ? error.message : error);
        process.exitCode = 1;
      }
    });
}
