import { getAddress, recoverTypedDataAddress, type Address, type Hex, type LocalAccount } from "viem";

/**
 * The peer binding (SPEC 6): an operator's (or watcher's) Ethereum key states "this libp2p peer id
 * speaks for me on this network until then". Other nodes accept gossip from a peer only while it
 * holds a valid binding to an address of the active set. This file is the one place that decides
 * whether a binding is valid.
 *
 * Signed as EIP-712 typed data (domain `Versatus` / `1`, no chainId and no verifying contract: a
 * binding is about a network name, not a chain) rather than EIP-191 `personal_sign`, because
 * - the struct type separates it from every other thing the same key signs: a binding signature
 *   can never be mistaken for a `Result` (another primaryType, other fields) nor for an arbitrary
 *   personal message a wallet was talked into signing;
 * - hardware wallets and viem show the fields (peer id, network, expiry) instead of an opaque string.
 */

export type PeerBinding = {
  /** The libp2p peer id (base58btc / CIDv1 string form) this binding speaks for. */
  peerId: string;
  /** The staking address that signs. */
  operator: Address;
  /** Network name (the topic namespace, e.g. "devnet"). */
  network: string;
  /** Unix ms when signed. */
  issuedAt: number;
  /** Unix ms after which it is no longer valid. */
  expiresAt: number;
  /** EIP-712 signature of the fields above by `operator`. */
  signature: Hex;
};

export const peerBindingDomain = { name: "Versatus", version: "1" } as const;

export const peerBindingTypes = {
  PeerBinding: [
    { name: "peerId", type: "string" },
    { name: "operator", type: "address" },
    { name: "network", type: "string" },
    { name: "issuedAt", type: "uint64" },
    { name: "expiresAt", type: "uint64" },
  ],
} as const;

/** Longest lifetime a binding may declare (a stolen peer key is useful for at most this long). */
export const MAX_BINDING_LIFETIME_MS = 7 * 24 * 3600 * 1000;
/** Default lifetime of a binding a node signs for itself; nodes re-sign well before expiry. */
export const DEFAULT_BINDING_LIFETIME_MS = 24 * 3600 * 1000;
/** Clock skew tolerated on `issuedAt`. */
export const BINDING_CLOCK_SKEW_MS = 60_000;

/** Signs a binding of `peerId` to the account's address for `network`. */
export async function signPeerBinding(
  account: LocalAccount,
  args: { peerId: string; network: string; now?: number; lifetimeMs?: number },
): Promise<PeerBinding> {
  const issuedAt = Math.floor(args.now ?? Date.now());
  const lifetime = args.lifetimeMs ?? DEFAULT_BINDING_LIFETIME_MS;
  if (!Number.isSafeInteger(lifetime) || lifetime <= 0 || lifetime > MAX_BINDING_LIFETIME_MS) {
    throw new RangeError(`lifetimeMs: expected 1..${MAX_BINDING_LIFETIME_MS}, got ${lifetime}`);
  }
  const fields = {
    peerId: args.peerId,
    operator: getAddress(account.address),
    network: args.network,
    issuedAt,
    expiresAt: issuedAt + lifetime,
  };
  const signature = await account.signTypedData({
    domain: peerBindingDomain,
    types: peerBindingTypes,
    primaryType: "PeerBinding",
    message: { ...fields, issuedAt: BigInt(fields.issuedAt), expiresAt: BigInt(fields.expiresAt) },
  });
  return { ...fields, signature };
}

export type PeerBindingRejection =
  "malformed" | "wrong_network" | "wrong_peer" | "expired" | "not_yet_valid" | "too_long" | "bad_signature";

export type PeerBindingVerdict =
  { ok: true; operator: Address } | { ok: false; reason: PeerBindingRejection; detail: string };

/**
 * Whether `binding` is valid now for `network` (and, when given, for the peer id it arrived from):
 * the fields are well formed, `issuedAt` is not in the future (beyond BINDING_CLOCK_SKEW_MS), it
 * has not expired, it declares at most MAX_BINDING_LIFETIME_MS, and the EIP-712 signature recovers
 * to `operator`. Whether `operator` is in the active set is the caller's check (it changes over
 * time; the binding does not).
 */
export async function verifyPeerBinding(
  binding: PeerBinding,
  expected: { network: string; now: number; peerId?: string },
): Promise<PeerBindingVerdict> {
  const fail = (reason: PeerBindingRejection, detail: string): PeerBindingVerdict => ({ ok: false, reason, detail });
  if (typeof binding.peerId !== "string" || binding.peerId.length === 0 || binding.peerId.length > 128) {
    return fail("malformed", "peerId: expected a peer id string of at most 128 characters");
  }
  if (!/^0x[0-9a-fA-F]{40}$/.test(binding.operator ?? "")) return fail("malformed", "operator: expected an address");
  if (!/^0x[0-9a-fA-F]{130}$/.test(binding.signature ?? "")) {
    return fail("malformed", "signature: expected 65 bytes of 0x-hex");
  }
  for (const key of ["issuedAt", "expiresAt"] as const) {
    if (!Number.isSafeInteger(binding[key]) || binding[key] < 0) {
      return fail("malformed", `${key}: expected unix milliseconds`);
    }
  }
  if (binding.network !== expected.network) {
    return fail("wrong_network", `bound for network "${binding.network}", this is "${expected.network}"`);
  }
  if (expected.peerId !== undefined && binding.peerId !== expected.peerId) {
    return fail("wrong_peer", `binds ${binding.peerId}, the message came from ${expected.peerId}`);
  }
  if (binding.expiresAt <= expected.now) {
    return fail("expired", `expired at ${new Date(binding.expiresAt).toISOString()}`);
  }
  if (binding.issuedAt > expected.now + BINDING_CLOCK_SKEW_MS) {
    return fail("not_yet_valid", `issued at ${new Date(binding.issuedAt).toISOString()}, in the future`);
  }
  if (binding.expiresAt - binding.issuedAt > MAX_BINDING_LIFETIME_MS || binding.expiresAt < binding.issuedAt) {
    return fail("too_long", `lifetime ${binding.expiresAt - binding.issuedAt} ms, at most ${MAX_BINDING_LIFETIME_MS}`);
  }
  let signer: Address;
  try {
    signer = await recoverTypedDataAddress({
      domain: peerBindingDomain,
      types: peerBindingTypes,
      primaryType: "PeerBinding",
      message: {
        peerId: binding.peerId,
        operator: binding.operator,
        network: binding.network,
        issuedAt: BigInt(binding.issuedAt),
        expiresAt: BigInt(binding.expiresAt),
      },
      signature: binding.signature,
    });
  } catch (error) {
    return fail("bad_signature", `does not recover: ${error instanceof Error ? error.message.split("\n")[0] : error}`);
  }
  const operator = getAddress(binding.operator);
  if (signer !== operator) return fail("bad_signature", `signed by ${signer}, not ${operator}`);
  return { ok: true, operator };
}
