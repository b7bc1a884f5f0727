import { ModuleRejectedError } from "./errors.ts";

/**
 * Just enough of the WebAssembly binary format to apply the load-time rules (imports and their
 * types, memories, exports, start section) with precise messages, before binaryen or V8 see the
 * bytes. Anything structurally wrong here is reported as a malformed module.
 */
export type ValueTypeName = "i32" | "i64" | "f32" | "f64" | "v128" | "funcref" | "externref";

export type FunctionType = { params: ValueTypeName[]; results: ValueTypeName[] };

export type ImportEntry = {
  module: string;
  name: string;
  kind: "function" | "table" | "memory" | "global" | "tag";
  /** Only for function imports. */
  type?: FunctionType;
};

export type MemoryLimits = { initial: number; maximum: number | undefined; shared: boolean; is64: boolean };

export type ExportEntry = { name: string; kind: "function" | "table" | "memory" | "global" | "tag" };

export type ModuleSections = {
  imports: ImportEntry[];
  memories: MemoryLimits[];
  exports: ExportEntry[];
  hasStart: boolean;
};

const EXTERNAL_KINDS = ["function", "table", "memory", "global", "tag"] as const;
const VALUE_TYPES: Record<number, ValueTypeName> = {
  0x7f: "i32",
  0x7e: "i64",
  0x7d: "f32",
  0x7c: "f64",
  0x7b: "v128",
  0x70: "funcref",
  0x6f: "externref",
};

class Reader {
  offset = 0;
  readonly bytes: Uint8Array;
  readonly end: number;
  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.bytes = bytes;
    this.offset = start;
    this.end = end;
  }
  fail(what: string): never {
    throw new ModuleRejectedError("malformed", `${what} at byte ${this.offset}`);
  }
  byte(): number {
    if (this.offset >= this.end) this.fail("unexpected end of section");
    return this.bytes[this.offset++]!;
  }
  u32(): number {
    const result = this.unsignedLeb(28);
    if (result > 0xffffffff) this.fail("LEB128 integer out of range");
    return result;
  }
  /** A 64-bit limit (memory64); only ever compared, so a lossy number is fine. */
  u64(): number {
    return this.unsignedLeb(63);
  }
  private unsignedLeb(maxShift: number): number {
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      if (shift > maxShift) this.fail("LEB128 integer too long");
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
    }
  }
  name(): string {
    const length = this.u32();
    if (this.offset + length > this.end) this.fail("name runs past the section");
    const text = new TextDecoder("utf-8", { fatal: true });
    try {
      return text.decode(this.bytes.subarray(this.offset, (this.offset += length)));
    } catch {
      this.fail("name is not valid UTF-8");
    }
  }
  valueType(): ValueTypeName {
    const code = this.byte();
    const type = VALUE_TYPES[code];
    if (!type) this.fail(`unknown value type 0x${code.toString(16)}`);
    return type;
  }
  limits(): MemoryLimits {
    const flags = this.byte();
    if (flags > 7) this.fail(`unknown limits flags 0x${flags.toString(16)}`);
    const is64 = (flags & 4) !== 0;
    const read = () => (is64 ? this.u64() : this.u32());
    const initial = read();
    const maximum = flags & 1 ? read() : undefined;
    return { initial, maximum, shared: (flags & 2) !== 0, is64 };
  }
}

export function readModuleSections(bytes: Uint8Array): ModuleSections {
  if (bytes.length < 8)
    throw new ModuleRejectedError("malformed", `only ${bytes.length} bytes, not a WebAssembly module`);
  const magic = bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d;
  if (!magic) throw new ModuleRejectedError("malformed", "missing the \\0asm magic number, not a WebAssembly module");
  const version = bytes[4]! | (bytes[5]! << 8) | (bytes[6]! << 16) | (bytes[7]! << 24);
  if (version !== 1) {
    throw new ModuleRejectedError(
      "malformed",
      `binary version ${version} (components and other versions are not programs; expected a core module, version 1)`,
    );
  }

  const types: FunctionType[] = [];
  const sections: ModuleSections = { imports: [], memories: [], exports: [], hasStart: false };
  const reader = new Reader(bytes, 8);
  while (reader.offset < bytes.length) {
    const id = reader.byte();
    const size = reader.u32();
    const start = reader.offset;
    if (start + size > bytes.length) reader.fail(`section ${id} of ${size} bytes runs past the end of the module`);
    const section = new Reader(bytes, start, start + size);
    if (id === 1) readTypes(section, types);
    else if (id === 2) readImports(section, types, sections.imports);
    else if (id === 5) {
      const count = section.u32();
      for (let i = 0; i < count; i++) sections.memories.push(section.limits());
    } else if (id === 7) {
      const count = section.u32();
      for (let i = 0; i < count; i++) {
        const name = section.name();
        const kind = EXTERNAL_KINDS[section.byte()];
        if (!kind) return section.fail(`unknown export kind of "${name}"`);
        section.u32();
        sections.exports.push({ name, kind });
      }
    } else if (id === 8) sections.hasStart = true;
    reader.offset = start + size;
  }
  return sections;
}

function readTypes(section: Reader, types: FunctionType[]): void {
  const count = section.u32();
  for (let i = 0; i < count; i++) {
    const form = section.byte();
    // 0x60 is a function type; anything else (GC structs, recursion groups) is a later proposal.
    if (form !== 0x60)
      throw new ModuleRejectedError(
        "forbidden_feature",
        `type ${i} is not a plain function type (form 0x${form.toString(16)}): GC types are not allowed`,
      );
    const params = Array.from({ length: section.u32() }, () => section.valueType());
    const results = Array.from({ length: section.u32() }, () => section.valueType());
    types.push({ params, results });
  }
}

function readImports(section: Reader, types: FunctionType[], imports: ImportEntry[]): void {
  const count = section.u32();
  for (let i = 0; i < count; i++) {
    const module = section.name();
    const name = section.name();
    const kind = EXTERNAL_KINDS[section.byte()];
    if (!kind) return section.fail(`unknown import kind of "${module}.${name}"`);
    const entry: ImportEntry = { module, name, kind };
    if (kind === "function") {
      const index = section.u32();
      const type = types[index];
      if (!type) section.fail(`import "${module}.${name}" names missing type ${index}`);
      entry.type = type;
    } else if (kind === "table") {
      section.byte();
      section.limits();
    } else if (kind === "memory") section.limits();
    else if (kind === "global") {
      section.valueType();
      section.byte();
    } else {
      section.byte();
      section.u32();
    }
    imports.push(entry);
  }
}

export function formatFunctionType(type: FunctionType): string {
  return `(${type.params.join(", ")}) -> (${type.results.join(", ")})`;
}
