import type { Command } from "commander";
import { loadDnsConfig, startDnsFacade } from "../dns/index.ts";
import { runService } from "./service.ts";

/**
 * `versatus dns --config dns.json`: the DNS facade (docs/dns.md). Answers A/AAAA/TXT (and the
 * `dnslink=` TXT of a name's content address) for names in the NameRegistry, forwards every other
 * name to the configured upstream resolver. SIGTERM/SIGINT stop it; a failed start exits 1.
 */
export function registerDnsCommand(root: Command): void {
  root
    .command("dns")
    .description(
      "Run the DNS facade: names from the NameRegistry (global state), other names from an upstream resolver",
    )
    .requiredOption("--config <file>", "DNS facade config (JSON, see docs/dns.md and config/dns.example.json)")
    .option("--port <port>", "UDP and TCP port (overrides listen.port; 0 = any free port)")
    .action((options: { config: string; port?: string }) =>
      runService({
        name: "dns",
        start: async () => {
          const env = options.port === undefined ? process.env : { ...process.env, VERSATUS_DNS_PORT: options.port };
          const facade = await startDnsFacade(loadDnsConfig({ file: options.config, env }));
          console.log(
            `versatus dns: *.${facade.suffix} on ${facade.host}:${facade.port} (UDP+TCP); try: dig @${facade.host} -p ${facade.port} hello.${facade.suffix} TXT`,
          );
          return facade;
        },
      }),
    );
}
