import type { Command } from "commander";
import { loadNodeConfig, startOperatorNode } from "./node/index.ts";
import { runService } from "./service.ts";
import { devnetTamperFromEnv } from "./devnet/tamper.ts";

/**
 * `versatus node --config node.json`: one operator's node (docs/node.md) running the roles its
 * config names (relay, compute, collect, post, watch) on the operator's own Redis, linked to the
 * other operators only by the peer-to-peer network. Keys from the environment:
 * VERSATUS_OPERATOR_KEY, VERSATUS_POSTER_KEY (post role), the watcher's (watch.keyEnv, default
 * WATCHER_KEY). SIGTERM/SIGINT stop every role gracefully; a failed start exits 1.
 */
export function registerNodeCommand(root: Command): void {
  root
    .command("node")
    .description("Run one operator's node: its roles on its own Redis, linked to other operators by libp2p")
    .requiredOption("--config <file>", "node config (JSON, see docs/node.md and config/node.example.json)")
    .action((options: { config: string }) =>
      runService({
        name: "node",
        start: async () => {
          const config = loadNodeConfig({ file: options.config });
          // devnet only (refused on other chains): the faulty-quorum demo's colluding operators
          const tamper = devnetTamperFromEnv(
            process.env,
            config.chains.map((c) => c.chainId),
          );
          return startOperatorNode(config, tamper ? { tamper } : {});
        },
      }),
    );
}
