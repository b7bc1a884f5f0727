import type { Command } from "commander";
import { loadWatcherConfig, startWatcher } from "../watcher/index.ts";
import { runService } from "./service.ts";

/**
 * `versatus watcher run --config <file> [--key-env WATCHER_KEY]`: follows ResultIngested and
 * DisputeOpened on the configured chains, re-executes every result from DA, challenges wrong or
 * unavailable ones, votes on disputes, proves equivocation and finalises results, until
 * SIGTERM/SIGINT (the round in progress finishes first, within VERSATUS_SHUTDOWN_TIMEOUT_MS). Env: WATCHER_KEY (or --key-env),
 * REDIS_URL, WATCHER_HTTP_PORT, LOG_LEVEL, VERSATUS_PROGRAMS_DIR.
 */
export function registerWatcherRunCommand(watcher: Command): void {
  watcher
    .command("run")
    .description("Verify ingested results, challenge wrong ones, vote on disputes and catch equivocation")
    .requiredOption("--config <file>", "watcher config (JSON, see docs/offchain.md)")
    .option("--key-env <name>", "environment variable holding the watcher's private key (default: watcher.keyEnv)")
    .option("--no-challenge", "never challenge (only verify, vote and prove objective faults)")
    .option("--no-vote", "never vote on disputes")
    .option("--no-fraud-proofs", "never prove objective faults (unbacked or foreign mints)")
    .action((options: { config: string; keyEnv?: string; challenge: boolean; vote: boolean; fraudProofs: boolean }) =>
      runService({
        name: "watcher",
        start: async () => {
          const config = loadWatcherConfig({ file: options.config });
          if (options.keyEnv) config.watcher.keyEnv = options.keyEnv;
          if (!options.challenge) config.options.challenge = false;
          if (!options.vote) config.options.vote = false;
          if (!options.fraudProofs) config.options.fraudProofs = false;
          return startWatcher(config);
        },
      }),
    );
}
