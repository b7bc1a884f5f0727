import type { Command } from "commander";
import { registerDaCommands } from "./da.ts";
import { registerProgramCommands } from "./program.ts";

/**
 * Every command group registers itself here, one module per group (cli/<group>.ts), so that the
 * groups stay independent of each other.
 */
export function registerCommands(program: Command): void {
  void program;
  registerDaCommands(program);
  registerProgramCommands(program);
}
