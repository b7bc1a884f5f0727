import binaryen from "binaryen";
import { childSlots } from "./binaryenNodes.ts";
import { ModuleRejectedError } from "./errors.ts";
import { MAX_MODULE_BYTES } from "./limits.ts";

/**
 * Structural limits checked before the instrumenter sees a module. Each one is a pure function of
 * the bytes, so every node reaches the same verdict, and together they keep a module within what
 * the instrumenter (recursive over binaryen's expression tree) and binaryen itself (whose binary
 * writer recurses in C++ on its own fixed stack) handle with a wide margin. Without them a module
 * could make the loader fail in a way that depends on the machine (a JavaScript stack overflow, an
 * emscripten stack overrun, V8's import limit after the runtime adds its memory import).
 *
 * They are far above what compilers emit: C, Rust and AssemblyScript programs import a few dozen
 * WASI functions, define thousands of functions, and nest a few hundred levels at most (a `switch`
 * of N cases becomes N nested blocks).
 */
export const LOAD_LIMITS = {
  /** Imports of any kind (WASI preview1 has 46 functions). */
  imports: 1_024,
  /** Functions defined by the module. */
  functions: 100_000,
  /** Bytes of one function body (V8 allows 7.6 MB after instrumentation, which grows code a few times). */
  functionBodyBytes: 1024 * 1024,
  /** Depth of binaryen's expression tree in one function (binaryen's writer fails past ~150,000). */
  expressionDepth: 16_384,
} as const;

/** Global names the instrumentation adds; a module whose name section uses them is refused. */
export const RESERVED_GLOBAL_NAMES = ["versatus$fuel", "versatus$depth"] as const;

/**
 * The checks that need only the section headers: import and function counts, body sizes, and the
 * global names of the name section. A module too broken to walk is left to the load-time rules,
 * which name what is wrong.
 */
export function checkModuleShape(bytes: Uint8Array): void {
  if (bytes.length > MAX_MODULE_BYTES || bytes.length < 8) return;
  const reader = new Cursor(bytes, 8, bytes.length);
  try {
    while (reader.offset < bytes.length) {
      const id = reader.byte();
      const size = reader.u32();
      const start = reader.offset;
      const end = start + size;
      if (end > bytes.length) return;
      const section = new Cursor(bytes, start, end);
      if (id === 2) {
        const count = section.u32();
        if (count > LOAD_LIMITS.imports)
          throw new ModuleRejectedError("too_large", `${count} imports, over the limit of ${LOAD_LIMITS.imports}`);
      } else if (id === 3) {
        const count = section.u32();
        if (count > LOAD_LIMITS.functions)
          throw new ModuleRejectedError(
            "too_large",
            `defines ${count} functions, over the limit of ${LOAD_LIMITS.functions}`,
          );
      } else if (id === 10) {
        const count = section.u32();
        for (let i = 0; i < count; i++) {
          const length = section.u32();
          if (length > LOAD_LIMITS.functionBodyBytes)
            throw new ModuleRejectedError(
              "too_large",
              `function ${i} of the code section has a ${length}-byte body, over the limit of ${LOAD_LIMITS.functionBodyBytes} bytes`,
            );
          section.offset += length;
        }
      } else if (id === 0) {
        checkNameSection(section);
      }
      reader.offset = end;
    }
  } catch (error) {
    if (error instanceof ModuleRejectedError) throw error;
    // A truncated or malformed header: the load-time rules report it.
  }
}

function checkNameSection(section: Cursor): void {
  if (section.name() !== "name") return;
  while (section.offset < section.end) {
    const kind = section.byte();
    const size = section.u32();
    const end = section.offset + size;
    if (kind === 7) {
      const count = section.u32();
      for (let i = 0; i < count; i++) {
        const index = section.u32();
        const name = section.name();
        if ((RESERVED_GLOBAL_NAMES as readonly string[]).includes(name))
          throw new ModuleRejectedError(
            "exports",
            `its name section calls global ${index} "${name}", a name reserved for the runtime`,
          );
      }
    }
    section.offset = end;
  }
}

/**
 * The deepest expression tree of any function, walked without recursion (binaryen reads any depth
 * iteratively; the instrumenter then recurses). Throws ModuleRejectedError over the limit.
 */
export function checkExpressionDepth(module: binaryen.Module): void {
  const count = module.getNumFunctions();
  for (let i = 0; i < count; i++) {
    const info = binaryen.getFunctionInfo(module.getFunctionByIndex(i));
    if (info.module || !info.body) continue;
    const stack: Array<[binaryen.ExpressionRef, number]> = [[info.body, 1]];
    while (stack.length > 0) {
      const [expr, depth] = stack.pop()!;
      if (depth > LOAD_LIMITS.expressionDepth)
        throw new ModuleRejectedError(
          "too_large",
          `function ${i} nests expressions deeper than the limit of ${LOAD_LIMITS.expressionDepth}`,
        );
      for (const slot of childSlots(expr)) {
        const child = slot.get();
        if (child) stack.push([child, depth + 1]);
      }
    }
  }
}

class Cursor {
  offset: number;
  readonly bytes: Uint8Array;
  readonly end: number;
  constructor(bytes: Uint8Array, start: number, end: number) {
    this.bytes = bytes;
    this.offset = start;
    this.end = end;
  }
  byte(): number {
    if (this.offset >= this.end) throw new RangeError("past the end");
    return this.bytes[this.offset++]!;
  }
  u32(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
    }
    throw new RangeError("LEB128 too long");
  }
  name(): string {
    const length = this.u32();
    if (this.offset + length > this.end) throw new RangeError("past the end");
    const text = new TextDecoder().decode(this.bytes.subarray(this.offset, this.offset + length));
    this.offset += length;
    return text;
  }
}
