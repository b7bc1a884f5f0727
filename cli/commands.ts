import type { Command } from "commander";
import { registerContentCommands } from "./content.ts";
import { registerDaCommands } from "./da.ts";
import { registerDevnetCommand } from "./devnet.ts";
import { registerDnsCommand } from "./dns.ts";
import { registerExplorerCommand } from "../explorer/command.ts";
import { registerIngestorCommand } from "./ingestor.ts";
import { registerNetworkCommands } from "./network.ts";
import { registerNodeCommand } from "./node.ts";
import { registerOperatorCommands } from "./operator.ts";
import { registerProgramCommands } from "./program.ts";
import { registerRelayerCommand } from "./relayer.ts";
import { registerRequestCommand } from "./request.ts";
import { registerStatusCommand } from "./status.ts";
import { registerWatcherCommands } from "./watcher.ts";
import { registerWorkerCommand } from "./worker.ts";

/**
 * Every command group registers itself here, one module per group (cli/<group>.ts), so that the
 * groups stay independent of each other.
 */
export function registerCommands(program: Command): void {
  registerDaCommands(program);
  registerProgramCommands(program);
  registerRelayerCommand(program);
  registerWorkerCommand(program);
  registerIngestorCommand(program);
  registerRequestCommand(program);
  registerStatusCommand(program);
  registerDevnetCommand(program);
  registerOperatorCommands(program);
  registerWatcherCommands(program);
  registerExplorerCommand(program);
  registerNodeCommand(program);
  registerNetworkCommands(program);
  registerDnsCommand(program);
  registerContentCommands(program);
}
