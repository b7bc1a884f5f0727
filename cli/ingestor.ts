import type { Command } from "commander";
import { loadIngestorConfig, startIngestor } from "../ingestor/index.ts";
import { InvalidInputError } from "../protocol/errors.ts";
import { runService } from "./service.ts";

const ROLES = ["collector", "poster", "reconcile"] as const;

/**
 * `versatus ingestor --config <file> [--roles collector,poster]`: the collector (quorum → DA →
 * post jobs), the poster (ingestBatch per chain; key from env POSTER_KEY) and the reconciler,
 * until SIGTERM/SIGINT; then it stops taking jobs, finishes the ones in hand and exits (within
 * VERSATUS_SHUTDOWN_TIMEOUT_MS). A failed start exits 1.
 */
export function registerIngestorCommand(root: Command): void {
  root
    .command("ingestor")
    .description("Collect quorum-signed results, write them to DA and post them on chain (ingestBatch)")
    .requiredOption("--config <file>", "ingestor config (JSON, see docs/offchain.md); POSTER_KEY from the environment")
    .option("--roles <list>", `comma-separated roles to run (${ROLES.join(",")}); default: as the config says`)
    .action((options: { config: string; roles?: string }) =>
      runService({
        name: "ingestor",
        start: async () => {
          const config = loadIngestorConfig({ file: options.config });
          if (options.roles !== undefined) {
            const roles = options.roles.split(",").map((r) => r.trim());
            const unknown = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
            if (unknown.length > 0)
              throw new InvalidInputError("--roles", ROLES.join(", "), { details: `got ${unknown.join(",")}` });
            config.collector.enabled = roles.includes("collector");
            config.poster.enabled = roles.includes("poster");
            config.reconcile.enabled = roles.includes("reconcile");
          }
          return startIngestor(config);
        },
      }),
    );
}
