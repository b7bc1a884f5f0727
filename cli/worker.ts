import type { Command } from "commander";
import type { Hex } from "viem";
import { InvalidInputError } from "../protocol/errors.ts";
import { loadWorkerConfig, startWorker } from "../worker/index.ts";
import { runService } from "./service.ts";

/**
 * `versatus worker --config <file> [--key-env OPERATOR_KEY]`: the compute agent of one operator.
 * The private key is read from the environment variable (never from the file or the command line).
 * On SIGTERM/SIGINT it stops taking jobs and finishes the running ones before exiting (within
 * VERSATUS_SHUTDOWN_TIMEOUT_MS). A failed start exits 1.
 */
export function registerWorkerCommand(root: Command): void {
  root
    .command("worker")
    .description("Run programs assigned to one operator, sign the results and push them to the results queue")
    .requiredOption("--config <file>", "worker config (JSON, see docs/offchain.md)")
    .option("--key-env <name>", "environment variable holding the operator's private key (default: operator.keyEnv)")
    .action((options: { config: string; keyEnv?: string }) =>
      runService({
        name: "worker",
        start: async () => {
          const config = loadWorkerConfig({ file: options.config });
          if (options.keyEnv) config.operator.keyEnv = options.keyEnv;
          const privateKey = process.env[config.operator.keyEnv];
          if (!privateKey)
            throw new InvalidInputError(`environment variable ${config.operator.keyEnv}`, "the operator's private key");
          return startWorker(config, { privateKey: privateKey as Hex });
        },
      }),
    );
}
