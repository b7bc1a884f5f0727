import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { InvalidInputError } from "../protocol/errors.ts";
import {
  canonicalManifest,
  decodePackage,
  encodePackage,
  parseManifest,
  type ProgramPackage,
} from "../protocol/programPackage.ts";

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
    return decodePackage(new Uint8Array(readFileSync(packagePath)));
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
