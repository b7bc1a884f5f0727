import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, relative, resolve } from "node:path";
import { BaseError, InvalidInputError } from "../protocol/errors.ts";
import {
  canonicalManifest,
  encodePackage,
  parseManifest,
  type Manifest,
  type ProgramPackage,
} from "../protocol/programPackage.ts";
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
};

export type BuildOptions = { force?: boolean; log?: (line: string) => void };

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
  if (manifest.build?.language === "typescript" || manifest.build?.language === "javascript") {
    const js = buildJsPackage(dir, manifest);
    const packagePath = join(dir, "build", `${manifest.name}.vpkg`);
    writeFileSync(packagePath, js.package.bytes);
    return { name: manifest.name, dir, manifest, modulePath, packagePath, package: js.package, compiled: true };
  }
  let compiled = false;
  if (manifest.build) {
    const command = compileCommand(manifest, dir, modulePath);
    const stampPath = join(dirname(modulePath), `.${basename(modulePath)}.source-hash`);
    const stamp = sourceHash(dir, manifest, command);
    const upToDate = existsSync(modulePath) && existsSync(stampPath) && readFileSync(stampPath, "utf8") === stamp;
    if (options.force || !upToDate) {
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
  const module = new Uint8Array(readFileSync(modulePath));
  const canonical = canonicalManifest(manifest);
  prepareProgram(module, { name: canonical.name, limits: canonical.limits });
  const pkg = encodePackage(canonical, module);
  const packagePath = join(dir, "build", `${manifest.name}.vpkg`);
  mkdirSync(dirname(packagePath), { recursive: true });
  writeFileSync(packagePath, pkg.bytes);
  return { name: manifest.name, dir, manifest, modulePath, packagePath, package: pkg, compiled };
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
        file: process.env.VERSATUS_CLANG ?? "clang",
        args: ["--target=wasm32-wasi", "-O2", "-Wall", "-Wextra", "-Werror", ...flags, "-o", modulePath, ...sources],
      };
    case "rust":
      // The crate root is the first source; the others are its modules (hashed, not passed).
      return {
        file: process.env.VERSATUS_RUSTC ?? (existsSync("/usr/bin/rustc") ? "/usr/bin/rustc" : "rustc"),
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
    case "javascript":
    case "typescript":
      throw new Error("unreachable: JavaScript programs are bundled by sdk/ts/build.ts");
  }
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
 * The compilers' environment, without node_modules/.bin on PATH: clang runs any `wasm-opt` it
 * finds on PATH after linking, and npm scripts put binaryen's there, so the same sources would
 * give a different module (and programId) under `npm run` than in a shell.
 */
function hermeticEnv(): NodeJS.ProcessEnv {
  const path = (process.env.PATH ?? "")
    .split(":")
    .filter((entry) => !entry.includes("node_modules"))
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
