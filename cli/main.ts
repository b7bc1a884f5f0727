import { Command } from "commander";
import { registerCommands } from "./commands.ts";

const program = new Command("versatus")
  .description("Versatus executable oracle: programs, services, requests and the local devnet")
  .showHelpAfterError();
registerCommands(program);
await program.parseAsync(process.argv);
