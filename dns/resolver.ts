import {
  AUTHORITATIVE_ANSWER,
  RECURSION_AVAILABLE,
  RECURSION_DESIRED,
  TRUNCATED_RESPONSE,
  decode,
  encode,
  type Answer,
  type DecodedPacket,
  type Packet,
  type Question,
} from "dns-packet";
import { TtlCache } from "./cache.ts";
import { answersFor, type NameRecords } from "./records.ts";
import type { NameSource } from "./registry.ts";
import { forwardUdp } from "./upstream.ts";

/** DNS response codes (RFC 1035 4.1.1) the facade sends. */
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
export type RcodeName = keyof typeof RCODE;

/** Where an answer came from (a metrics label). */
export type AnswerSource = "cache" | "chain" | "upstream" | "local";

export type Resolution = {
  response: Buffer;
  source: AnswerSource;
  rcode: RcodeName;
  /** Sent over UDP with TC set: too big for the client's UDP size; it retries over TCP. */
  truncated: boolean;
  /** The query could not be parsed. */
  malformed: boolean;
};

/** Plain DNS over UDP without EDNS carries 512 bytes (RFC 1035 4.2.1). */
const CLASSIC_UDP_LIMIT = 512;
/** Largest UDP size we honour from a client's EDNS and advertise ourselves (the DNS flag day 2020 value). */
const MAX_UDP_LIMIT = 4_096;
const ADVERTISED_UDP_SIZE = 1_232;
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Whether `name` is one the registry can hold: one valid label under `suffix` (the content gateway asks too). */
export function isRegistryName(name: string, suffix: string): boolean {
  return name.endsWith(`.${suffix}`) && LABEL.test(name.slice(0, -(suffix.length + 1)));
}
const DNSLINK_PREFIX = "_dnslink.";

export type ResolverOptions = {
  /** The registry's suffix: names under it are answered from global state, authoritatively. */
  suffix: string;
  names: NameSource;
  upstream?: { host: string; port: number; timeoutMs: number };
  ttlS: number;
  negativeTtlS: number;
  maxEntries: number;
  maxUpstreamTtlS: number;
  now?: () => number;
  onChainError?: (error: unknown) => void;
  onChainOk?: () => void;
  onUpstreamError?: (error: unknown) => void;
  onUpstreamOk?: () => void;
};

type CachedName = { records: NameRecords | undefined };
/** The response being built and how it travels back. */
type Reply = { packet: Packet; transport: "udp" | "tcp"; udpLimit: number };
type CachedUpstream = { packet: DecodedPacket; storedAt: number };

/**
 * Answers one DNS message, whatever the transport: names under the registry's suffix from the node
 * cache, else from the NameRegistry (global state); every other name from the cache, else from the
 * upstream resolver. Never throws: a query it cannot parse gets FORMERR (or is dropped when it has
 * no header), a failing chain or upstream SERVFAIL.
 */
export class DnsResolver {
  private readonly options: ResolverOptions;
  private readonly now: () => number;
  private readonly names: TtlCache<CachedName>;
  private readonly upstreamAnswers: TtlCache<CachedUpstream>;

  constructor(options: ResolverOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.names = new TtlCache({ maxEntries: options.maxEntries, now: this.now });
    this.upstreamAnswers = new TtlCache({ maxEntries: options.maxEntries, now: this.now });
  }

  /** Drops a name from the cache (its registry entry changed). */
  invalidate(name: string): void {
    this.names.delete(name.toLowerCase());
  }

  get cacheSize(): number {
    return this.names.size + this.upstreamAnswers.size;
  }

  /** The response to `query` (undefined: drop it), fitted to the transport's size limit. */
  async resolve(query: Buffer, transport: "udp" | "tcp"): Promise<Resolution | undefined> {
    // Without a full header there is no id to answer to; a response is never answered (no loops).
    if (query.length < 12 || query.readUInt16BE(2) & 0x8000) return undefined;
    const requestFlags = query.readUInt16BE(2);
    const base = {
      id: query.readUInt16BE(0),
      // echo the opcode and RD; RA when there is a resolver behind us
      flags:
        (requestFlags & 0x7800) |
        (requestFlags & RECURSION_DESIRED) |
        (this.options.upstream ? RECURSION_AVAILABLE : 0),
    };
    let packet: DecodedPacket;
    try {
      packet = decode(query);
    } catch {
      const bare = { packet: { ...base, questions: [] }, transport, udpLimit: CLASSIC_UDP_LIMIT };
      return this.finish(bare, {}, "FORMERR", "local", true);
    }
    const opt = (packet.additionals ?? []).find((a) => a.type === "OPT") as { udpPayloadSize?: number } | undefined;
    const udpLimit = opt
      ? Math.min(Math.max(opt.udpPayloadSize ?? 0, CLASSIC_UDP_LIMIT), MAX_UDP_LIMIT)
      : CLASSIC_UDP_LIMIT;
    const additionals: Answer[] = opt
      ? [{ type: "OPT", name: ".", udpPayloadSize: ADVERTISED_UDP_SIZE, flags: 0 } as unknown as Answer]
      : [];
    const reply: Reply = { packet: { ...base, questions: packet.questions, additionals }, transport, udpLimit };
    if ((requestFlags >> 11) & 0xf) return this.finish(reply, {}, "NOTIMP", "local");
    const questions = packet.questions ?? [];
    const question = questions[0];
    if (questions.length !== 1 || !question || typeof question.name !== "string")
      return this.finish(reply, { questions: [] }, "FORMERR", "local", true);

    const qname = question.name.toLowerCase().replace(/\.$/, "");
    const suffix = this.options.suffix;
    if (qname === suffix || qname.endsWith(`.${suffix}`)) {
      const authoritative = { ...reply, packet: { ...reply.packet, flags: base.flags | AUTHORITATIVE_ANSWER } };
      return this.answerFromRegistry(question, qname, authoritative);
    }
    return this.answerFromUpstream(query, question, qname, reply);
  }

  private async answerFromRegistry(question: Question, qname: string, reply: Reply): Promise<Resolution> {
    const dnslinkOnly = qname.startsWith(DNSLINK_PREFIX);
    const name = dnslinkOnly ? qname.slice(DNSLINK_PREFIX.length) : qname;
    const suffix = this.options.suffix;
    // the zone apex exists (and has no records of its own)
    if (name === suffix) return this.finish(reply, {}, "NOERROR", "local");
    // a name the registry refuses (a sub-name, a bad label) can never be registered
    if (!isRegistryName(name, suffix)) return this.finish(reply, {}, "NXDOMAIN", "local");

    let source: AnswerSource = "cache";
    let records: NameRecords | undefined;
    let remainingMs: number;
    const cached = this.names.get(name);
    if (cached) {
      records = cached.value.records;
      remainingMs = cached.remainingMs;
    } else {
      source = "chain";
      try {
        records = await this.options.names.lookup(name);
        this.options.onChainOk?.();
      } catch (error) {
        this.options.onChainError?.(error);
        return this.finish(reply, {}, "SERVFAIL", "chain");
      }
      // a record's TTL never outlives the registration it comes from
      remainingMs = records
        ? Math.min(this.options.ttlS * 1000, records.expiresAt * 1000 - this.now())
        : this.options.negativeTtlS * 1000;
      this.names.set(name, { records }, remainingMs);
    }
    if (!records) return this.finish(reply, {}, "NXDOMAIN", source);
    const ttl = Math.max(0, Math.ceil(remainingMs / 1000));
    const answers = answersFor(question.name, question.type, records, ttl, dnslinkOnly);
    return this.finish(reply, { answers }, "NOERROR", source);
  }

  private async answerFromUpstream(
    query: Buffer,
    question: Question,
    qname: string,
    reply: Reply,
  ): Promise<Resolution> {
    const upstream = this.options.upstream;
    if (!upstream) return this.finish(reply, {}, "REFUSED", "local");
    const key = `${qname}|${question.type}|${question.class ?? "IN"}`;
    const cached = this.upstreamAnswers.get(key);
    if (cached) {
      const elapsedS = Math.floor((this.now() - cached.value.storedAt) / 1000);
      const age = (answers: Answer[] | undefined) =>
        (answers ?? []).map((a) => (a.type === "OPT" ? a : { ...a, ttl: Math.max(0, (a.ttl ?? 0) - elapsedS) }));
      const packet = cached.value.packet;
      const aged = { answers: age(packet.answers), authorities: age(packet.authorities) };
      return this.finish(reply, aged, rcodeName(packet.flags ?? 0), "cache");
    }
    let packet: DecodedPacket;
    try {
      packet = decode(await forwardUdp(query, upstream));
      this.options.onUpstreamOk?.();
    } catch (error) {
      this.options.onUpstreamError?.(error);
      return this.finish(reply, {}, "SERVFAIL", "upstream");
    }
    const rcode = rcodeName(packet.flags ?? 0);
    if ((rcode === "NOERROR" || rcode === "NXDOMAIN") && !((packet.flags ?? 0) & TRUNCATED_RESPONSE)) {
      const ttls = (packet.answers ?? []).filter((a) => a.type !== "OPT").map((a) => a.ttl ?? 0);
      const ttlS = ttls.length ? Math.min(...ttls) : this.options.negativeTtlS;
      this.upstreamAnswers.set(
        key,
        { packet, storedAt: this.now() },
        Math.min(ttlS, this.options.maxUpstreamTtlS) * 1000,
      );
    }
    return this.finish({ ...reply, packet: { ...packet, id: reply.packet.id } }, {}, rcode, "upstream");
  }

  /** Encodes the response; over UDP, one that does not fit goes out as header + question with TC set. */
  private finish(
    reply: Reply,
    sections: Partial<Packet>,
    rcode: RcodeName,
    source: AnswerSource,
    malformed = false,
  ): Resolution {
    const { transport, udpLimit } = reply;
    const packet: Packet = { ...reply.packet, ...sections };
    const flags = ((packet.flags ?? 0) & ~0xf) | RCODE[rcode];
    const full: Packet = { ...packet, type: "response", flags };
    const response = encode(full);
    if (transport === "tcp" || response.length <= udpLimit)
      return { response, source, rcode, truncated: false, malformed };
    const truncated = encode({
      ...full,
      flags: flags | TRUNCATED_RESPONSE,
      answers: [],
      authorities: [],
      additionals: packet.additionals ?? [],
    });
    return { response: truncated, source, rcode, truncated: true, malformed };
  }
}

function rcodeName(flags: number): RcodeName {
  const code = flags & 0xf;
  return (Object.entries(RCODE).find(([, v]) => v === code)?.[0] as RcodeName | undefined) ?? "SERVFAIL";
}
