import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import binaryen from "binaryen";
import type { Hex } from "viem";
import { BaseError, InvalidInputError } from "../protocol/errors.ts";
import {
  canonicalManifest,
  decodePackage,
  encodePackage,
  parseManifest,
  type CanonicalManifest,
  type Manifest,
  type ProgramPackage,
} from "../protocol/programPackage.ts";
import { ALLOWED_FEATURES } from "../runtime/features.ts";
import { prepareProgram } from "../runtime/prepare.ts";
import { buildJsPackage } from "../sdk/ts/build.ts";

/**
 * Builds a program directory (a `versatus.json` next to its sources) into its module and its
 * canonical package `build/<name>.vpkg`. Compilation is skipped when the sources, manifest and
 * compiler flags hash to the same value as the last build. The package is checked and
 * instrumented before it is written, so a module the runtime would refuse never gets a programId.
 *
 * Toolchains (Debian packages, installed by .ci/run): clang + lld + wasi-libc for C, rustc with
 * the wasm32-wasi standard library for Rust (the Debian /usr/bin/rustc, no cargo, no crates), and
 * the `assemblyscript` npm package for AssemblyScript.
 */
export type BuiltProgram = {
  name: string;
  dir: string;
  manifest: Manifest;
  modulePath: string;
  packagePath: string;
  package: ProgramPackage;
  /** False when the module was up to date and not recompiled. */
  compiled: boolean;
  origin: BuildOrigin;
};

export type BuildOptions = {
  /** Recompile even when the sources did not change. */
  force?: boolean;
  /** C and Rust: recompile and make the result the committed package (needs the toolchain). */
  commit?: boolean;
  /** C and Rust: recompile and fail unless the bytes equal the committed package's (CI). */
  check?: boolean;
  log?: (line: string) => void;
};

export function readManifestFile(dir: string): Manifest {
  const path = join(dir, "versatus.json");
  if (!existsSync(path)) throw new InvalidInputError("program directory", `a versatus.json in ${dir}`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new InvalidInputError(path, "valid JSON", { details: (error as Error).message });
  }
  return parseManifest(json, path);
}

/** The program directories `npm run programs:build` builds: the examples and the C test fixtures. */
export function programDirectories(root: string): string[] {
  return ["programs", join("test", "fixtures", "programs")].flatMap((parent) => {
    const base = join(root, parent);
    if (!existsSync(base)) return [];
    return readdirSync(base, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && existsSync(join(base, entry.name, "versatus.json")))
      .map((entry) => join(base, entry.name))
      .sort();
  });
}

export function buildProgram(dirPath: string, options: BuildOptions = {}): BuiltProgram {
  const dir = resolve(dirPath);
  const manifest = readManifestFile(dir);
  const modulePath = join(dir, manifest.module);
  const packagePath = join(dir, "build", `${manifest.name}.vpkg`);
  const language = manifest.build?.language;
  const result = (pkg: ProgramPackage, compiled: boolean, origin: BuildOrigin): BuiltProgram => {
    mkdirSync(dirname(packagePath), { recursive: true });
    writeFileSync(packagePath, pkg.bytes);
    return { name: manifest.name, dir, manifest, modulePath, packagePath, package: pkg, compiled, origin };
  };

  if (language === "typescript" || language === "javascript") {
    // Bundled in-process by esbuild (an npm dependency): no toolchain, nothing committed.
    return result(buildJsPackage(dir, manifest).package, true, "assembled");
  }

  if (language === "wat") {
    // Assembled in-process by binaryen (an npm dependency): no toolchain, nothing committed.
    const module = assembleWat(dir, manifest);
    mkdirSync(dirname(modulePath), { recursive: true });
    writeFileSync(modulePath, module);
    return result(packageOf(manifest, module), true, "assembled");
  }

  const committedKind = language !== undefined && COMMITTED_LANGUAGES.has(language);
  const committed = committedKind ? readCommitted(dir, manifest) : undefined;
  const force = options.force || (committedKind && (options.commit || options.check));

  let compiled = false;
  if (manifest.build) {
    const command = compileCommand(manifest, dir, modulePath);
    const stampPath = join(dirname(modulePath), `.${basename(modulePath)}.source-hash`);
    const stamp = sourceHash(dir, manifest, command);
    const upToDate = existsSync(modulePath) && existsSync(stampPath) && readFileSync(stampPath, "utf8") === stamp;
    if (force || !upToDate) {
      if (committedKind) {
        const missing = missingToolchain(manifest.build.language);
        if (missing) {
          if (options.commit || options.check)
            throw new BaseError(`${manifest.name}: cannot rebuild from source`, {
              details: missing,
              hints: [TOOLCHAIN_HINT],
              permanent: true,
            });
          const pkg = useCommitted(dir, manifest, committed, missing);
          options.log?.(`${manifest.name}: ${missing}; using the committed package ${relative(dir, committed!.path)}`);
          mkdirSync(dirname(modulePath), { recursive: true });
          writeFileSync(modulePath, pkg.module);
          return result(pkg, false, "committed");
        }
      }
      mkdirSync(dirname(modulePath), { recursive: true });
      options.log?.(`compiling ${manifest.name} (${manifest.build.language})`);
      runCompiler(manifest, dir, command);
      writeFileSync(stampPath, stamp);
      compiled = true;
    }
  } else if (!existsSync(modulePath)) {
    throw new InvalidInputError(
      `${manifest.name}: module`,
      `an existing file at ${modulePath} (the manifest has no "build" section to make it)`,
    );
  }
  const pkg = packageOf(manifest, new Uint8Array(readFileSync(modulePath)));
  if (!committedKind) return result(pkg, compiled, "compiled");

  // C and Rust: compare with the committed package.
  const sources = buildInputsHash(dir, manifest);
  if (committed && committed.programId === pkg.programId) {
    if (committed.sources !== sources) {
      // Same bytes from edited sources (a comment, say): only the record is stale.
      if (options.check)
        throw new BaseError(`${manifest.name}: build/committed.json does not describe the current sources`, {
          details: `the package ${pkg.programId} is unchanged, but a machine without the toolchain would refuse it`,
          hints: ["Refresh the record: npm run programs:build -- --commit, then commit it"],
          permanent: true,
        });
      writeCommitted(dir, manifest, pkg, sources);
    }
    return result(pkg, compiled, "compiled");
  }
  if (options.check) {
    throw new BaseError(`${manifest.name}: the build from source differs from the committed package`, {
      details: committed
        ? `committed ${committed.programId}, built ${pkg.programId}` +
          (committed.sources === sources
            ? " from the same sources (the build is not reproducible)"
            : " (sources changed)")
        : `no committed package; built ${pkg.programId}`,
      hints: ["Rebuild and refresh the committed packages: npm run programs:build -- --commit, then commit them"],
      permanent: true,
    });
  }
  if (!committed || committed.sources !== sources || options.commit) {
    writeCommitted(dir, manifest, pkg, sources, committed);
    return result(pkg, compiled, "refreshed");
  }
  // Same sources, other bytes: this machine's compiler is not the one the committed package was
  // built with. The committed package stays the program (its programId is the one networks know).
  options.log?.(
    `${manifest.name}: this toolchain builds ${pkg.programId} from the committed sources, the committed package is ` +
      `${committed.programId} (${committed.toolchain}); using the committed package (--commit replaces it)`,
  );
  return result(useCommitted(dir, manifest, committed, undefined), compiled, "committed");
}

/** How `buildProgram` got the package it returns. */
export type BuildOrigin =
  /** Compiled here (or up to date); for C and Rust, identical to the committed package. */
  | "compiled"
  /** Assembled from WebAssembly text. */
  | "assembled"
  /** The committed package (no toolchain here, or this toolchain builds other bytes). */
  | "committed"
  /** Compiled here from changed sources (or with --commit): the committed package was replaced. */
  | "refreshed";

/**
 * Languages whose packages are committed beside their sources (`build/<programId>.vpkg` and
 * `build/committed.json`), because their compilers do not come with `npm ci`: a machine without
 * them uses the committed package, and CI rebuilds it and checks the bytes.
 */
export const COMMITTED_LANGUAGES: ReadonlySet<string> = new Set(["c", "rust"]);

export const TOOLCHAIN_HINT =
  "Install the WASM toolchains (Debian/Ubuntu): apt-get install clang lld wasi-libc libclang-rt-dev-wasm32 rustc libstd-rust-dev-wasm32";

/** `build/committed.json`: which committed package belongs to which sources. */
export type CommittedRecord = {
  /** sha256 of the package, also its file name: `build/<programId>.vpkg`. */
  programId: Hex;
  /** Hash of what the build reads: the manifest fields that matter, the sources and the flags. */
  sources: string;
  /** The compiler that built it (`clang --version`, `rustc --version`). */
  toolchain: string;
};

type Committed = CommittedRecord & { path: string };

export function committedRecordPath(dir: string): string {
  return join(dir, "build", "committed.json");
}

function readCommitted(dir: string, manifest: Manifest): Committed | undefined {
  const recordPath = committedRecordPath(dir);
  if (!existsSync(recordPath)) return undefined;
  let record: CommittedRecord;
  try {
    record = JSON.parse(readFileSync(recordPath, "utf8")) as CommittedRecord;
  } catch (error) {
    throw new InvalidInputError(recordPath, "valid JSON", { details: (error as Error).message });
  }
  if (!/^0x[0-9a-f]{64}$/.test(record.programId ?? "") || typeof record.sources !== "string")
    throw new InvalidInputError(
      `${manifest.name}: ${recordPath}`,
      "a programId (0x + 64 hex digits) and a sources hash",
    );
  return { ...record, path: join(dir, "build", `${record.programId}.vpkg`) };
}

/** The committed package, checked: its bytes hash to the recorded programId and it is this manifest's. */
function useCommitted(
  dir: string,
  manifest: Manifest,
  committed: Committed | undefined,
  missing: string | undefined,
): ProgramPackage {
  const why = missing ? `${missing}, and ` : "";
  if (!committed || !existsSync(committed.path))
    throw new BaseError(`${manifest.name}: cannot build the program`, {
      details: `${why}there is no committed package (${relative(dir, committedRecordPath(dir))})`,
      hints: [TOOLCHAIN_HINT],
      permanent: true,
    });
  if (missing && committed.sources !== buildInputsHash(dir, manifest))
    throw new BaseError(`${manifest.name}: the sources changed since the committed package was built`, {
      details: `${missing}, and the committed package ${committed.programId} was built from other sources`,
      hints: [
        TOOLCHAIN_HINT,
        "or restore the sources (git checkout) to use the committed package",
        "then refresh it: npm run programs:build -- --commit",
      ],
      permanent: true,
    });
  const pkg = decodePackage(new Uint8Array(readFileSync(committed.path)), committed.programId);
  const expected = canonicalJson(canonicalManifest(manifest));
  if (canonicalJson(pkg.manifest) !== expected)
    throw new InvalidInputError(
      `${manifest.name}: committed package ${relative(dir, committed.path)}`,
      `the manifest ${expected}, got ${canonicalJson(pkg.manifest)}`,
    );
  prepareProgram(pkg.module, { name: pkg.manifest.name, limits: pkg.manifest.limits });
  return pkg;
}

function writeCommitted(
  dir: string,
  manifest: Manifest,
  pkg: ProgramPackage,
  sources: string,
  previous?: Committed,
): void {
  const build = join(dir, "build");
  mkdirSync(build, { recursive: true });
  if (previous && previous.programId !== pkg.programId && existsSync(previous.path)) rmSync(previous.path);
  writeFileSync(join(build, `${pkg.programId}.vpkg`), pkg.bytes);
  const record: CommittedRecord = {
    programId: pkg.programId,
    sources,
    toolchain: toolchainVersion(manifest.build!.language),
  };
  writeFileSync(committedRecordPath(dir), `${JSON.stringify(record, null, 2)}\n`);
}

function packageOf(manifest: Manifest, module: Uint8Array): ProgramPackage {
  const canonical = canonicalManifest(manifest);
  prepareProgram(module, { name: canonical.name, limits: canonical.limits });
  return encodePackage(canonical, module);
}

function canonicalJson(value: CanonicalManifest): string {
  return JSON.stringify({ limits: value.limits, name: value.name, version: value.version });
}

/**
 * Assembles a WebAssembly text program with binaryen (`binaryen.parseText`): the module is
 * validated and emitted without optimisation or debug names, so the bytes depend only on the text.
 */
export function assembleWat(dir: string, manifest: Manifest): Uint8Array {
  const sources = manifest.build!.sources;
  if (sources.length !== 1)
    throw new InvalidInputError(`${manifest.name}: build.sources`, "exactly one .wat file for a wat program");
  const path = join(dir, sources[0]!);
  if (!existsSync(path))
    throw new InvalidInputError(`${manifest.name}: build.sources`, `existing files; ${sources[0]} is missing`);
  return assembleWatText(readFileSync(path, "utf8"), `${manifest.name}: ${sources[0]}`);
}

export function assembleWatText(text: string, source = "module.wat"): Uint8Array {
  let module: binaryen.Module;
  try {
    module = binaryen.parseText(text);
  } catch (error) {
    throw new InvalidInputError(source, "valid WebAssembly text", {
      details: String((error as Error).message ?? error),
    });
  }
  try {
    module.setFeatures(ALLOWED_FEATURES);
    if (!module.validate())
      throw new InvalidInputError(source, "a module that validates (see binaryen's message above)");
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}

type Command = { file: string; args: string[] };

function compileCommand(manifest: Manifest, dir: string, modulePath: string): Command {
  const build = manifest.build!;
  // Relative paths (the compiler runs in `dir`): paths end up in the module (panic and assert
  // messages), and the programId must not depend on where the checkout lives.
  const sources = build.sources;
  for (const source of sources) {
    if (!existsSync(join(dir, source)))
      throw new InvalidInputError(`${manifest.name}: build.sources`, `existing files; ${source} is missing`);
  }
  modulePath = relative(dir, modulePath);
  const flags = build.flags ?? [];
  switch (build.language) {
    case "c":
      return {
        file: compilerFile(manifest),
        args: ["--target=wasm32-wasi", "-O2", "-Wall", "-Wextra", "-Werror", ...flags, "-o", modulePath, ...sources],
      };
    case "rust":
      // The crate root is the first source; the others are its modules (hashed, not passed).
      return {
        file: compilerFile(manifest),
        args: [
          "--target",
          "wasm32-wasi",
          "--edition",
          "2021",
          "-C",
          "opt-level=2",
          "-C",
          "strip=debuginfo",
          ...flags,
          "-o",
          modulePath,
          sources[0]!,
        ],
      };
    case "assemblyscript":
      // --exportStart: top-level statements become the WASI `_start` instead of a start section.
      return {
        file: process.execPath,
        args: [
          ascEntry(),
          sources[0]!,
          "-o",
          modulePath,
          "-O3",
          "--runtime",
          "stub",
          "--noAssert",
          "--exportStart",
          "_start",
          ...flags,
        ],
      };
    case "wat":
      throw new Error("wat programs are assembled in-process (assembleWat), not compiled");
    case "javascript":
    case "typescript":
      throw new Error("unreachable: JavaScript programs are bundled by sdk/ts/build.ts");
  }
}

/** The C or Rust compiler: VERSATUS_CLANG / VERSATUS_RUSTC, else clang / the Debian rustc. */
function compilerFile(manifest: Manifest): string {
  if (manifest.build?.language === "rust")
    return process.env.VERSATUS_RUSTC ?? (existsSync("/usr/bin/rustc") ? "/usr/bin/rustc" : "rustc");
  return process.env.VERSATUS_CLANG ?? "clang";
}

function ascEntry(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("assemblyscript/package.json")), "bin", "asc.js");
}

function runCompiler(manifest: Manifest, dir: string, command: Command): void {
  try {
    execFileSync(command.file, command.args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"], env: hermeticEnv() });
  } catch (error) {
    const failure = error as { stderr?: Buffer; code?: string; message: string };
    const missing = failure.code === "ENOENT";
    throw new BaseError(`Compiling ${manifest.name} (${manifest.build!.language}) failed`, {
      details: missing
        ? `${command.file} is not installed`
        : (failure.stderr?.toString().trim() || failure.message).slice(0, 4000),
      hints: missing
        ? [
            "Install the WASM toolchains: apt-get install clang lld wasi-libc libclang-rt-dev-wasm32 rustc libstd-rust-dev-wasm32",
          ]
        : [],
      permanent: true,
    });
  }
}

/**
 * The compilers' environment, with no `wasm-opt` reachable on PATH: clang runs any `wasm-opt` it
 * finds on PATH after linking, so the same sources would give a different module (and programId)
 * under `npm run` (binaryen's in node_modules/.bin), or on a machine that happens to have Debian's
 * binaryen, than on one without. Every directory holding a `wasm-opt` is left out.
 */
function hermeticEnv(): NodeJS.ProcessEnv {
  const path = (process.env.PATH ?? "")
    .split(":")
    .filter((entry) => entry !== "" && !entry.includes("node_modules") && !existsSync(join(entry, "wasm-opt")))
    .join(":");
  return { ...process.env, PATH: path };
}

function sourceHash(dir: string, manifest: Manifest, command: Command): string {
  const hash = createHash("sha256");
  hash.update(readFileSync(join(dir, "versatus.json")));
  for (const source of manifest.build!.sources) hash.update(source).update(readFileSync(join(dir, source)));
  hash.update(JSON.stringify([basename(command.file), command.args.slice(command.file === process.execPath ? 1 : 0)]));
  return hash.digest("hex");
}

/**
 * What the compile of a C or Rust program reads, independent of the machine and the compiler:
 * the manifest fields that reach the package or the compiler, each source (line endings
 * normalised, so a CRLF checkout hashes the same) and the flags.
 */
export function buildInputsHash(dir: string, manifest: Manifest): string {
  const canonical = canonicalManifest(manifest);
  const hash = createHash("sha256");
  hash.update(JSON.stringify([canonicalJson(canonical), manifest.module, manifest.build ?? null]));
  for (const source of manifest.build?.sources ?? []) {
    const path = join(dir, source);
    const text = existsSync(path) ? readFileSync(path, "utf8").replace(/\r\n/g, "\n") : "<missing>";
    hash.update("\0").update(source).update("\0").update(text);
  }
  return hash.digest("hex");
}

const toolchainProbes = new Map<string, string | undefined>();

/**
 * Why this machine cannot compile `language` to wasm32-wasi (undefined when it can): compiles an
 * empty program once per process, so a compiler without the WASI libraries counts as missing.
 */
export function missingToolchain(language: string): string | undefined {
  if (!COMMITTED_LANGUAGES.has(language)) return undefined;
  if (toolchainProbes.has(language)) return toolchainProbes.get(language);
  const dir = mkdtempSync(join(tmpdir(), "versatus-toolchain-"));
  let missing: string | undefined;
  try {
    const source = language === "c" ? "probe.c" : "probe.rs";
    writeFileSync(join(dir, source), language === "c" ? "int main(void) { return 0; }\n" : "fn main() {}\n");
    const manifest = parseManifest({
      name: "probe",
      version: "0.0.0",
      module: "probe.wasm",
      build: { language, sources: [source] },
    });
    const command = compileCommand(manifest, dir, join(dir, "probe.wasm"));
    try {
      execFileSync(command.file, command.args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"], env: hermeticEnv() });
    } catch (error) {
      const failure = error as { stderr?: Buffer; code?: string; message: string };
      missing =
        failure.code === "ENOENT"
          ? `${command.file} is not installed`
          : `${command.file} cannot build for wasm32-wasi (${firstLine(failure.stderr?.toString() || failure.message)})`;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  toolchainProbes.set(language, missing);
  return missing;
}

function firstLine(text: string): string {
  return (
    text
      .split("\n")
      .map((line) => line.trim())
      .find((line) => line.length > 0)
      ?.slice(0, 200) ?? "no message"
  );
}

function toolchainVersion(language: string): string {
  const manifest = parseManifest({
    name: "probe",
    version: "0.0.0",
    module: "probe.wasm",
    build: { language, sources: ["probe"] },
  });
  const file = language === "c" || language === "rust" ? compilerFile(manifest) : process.execPath;
  try {
    return firstLine(
      execFileSync(file, ["--version"], { stdio: ["ignore", "pipe", "pipe"], env: hermeticEnv() }).toString(),
    );
  } catch {
    return `${basename(file)} (version unknown)`;
  }
}
