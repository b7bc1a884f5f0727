export { loadDnsConfig, dnsConfigSchema, type DnsConfig } from "./config.ts";
export { startDnsFacade, type DnsFacade } from "./server.ts";
export { contentAddress, dnslinkText, type NameRecords } from "./records.ts";
