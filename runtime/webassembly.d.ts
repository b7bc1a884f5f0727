/**
 * The part of the WebAssembly JS API the runtime uses. TypeScript ships these types only in its
 * DOM/webworker libs, which this Node project does not load (they would change the types of
 * globals every service uses), and @types/node 22 does not declare them.
 */
declare namespace WebAssembly {
  type HostFunction = (...args: never[]) => unknown;
  type ImportValue = HostFunction | Global | Memory | Table | number | bigint;
  type ModuleImports = Record<string, ImportValue>;
  type Imports = Record<string, ModuleImports>;
  type ExportValue = HostFunction | Global | Memory | Table;
  type Exports = Record<string, ExportValue>;

  class Module {
    constructor(bytes: BufferSource);
  }
  class Instance {
    constructor(module: Module, imports?: Imports);
    readonly exports: Exports;
  }
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number });
    readonly buffer: ArrayBuffer;
    grow(delta: number): number;
  }
  class Global {
    constructor(descriptor: { value: string; mutable?: boolean }, value?: unknown);
    value: unknown;
  }
  class Table {
    readonly length: number;
  }
  class CompileError extends Error {}
  class LinkError extends Error {}
  class RuntimeError extends Error {}

  function validate(bytes: BufferSource): boolean;
  function compile(bytes: BufferSource): Promise<Module>;
  function instantiate(module: Module, imports?: Imports): Promise<Instance>;
}
type BufferSource = ArrayBufferView | ArrayBuffer;
