import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";
import { BaseError, InvalidInputError } from "../../protocol/errors.ts";
import { canonicalManifest, encodePackage, type Manifest, type ProgramPackage } from "../../protocol/programPackage.ts";
import { ENGINE_ID } from "../../runtime/js/engine.ts";
import { prepareJsProgram } from "../../runtime/js/program.ts";

/** The import specifier programs use for this SDK; the bundler maps it to sdk/ts/index.ts. */
export const SDK_SPECIFIER = "@versatus/sdk";
export const SDK_ENTRY = join(dirname(fileURLToPath(import.meta.url)), "index.ts");

/**
 * Bundles a TypeScript/JavaScript program's entry (the first of `build.sources`) and everything
 * it imports into one script with esbuild: an IIFE for ES2020, whitespace and syntax minified so
 * no path or comment from the machine that built it ends up in the script (the same sources give
 * the same bytes, so the same programId, in any checkout).
 */
export function bundleScript(dir: string, manifest: Manifest): Uint8Array {
  const entry = manifest.build?.sources[0];
  if (!entry) throw new InvalidInputError(`${manifest.name}: build.sources`, "the program's entry file");
  const result = buildSync({
    entryPoints: [resolve(dir, entry)],
    absWorkingDir: resolve(dir),
    bundle: true,
    write: false,
    format: "iife",
    platform: "neutral",
    target: "es2020",
    charset: "utf8",
    legalComments: "none",
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: false,
    logLevel: "silent",
    alias: { [SDK_SPECIFIER]: SDK_ENTRY },
    mainFields: ["module", "main"],
  });
  const file = result.outputFiles[0];
  if (!file) throw new BaseError(`Bundling ${manifest.name} produced no output`, { permanent: true });
  return file.contents;
}

/**
 * `versatus program build` for `build.language` typescript/javascript: bundles the script to the
 * manifest's `module` (a .js path), checks that the manifest names this runtime's engine and that
 * the runtime accepts the program, and returns its package.
 */
export function buildJsPackage(dir: string, manifest: Manifest): { modulePath: string; package: ProgramPackage } {
  if (!manifest.module.endsWith(".js")) {
    throw new InvalidInputError(`${manifest.name}: module`, "a .js path for a TypeScript/JavaScript program");
  }
  if (manifest.engine !== ENGINE_ID) {
    throw new InvalidInputError(`${manifest.name}: engine`, `"${ENGINE_ID}" (the engine this runtime provides)`, {
      details: `got ${manifest.engine ?? "(none)"}`,
    });
  }
  let script: Uint8Array;
  try {
    script = bundleScript(dir, manifest);
  } catch (error) {
    const errors = (error as { errors?: { text: string; location?: { file: string; line: number } }[] }).errors;
    if (!errors) throw error;
    throw new BaseError(`Bundling ${manifest.name} failed`, {
      details: errors
        .map((e) => (e.location ? `${e.location.file}:${e.location.line}: ${e.text}` : e.text))
        .join("\n")
        .slice(0, 4000),
      permanent: true,
    });
  }
  const modulePath = join(dir, manifest.module);
  mkdirSync(dirname(modulePath), { recursive: true });
  writeFileSync(modulePath, script);
  const pkg = encodePackage(canonicalManifest(manifest), new Uint8Array(readFileSync(modulePath)));
  prepareJsProgram(pkg);
  return { modulePath, package: pkg };
}
