import {
  encodeAbiParameters,
  getAddress,
  isAddress,
  isHex,
  keccak256,
  stringToHex,
  zeroAddress,
  type Address,
  type Hex,
} from "viem";
import { InvalidInputError } from "./errors.ts";
import { Op, type Instruction } from "./instructions.ts";

/**
 * A program's output JSON (SPEC 4) turned into the per-chain Instruction[] of SPEC 3.3. The worker
 * signs what this returns, and the collector and watchers recompute it, so it is strict: any
 * unknown op or field, missing field, bad address or amount is an error naming its path, e.g.
 * `actions[2].to`, and the result is PROGRAM_ERROR (`invalid_output`).
 *
 * Actions:
 * - `{"op":"transfer","to","amount","chainId"?}`          → TRANSFER(to, amount, 0x)
 * - `{"op":"call","target","amount"?,"data"}`              → CALL(target, amount or 0, data)
 * - `{"op":"mint","token","to","amount","chainId"?}`      → MINT(to, amount, abi.encode(address token))
 * - `{"op":"burn","amount","token"?,"chainId"?}`           → BURN(token or 0x0, amount, 0x)
 * - `{"op":"create","kind","salt","init","chainId"?}`     → CREATE(0x0, 0, abi.encode(bytes32 kind, bytes32 salt, bytes init))
 * `chainId` (a positive integer, as a JSON number or decimal string) defaults to the request's
 * origin chain; amounts are decimal strings up to 2^256-1 (JSON numbers lose precision and are
 * refused). `kind` is a bytes32 hex string or one of the names in FACTORY_KINDS.
 *
 * A BURN's target is the token it burns, which must be the request's escrowed omni token. A burn
 * without `token` is parsed with target 0x0 and bound to the escrowed token by
 * `bindBurnTargets` (protocol/conservation.ts) before the output rule checks the whole result;
 * the parser alone cannot know the escrow.
 */
export type InstructionsByChain = Map<bigint, Instruction[]>;

/** Output that is not what SPEC 4 allows; `field` is the JSON path of the first problem. */
export class InvalidOutputError extends InvalidInputError {
  override name = "InvalidOutputError";
}

/** Factory kinds a program may name instead of a bytes32: keccak256 of the upper-case name. */
export const FACTORY_KINDS: Readonly<Record<string, Hex>> = {
  erc20: keccak256(stringToHex("ERC20")),
  erc721: keccak256(stringToHex("ERC721")),
  omnitoken: keccak256(stringToHex("OMNITOKEN")),
};

const MAX_UINT256 = 2n ** 256n - 1n;

type Fields = Record<string, unknown>;
type ActionSpec = { required: string[]; optional: string[]; build: (a: ActionReader) => Instruction };

const ACTIONS: Record<string, ActionSpec> = {
  transfer: {
    required: ["to", "amount"],
    optional: ["chainId"],
    build: (a) => ({ op: Op.TRANSFER, target: a.address("to"), amount: a.amount("amount"), data: "0x" }),
  },
  call: {
    required: ["target", "data"],
    optional: ["amount"],
    build: (a) => ({
      op: Op.CALL,
      target: a.address("target"),
      amount: a.has("amount") ? a.amount("amount") : 0n,
      data: a.bytes("data"),
    }),
  },
  mint: {
    required: ["token", "to", "amount"],
    optional: ["chainId"],
    build: (a) => ({
      op: Op.MINT,
      target: a.address("to"),
      amount: a.amount("amount"),
      data: encodeAbiParameters([{ type: "address" }], [a.address("token")]),
    }),
  },
  burn: {
    required: ["amount"],
    optional: ["token", "chainId"],
    build: (a) => ({
      op: Op.BURN,
      target: a.has("token") ? a.address("token") : zeroAddress,
      amount: a.amount("amount"),
      data: "0x",
    }),
  },
  create: {
    required: ["kind", "salt", "init"],
    optional: ["chainId"],
    build: (a) => ({
      op: Op.CREATE,
      target: zeroAddress,
      amount: 0n,
      data: encodeAbiParameters(
        [{ type: "bytes32" }, { type: "bytes32" }, { type: "bytes" }],
        [a.kind("kind"), a.bytes32("salt"), a.bytes("init")],
      ),
    }),
  },
};

/**
 * Parses a program's stdout into instructions grouped by chain id, each chain's list in output
 * order. Throws InvalidOutputError naming the offending field.
 */
export function parseProgramOutput(stdout: Uint8Array, originChainId: bigint): InstructionsByChain {
  // TextDecoder would silently drop a byte-order mark; JSON has none, so it is refused.
  if (stdout[0] === 0xef && stdout[1] === 0xbb && stdout[2] === 0xbf) {
    throw new InvalidOutputError("stdout", "JSON without a UTF-8 byte-order mark (EF BB BF) before it");
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(stdout);
  } catch {
    throw new InvalidOutputError("stdout", "UTF-8 text");
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    const preview = text.length > 60 ? `${text.slice(0, 60)}…` : text;
    throw new InvalidOutputError("stdout", `one JSON document like {"actions":[...]}`, {
      details: `${(error as Error).message}; stdout was ${JSON.stringify(preview)}`,
    });
  }
  if (!isObject(document)) throw new InvalidOutputError("stdout", `a JSON object like {"actions":[...]}`);
  assertOnlyFields(document, ["actions"], "");
  const actions = document.actions;
  if (!Array.isArray(actions)) throw new InvalidOutputError("actions", "an array of actions");

  const byChain: InstructionsByChain = new Map();
  actions.forEach((action: unknown, index) => {
    const path = `actions[${index}]`;
    if (!isObject(action)) throw new InvalidOutputError(path, "an object with an op");
    const op = action.op;
    const spec = typeof op === "string" ? ACTIONS[op] : undefined;
    if (!spec)
      throw new InvalidOutputError(
        `${path}.op`,
        `one of ${Object.keys(ACTIONS).join(", ")} (got ${JSON.stringify(op)})`,
      );
    assertOnlyFields(action, ["op", ...spec.required, ...spec.optional], path);
    for (const field of spec.required) {
      if (action[field] === undefined)
        throw new InvalidOutputError(`${path}.${field}`, `a value (${op} requires ${spec.required.join(", ")})`);
    }
    const reader = new ActionReader(action, path);
    const chainId = reader.has("chainId") ? reader.chainId("chainId") : originChainId;
    const list = byChain.get(chainId) ?? [];
    list.push(spec.build(reader));
    byChain.set(chainId, list);
  });
  return byChain;
}

/** The instructions for one chain, empty when the output has none for it. */
export function instructionsForChain(byChain: InstructionsByChain, chainId: bigint): Instruction[] {
  return byChain.get(chainId) ?? [];
}

class ActionReader {
  private readonly fields: Fields;
  private readonly path: string;
  constructor(fields: Fields, path: string) {
    this.fields = fields;
    this.path = path;
  }
  has(field: string): boolean {
    return this.fields[field] !== undefined;
  }
  private fail(field: string, expected: string): never {
    const value = this.fields[field];
    throw new InvalidOutputError(`${this.path}.${field}`, `${expected} (got ${JSON.stringify(value)})`);
  }
  address(field: string): Address {
    const value = this.fields[field];
    if (typeof value !== "string" || !isAddress(value, { strict: false }))
      this.fail(field, "a 0x-prefixed 20-byte hex address");
    if (
      value !== value.toLowerCase() &&
      value.slice(2) !== value.slice(2).toUpperCase() &&
      !isAddress(value, { strict: true })
    ) {
      this.fail(field, "an address with a valid EIP-55 checksum (or all lower case)");
    }
    return getAddress(value);
  }
  amount(field: string): bigint {
    const value = this.fields[field];
    if (typeof value === "number") this.fail(field, "a decimal string (JSON numbers lose precision)");
    if (typeof value !== "string" || !/^(0|[1-9][0-9]*)$/.test(value))
      this.fail(field, "a non-negative decimal integer string");
    const amount = BigInt(value);
    if (amount > MAX_UINT256) this.fail(field, "an amount at most 2^256-1");
    return amount;
  }
  chainId(field: string): bigint {
    const value = this.fields[field];
    const valid =
      (typeof value === "number" && Number.isSafeInteger(value) && value > 0) ||
      (typeof value === "string" && /^[1-9][0-9]{0,19}$/.test(value));
    if (!valid) this.fail(field, "a positive integer chain id");
    const chainId = BigInt(value as number | string);
    if (chainId >= 2n ** 64n) this.fail(field, "a chain id below 2^64");
    return chainId;
  }
  bytes(field: string): Hex {
    const value = this.fields[field];
    if (typeof value !== "string" || !isHex(value, { strict: true }) || value.length % 2 !== 0) {
      this.fail(field, "0x-prefixed hex bytes of even length");
    }
    return value.toLowerCase() as Hex;
  }
  bytes32(field: string): Hex {
    const value = this.bytes(field);
    if (value.length !== 66) this.fail(field, "32 bytes of 0x-prefixed hex");
    return value;
  }
  kind(field: string): Hex {
    const value = this.fields[field];
    if (typeof value === "string" && !value.startsWith("0x")) {
      const named = FACTORY_KINDS[value.toLowerCase()];
      if (!named) this.fail(field, `a bytes32 hex kind or one of ${Object.keys(FACTORY_KINDS).join(", ")}`);
      return named;
    }
    return this.bytes32(field);
  }
}

function isObject(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function assertOnlyFields(object: Fields, allowed: string[], path: string): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) {
      throw new InvalidOutputError(path ? `${path}.${key}` : key, `no such field (allowed: ${allowed.join(", ")})`);
    }
  }
}
