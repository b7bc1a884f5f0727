import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { InvalidInputError } from "../protocol/errors.ts";
import {
  canonicalJson,
  canonicalManifest,
  decodePackage,
  encodePackage,
  parseManifest,
  type Manifest,
  type ProgramPackage,
} from "../protocol/programPackage.ts";
import { MAX_INPUT_BYTES } from "./limits.ts";

/**
 * Opens a program from a path as the tools accept it: a package (`.vpkg`), a bare module
 * (`.wasm`, run with the default limits under its file name), or a program directory whose
 * package was built (`versatus program build <dir>`).
 */
export function openProgramPath(path: string): ProgramPackage {
  if (!existsSync(path))
    throw new InvalidInputError(
      "program path",
      `an existing .vpkg, .wasm or program directory; ${path} does not exist`,
    );
  if (statSync(path).isDirectory()) {
    const manifest = parseManifest(
      JSON.parse(readFileSync(join(path, "versatus.json"), "utf8")),
      join(path, "versatus.json"),
    );
    const packagePath = join(path, "build", `${manifest.name}.vpkg`);
    if (!existsSync(packagePath)) {
      throw new InvalidInputError("program directory", `a built package at ${packagePath}`, {
        hints: [`Run \`versatus program build ${path}\` first.`],
      });
    }
    const pkg = decodePackage(new Uint8Array(readFileSync(packagePath)));
    assertPackageMatches(path, manifest, pkg, packagePath);
    return pkg;
  }
  const bytes = new Uint8Array(readFileSync(path));
  if (path.endsWith(".wasm")) {
    const name =
      basename(path, ".wasm")
        .toLowerCase()
        .replace(/[^a-z0-9-]/g, "-")
        .replace(/^-+/, "") || "program";
    return encodePackage(
      canonicalManifest(parseManifest({ name, version: "0.0.0", module: basename(path) }, path)),
      bytes,
    );
  }
  return decodePackage(bytes);
}

/**
 * A program directory's built package must be what its versatus.json and module describe: a
 * manifest edited (limits, name, version) or a module rebuilt since the package was written
 * would otherwise run, and get a programId, silently different from what the directory says.
 */
function assertPackageMatches(dir: string, manifest: Manifest, pkg: ProgramPackage, packagePath: string): void {
  const hints = [`Run \`versatus program build ${dir}\` to rebuild the package.`];
  const expected = canonicalManifest(manifest);
  if (canonicalJson(expected) !== canonicalJson(pkg.manifest)) {
    const differences = manifestDifferences(expected, pkg.manifest);
    throw new InvalidInputError("program directory", `a package built from ${join(dir, "versatus.json")}`, {
      details: `${packagePath} disagrees with versatus.json: ${differences.join(", ")}`,
      hints,
    });
  }
  const modulePath = join(dir, manifest.module);
  if (existsSync(modulePath)) {
    const module = readFileSync(modulePath);
    if (!Buffer.from(pkg.module).equals(module)) {
      throw new InvalidInputError("program directory", `a package holding the module ${modulePath}`, {
        details: `${packagePath} holds a different module (${pkg.module.length} bytes) than ${modulePath} (${module.length} bytes)`,
        hints,
      });
    }
  }
}

function manifestDifferences(
  expected: Record<string, unknown>,
  actual: Record<string, unknown>,
  prefix = "",
): string[] {
  const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
  return keys.flatMap((key) => {
    const a = expected[key];
    const b = actual[key];
    if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
      return manifestDifferences(a as Record<string, unknown>, b as Record<string, unknown>, `${prefix}${key}.`);
    }
    return JSON.stringify(a) === JSON.stringify(b)
      ? []
      : [`${prefix}${key} is ${JSON.stringify(b)} in the package, ${JSON.stringify(a)} in versatus.json`];
  });
}

/**
 * Reads a request input from a file, or from stdin for "-", never more than MAX_INPUT_BYTES + 1
 * bytes: `--input /dev/zero` or a huge file is refused after a bounded read instead of being read
 * to exhaustion (the runtime would answer `input_limit` for it anyway).
 */
export function readInputFile(path: string, limit = MAX_INPUT_BYTES): Uint8Array {
  const fd = path === "-" ? 0 : openSync(path, "r");
  try {
    const buffer = new Uint8Array(limit + 1);
    let length = 0;
    while (length < buffer.length) {
      let read: number;
      try {
        read = readSync(fd, buffer, length, buffer.length - length, null);
      } catch (error) {
        // A non-blocking stdin with nothing yet: wait a little and try again.
        if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
        continue;
      }
      if (read === 0) break;
      length += read;
    }
    if (length > limit) {
      throw new InvalidInputError(
        "input",
        `at most ${limit} bytes (MAX_INPUT_BYTES); ${path === "-" ? "stdin" : path} is longer`,
      );
    }
    return buffer.slice(0, length);
  } finally {
    if (fd !== 0) closeSync(fd);
  }
}
