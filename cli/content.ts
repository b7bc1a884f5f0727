import type { Command } from "commander";
import { publishContent } from "../content/publish.ts";

/** `versatus content publish <path> --gateway <url>`: content caching (docs/content.md). */
export function registerContentCommands(root: Command): void {
  const content = root
    .command("content")
    .description("Content cached by the network's persist nodes (docs/content.md)");
  content
    .command("publish <path>")
    .description("Publish a static bundle (a directory or a file) or, with --raw, a program package; prints its CID")
    .requiredOption("--gateway <url>", "a gateway with uploads on, e.g. http://127.0.0.1:8480")
    .option("--raw", "one raw block (a .vpkg program package: its CID carries the programId)")
    .action(async (path: string, options: { gateway: string; raw?: boolean }) => {
      const result = await publishContent({ path, gateway: options.gateway, ...(options.raw ? { raw: true } : {}) });
      console.log(`published ${result.files} file(s), ${result.bytes} bytes`);
      console.log(`cid: ${result.cid}`);
      console.log(`curl ${options.gateway.replace(/\/+$/, "")}/ipfs/${result.cid}`);
    });
}
