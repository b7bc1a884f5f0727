import type { Answer } from "dns-packet";

/**
 * What the NameRegistry holds for one name (INameRegistry.NameRecords), as the facade uses it,
 * and how it becomes DNS answers. The content address and its `dnslink` text live here once: the
 * content gateway (issue 17 item 3) reads names the same way.
 */
export type NameRecords = {
  owner: `0x${string}`;
  /** Unix seconds. */
  expiresAt: number;
  contentId: `0x${string}`;
  /** 0 none, 1 program, 2 static bundle (INameRegistry). */
  contentKind: number;
  a: `0x${string}`[];
  aaaa: `0x${string}`[];
  txt: string[];
  endpoints: { service: string; url: string }[];
};

export const CONTENT_KINDS = { 1: "program", 2: "bundle" } as const;

/** `program/0x…` or `bundle/0x…`: the kind and the 32-byte id of what a name points at (none: undefined). */
export function contentAddress(records: Pick<NameRecords, "contentId" | "contentKind">): string | undefined {
  const kind = CONTENT_KINDS[records.contentKind as keyof typeof CONTENT_KINDS];
  return kind ? `${kind}/${records.contentId.toLowerCase()}` : undefined;
}

/** The dnslink-style TXT value of a name with content: `dnslink=/versatus/program/0x…`. */
export function dnslinkText(records: Pick<NameRecords, "contentId" | "contentKind">): string | undefined {
  const address = contentAddress(records);
  return address ? `dnslink=/versatus/${address}` : undefined;
}

/** The TXT value that carries one service endpoint: `endpoint=<service> <url>`. */
export const endpointText = (e: { service: string; url: string }) => `endpoint=${e.service} ${e.url}`;

const ipv4 = (hex: `0x${string}`) => [...Buffer.from(hex.slice(2), "hex")].join(".");
const ipv6 = (hex: `0x${string}`) =>
  (hex.slice(2).match(/.{4}/g) ?? []).map((group) => group.replace(/^0{1,3}/, "")).join(":");

/**
 * The answers for `qtype` at `qname` from a name's records. `dnslinkOnly` is the `_dnslink.<name>`
 * owner name, which carries only the dnslink TXT (the dnslink convention).
 */
export function answersFor(
  qname: string,
  qtype: string,
  records: NameRecords,
  ttl: number,
  dnslinkOnly: boolean,
): Answer[] {
  const answers: Answer[] = [];
  const wants = (type: string) => qtype === type || qtype === "ANY";
  if (!dnslinkOnly && wants("A"))
    for (const a of records.a) answers.push({ type: "A", name: qname, ttl, class: "IN", data: ipv4(a) });
  if (!dnslinkOnly && wants("AAAA"))
    for (const a of records.aaaa) answers.push({ type: "AAAA", name: qname, ttl, class: "IN", data: ipv6(a) });
  if (wants("TXT")) {
    const link = dnslinkText(records);
    const texts = [
      ...(link ? [link] : []),
      ...(dnslinkOnly ? [] : [...records.txt, ...records.endpoints.map(endpointText)]),
    ];
    for (const text of texts) answers.push({ type: "TXT", name: qname, ttl, class: "IN", data: [text] });
  }
  return answers;
}
