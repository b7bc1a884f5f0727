import { ModuleRejectedError } from "./errors.ts";
import { MAX_MODULE_BYTES } from "./limits.ts";
import { formatFunctionType, readModuleSections, type FunctionType, type ModuleSections } from "./moduleSections.ts";
import { REFUSED_WASI_FUNCTIONS, WASI_FUNCTIONS, WASI_MODULE, signatureText } from "./wasiAbi.ts";

/** Export names the instrumentation adds; a program may not take them. */
export const FUEL_EXPORT = "versatus$fuel";
export const DEPTH_EXPORT = "versatus$depth";
/** Set by injected code when this node failed where every node should have succeeded (abstain). */
export const FAULT_EXPORT = "versatus$fault";
/** Where the instrumented module expects its memory: the runtime provides (and recycles) it. */
export const MEMORY_IMPORT = { module: "versatus", name: "memory" } as const;

/**
 * The load-time rules (before any instrumentation or compilation of the program's code): size,
 * well-formedness, the import allowlist with exact signatures, no start section, one private
 * memory within the page limit, and the WASI command exports. WebAssembly features are checked by
 * the instrumentation, which has the parsed code at hand.
 */
export function checkModule(bytes: Uint8Array, maxMemoryPages: number): ModuleSections {
  if (bytes.length > MAX_MODULE_BYTES) {
    throw new ModuleRejectedError("too_large", `${bytes.length} bytes, over the ${MAX_MODULE_BYTES}-byte limit`);
  }
  const sections = readModuleSections(bytes);
  assertV8Accepts(bytes);
  if (sections.hasStart) {
    throw new ModuleRejectedError(
      "start_section",
      "has a start section; programs run only from the exported _start, after the host is attached",
    );
  }
  for (const entry of sections.imports) {
    const where = `import ${entry.module}.${entry.name}`;
    if (entry.kind !== "function") {
      throw new ModuleRejectedError(
        "forbidden_import",
        `${where} is a ${entry.kind}; programs may import only WASI functions`,
      );
    }
    if (entry.module !== WASI_MODULE) {
      throw new ModuleRejectedError("forbidden_import", `${where}: only ${WASI_MODULE} functions are provided`);
    }
    const refusal = REFUSED_WASI_FUNCTIONS[entry.name];
    if (refusal) throw new ModuleRejectedError("forbidden_import", `${where}: ${refusal}`);
    const expected = WASI_FUNCTIONS[entry.name];
    if (!expected) throw new ModuleRejectedError("forbidden_import", `${where} is not a WASI preview1 function`);
    const actual = signatureOf(entry.type!);
    if (actual !== expected) {
      throw new ModuleRejectedError(
        "forbidden_import",
        `${where} has type ${formatFunctionType(entry.type!)}, expected ${signatureText(expected)}`,
      );
    }
  }
  if (sections.memories.length !== 1) {
    throw new ModuleRejectedError(
      "memory",
      `defines ${sections.memories.length} memories; a program needs exactly one of its own`,
    );
  }
  const memory = sections.memories[0]!;
  if (memory.shared) throw new ModuleRejectedError("memory", "its memory is shared; threads are not allowed");
  if (memory.is64) throw new ModuleRejectedError("memory", "its memory is 64-bit; memory64 is not allowed");
  if (memory.initial > maxMemoryPages) {
    throw new ModuleRejectedError(
      "memory",
      `its memory starts at ${memory.initial} pages, over the limit of ${maxMemoryPages} pages`,
    );
  }
  const exported = (name: string, kind: string) => sections.exports.some((e) => e.name === name && e.kind === kind);
  if (!exported("_start", "function"))
    throw new ModuleRejectedError("exports", "exports no _start function; a program is a WASI command module");
  if (!exported("memory", "memory"))
    throw new ModuleRejectedError("exports", 'does not export its memory as "memory", which WASI needs');
  for (const name of [FUEL_EXPORT, DEPTH_EXPORT, FAULT_EXPORT]) {
    if (sections.exports.some((e) => e.name === name))
      throw new ModuleRejectedError("exports", `exports "${name}", a name reserved for the runtime`);
  }
  return sections;
}

function signatureOf(type: FunctionType): string {
  const letter = (t: string) => (t === "i32" ? "i" : t === "i64" ? "I" : `?${t}`);
  return `${type.params.map(letter).join("")}>${type.results.map(letter).join("")}`;
}

/** V8's own validation, with its message when it fails: a module V8 rejects can never run. */
function assertV8Accepts(bytes: Uint8Array): void {
  if (WebAssembly.validate(bytes)) return;
  try {
    new WebAssembly.Module(bytes);
  } catch (error) {
    throw new ModuleRejectedError("malformed", (error as Error).message.replace(/^WebAssembly\.Module\(\): /, ""));
  }
  throw new ModuleRejectedError("malformed", "V8 does not validate it");
}
