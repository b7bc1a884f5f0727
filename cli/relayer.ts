import type { Command } from "commander";
import { BaseError } from "../protocol/errors.ts";
import { loadRelayerConfig, startRelayer } from "../relayer/index.ts";

/**
 * `versatus relayer --config <file>`: follows ExecutionRequested on every configured chain and
 * schedules each request on a quorum of operators until SIGTERM/SIGINT (then stops gracefully).
 */
export function registerRelayerCommand(root: Command): void {
  root
    .command("relayer")
    .description("Follow requests on the configured chains and schedule them on operator quorums")
    .requiredOption("--config <file>", "relayer config (JSON, see docs/offchain.md)")
    .action(async (options: { config: string }) => {
      try {
        const relayer = await startRelayer(loadRelayerConfig({ file: options.config }));
        await untilSignal();
        await relayer.close();
      } catch (error) {
        console.error(error instanceof BaseError ? error.message : error);
        process.exitCode = 1;
      }
    });
}

/** Resolves on the first SIGTERM or SIGINT. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      resolve(signal);
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
}
