import { createHash } from "node:crypto";
import type { ProgramPackage } from "../../protocol/programPackage.ts";
import { ModuleRejectedError } from "../errors.ts";
import { MAX_MODULE_BYTES } from "../limits.ts";
import type { PreparedProgram } from "../prepare.ts";
import { ENGINE_ID, prepareEngine } from "./engine.ts";

/** A prepared JavaScript program: the shared compiled engine plus the program's script. */
export type PreparedJsProgram = PreparedProgram & { script: Uint8Array; scriptHash: string };

/** Whether a package is a JavaScript program (its manifest names an engine). */
export function isJsPackage(pkg: ProgramPackage): boolean {
  return pkg.manifest.engine !== undefined;
}

/**
 * Prepares a JavaScript program: checks it names this node's engine and the script's size, and
 * returns the engine compiled for its page limit (once per node and limit) with the script. The
 * pool caches the engine module under the engine's key, shared by every JavaScript program.
 */
export function prepareJsProgram(pkg: ProgramPackage): PreparedJsProgram {
  const engineId = pkg.manifest.engine;
  if (engineId !== ENGINE_ID) {
    throw new ModuleRejectedError(
      "forbidden_import",
      `runs on the JavaScript engine ${engineId ?? "(none)"}; this runtime provides ${ENGINE_ID}`,
    );
  }
  if (pkg.module.length > MAX_MODULE_BYTES) {
    throw new ModuleRejectedError(
      "too_large",
      `its script has ${pkg.module.length} bytes, over the ${MAX_MODULE_BYTES}-byte limit`,
    );
  }
  const engine = prepareEngine(pkg.manifest.limits.memoryPages);
  return {
    key: engine.key,
    module: engine.module,
    memory: engine.memory,
    name: pkg.manifest.name,
    limits: pkg.manifest.limits,
    moduleBytes: pkg.module.length,
    instrumentedBytes: 0,
    instrumentMs: engine.instrumentMs,
    compileMs: engine.compileMs,
    script: pkg.module,
    scriptHash: createHash("sha256").update(pkg.module).digest("hex"),
  };
}
