import { Command } from "commander";
import { registerCommands } from "./commands.ts";

const program = new Command("versatus")
  .description("Versatus executable oracle: programs, services, requests and the local devnet")
  .showHelpAfterError();
registerCommands(program);
// A promise chain, not a top-level await (see cli/bin.js).
program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
