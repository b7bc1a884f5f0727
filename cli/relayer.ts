import type { Command } from "commander";
import { loadRelayerConfig, startRelayer } from "../relayer/index.ts";
import { runService } from "./service.ts";

/**
 * `versatus relayer --config <file>`: follows ExecutionRequested on every configured chain and
 * schedules each request on a quorum of operators until SIGTERM/SIGINT (then stops gracefully,
 * within VERSATUS_SHUTDOWN_TIMEOUT_MS). A failed start (bad config, ops port taken) exits 1.
 */
export function registerRelayerCommand(root: Command): void {
  root
    .command("relayer")
    .description("Follow requests on the configured chains and schedule them on operator quorums")
    .requiredOption("--config <file>", "relayer config (JSON, see docs/offchain.md)")
    .action((options: { config: string }) =>
      runService({
        name: "relayer",
        start: async () => startRelayer(loadRelayerConfig({ file: options.config })),
      }),
    );
}
