import { createHash } from "node:crypto";
import { z } from "zod";
import type { Hex } from "viem";
import { InvalidInputError } from "./errors.ts";

/**
 * Program packages (SPEC 4): a WASI command module plus its manifest, `versatus.json`. The
 * package's canonical bytes are what every node fetches and verifies, and `programId` is their
 * sha256, so they are defined exactly here:
 *
 *   "VPKG" | u8 format version (1) | u32be length | canonical manifest | u32be length | module
 *
 * The canonical manifest is JSON without whitespace, keys sorted, holding only what changes how
 * the program runs: name, version and every limit (defaults filled in). Source paths, build
 * settings and descriptions stay out, so rebuilding from another checkout gives the same id.
 */

/** Limits of one run; see runtime/limits.ts for what each one does at run time. */
export type ProgramLimits = {
  fuel: number;
  memoryPages: number;
  outputBytes: number;
  wallTimeMs: number;
};

export const DEFAULT_LIMITS: Readonly<ProgramLimits> = {
  fuel: 100_000_000,
  memoryPages: 256,
  outputBytes: 64 * 1024,
  wallTimeMs: 2_000,
};

/** Highest value a manifest may ask for, so one request cannot monopolise a node. */
export const LIMIT_CAPS: Readonly<ProgramLimits> = {
  fuel: 10_000_000_000,
  memoryPages: 2_048,
  outputBytes: 1024 * 1024,
  wallTimeMs: 10_000,
};

export const PROGRAM_LANGUAGES = ["c", "rust", "assemblyscript", "javascript", "typescript", "wat"] as const;

/**
 * How a JavaScript/TypeScript program names the engine its script runs on:
 * `quickjs-<version>@sha256:<engine module sha256>` (runtime/js/engine.ts). It is part of the
 * canonical manifest, so of the programId: another engine is another program.
 */
export const ENGINE_ID_PATTERN = /^quickjs-\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$/;

const limit = (name: keyof ProgramLimits) => z.number().int().positive().max(LIMIT_CAPS[name]).optional();

export const manifestSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, "lower-case letters, digits and dashes, at most 64"),
  version: z.string().regex(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/, "a semantic version like 1.0.0"),
  description: z.string().max(280).optional(),
  /** Path of the compiled module (or, with `engine`, the bundled script), relative to the manifest. */
  module: z
    .string()
    .min(1)
    .regex(/\.(wasm|js)$/, "a path ending in .wasm (or .js for a JavaScript program)"),
  /** JavaScript/TypeScript programs: the engine the script runs on; absent for WebAssembly programs. */
  engine: z.string().regex(ENGINE_ID_PATTERN, "quickjs-<version>@sha256:<64 hex digits>").optional(),
  limits: z
    .strictObject({
      fuel: limit("fuel"),
      memoryPages: limit("memoryPages"),
      outputBytes: limit("outputBytes"),
      wallTimeMs: limit("wallTimeMs"),
    })
    .optional(),
  /** How `versatus program build` compiles the module from source; absent: the module is prebuilt. */
  build: z
    .strictObject({
      language: z.enum(PROGRAM_LANGUAGES),
      sources: z.array(z.string().min(1)).min(1),
      /** Extra compiler flags appended to the language's defaults. */
      flags: z.array(z.string()).optional(),
    })
    .optional(),
});

export type Manifest = z.infer<typeof manifestSchema>;

/** The part of a manifest that goes into the package and so into the programId. */
export type CanonicalManifest = { name: string; version: string; limits: ProgramLimits; engine?: string };

export type ProgramPackage = {
  manifest: CanonicalManifest;
  module: Uint8Array;
  /** The canonical package bytes. */
  bytes: Uint8Array;
  programId: Hex;
};

const MAGIC = new TextEncoder().encode("VPKG");
const FORMAT_VERSION = 1;

/** Validates a parsed versatus.json, naming the first bad field, e.g. `versatus.json: limits.fuel`. */
export function parseManifest(json: unknown, source = "versatus.json"): Manifest {
  const parsed = manifestSchema.safeParse(json);
  if (parsed.success) {
    if (parsed.data.module.endsWith(".js") && !parsed.data.engine) {
      throw new InvalidInputError(`${source}: engine`, "the engine a .js module runs on (see docs/runtime.md)");
    }
    return parsed.data;
  }
  const issue = parsed.error.issues[0]!;
  const path = issue.path.join(".");
  if (issue.code === "unrecognized_keys") {
    const field = [path, issue.keys[0]].filter(Boolean).join(".");
    throw new InvalidInputError(`${source}: ${field}`, "no such field; see docs/runtime.md for the manifest fields");
  }
  throw new InvalidInputError(`${source}: ${path || "(root)"}`, issue.message.replace(/^Invalid input: expected /, ""));
}

export function canonicalManifest(manifest: Manifest): CanonicalManifest {
  return {
    name: manifest.name,
    version: manifest.version,
    limits: { ...DEFAULT_LIMITS, ...definedOnly(manifest.limits ?? {}) },
    ...(manifest.engine ? { engine: manifest.engine } : {}),
  };
}

export function encodePackage(manifest: CanonicalManifest, module: Uint8Array): ProgramPackage {
  const manifestBytes = new TextEncoder().encode(canonicalJson(manifest));
  const bytes = new Uint8Array(4 + 1 + 4 + manifestBytes.length + 4 + module.length);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  bytes[4] = FORMAT_VERSION;
  view.setUint32(5, manifestBytes.length);
  bytes.set(manifestBytes, 9);
  view.setUint32(9 + manifestBytes.length, module.length);
  bytes.set(module, 13 + manifestBytes.length);
  return { manifest, module, bytes, programId: programIdOf(bytes) };
}

/**
 * Decodes and verifies package bytes: the format, the manifest (valid and canonical, so one
 * program has exactly one id) and, when given, the expected programId.
 */
export function decodePackage(bytes: Uint8Array, expectedProgramId?: Hex): ProgramPackage {
  const fail = (expected: string): never => {
    throw new InvalidInputError("program package", expected);
  };
  if (bytes.length < 13 || MAGIC.some((byte, i) => bytes[i] !== byte)) fail('bytes starting with "VPKG"');
  if (bytes[4] !== FORMAT_VERSION) fail(`format version ${FORMAT_VERSION}, got ${bytes[4]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const manifestLength = view.getUint32(5);
  if (13 + manifestLength > bytes.length) fail("a manifest length within the package");
  const moduleLength = view.getUint32(9 + manifestLength);
  if (13 + manifestLength + moduleLength !== bytes.length)
    fail("a module length that ends exactly at the end of the package");
  const manifestText = new TextDecoder().decode(bytes.subarray(9, 9 + manifestLength));
  let manifestJson: unknown;
  try {
    manifestJson = JSON.parse(manifestText);
  } catch {
    fail("a JSON manifest");
  }
  const manifest = canonicalManifest(
    parseManifest({ ...(manifestJson as object), module: "package.wasm" }, "package manifest"),
  );
  if (canonicalJson(manifest) !== manifestText)
    fail("a canonical manifest (sorted keys, no spaces, every limit present)");
  const programId = programIdOf(bytes);
  if (expectedProgramId && programId.toLowerCase() !== expectedProgramId.toLowerCase()) {
    fail(`content hashing to programId ${expectedProgramId}, got ${programId}`);
  }
  return { manifest, module: bytes.slice(13 + manifestLength), bytes, programId };
}

/** `programId = sha256(canonical package bytes)`. */
export function programIdOf(packageBytes: Uint8Array): Hex {
  return `0x${createHash("sha256").update(packageBytes).digest("hex")}`;
}

/** JSON with object keys sorted at every level and no whitespace. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function definedOnly<T extends object>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as Partial<T>;
}
