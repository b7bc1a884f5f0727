import { getAddress, type Address, type Hex } from "viem";
import { z } from "zod";
import { InvalidInputError } from "./errors.ts";
import type { ResultJob } from "./jobs.ts";
import type { PeerBinding } from "./peerBinding.ts";
import { recoverResultSigner, type Result } from "./result.ts";

/**
 * The wire format of the peer-to-peer layer (SPEC 6): topic names and one codec per message type.
 * Every message is UTF-8 JSON of one object (bigints as decimal strings, bytes as 0x-hex, as in
 * protocol/jobs.ts), bounded in size before it is parsed and validated with zod after; a bad
 * message is a `GossipDecodeError` naming the field. network/ publishes and validates with these,
 * and so do the tests.
 *
 * Signature checks that need no chain state also live here (`verifyResultMessage`); whether the
 * sender is bound and active is network/'s check (protocol/peerBinding.ts decides bindings).
 */

// ---------------------------------------------------------------------------------------------
// Topics
// ---------------------------------------------------------------------------------------------

export type GossipTopics = {
  requests: (chainId: number | bigint | string) => string;
  /** Results of every request of one origin chain (what network/ subscribes to and publishes on). */
  results: (chainId: number | bigint | string) => string;
  /**
   * The plan's per-request result topic name. network/ does not use it (see docs/network.md:
   * gossipsub relays a topic only through its subscribers and cannot score topics created on the
   * fly); kept so the name is defined once if a later version does.
   */
  requestResults: (chainId: number | bigint | string, requestId: Hex) => string;
  backpressure: string;
  shares: string;
  bindings: string;
};

/** Network names are topic path segments: lower-case letters, digits and dashes. */
export const NETWORK_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;

export function gossipTopics(network: string): GossipTopics {
  if (!NETWORK_NAME.test(network)) {
    throw new InvalidInputError("network", "lower-case letters, digits and dashes, at most 32", {
      details: `got "${network}"`,
    });
  }
  const base = `/versatus/${network}`;
  return {
    requests: (chainId) => `${base}/requests/${BigInt(chainId)}`,
    results: (chainId) => `${base}/results/${BigInt(chainId)}`,
    requestResults: (chainId, requestId) => `${base}/results/${BigInt(chainId)}/${requestId.toLowerCase()}`,
    backpressure: `${base}/backpressure`,
    shares: `${base}/shares`,
    bindings: `${base}/bindings`,
  };
}

// ---------------------------------------------------------------------------------------------
// Field schemas
// ---------------------------------------------------------------------------------------------

const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, "a 20-byte 0x-hex address")
  .transform((value) => getAddress(value));
const bytes32 = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, "32 bytes of 0x-hex")
  .transform((value) => value.toLowerCase() as Hex);
const signature = z
  .string()
  .regex(/^0x[0-9a-fA-F]{130}$/, "a 65-byte 0x-hex signature")
  .transform((value) => value.toLowerCase() as Hex);
const hexBytes = (maxBytes: number) =>
  z
    .string()
    .max(2 + 2 * maxBytes, `at most ${maxBytes} bytes`)
    .regex(/^0x([0-9a-fA-F]{2})*$/, "0x-hex bytes")
    .transform((value) => value.toLowerCase() as Hex);
const uintString = z
  .string()
  .max(78)
  .regex(/^(0|[1-9][0-9]*)$/, "a decimal integer string");
const chainIdString = z
  .string()
  .max(20)
  .regex(/^[1-9][0-9]*$/, "a positive decimal chain id");
const unixMs = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const shortText = (max: number) => z.string().max(max);

// ---------------------------------------------------------------------------------------------
// Size bounds (bytes of the encoded message)
// ---------------------------------------------------------------------------------------------

/** Inputs and stdout may each be 1 MiB (runtime/limits.ts, protocol/programPackage.ts), 2 MiB as hex. */
export const MAX_RESULT_MESSAGE_BYTES = 5 * 1024 * 1024;
export const MAX_ANNOUNCEMENT_BYTES = 1024;
export const MAX_BACKPRESSURE_BYTES = 64 * 1024;
export const MAX_SHARE_BYTES = 80 * 1024;
export const MAX_BINDING_BYTES = 1024;
/** Largest gossip message of any type (network/ configures gossipsub with it). */
export const MAX_GOSSIP_MESSAGE_BYTES = MAX_RESULT_MESSAGE_BYTES;

// ---------------------------------------------------------------------------------------------
// Message schemas
// ---------------------------------------------------------------------------------------------

/** A request the relay role saw (after confirmations): a hint, every node checks its own chain view. */
export const requestAnnouncementSchema = z.object({
  chainId: chainIdString,
  requestId: bytes32,
  blockNumber: uintString,
  blockHash: bytes32,
  txHash: bytes32,
  logIndex: z.number().int().nonnegative().max(1_000_000),
});
export type RequestAnnouncement = z.infer<typeof requestAnnouncementSchema>;

const signedChainResultSchema = z.object({
  chainId: chainIdString,
  ingestor: address,
  result: z.object({
    requestId: bytes32,
    originChainId: chainIdString,
    programId: bytes32,
    inputHash: bytes32,
    status: z.union([z.literal(0), z.literal(1)]),
    instructionsHash: bytes32,
    bodyHash: bytes32,
  }),
  instructions: z
    .array(
      z.object({
        op: z.number().int().min(0).max(255),
        target: address,
        amount: uintString,
        data: hexBytes(64 * 1024),
      }),
    )
    .max(256),
  signature,
});

/** A worker's signed result (protocol/jobs.ts `ResultJob`). */
export const resultMessageSchema = z.object({
  operator: address,
  originChainId: chainIdString,
  oracle: address,
  requestId: bytes32,
  programId: bytes32,
  context: z.record(z.string().max(32), z.string().max(80)).refine((c) => Object.keys(c).length <= 16, {
    message: "at most 16 fields",
  }),
  input: hexBytes(1024 * 1024),
  outcome: z.object({
    kind: shortText(64),
    status: z.union([z.literal(0), z.literal(1)]),
    exitCode: z.number().int().nullable(),
    fuelUsed: uintString,
    stdout: hexBytes(1024 * 1024),
    stderr: hexBytes(16 * 1024),
    message: shortText(4096),
  }),
  chains: z.array(signedChainResultSchema).min(1).max(16),
});
export type ResultMessage = ResultJob;

/** An operator's signed load report (type and signature rule: protocol/scheduling.ts). */
export const backpressureReportSchema = z.object({
  operator: address,
  depth: z.number().int().nonnegative().max(1e9),
  capacity: z.number().int().nonnegative().max(1e9),
  kinds: z.array(shortText(64)).max(32),
  programs: z.array(bytes32).max(1024).nullable(),
  issuedAt: unixMs,
  signature,
});
export type BackpressureReportMessage = z.infer<typeof backpressureReportSchema>;

/** An over-capacity operator hands one task to another (type and signature rule: protocol/scheduling.ts). */
export const shareOfferSchema = z.object({
  chainId: chainIdString,
  requestId: bytes32,
  from: address,
  to: address,
  report: backpressureReportSchema,
  issuedAt: unixMs,
  signature,
});
export type ShareOfferMessage = z.infer<typeof shareOfferSchema>;

export const peerBindingSchema = z.object({
  peerId: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[1-9A-HJ-NP-Za-km-z]+$/, "a base58btc peer id"),
  operator: address,
  network: z.string().regex(NETWORK_NAME, "a network name"),
  issuedAt: unixMs,
  expiresAt: unixMs,
  signature,
});

// ---------------------------------------------------------------------------------------------
// Codecs
// ---------------------------------------------------------------------------------------------

/** A message that does not decode: `field` names what is wrong (`$` for the whole message). */
export class GossipDecodeError extends InvalidInputError {
  override name = "GossipDecodeError";
  readonly messageType: string;
  constructor(messageType: string, field: string, expected: string, details?: string) {
    super(`${messageType}.${field}`, expected, details === undefined ? {} : { details });
    this.messageType = messageType;
  }
}

export type GossipCodec<T> = {
  name: string;
  maxBytes: number;
  encode: (value: T) => Uint8Array;
  /** Throws GossipDecodeError. */
  decode: (bytes: Uint8Array) => T;
};

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder("utf-8", { fatal: true });

function codec<T>(name: string, schema: z.ZodType<unknown>, maxBytes: number): GossipCodec<T> {
  const check = (value: unknown): T => {
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.length > 0 ? issue.path.join(".") : "$";
      throw new GossipDecodeError(name, field, issue.message);
    }
    return parsed.data as T;
  };
  return {
    name,
    maxBytes,
    encode(value) {
      const bytes = textEncoder.encode(JSON.stringify(check(value)));
      if (bytes.length > maxBytes)
        throw new GossipDecodeError(name, "$", `at most ${maxBytes} bytes`, `${bytes.length}`);
      return bytes;
    },
    decode(bytes) {
      if (bytes.length > maxBytes) {
        throw new GossipDecodeError(name, "$", `at most ${maxBytes} bytes`, `got ${bytes.length}`);
      }
      let value: unknown;
      try {
        value = JSON.parse(textDecoder.decode(bytes));
      } catch (error) {
        throw new GossipDecodeError(name, "$", "UTF-8 JSON", error instanceof Error ? error.message : String(error));
      }
      return check(value);
    },
  };
}

/** Most bindings one binding exchange carries (the sender's own first, then those it knows). */
export const MAX_BINDINGS_PER_EXCHANGE = 256;
export const peerBindingListCodec = codec<PeerBinding[]>(
  "PeerBindingList",
  z.array(peerBindingSchema).min(1).max(MAX_BINDINGS_PER_EXCHANGE),
  MAX_BINDINGS_PER_EXCHANGE * MAX_BINDING_BYTES,
);

export const requestAnnouncementCodec = codec<RequestAnnouncement>(
  "RequestAnnouncement",
  requestAnnouncementSchema,
  MAX_ANNOUNCEMENT_BYTES,
);
export const resultMessageCodec = codec<ResultMessage>("ResultMessage", resultMessageSchema, MAX_RESULT_MESSAGE_BYTES);
export const backpressureReportCodec = codec<BackpressureReportMessage>(
  "BackpressureReport",
  backpressureReportSchema,
  MAX_BACKPRESSURE_BYTES,
);
export const shareOfferCodec = codec<ShareOfferMessage>("ShareOffer", shareOfferSchema, MAX_SHARE_BYTES);
export const peerBindingCodec = codec<PeerBinding>("PeerBinding", peerBindingSchema, MAX_BINDING_BYTES);

// ---------------------------------------------------------------------------------------------
// Checks a receiver makes without chain state
// ---------------------------------------------------------------------------------------------

export type ResultMessageVerdict =
  { ok: true } | { ok: false; reason: "fields_mismatch" | "bad_signature"; detail: string };

/**
 * What a receiver checks of a decoded ResultMessage before accepting or forwarding it: every
 * chain's Result names the message's request, origin chain and program, the ingestor is the one
 * configured for that chain (when `ingestors` knows the chain), and every chain's EIP-712 Result
 * signature (protocol/result.ts domain and types) recovers to `operator`. The collector's full
 * check (body hash, instructions, context, active set per chain: ingestor/verify.ts) still runs
 * on what it collects.
 */
export async function verifyResultMessage(
  message: ResultMessage,
  options: { ingestors?: ReadonlyMap<string, Address> } = {},
): Promise<ResultMessageVerdict> {
  const operator = getAddress(message.operator);
  const seen = new Set<string>();
  for (const [index, entry] of message.chains.entries()) {
    const where = `chains.${index}`;
    if (seen.has(entry.chainId)) return { ok: false, reason: "fields_mismatch", detail: `${where}: chain twice` };
    seen.add(entry.chainId);
    const r = entry.result;
    if (r.requestId.toLowerCase() !== message.requestId.toLowerCase()) {
      return { ok: false, reason: "fields_mismatch", detail: `${where}.result.requestId` };
    }
    if (r.originChainId !== message.originChainId) {
      return { ok: false, reason: "fields_mismatch", detail: `${where}.result.originChainId` };
    }
    if (r.programId.toLowerCase() !== message.programId.toLowerCase()) {
      return { ok: false, reason: "fields_mismatch", detail: `${where}.result.programId` };
    }
    const pinned = options.ingestors?.get(entry.chainId);
    if (pinned !== undefined && getAddress(pinned) !== getAddress(entry.ingestor)) {
      return { ok: false, reason: "fields_mismatch", detail: `${where}.ingestor: not chain ${entry.chainId}'s` };
    }
    let signer: Address;
    try {
      signer = await recoverResultSigner(
        BigInt(entry.chainId),
        entry.ingestor,
        {
          requestId: r.requestId,
          originChainId: BigInt(r.originChainId),
          programId: r.programId,
          inputHash: r.inputHash,
          status: r.status as Result["status"],
          instructionsHash: r.instructionsHash,
          bodyHash: r.bodyHash,
        },
        entry.signature,
      );
    } catch {
      return { ok: false, reason: "bad_signature", detail: `${where}.signature: does not recover` };
    }
    if (signer !== operator) {
      return { ok: false, reason: "bad_signature", detail: `${where}.signature: signed by ${signer}, not ${operator}` };
    }
  }
  return { ok: true };
}
